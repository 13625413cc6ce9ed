#include "tools/lotctl/csv.h"

#include "absl/strings/str_cat.h"

namespace lotledger::lotctl {

absl::StatusOr<std::vector<CsvRecord>> ParseCsv(std::string_view text) {
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());

  std::vector<CsvRecord> records;
  if (text.empty()) return records;

  int line = 1;
  CsvRecord record{line, {}};
  std::string field;
  size_t i = 0;
  const size_t n = text.size();
  // Each iteration reads one field and the delimiter after it.
  while (true) {
    if (i < n && text[i] == '"') {
      const int quote_line = line;
      ++i;
      while (true) {
        if (i >= n) {
          return absl::InvalidArgumentError(
              absl::StrCat("line ", quote_line,
                           ": quoted field is not closed (a \" is missing)"));
        }
        const char c = text[i++];
        if (c == '"') {
          if (i < n && text[i] == '"') {
            field.push_back('"');
            ++i;
            continue;
          }
          break;
        }
        if (c == '\n') ++line;
        field.push_back(c);
      }
      if (i < n && text[i] != ',' && text[i] != '\n' &&
          !(text[i] == '\r' && i + 1 < n && text[i + 1] == '\n') &&
          !(text[i] == '\r' && i + 1 == n)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "line ", line, ": text after the closing quote of a field (",
            "write a quote inside a quoted field as \"\")"));
      }
    } else {
      while (i < n && text[i] != ',' && text[i] != '\n') {
        if (text[i] == '\r' && (i + 1 == n || text[i + 1] == '\n')) break;
        if (text[i] == '"') {
          return absl::InvalidArgumentError(absl::StrCat(
              "line ", line,
              ": a \" inside an unquoted field (quote the whole field and "
              "double the quote: \"a \"\"b\"\" c\")"));
        }
        field.push_back(text[i++]);
      }
    }
    record.fields.push_back(std::move(field));
    field.clear();
    if (i >= n) {
      records.push_back(std::move(record));
      break;
    }
    if (text[i] == ',') {
      ++i;
      continue;
    }
    // End of record: "\n", "\r\n" or a final "\r".
    if (text[i] == '\r') ++i;
    if (i < n && text[i] == '\n') ++i;
    ++line;
    records.push_back(std::move(record));
    if (i >= n) break;  // a final line break ends the last record
    record = CsvRecord{line, {}};
  }
  return records;
}

bool IsBlank(const CsvRecord& record) {
  return record.fields.size() == 1 && record.fields[0].empty();
}

}  // namespace lotledger::lotctl
