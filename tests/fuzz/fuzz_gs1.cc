// libFuzzer target: GS1 element strings as a scanner or a person types them
// (libs/gs1). Any input must give elements or InvalidArgument, never a
// crash or a sanitizer report; what parses must read back the same from
// both forms the library writes (bracketed and scanner element string).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "libs/common/status_macros.h"
#include "libs/gs1/element_string.h"
#include "libs/gs1/format.h"
#include "tests/fuzz/fuzz_check.h"

namespace lotledger::gs1 {
namespace {

void CheckReadsBack(const std::vector<Element>& elements,
                    const std::string& written, const ParseOptions& options) {
  absl::StatusOr<std::vector<Element>> again = Parse(written, options);
  FUZZ_CHECK(again.ok(), "written \"", written,
             "\" does not parse: ", again.status().ToString());
  FUZZ_CHECK(again->size() == elements.size(), "written \"", written, "\"");
  for (size_t i = 0; i < elements.size(); ++i) {
    FUZZ_CHECK((*again)[i].ai == elements[i].ai, "written \"", written, "\"");
    FUZZ_CHECK((*again)[i].value == elements[i].value, "written \"", written,
               "\" element ", i);
  }
}

void FuzzOne(const uint8_t* data, size_t size) {
  if (size == 0) return;
  // The first byte picks the options; the rest is the scan.
  ParseOptions options;
  options.allow_day_zero = (data[0] & 1) != 0;
  options.reference_year = 1950 + data[0] % 128;
  const std::string_view scan(reinterpret_cast<const char*>(data) + 1,
                              size - 1);

  absl::StatusOr<std::vector<Element>> elements = Parse(scan, options);
  if (!elements.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(elements.status()),
               elements.status().ToString());
  } else {
    CheckReadsBack(*elements, ToBracketed(*elements), options);
    CheckReadsBack(*elements, ToElementString(*elements), options);
    (void)FormatText(*elements);
    (void)FormatJson(*elements);
  }
  absl::StatusOr<Udi> udi = ParseUdi(scan, options);
  if (udi.ok()) FUZZ_CHECK(IsValidGtin14(udi->gtin), udi->gtin);
  (void)ParseYymmdd(scan.substr(0, 6), options);
  (void)IsValidGtin14(scan);
}

}  // namespace
}  // namespace lotledger::gs1

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lotledger::gs1::FuzzOne(data, size);
  return 0;
}
