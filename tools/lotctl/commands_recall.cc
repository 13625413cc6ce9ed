// lotctl verbs on the recall service: `lotctl recall initiate|show|list|
// impact|notify|notifications|respond|effectiveness|close|drill|report`.
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "libs/domain/recall/decider.h"
#include "libs/domain/serials/serials.h"
#include "lotledger/v1/recall.grpc.pb.h"
#include "tools/lotctl/context.h"
#include "tools/lotctl/values.h"

namespace lotledger::lotctl {
namespace {

std::string TimeText(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC",
                          absl::FromUnixSeconds(ts.seconds()),
                          absl::UTCTimeZone());
}

std::string ClassText(v1::RecallClass c) {
  switch (c) {
    case v1::RECALL_CLASS_I:
      return "I";
    case v1::RECALL_CLASS_II:
      return "II";
    case v1::RECALL_CLASS_III:
      return "III";
    default:
      return "";
  }
}

std::string StatusText(v1::RecallStatus s) {
  switch (s) {
    case v1::RECALL_STATUS_OPEN:
      return "open";
    case v1::RECALL_STATUS_CLOSED:
      return "closed";
    default:
      return "";
  }
}

std::string Pct(const v1::Recovery& r) {
  return absl::StrFormat("%.1f%%", r.percent());
}

absl::Status Usage(const std::string& text) {
  return absl::InvalidArgumentError(
      absl::StrCat("usage: lotctl recall ", text));
}

// --lot=.. (repeated), --item=.. --made-from=.. --made-to=.., --derived;
// --item=.. --serials=SN0001..SN0100 (repeatable; several in one value
// separated by spaces or commas, as inventory's --serials).
absl::StatusOr<v1::RecallCriteria> Criteria(const Flags& flags) {
  v1::RecallCriteria c;
  for (const std::string& lot : flags.GetAll("lot")) c.add_lot_ids(lot);
  c.set_item(flags.Get("item").value_or(""));
  for (const std::string& text : flags.GetAll("serials")) {
    for (absl::string_view part : absl::StrSplit(text, absl::ByAnyChar(", "))) {
      part = absl::StripAsciiWhitespace(part);
      if (part.empty()) continue;
      absl::StatusOr<v1::SerialRange> r =
          domain::ParseSerialRangeText(part, "--serials");
      if (!r.ok()) return r.status();
      *c.add_serials() = *std::move(r);
    }
  }
  if (auto v = flags.Get("made-from")) {
    absl::StatusOr<v1::Date> d = ParseDateText(*v);
    if (!d.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--made-from: ", d.status().message()));
    }
    *c.mutable_made_from() = *d;
  }
  if (auto v = flags.Get("made-to")) {
    absl::StatusOr<v1::Date> d = ParseDateText(*v);
    if (!d.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--made-to: ", d.status().message()));
    }
    *c.mutable_made_to() = *d;
  }
  c.set_include_derived(flags.Has("derived"));
  if (c.lot_ids().empty() && c.item().empty()) {
    return absl::InvalidArgumentError(
        "give --lot=LOT_ID (repeatable) and/or --item=ITEM --made-from=DATE "
        "--made-to=DATE (add --derived for every lot made from them), or "
        "--item=ITEM --serials=SN0001..SN0100 (repeatable) for units of a "
        "serialised product");
  }
  return c;
}

const std::vector<FlagSpec>& CriteriaFlags() {
  static const auto* specs = new std::vector<FlagSpec>{
      {"lot", FlagKind::kRepeated},    {"item", FlagKind::kValue},
      {"made-from", FlagKind::kValue}, {"made-to", FlagKind::kValue},
      {"derived", FlagKind::kSwitch},  {"serials", FlagKind::kRepeated}};
  return *specs;
}

void PrintScope(std::ostream& out,
                const google::protobuf::RepeatedPtrField<v1::ScopedLot>& s) {
  bool by_serial = false;
  for (const v1::ScopedLot& l : s) by_serial |= !l.serials().empty();
  std::vector<std::vector<std::string>> rows;
  for (const v1::ScopedLot& l : s) {
    rows.push_back({l.lot_id(), recall::ScopeReasonName(l.reason()),
                    absl::StrCat(l.depth()), l.via_lot_id(),
                    DateText(l.expires_on())});
    if (by_serial) {
      rows.back().push_back(l.serials().empty()
                                ? "(whole lot)"
                                : domain::FormatSerials(l.serials()));
    }
  }
  std::vector<std::string> header = {"LOT", "HOW", "DEPTH", "VIA", "EXPIRES"};
  if (by_serial) header.push_back("SERIALS");
  PrintTable(out, header, rows);
}

// Whether any customer line of `impact` is of a serialised lot.
bool HasSerials(const v1::RecallImpact& impact) {
  for (const v1::LotImpact& l : impact.lots()) {
    if (l.used() != 0 || l.unused() != 0 || !l.lot().serials().empty()) {
      return true;
    }
  }
  for (const v1::CustomerImpact& c : impact.customers()) {
    for (const v1::CustomerLotImpact& l : c.lots()) {
      if (!l.serials().empty() || l.used() != 0) return true;
    }
  }
  return false;
}

// The totals line of an impact.
void PrintTotals(std::ostream& out, const v1::RecallImpact& impact) {
  out << impact.lots_in_scope() << " lots in scope, "
      << impact.lots_distributed() << " distributed to "
      << impact.customers_affected() << " customers: shipped "
      << impact.distributed() << ", returned " << impact.returned()
      << ", outstanding " << impact.outstanding() << "; own stock "
      << impact.on_hand() << "\n";
}

void PrintImpact(std::ostream& out, const v1::RecallImpact& impact) {
  PrintTotals(out, impact);
  // Serialised lots: how many held units were used, and which they are.
  const bool serials = HasSerials(impact);
  std::vector<std::vector<std::string>> rows;
  for (const v1::CustomerImpact& c : impact.customers()) {
    for (const v1::CustomerLotImpact& l : c.lots()) {
      rows.push_back({c.customer().customer_id(), c.customer().name(),
                      c.customer().region(), l.lot_id(),
                      absl::StrCat(l.shipped()), absl::StrCat(l.returned()),
                      absl::StrCat(l.held())});
      if (serials) {
        rows.back().push_back(absl::StrCat(l.used()));
        rows.back().push_back(absl::StrCat(l.unused()));
        rows.back().push_back(domain::FormatSerials(l.serials()));
      }
    }
  }
  if (!rows.empty()) {
    out << "\n";
    std::vector<std::string> header = {"CUSTOMER", "NAME",     "REGION", "LOT",
                                       "SHIPPED",  "RETURNED", "HELD"};
    if (serials) {
      for (const char* h : {"USED", "UNUSED", "SERIALS"}) header.push_back(h);
    }
    PrintTable(out, header, rows);
  }
  if (!impact.on_hand_by_location().empty()) {
    out << "\n";
    std::vector<std::vector<std::string>> stock;
    for (const v1::LocationStock& s : impact.on_hand_by_location()) {
      stock.push_back({s.location_id(), absl::StrCat(s.amount())});
    }
    PrintTable(out, {"LOCATION", "ON HAND"}, stock);
  }
}

// "<signer> at <time>: <meaning> (<reason>)"; empty when unsigned.
std::string SignatureText(const v1::Signature& sig) {
  if (sig.signer().empty()) return "";
  return absl::StrCat(sig.signer(), " at ", TimeText(sig.signed_at()), ": ",
                      sig.meaning(), " (", sig.reason(), ")");
}

void PrintRecall(std::ostream& out, const v1::Recall& r) {
  PrintFields(
      out, {{"recall", r.recall_id()},
            {"status", StatusText(r.status())},
            {"class", ClassText(r.classification())},
            {"title", r.title()},
            {"reason", r.reason()},
            {"health hazard", r.health_hazard()},
            {"instructions", r.instructions()},
            {"initiated", absl::StrCat(TimeText(r.initiated_at()), " by ",
                                       r.initiated_by())},
            {"lots in scope", absl::StrCat(r.scope_size())},
            {"notifications", absl::StrCat(r.notifications_size())},
            {"responses", absl::StrCat(r.responses_size())},
            {"closed", r.has_closed_at() ? absl::StrCat(TimeText(r.closed_at()),
                                                        " by ", r.closed_by())
                                         : ""},
            {"summary", r.summary()},
            {"unanswered reason", r.unanswered_reason()},
            {"initiation signed", SignatureText(r.initiation_signature())},
            {"closure signed", SignatureText(r.closure_signature())}});
  out << "\n";
  PrintScope(out, r.scope());
}

void PrintEffectiveness(std::ostream& out, const v1::Effectiveness& e) {
  const v1::Recovery& o = e.overall();
  out << "recovered " << o.recovered() << " of " << o.distributed() << " ("
      << Pct(o) << "): returned " << o.returned() << ", destroyed "
      << o.destroyed() << ", outstanding " << o.outstanding() << "\n"
      << "customers: " << e.customers_affected() << " affected, "
      << e.customers_notified() << " notified, " << e.customers_answered()
      << " answered\n";
  if (!e.unanswered_customer_ids().empty()) {
    out << "no answer after " << e.unanswered_after_days()
        << " days: " << absl::StrJoin(e.unanswered_customer_ids(), ", ")
        << "\n";
  }
  std::vector<std::vector<std::string>> rows;
  for (const v1::CustomerEffectiveness& c : e.customers()) {
    rows.push_back({c.customer().customer_id(),
                    absl::StrCat(c.recovery().distributed()),
                    absl::StrCat(c.recovery().returned()),
                    absl::StrCat(c.recovery().destroyed()),
                    absl::StrCat(c.recovery().outstanding()), Pct(c.recovery()),
                    c.answered() ? "yes" : "no"});
  }
  if (!rows.empty()) {
    out << "\n";
    PrintTable(out,
               {"CUSTOMER", "DISTRIBUTED", "RETURNED", "DESTROYED",
                "OUTSTANDING", "RECOVERED", "ANSWERED"},
               rows);
  }
}

// `lotctl recall impact --view=summary|lots`: the totals, then the
// customers with their totals or the lot rows.
void PrintImpactView(std::ostream& out, const v1::RecallImpact& impact,
                     v1::ImpactView view) {
  PrintTotals(out, impact);
  std::vector<std::vector<std::string>> rows;
  if (view == v1::IMPACT_VIEW_SUMMARY) {
    for (const v1::CustomerImpact& c : impact.customers()) {
      rows.push_back({c.customer().customer_id(), c.customer().name(),
                      c.customer().region(), absl::StrCat(c.shipped()),
                      absl::StrCat(c.returned()), absl::StrCat(c.held())});
    }
    if (!rows.empty()) {
      out << "\n";
      PrintTable(out,
                 {"CUSTOMER", "NAME", "REGION", "SHIPPED", "RETURNED", "HELD"},
                 rows);
    }
    return;
  }
  const bool serials = HasSerials(impact);
  for (const v1::LotImpact& l : impact.lots()) {
    rows.push_back({l.lot().lot_id(), absl::StrCat(l.customers()),
                    absl::StrCat(l.shipped()), absl::StrCat(l.returned()),
                    absl::StrCat(l.outstanding()), absl::StrCat(l.on_hand()),
                    l.lot().uom()});
    if (serials) {
      rows.back().push_back(absl::StrCat(l.used()));
      rows.back().push_back(absl::StrCat(l.unused()));
    }
  }
  if (!rows.empty()) {
    out << "\n";
    std::vector<std::string> header = {"LOT",      "CUSTOMERS",   "SHIPPED",
                                       "RETURNED", "OUTSTANDING", "ON HAND",
                                       "UOM"};
    if (serials) {
      header.push_back("USED");
      header.push_back("UNUSED");
    }
    PrintTable(out, header, rows);
  }
}

template <typename Resp>
int Done(Context& ctx, const Resp& resp, const std::function<void()>& text) {
  if (ctx.json()) {
    ctx.PrintJson(resp);
  } else {
    text();
  }
  return kExitOk;
}

int Initiate(Context& ctx, v1::RecallService::Stub& stub, ParsedArgs& args) {
  std::vector<FlagSpec> specs = CriteriaFlags();
  for (const char* n : {"class", "title", "reason", "hazard", "instructions",
                        "recall-id", "request-id", "sign-token"}) {
    specs.push_back({n, FlagKind::kValue});
  }
  absl::StatusOr<Flags> flags = Flags::Take(args, specs);
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, "recall initiate"); !s.ok()) {
    return ctx.Usage(s);
  }
  v1::InitiateRequest req;
  req.set_request_id(ctx.RequestId(*flags));
  req.set_recall_id(flags->Get("recall-id").value_or(""));
  const std::string cls =
      absl::AsciiStrToUpper(flags->Get("class").value_or(""));
  if (cls == "I" || cls == "1") {
    req.set_classification(v1::RECALL_CLASS_I);
  } else if (cls == "II" || cls == "2") {
    req.set_classification(v1::RECALL_CLASS_II);
  } else if (cls == "III" || cls == "3") {
    req.set_classification(v1::RECALL_CLASS_III);
  } else {
    return ctx.Usage(
        absl::InvalidArgumentError("--class: required: I, II or III"));
  }
  req.set_title(flags->Get("title").value_or(""));
  req.set_reason(flags->Get("reason").value_or(""));
  req.set_health_hazard(flags->Get("hazard").value_or(""));
  req.set_instructions(flags->Get("instructions").value_or(""));
  absl::StatusOr<v1::RecallCriteria> criteria = Criteria(*flags);
  if (!criteria.ok()) return ctx.Usage(criteria.status());
  *req.mutable_criteria() = *criteria;
  // Initiating is an electronic signature: the fresh re-authentication
  // (default: the --token).
  req.mutable_signature()->set_credential(
      flags->Get("sign-token").value_or(ctx.options().token));
  v1::InitiateResponse resp;
  grpc::Status s = stub.Initiate(ctx.Call().get(), req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  return Done(ctx, resp, [&] {
    PrintRecall(ctx.out(), resp.recall());
    ctx.out() << "\n";
    PrintImpact(ctx.out(), resp.impact());
  });
}

