#include "tools/lotctl/import_serials.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "libs/common/hash.h"
#include "libs/common/ids.h"
#include "libs/common/status_macros.h"
#include "libs/domain/serials/serials.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "tools/lotctl/cli.h"

namespace lotledger::lotctl {
namespace {

const std::vector<ImportColumn>& Columns() {
  static const auto* columns = new std::vector<ImportColumn>{
      {"lot_id", true},
      {"serials", true},
  };
  return *columns;
}

// The serials of one cell, or the problem with it in the cell's words
// ("last: 'SN0001' comes before first 'SN0009'").
absl::StatusOr<std::vector<std::string>> CellSerials(const std::string& text) {
  ASSIGN_OR_RETURN(v1::SerialRange range,
                   domain::ParseSerialRangeText(text, "serials"));
  domain::SerialRanges ranges;
  *ranges.Add() = std::move(range);
  absl::StatusOr<std::vector<std::string>> serials =
      domain::ExpandSerials(ranges, "serials");
  if (serials.ok()) return serials;
  absl::string_view message = serials.status().message();
  absl::ConsumePrefix(&message, "serials[0].");
  absl::ConsumePrefix(&message, "serials: ");
  return absl::InvalidArgumentError(message);
}

std::string RequestIdFor(const std::string& lot_id,
                         const std::vector<std::string>& serials) {
  std::string canonical = absl::StrCat("serials\n", lot_id);
  for (const v1::SerialRange& r : domain::CompressSerials(serials)) {
    absl::StrAppend(&canonical, "\n", r.first(), "..", r.last());
  }
  return absl::StrCat("import-", HexEncode(Sha256(canonical)).substr(0, 32));
}

struct Tally {
  int64_t created = 0;
  int64_t unchanged = 0;
  int64_t refused = 0;
};

// Sends one request unless the register has every serial of it on the lot
// already. A non-OK status that is not a refusal ends the run.
grpc::Status WriteRequest(Context& ctx, v1::LotsService::Stub& stub,
                          const SerialImportRequest& r, Tally& tally) {
  // The lot's serials, when its first serial here is on it already: a run
  // that assigned this request before assigned that serial too, so when it
  // is not assigned this request id was never answered.
  v1::GetSerialRequest get;
  get.set_item(r.item);
  get.set_serial(r.serials.front());
  v1::GetSerialResponse known;
  grpc::Status s = stub.GetSerial(ctx.Call().get(), get, &known);
  if (!s.ok() && s.error_code() != grpc::StatusCode::NOT_FOUND) return s;
  if (s.ok() && known.lot_id() == r.lot_id) {
    absl::StatusOr<std::vector<std::string>> have =
        domain::ExpandSerials(known.lot_serials(), "lot_serials",
                              std::numeric_limits<int64_t>::max());
    if (!have.ok())
      return grpc::Status(grpc::StatusCode::INTERNAL,
                          std::string(have.status().message()));
    const std::set<std::string> on_lot(have->begin(), have->end());
    const bool all_known =
        std::all_of(r.serials.begin(), r.serials.end(),
                    [&](const std::string& x) { return on_lot.contains(x); });
    if (all_known) {
      tally.unchanged += static_cast<int64_t>(r.serials.size());
      return grpc::Status::OK;
    }
  }
  v1::AssignSerialsRequest req;
  req.set_request_id(r.request_id);
  req.set_lot_id(r.lot_id);
  *req.mutable_serials() = domain::CompressSerials(r.serials);
  v1::AssignSerialsResponse resp;
  s = stub.AssignSerials(ctx.Call().get(), req, &resp);
  if (!s.ok()) return s;
  tally.created += resp.assigned();
  tally.unchanged += static_cast<int64_t>(r.serials.size()) - resp.assigned();
  return grpc::Status::OK;
}

}  // namespace

absl::StatusOr<v1::Tracking> ParseTrackingText(std::string_view text) {
  const std::string given(text);
  const std::string t = absl::AsciiStrToLower(given);
  if (t == "lot") return v1::TRACKING_LOT;
  if (t == "serial") return v1::TRACKING_SERIAL;
  return absl::InvalidArgumentError(
      absl::StrCat("\"", given, "\" is not a tracking: lot or serial"));
}

absl::StatusOr<SerialImportPlan> PlanSerialImport(std::string_view csv) {
  ASSIGN_OR_RETURN(std::vector<ImportTableRow> rows,
                   ReadImportTable(csv, Columns(), "serials"));
  SerialImportPlan plan;
  // Per lot, its serials and rows; per unit (item and serial), its row.
  std::map<std::string, std::vector<std::string>> lot_serials;
  std::map<std::string, std::set<int>> lot_rows;
  std::map<std::string, std::pair<int, std::string>> unit_row;  // key -> row
  for (ImportTableRow& table_row : rows) {
    const int row = table_row.row;
    ++plan.data_rows;
    if (table_row.malformed.has_value()) {
      plan.problems.push_back(*std::move(table_row.malformed));
      ++plan.bad_rows;
      continue;
    }
    const size_t before = plan.problems.size();
    const std::string& lot_id = table_row.values["lot_id"];
    const std::string& text = table_row.values["serials"];
    const std::string item(ItemOfLotId(lot_id));
    if (lot_id.empty()) {
      plan.problems.push_back({row, "lot_id", "is required"});
    } else if (item.empty() || item.size() + 1 >= lot_id.size()) {
      plan.problems.push_back(
          {row, "lot_id",
           absl::StrCat("\"", lot_id,
                        "\" is not a lot id (<item>:<lot number>)")});
    }
    std::vector<std::string> serials;
    if (text.empty()) {
      plan.problems.push_back({row, "serials", "is required"});
    } else if (absl::StatusOr<std::vector<std::string>> cell =
                   CellSerials(text);
               !cell.ok()) {
      plan.problems.push_back(
          {row, "serials", std::string(cell.status().message())});
    } else {
      serials = *std::move(cell);
    }
    if (plan.problems.size() == before) {
      // A serial of an item belongs to one lot, and is named once.
      std::vector<std::string> twice;
      for (const std::string& serial : serials) {
        auto [it, added] = unit_row.emplace(domain::SerialKey(item, serial),
                                            std::make_pair(row, lot_id));
        if (!added) {
          plan.problems.push_back(
              {row, "serials",
               absl::StrCat(
                   "serial ", serial, " of ", item, " is also on row ",
                   it->second.first,
                   it->second.second == lot_id
                       ? ""
                       : absl::StrCat(" (lot ", it->second.second, ")"))});
          break;  // one per row is enough to fix it
        }
      }
    }
    if (plan.problems.size() != before) {
      ++plan.bad_rows;
      continue;
    }
    std::vector<std::string>& all = lot_serials[lot_id];
    all.insert(all.end(), serials.begin(), serials.end());
    lot_rows[lot_id].insert(row);
  }
  plan.lots = static_cast<int>(lot_serials.size());
  for (auto& [lot_id, serials] : lot_serials) {
    std::sort(serials.begin(), serials.end());
    for (size_t start = 0; start < serials.size();
         start += kSerialsPerImportRequest) {
      SerialImportRequest& r = plan.requests.emplace_back();
      r.lot_id = lot_id;
      r.item = std::string(ItemOfLotId(lot_id));
      r.rows.assign(lot_rows[lot_id].begin(), lot_rows[lot_id].end());
      const size_t end =
          std::min(serials.size(), start + kSerialsPerImportRequest);
      r.serials.assign(serials.begin() + start, serials.begin() + end);
      r.request_id = RequestIdFor(lot_id, r.serials);
    }
  }
  return plan;
}

int RunImportSerials(Context& ctx, ParsedArgs& args) {
  absl::StatusOr<ImportFile> file = ReadImportFile(args, "serials");
  if (!file.ok()) return ctx.Usage(file.status());
  absl::StatusOr<SerialImportPlan> plan = PlanSerialImport(file->text);
  if (!plan.ok()) {
    return ctx.Usage(absl::InvalidArgumentError(
        absl::StrCat(file->path, ": ", plan.status().message())));
  }
  if (std::optional<int> stop = StopBeforeWriting(
          ctx, plan->problems, plan->bad_rows, plan->data_rows, file->dry_run,
          absl::StrCat("checked ", plan->data_rows, " rows (", plan->lots,
                       plan->lots == 1 ? " lot" : " lots", "): all good"))) {
    return *stop;
  }
  auto stub = v1::LotsService::NewStub(ctx.channel());
  Tally tally;
  for (const SerialImportRequest& r : plan->requests) {
    grpc::Status s = WriteRequest(ctx, *stub, r, tally);
    if (s.ok()) continue;
    if (s.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
        s.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
        s.error_code() == grpc::StatusCode::NOT_FOUND) {
      tally.refused += static_cast<int64_t>(r.serials.size());
      std::string rows;
      for (int row : r.rows) {
        absl::StrAppend(&rows, rows.empty() ? "" : ", ", row);
      }
      ctx.err() << "lot " << r.lot_id << " (rows " << rows
                << "): refused: " << CodeName(s.error_code()) << ": "
                << s.error_message() << "\n";
      continue;
    }
    const int code = ctx.Fail(s);
    ctx.err() << "stopped at lot " << r.lot_id
              << "; re-run the same command to resume (serials already "
                 "imported are unchanged)\n";
    return code;
  }
  ctx.out() << "serials: new " << tally.created << ", unchanged "
            << tally.unchanged << ", refused " << tally.refused
            << " (lots: " << plan->lots << ")\n";
  return tally.refused > 0 ? kExitBadRows : kExitOk;
}

}  // namespace lotledger::lotctl
