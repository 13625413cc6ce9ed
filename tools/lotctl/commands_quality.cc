// lotctl verbs on the quality service: inspections, dispositions (electronic
// signatures) and quality records.
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "lotledger/v1/quality.grpc.pb.h"
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

std::string DispositionText(v1::Disposition d) {
  switch (d) {
    case v1::DISPOSITION_RELEASED:
      return "released";
    case v1::DISPOSITION_ON_HOLD:
      return "on hold";
    case v1::DISPOSITION_REJECTED:
      return "rejected";
    default:
      return "undecided";
  }
}

absl::StatusOr<v1::Disposition> ParseDisposition(const std::string& text) {
  const std::string d = absl::AsciiStrToLower(text);
  if (d == "released") return v1::DISPOSITION_RELEASED;
  if (d == "on-hold" || d == "on_hold" || d == "held") {
    return v1::DISPOSITION_ON_HOLD;
  }
  if (d == "rejected") return v1::DISPOSITION_REJECTED;
  if (d == "undecided") return v1::DISPOSITION_UNSPECIFIED;
  return absl::InvalidArgumentError(
      absl::StrCat("--disposition: \"", text,
                   "\" is not released, on-hold, rejected or undecided"));
}

std::string InspectionTypeText(v1::InspectionType t) {
  switch (t) {
    case v1::INSPECTION_TYPE_INCOMING:
      return "incoming";
    case v1::INSPECTION_TYPE_IN_PROCESS:
      return "in-process";
    case v1::INSPECTION_TYPE_FINAL:
      return "final";
    default:
      return "unspecified";
  }
}

void PrintRecord(std::ostream& out, const v1::QualityRecord& r) {
  PrintFields(out, {{"lot", r.lot_id()},
                    {"disposition", DispositionText(r.disposition())},
                    {"since", TimeText(r.disposition_since())}});
  for (const v1::Inspection& i : r.inspections()) {
    const v1::InspectionRecorded& rec = i.inspection();
    out << "\ninspection " << rec.inspection_id() << "  "
        << InspectionTypeText(rec.type()) << "  "
        << (rec.passed() ? "PASSED" : "FAILED") << "  sample "
        << rec.sample_size() << "  by " << i.inspector() << "  "
        << TimeText(i.occurred_at()) << "\n";
    std::vector<std::vector<std::string>> rows;
    for (const v1::CharacteristicResult& c : rec.results()) {
      rows.push_back({"  " + c.characteristic(), c.specification(),
                      absl::StrCat(c.measured_value(),
                                   c.unit().empty() ? "" : " ", c.unit()),
                      c.passed() ? "pass" : "FAIL"});
    }
    PrintTable(out, {"  CHARACTERISTIC", "SPEC", "MEASURED", "RESULT"}, rows);
    if (!rec.notes().empty()) out << "  notes: " << rec.notes() << "\n";
  }
  for (const v1::SignedDisposition& s : r.signatures()) {
    const v1::DispositionChanged& c = s.change();
    out << "\n"
        << DispositionText(c.from()) << " -> " << DispositionText(c.to())
        << "  signed by " << c.signature().signer() << "  "
        << TimeText(c.signature().signed_at()) << "\n"
        << "  meaning: " << c.signature().meaning() << "\n"
        << "  reason:  " << c.signature().reason() << "\n";
    if (c.has_deviation()) {
      out << "  deviation " << c.deviation().deviation_id() << " overriding "
          << c.overridden_rule() << ", co-signed by "
          << c.deviation().approval().signer() << ": "
          << c.deviation().justification() << "\n";
    }
  }
}

absl::StatusOr<v1::CharacteristicResult> ParseResult(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, '|');
  if (parts.size() != 5) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--result: \"", text,
        "\" is not characteristic|spec|value|unit|pass (5 parts)"));
  }
  v1::CharacteristicResult r;
  r.set_characteristic(parts[0]);
  r.set_specification(parts[1]);
  r.set_measured_value(parts[2]);
  r.set_unit(parts[3]);
  const std::string verdict = absl::AsciiStrToLower(parts[4]);
  if (verdict == "pass" || verdict == "passed" || verdict == "true") {
    r.set_passed(true);
  } else if (verdict != "fail" && verdict != "failed" && verdict != "false") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--result: the last part of \"", text, "\" must be pass or fail"));
  }
  return r;
}

int Print(Context& ctx, const google::protobuf::Message& resp,
          const v1::QualityRecord& record) {
  if (ctx.json()) {
    ctx.PrintJson(resp);
  } else {
    PrintRecord(ctx.out(), record);
  }
  return kExitOk;
}

}  // namespace