int Drill(Context& ctx, v1::RecallService::Stub& stub, ParsedArgs& args) {
  std::vector<FlagSpec> specs = CriteriaFlags();
  specs.push_back({"notes", FlagKind::kValue});
  specs.push_back({"request-id", FlagKind::kValue});
  specs.push_back({"totals", FlagKind::kSwitch});
  absl::StatusOr<Flags> flags = Flags::Take(args, specs);
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, "recall drill"); !s.ok()) {
    return ctx.Usage(s);
  }
  v1::RunDrillRequest req;
  req.set_request_id(ctx.RequestId(*flags));
  req.set_notes(flags->Get("notes").value_or(""));
  req.set_totals_only(flags->Has("totals"));
  absl::StatusOr<v1::RecallCriteria> criteria = Criteria(*flags);
  if (!criteria.ok()) return ctx.Usage(criteria.status());
  *req.mutable_criteria() = *criteria;
  v1::RunDrillResponse resp;
  grpc::Status s = stub.RunDrill(ctx.Call().get(), req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  return Done(ctx, resp, [&] {
    ctx.out() << "drill " << resp.drill_id() << ": scope and impact in "
              << absl::StrFormat("%.3f ms", resp.elapsed_us() / 1000.0)
              << " (nothing blocked, nobody notified)\n";
    if (!resp.scope().empty()) {
      ctx.out() << "\n";
      PrintScope(ctx.out(), resp.scope());
      ctx.out() << "\n";
    }
    PrintImpact(ctx.out(), resp.impact());
  });
}

int Respond(Context& ctx, v1::RecallService::Stub& stub, ParsedArgs& args) {
  absl::StatusOr<Flags> flags =
      Flags::Take(args, {{"customer", FlagKind::kValue},
                         {"acknowledged", FlagKind::kSwitch},
                         {"nothing-found", FlagKind::kSwitch},
                         {"returned", FlagKind::kRepeated},
                         {"destroyed", FlagKind::kRepeated},
                         {"notes", FlagKind::kValue},
                         {"request-id", FlagKind::kValue}});
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, "recall respond"); !s.ok()) {
    return ctx.Usage(s);
  }
  if (args.positional.size() != 1) {
    return ctx.Usage(Usage(
        "respond RECALL_ID --customer=ID [--acknowledged] [--nothing-found] "
        "[--returned=LOT_ID:N ...] [--destroyed=LOT_ID:N ...] [--notes=..]"));
  }
  v1::RecordResponseRequest req;
  req.set_request_id(ctx.RequestId(*flags));
  req.set_recall_id(args.positional[0]);
  req.set_customer_id(flags->Get("customer").value_or(""));
  req.set_acknowledged(flags->Has("acknowledged"));
  req.set_nothing_found(flags->Has("nothing-found"));
  req.set_notes(flags->Get("notes").value_or(""));
  std::map<std::string, v1::RecallResponseLine> lines;
  for (const char* kind : {"returned", "destroyed"}) {
    for (const std::string& v : flags->GetAll(kind)) {
      const size_t colon = v.rfind(':');
      if (colon == std::string::npos) {
        return ctx.Usage(absl::InvalidArgumentError(
            absl::StrCat("--", kind, ": \"", v, "\" is not LOT_ID:N")));
      }
      absl::StatusOr<int64_t> n =
          ParseInt(v.substr(colon + 1), absl::StrCat("--", kind), 0, INT64_MAX);
      if (!n.ok()) return ctx.Usage(n.status());
      v1::RecallResponseLine& l = lines[v.substr(0, colon)];
      l.set_lot_id(v.substr(0, colon));
      if (std::string(kind) == "returned") {
        l.set_returned(*n);
      } else {
        l.set_destroyed(*n);
      }
    }
  }
  for (auto& [lot, line] : lines) *req.add_lines() = line;
  v1::RecordResponseResponse resp;
  grpc::Status s = stub.RecordResponse(ctx.Call().get(), req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  return Done(ctx, resp, [&] {
    ctx.out() << "response " << resp.response().response().response_id()
              << " recorded for " << req.customer_id() << "\n\n";
    PrintEffectiveness(ctx.out(), resp.effectiveness());
  });
}