int RunInspect(Context& ctx, ParsedArgs& args) {
  absl::StatusOr<Flags> flags =
      Flags::Take(args, {{"type", FlagKind::kValue},
                         {"sample-size", FlagKind::kValue},
                         {"result", FlagKind::kRepeated},
                         {"notes", FlagKind::kValue},
                         {"inspection-id", FlagKind::kValue},
                         {"request-id", FlagKind::kValue}});
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, "inspect"); !s.ok()) return ctx.Usage(s);
  if (auto s = ExpectPositional(args, 1,
                                "inspect LOT_ID --type=.. --sample-size=.. "
                                "--result=..");
      !s.ok()) {
    return ctx.Usage(s);
  }
  v1::RecordInspectionRequest req;
  req.set_request_id(ctx.RequestId(*flags));
  req.set_lot_id(args.positional[0]);
  req.set_inspection_id(flags->Get("inspection-id").value_or(""));
  req.set_notes(flags->Get("notes").value_or(""));
  const std::string type =
      absl::AsciiStrToLower(flags->Get("type").value_or(""));
  if (type == "final") {
    req.set_type(v1::INSPECTION_TYPE_FINAL);
  } else if (type == "incoming") {
    req.set_type(v1::INSPECTION_TYPE_INCOMING);
  } else if (type == "in-process" || type == "in_process") {
    req.set_type(v1::INSPECTION_TYPE_IN_PROCESS);
  } else {
    return ctx.Usage(absl::InvalidArgumentError(
        "--type: required, one of final, incoming, in-process"));
  }
  absl::StatusOr<int64_t> sample = ParseInt(
      flags->Get("sample-size").value_or(""), "--sample-size", 1, INT32_MAX);
  if (!sample.ok()) return ctx.Usage(sample.status());
  req.set_sample_size(static_cast<int32_t>(*sample));
  const std::vector<std::string> results = flags->GetAll("result");
  if (results.empty()) {
    return ctx.Usage(absl::InvalidArgumentError(
        "--result: at least one, e.g. --result=\"seal strength|>= 1.2|1.45|"
        "N/15mm|pass\""));
  }
  for (const std::string& text : results) {
    absl::StatusOr<v1::CharacteristicResult> r = ParseResult(text);
    if (!r.ok()) return ctx.Usage(r.status());
    *req.add_results() = *r;
  }
  auto stub = v1::QualityService::NewStub(ctx.channel());
  v1::RecordInspectionResponse resp;
  grpc::Status s = stub->RecordInspection(ctx.Call().get(), req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  return Print(ctx, resp, resp.record());
}

int RunDisposition(Context& ctx, const std::string& verb, ParsedArgs& args) {
  std::vector<FlagSpec> specs = {{"meaning", FlagKind::kValue},
                                 {"reason", FlagKind::kValue},
                                 {"sign-token", FlagKind::kValue},
                                 {"request-id", FlagKind::kValue}};
  if (verb == "release") {
    for (const char* name : {"deviation", "justification", "co-sign-token",
                             "co-sign-meaning", "co-sign-reason"}) {
      specs.push_back({name, FlagKind::kValue});
    }
  }
  absl::StatusOr<Flags> flags = Flags::Take(args, specs);
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, verb); !s.ok()) return ctx.Usage(s);
  if (auto s =
          ExpectPositional(args, 1, verb + " LOT_ID --meaning=.. --reason=..");
      !s.ok()) {
    return ctx.Usage(s);
  }
  v1::ChangeDispositionRequest req;
  req.set_request_id(ctx.RequestId(*flags));
  req.set_lot_id(args.positional[0]);
  req.set_to(verb == "release" ? v1::DISPOSITION_RELEASED
             : verb == "hold"  ? v1::DISPOSITION_ON_HOLD
                               : v1::DISPOSITION_REJECTED);
  v1::SignatureRequest* sig = req.mutable_signature();
  sig->set_meaning(flags->Get("meaning").value_or(""));
  sig->set_reason(flags->Get("reason").value_or(""));
  sig->set_credential(flags->Get("sign-token").value_or(ctx.options().token));
  if (sig->meaning().empty() || sig->reason().empty()) {
    return ctx.Usage(absl::InvalidArgumentError(
        absl::StrCat("--meaning and --reason are required for '", verb,
                     "': they are part of the signature")));
  }
  const bool deviation =
      flags->Has("deviation") || flags->Has("justification") ||
      flags->Has("co-sign-token") || flags->Has("co-sign-meaning") ||
      flags->Has("co-sign-reason");
  if (deviation) {
    for (const char* name : {"deviation", "justification", "co-sign-token",
                             "co-sign-meaning", "co-sign-reason"}) {
      if (flags->Get(name).value_or("").empty()) {
        return ctx.Usage(absl::InvalidArgumentError(absl::StrCat(
            "--", name, " is required for a release under a deviation")));
      }
    }
    v1::DeviationRequest* d = req.mutable_deviation();
    d->set_deviation_id(*flags->Get("deviation"));
    d->set_justification(*flags->Get("justification"));
    d->mutable_approval()->set_meaning(*flags->Get("co-sign-meaning"));
    d->mutable_approval()->set_reason(*flags->Get("co-sign-reason"));
    d->mutable_approval()->set_credential(*flags->Get("co-sign-token"));
  }
  auto stub = v1::QualityService::NewStub(ctx.channel());
  v1::ChangeDispositionResponse resp;
  grpc::Status s = stub->ChangeDisposition(ctx.Call().get(), req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  return Print(ctx, resp, resp.record());
}