int Report(Context& ctx, v1::RecallService::Stub& stub, ParsedArgs& args) {
  absl::StatusOr<Flags> flags = Flags::Take(args, {{"csv", FlagKind::kSwitch},
                                                   {"html", FlagKind::kValue},
                                                   {"out", FlagKind::kValue},
                                                   {"days", FlagKind::kValue}});
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, "recall report"); !s.ok()) {
    return ctx.Usage(s);
  }
  if (args.positional.size() != 1 || flags->Has("csv") == flags->Has("html")) {
    return ctx.Usage(
        Usage("report RECALL_ID --csv [--out=FILE] | --html=FILE"));
  }
  v1::GetReportRequest req;
  req.set_recall_id(args.positional[0]);
  req.set_format(flags->Has("csv") ? v1::REPORT_FORMAT_CSV
                                   : v1::REPORT_FORMAT_HTML);
  if (auto d = flags->Get("days")) {
    absl::StatusOr<int64_t> n = ParseInt(*d, "--days", 0, 3650);
    if (!n.ok()) return ctx.Usage(n.status());
    req.set_unanswered_after_days(static_cast<int32_t>(*n));
  }
  v1::GetReportResponse resp;
  grpc::Status s = stub.GetReport(ctx.Call().get(), req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  const std::string path =
      flags->Get("html").value_or(flags->Get("out").value_or(""));
  if (path.empty() || path == "-") {
    ctx.out() << resp.content();
    return kExitOk;
  }
  std::ofstream file(path, std::ios::binary);
  file << resp.content();
  if (!file.good()) {
    return ctx.Usage(
        absl::InvalidArgumentError(absl::StrCat("cannot write ", path)));
  }
  ctx.err() << "wrote " << path << " (" << resp.content().size() << " bytes)\n";
  return kExitOk;
}

}  // namespace