int RunQuality(Context& ctx, ParsedArgs& args) {
  const std::string sub = args.positional.empty() ? "" : args.positional[0];
  if (!args.positional.empty()) args.positional.erase(args.positional.begin());
  auto stub = v1::QualityService::NewStub(ctx.channel());
  if (sub == "get") {
    if (auto s = RejectUnknown(args, "quality get"); !s.ok()) {
      return ctx.Usage(s);
    }
    if (auto s = ExpectPositional(args, 1, "quality get LOT_ID"); !s.ok()) {
      return ctx.Usage(s);
    }
    v1::GetQualityRecordRequest req;
    req.set_lot_id(args.positional[0]);
    v1::GetQualityRecordResponse resp;
    grpc::Status s = stub->GetQualityRecord(ctx.Call().get(), req, &resp);
    if (!s.ok()) return ctx.Fail(s);
    return Print(ctx, resp, resp.record());
  }
  if (sub != "list") {
    return ctx.Usage(
        absl::InvalidArgumentError("usage: lotctl quality get|list ..."));
  }
  absl::StatusOr<Flags> flags =
      Flags::Take(args, {{"disposition", FlagKind::kValue},
                         {"page-size", FlagKind::kValue},
                         {"page-token", FlagKind::kValue},
                         {"all", FlagKind::kSwitch}});
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, "quality list"); !s.ok()) {
    return ctx.Usage(s);
  }
  if (!args.positional.empty()) {
    return ctx.Usage(absl::InvalidArgumentError(
        "usage: lotctl quality list --disposition=.."));
  }
  absl::StatusOr<v1::Disposition> disposition =
      ParseDisposition(flags->Get("disposition").value_or(""));
  if (!disposition.ok()) return ctx.Usage(disposition.status());
  v1::ListLotsByDispositionRequest req;
  req.set_disposition(*disposition);
  if (auto v = flags->Get("page-size")) {
    absl::StatusOr<int64_t> n = ParseInt(*v, "--page-size", 1, 1000);
    if (!n.ok()) return ctx.Usage(n.status());
    req.set_page_size(static_cast<int32_t>(*n));
  }
  req.set_page_token(flags->Get("page-token").value_or(""));
  v1::ListLotsByDispositionResponse merged;
  while (true) {
    v1::ListLotsByDispositionResponse page;
    grpc::Status s = stub->ListLotsByDisposition(ctx.Call().get(), req, &page);
    if (!s.ok()) return ctx.Fail(s);
    for (auto& r : *page.mutable_records())
      *merged.add_records() = std::move(r);
    merged.set_next_page_token(page.next_page_token());
    if (!flags->Has("all") || page.next_page_token().empty()) break;
    req.set_page_token(page.next_page_token());
  }
  if (ctx.json()) {
    ctx.PrintJson(merged);
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const v1::QualityRecord& r : merged.records()) {
    rows.push_back({r.lot_id(), DispositionText(r.disposition()),
                    TimeText(r.disposition_since()),
                    absl::StrCat(r.inspections_size())});
  }
  PrintTable(ctx.out(), {"LOT", "DISPOSITION", "SINCE", "INSPECTIONS"}, rows);
  ctx.out() << merged.records_size()
            << (merged.records_size() == 1 ? " lot" : " lots");
  if (!merged.next_page_token().empty()) {
    ctx.out() << "; more with --page-token=" << merged.next_page_token()
              << " (or --all)";
  }
  ctx.out() << "\n";
  return kExitOk;
}

}  // namespace lotledger::lotctl