int RunRecall(Context& ctx, ParsedArgs& args) {
  const std::string sub = args.positional.empty() ? "" : args.positional[0];
  if (!args.positional.empty()) args.positional.erase(args.positional.begin());
  auto stub = v1::RecallService::NewStub(ctx.channel());
  if (sub == "initiate") return Initiate(ctx, *stub, args);
  if (sub == "drill") return Drill(ctx, *stub, args);
  if (sub == "respond") return Respond(ctx, *stub, args);
  if (sub == "report") return Report(ctx, *stub, args);
  if (sub == "list") {
    absl::StatusOr<Flags> flags =
        Flags::Take(args, {{"status", FlagKind::kValue}});
    if (!flags.ok()) return ctx.Usage(flags.status());
    if (auto s = RejectUnknown(args, "recall list"); !s.ok()) {
      return ctx.Usage(s);
    }
    v1::ListRecallsRequest req;
    const std::string status = flags->Get("status").value_or("");
    if (status == "open") req.set_status(v1::RECALL_STATUS_OPEN);
    if (status == "closed") req.set_status(v1::RECALL_STATUS_CLOSED);
    if (!status.empty() && req.status() == v1::RECALL_STATUS_UNSPECIFIED) {
      return ctx.Usage(absl::InvalidArgumentError("--status: open or closed"));
    }
    v1::ListRecallsResponse all;
    while (true) {
      v1::ListRecallsResponse page;
      grpc::Status s = stub->ListRecalls(ctx.Call().get(), req, &page);
      if (!s.ok()) return ctx.Fail(s);
      for (auto& r : *page.mutable_recalls()) *all.add_recalls() = r;
      if (page.next_page_token().empty()) break;
      req.set_page_token(page.next_page_token());
    }
    return Done(ctx, all, [&] {
      std::vector<std::vector<std::string>> rows;
      for (const v1::RecallSummary& r : all.recalls()) {
        rows.push_back({r.recall_id(), StatusText(r.status()),
                        ClassText(r.classification()),
                        absl::StrCat(r.lots_in_scope()),
                        TimeText(r.initiated_at()), r.title()});
      }
      PrintTable(ctx.out(),
                 {"RECALL", "STATUS", "CLASS", "LOTS", "INITIATED", "TITLE"},
                 rows);
    });
  }
  // The rest take one RECALL_ID.
  std::vector<FlagSpec> specs = {{"request-id", FlagKind::kValue}};
  if (sub == "close") {
    specs.push_back({"summary", FlagKind::kValue});
    specs.push_back({"unanswered-reason", FlagKind::kValue});
    specs.push_back({"sign-token", FlagKind::kValue});
  }
  if (sub == "effectiveness") specs.push_back({"days", FlagKind::kValue});
  if (sub == "impact") {
    specs.push_back({"view", FlagKind::kValue});
    specs.push_back({"page-size", FlagKind::kValue});
  }
  if (sub == "notifications") specs.push_back({"customer", FlagKind::kValue});
  absl::StatusOr<Flags> flags = Flags::Take(args, specs);
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, "recall " + sub); !s.ok()) {
    return ctx.Usage(s);
  }
  if (args.positional.size() != 1) {
    return ctx.Usage(Usage(
        "initiate|show|list|impact|notify|notifications|respond|"
        "effectiveness|close|drill|report ... (see: lotctl help recall)"));
  }
  const std::string& id = args.positional[0];
  if (sub == "show") {
    v1::GetRecallRequest req;
    req.set_recall_id(id);
    v1::GetRecallResponse resp;
    grpc::Status s = stub->GetRecall(ctx.Call().get(), req, &resp);
    if (!s.ok()) return ctx.Fail(s);
    return Done(ctx, resp, [&] { PrintRecall(ctx.out(), resp.recall()); });
  }
  if (sub == "impact") {
    // --view=full (default: everything in one answer), summary (totals and
    // per-customer totals), lots (the lot rows) or customers (each
    // customer's lines); the lists are read page by page (--page-size,
    // default 1000 for lots and customers) and printed whole.
    v1::AnalyzeImpactRequest req;
    req.set_recall_id(id);
    const std::string view = flags->Get("view").value_or("full");
    if (view == "full") req.set_view(v1::IMPACT_VIEW_FULL);
    if (view == "summary") req.set_view(v1::IMPACT_VIEW_SUMMARY);
    if (view == "lots") req.set_view(v1::IMPACT_VIEW_LOTS);
    if (view == "customers") req.set_view(v1::IMPACT_VIEW_CUSTOMERS);
    if (req.view() == v1::IMPACT_VIEW_UNSPECIFIED) {
      return ctx.Usage(absl::InvalidArgumentError(
          "--view: full, summary, lots or customers"));
    }
    if (view == "lots" || view == "customers") req.set_page_size(1000);
    if (auto n = flags->Get("page-size")) {
      absl::StatusOr<int64_t> size = ParseInt(*n, "--page-size", 1, 10000);
      if (!size.ok()) return ctx.Usage(size.status());
      req.set_page_size(static_cast<int32_t>(*size));
    }
    v1::AnalyzeImpactResponse all;
    while (true) {
      v1::AnalyzeImpactResponse page;
      grpc::Status s = stub->AnalyzeImpact(ctx.Call().get(), req, &page);
      if (!s.ok()) return ctx.Fail(s);
      // The lists of every page in order, the totals of the last (the
      // latest).
      v1::RecallImpact* acc = all.mutable_impact();
      v1::RecallImpact* got = page.mutable_impact();
      acc->mutable_lots()->Swap(got->mutable_lots());
      for (auto& l : *acc->mutable_lots()) got->add_lots()->Swap(&l);
      acc->mutable_customers()->Swap(got->mutable_customers());
      for (auto& c : *acc->mutable_customers()) got->add_customers()->Swap(&c);
      acc->Swap(got);
      if (page.next_page_token().empty()) break;
      req.set_page_token(page.next_page_token());
    }
    return Done(ctx, all, [&] {
      if (req.view() == v1::IMPACT_VIEW_SUMMARY ||
          req.view() == v1::IMPACT_VIEW_LOTS) {
        PrintImpactView(ctx.out(), all.impact(), req.view());
      } else {
        PrintImpact(ctx.out(), all.impact());
      }
    });
  }
  if (sub == "notify") {
    v1::GenerateNotificationsRequest req;
    req.set_request_id(ctx.RequestId(*flags));
    req.set_recall_id(id);
    v1::GenerateNotificationsResponse resp;
    grpc::Status s = stub->GenerateNotifications(ctx.Call().get(), req, &resp);
    if (!s.ok()) return ctx.Fail(s);
    return Done(ctx, resp, [&] {
      ctx.out() << resp.issued_size() << " notifications issued, "
                << resp.already_notified() << " customers notified before\n";
    });
  }
  if (sub == "notifications") {
    v1::ListNotificationsRequest req;
    req.set_recall_id(id);
    req.set_customer_id(flags->Get("customer").value_or(""));
    v1::ListNotificationsResponse resp;
    grpc::Status s = stub->ListNotifications(ctx.Call().get(), req, &resp);
    if (!s.ok()) return ctx.Fail(s);
    return Done(ctx, resp, [&] {
      for (const v1::RecallNotification& n : resp.notifications()) {
        const v1::RecallNotificationIssued& i = n.notice();
        ctx.out() << i.notification_id() << "  to " << i.customer().name()
                  << " (" << i.customer().customer_id() << ")  issued "
                  << TimeText(n.issued_at()) << "\n  " << i.subject() << "\n  "
                  << i.instructions() << "\n";
        for (const v1::RecallNoticeLine& l : i.lines()) {
          ctx.out() << "    " << l.lot_id() << "  expires "
                    << DateText(l.expires_on()) << "  shipped " << l.shipped()
                    << ", returned " << l.returned() << ", held " << l.held()
                    << " " << l.uom();
          if (!l.serials().empty()) {
            ctx.out() << " (" << domain::FormatSerials(l.serials()) << "; "
                      << l.used() << " used)";
          }
          ctx.out() << "\n";
        }
      }
    });
  }
  if (sub == "effectiveness") {
    v1::GetEffectivenessRequest req;
    req.set_recall_id(id);
    if (auto d = flags->Get("days")) {
      absl::StatusOr<int64_t> n = ParseInt(*d, "--days", 0, 3650);
      if (!n.ok()) return ctx.Usage(n.status());
      req.set_unanswered_after_days(static_cast<int32_t>(*n));
    }
    v1::GetEffectivenessResponse resp;
    grpc::Status s = stub->GetEffectiveness(ctx.Call().get(), req, &resp);
    if (!s.ok()) return ctx.Fail(s);
    return Done(ctx, resp,
                [&] { PrintEffectiveness(ctx.out(), resp.effectiveness()); });
  }
  if (sub == "close") {
    v1::CloseRecallRequest req;
    req.set_request_id(ctx.RequestId(*flags));
    req.set_recall_id(id);
    req.set_summary(flags->Get("summary").value_or(""));
    req.set_unanswered_reason(flags->Get("unanswered-reason").value_or(""));
    // Closing is an electronic signature (default: the --token).
    req.mutable_signature()->set_credential(
        flags->Get("sign-token").value_or(ctx.options().token));
    v1::CloseRecallResponse resp;
    grpc::Status s = stub->CloseRecall(ctx.Call().get(), req, &resp);
    if (!s.ok()) return ctx.Fail(s);
    return Done(ctx, resp, [&] {
      ctx.out() << "recall " << id << " closed\n\n";
      PrintEffectiveness(ctx.out(), resp.effectiveness());
    });
  }
  return ctx.Usage(absl::InvalidArgumentError(absl::StrCat(
      "unknown recall command '", sub, "' (see: lotctl help recall)")));
}

}  // namespace lotledger::lotctl
