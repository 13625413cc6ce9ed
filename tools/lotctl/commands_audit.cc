// lotctl audit: the auditor's tool. `history`, `as-of` and `export` ask the
// audit service; `verify` without a lot id reads the log itself (Kafka or
// an embedded data dir) and needs no service at all.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "libs/audit/checkpoint.h"
#include "libs/audit/log_verify.h"
#include "libs/audit/topics.h"
#include "libs/common/hash.h"
#include "libs/common/ids.h"
#include "libs/common/proto_time.h"
#include "libs/common/topics.h"
#include "libs/eventlog/embedded/embedded_event_log.h"
#include "libs/eventlog/kafka/kafka_event_log.h"
#include "lotledger/v1/audit.grpc.pb.h"
#include "tools/lotctl/context.h"
#include "tools/lotctl/escape.h"
#include "tools/lotctl/values.h"

namespace lotledger::lotctl {
namespace {

std::string TimeText(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", FromTimestamp(ts),
                          absl::UTCTimeZone());
}

int History(Context& ctx, ParsedArgs& args) {
  absl::StatusOr<Flags> flags =
      Flags::Take(args, {{"components", FlagKind::kSwitch},
                         {"derived", FlagKind::kSwitch},
                         {"depth", FlagKind::kValue},
                         {"serial", FlagKind::kValue}});
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, "audit history"); !s.ok()) {
    return ctx.Usage(s);
  }
  if (args.positional.size() != 1) {
    return ctx.Usage(absl::InvalidArgumentError(
        "usage: lotctl audit history LOT_ID [--components] [--derived] | "
        "[--serial=SN]"));
  }
  v1::LotHistoryRequest req;
  req.set_lot_id(args.positional[0]);
  req.set_include_components(flags->Has("components"));
  req.set_include_derived(flags->Has("derived"));
  // One unit of a serialised lot: its events and the lot's own.
  req.set_serial(flags->Get("serial").value_or(""));
  if (auto d = flags->Get("depth")) {
    absl::StatusOr<int64_t> n = ParseInt(*d, "--depth", 1, 100);
    if (!n.ok()) return ctx.Usage(n.status());
    req.set_depth(static_cast<int32_t>(*n));
  }
  auto stub = v1::AuditService::NewStub(ctx.channel());
  auto call = ctx.Call();
  std::unique_ptr<grpc::ClientReader<v1::HistoryEntry>> reader =
      stub->LotHistory(call.get(), req);
  std::vector<std::vector<std::string>> rows;
  v1::HistoryEntry e;
  while (reader->Read(&e)) {
    if (ctx.json()) {
      ctx.PrintJson(e);
      continue;
    }
    std::string lot = e.relation() == v1::LOT_RELATION_SELF ? "" : e.lot_id();
    rows.push_back(
        {TimeText(e.occurred_at()), TimeText(e.recorded_at()),
         absl::StrCat(e.topic(), "/", e.partition(), "@", e.offset()),
         e.actor(), e.description(), e.reason(), lot});
  }
  grpc::Status s = reader->Finish();
  if (!s.ok()) return ctx.Fail(s);
  if (!ctx.json()) {
    PrintTable(ctx.out(),
               {"OCCURRED (UTC)", "RECORDED (UTC)", "LOG", "ACTOR", "WHAT",
                "WHY", "VIA LOT"},
               rows);
    ctx.out() << rows.size() << (rows.size() == 1 ? " event" : " events")
              << "\n";
  }
  return kExitOk;
}

int VerifyLotOnline(Context& ctx, const std::string& lot, const Flags& flags) {
  v1::VerifyLotRequest req;
  req.set_lot_id(lot);
  req.set_include_components(flags.Has("components"));
  req.set_include_derived(flags.Has("derived"));
  auto stub = v1::AuditService::NewStub(ctx.channel());
  v1::VerifyLotResponse resp;
  grpc::Status s = stub->VerifyLot(ctx.Call().get(), req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson(resp);
  } else if (resp.ok()) {
    ctx.out() << "intact: " << resp.records_checked() << " records in "
              << resp.chains_checked() << " chains\n";
  } else {
    const v1::ChainBreak& b = resp.first_break();
    ctx.out() << "BROKEN at " << b.topic() << "/" << b.partition() << " offset "
              << b.offset() << " (aggregate " << b.aggregate_id() << ", seq "
              << b.seq() << "): " << b.what() << "\n";
    if (!b.expected().empty()) {
      ctx.out() << "  expected " << b.expected() << "\n  found    " << b.found()
                << "\n";
    }
  }
  return resp.ok() ? kExitOk : kExitRefused;
}

// Opens the log named by the flags: --embedded-dir, or --kafka-bootstrap.
absl::StatusOr<std::unique_ptr<eventlog::EventLog>> OpenLog(
    const Flags& flags) {
  const bool embedded = flags.Has("embedded-dir");
  const bool kafka = flags.Has("kafka-bootstrap");
  if (embedded == kafka) {
    return absl::InvalidArgumentError(
        "give one of --embedded-dir=DIR (a lotledgerd data dir) or "
        "--kafka-bootstrap=HOST:PORT");
  }
  if (embedded) {
    std::filesystem::path dir = *flags.Get("embedded-dir");
    // A lotledgerd --data-dir holds the log under log/.
    if (std::filesystem::exists(dir / "log" / "CURRENT")) dir /= "log";
    if (!std::filesystem::exists(dir / "CURRENT")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--embedded-dir: ", dir.string(),
          " holds no embedded log (expected a lotledgerd data dir)"));
    }
    return eventlog::OpenEmbeddedEventLog({.path = dir.string()});
  }
  eventlog::KafkaOptions k;
  k.bootstrap_servers = *flags.Get("kafka-bootstrap");
  k.client_id = "lotctl-audit-verify";
  // A verifier opens no producer: it can neither write nor fence a writer.
  k.read_only = true;
  if (auto p = flags.Get("kafka-properties")) {
    for (absl::string_view kv : absl::StrSplit(*p, ',', absl::SkipEmpty())) {
      std::pair<std::string, std::string> pair =
          absl::StrSplit(kv, absl::MaxSplits('=', 1));
      k.extra_properties[pair.first] = pair.second;
    }
  }
  return eventlog::KafkaEventLog::Create(k);
}

int VerifyOffline(Context& ctx, const Flags& flags) {
  audit::VerifyOptions options;
  options.topics = flags.GetAll("topic");
  std::unique_ptr<audit::PublicKeys> keys;
  if (flags.Has("public-key")) {
    absl::StatusOr<std::unique_ptr<audit::PublicKeys>> k =
        audit::PublicKeys::FromPemFiles(flags.GetAll("public-key"));
    if (!k.ok()) {
      return ctx.Usage(absl::InvalidArgumentError(
          absl::StrCat("--public-key: ", k.status().message())));
    }
    keys = std::move(*k);
    options.keys = keys.get();
  }
  if (auto path = flags.Get("checkpoints")) {
    std::ifstream in(*path);
    if (!in) {
      return ctx.Usage(absl::InvalidArgumentError(
          absl::StrCat("--checkpoints: cannot read ", *path)));
    }
    std::stringstream text;
    text << in.rdbuf();
    absl::StatusOr<std::vector<audit::Anchor>> anchors =
        audit::ParseAnchors(text.str());
    if (!anchors.ok()) return ctx.Usage(anchors.status());
    options.anchors = *std::move(anchors);
  }
  absl::StatusOr<std::unique_ptr<eventlog::EventLog>> log = OpenLog(flags);
  if (!log.ok()) {
    if (log.status().code() == absl::StatusCode::kInvalidArgument) {
      return ctx.Usage(log.status());
    }
    ctx.err() << "error: " << log.status().message() << "\n";
    return kExitUnavailable;
  }
  absl::StatusOr<audit::LogVerification> v =
      audit::VerifyLog(**log, flags.Get("topic-prefix").value_or(""), options);
  if (!v.ok()) {
    ctx.err() << "error: " << v.status().message() << "\n";
    return v.status().code() == absl::StatusCode::kUnavailable
               ? kExitUnavailable
               : kExitServerFault;
  }
  std::vector<std::vector<std::string>> rows;
  for (const audit::TopicVerification& t : v->topics) {
    std::string result = "intact";
    if (!t.present) result = "absent";
    if (t.first_break.has_value()) {
      const auto& b = *t.first_break;
      result =
          absl::StrCat("BROKEN at partition ", b.partition, " offset ",
                       b.offset, " (aggregate ", b.aggregate_id, "): ", b.what);
    }
    rows.push_back(
        {t.topic, t.present ? absl::StrCat(t.records) : "-",
         t.present ? absl::StrCat(t.checkpoints, " (", t.signatures_checked,
                                  " signatures checked)")
                   : "-",
         t.present ? absl::StrCat(t.uncovered) : "-", result});
  }
  if (ctx.json()) {
    // One JSON object per topic, for scripts.
    for (const audit::TopicVerification& t : v->topics) {
      ctx.out() << "{\"topic\":\"" << t.topic
                << "\",\"present\":" << (t.present ? "true" : "false")
                << ",\"records\":" << t.records
                << ",\"checkpoints\":" << t.checkpoints
                << ",\"uncovered\":" << t.uncovered;
      if (t.first_break.has_value()) {
        const auto& b = *t.first_break;
        ctx.out() << ",\"break\":{\"partition\":" << b.partition
                  << ",\"offset\":" << b.offset << ",\"aggregate\":\""
                  << b.aggregate_id << "\"}";
      }
      ctx.out() << "}\n";
    }
  } else {
    PrintTable(ctx.out(),
               {"TOPIC", "RECORDS", "CHECKPOINTS", "UNCOVERED", "RESULT"},
               rows);
    ctx.out() << (v->ok() ? "intact: " : "BROKEN: ") << v->records()
              << " records checked\n";
  }
  if (auto path = flags.Get("save-checkpoints"); path && v->ok()) {
    std::ofstream out(*path);
    out << audit::FormatAnchors(v->anchors());
    if (!out) {
      ctx.err() << "error: cannot write " << *path << "\n";
      return kExitUsage;
    }
  }
  return v->ok() ? kExitOk : kExitRefused;
}

int Keygen(Context& ctx, ParsedArgs& args) {
  absl::StatusOr<Flags> flags = Flags::Take(
      args, {{"private", FlagKind::kValue}, {"public", FlagKind::kValue}});
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, "audit keygen"); !s.ok()) {
    return ctx.Usage(s);
  }
  if (!flags->Has("private") || !flags->Has("public") ||
      !args.positional.empty()) {
    return ctx.Usage(absl::InvalidArgumentError(
        "usage: lotctl audit keygen --private=PATH --public=PATH"));
  }
  if (std::filesystem::exists(*flags->Get("private"))) {
    return ctx.Usage(absl::InvalidArgumentError(
        absl::StrCat("--private: ", *flags->Get("private"),
                     " exists; a signing key is never overwritten")));
  }
  absl::StatusOr<std::pair<std::string, std::string>> pems =
      audit::GenerateEd25519Pem();
  if (!pems.ok()) {
    ctx.err() << "error: " << pems.status().message() << "\n";
    return kExitServerFault;
  }
  {
    std::ofstream priv(*flags->Get("private"));
    priv << pems->first;
    std::ofstream pub(*flags->Get("public"));
    pub << pems->second;
    if (!priv || !pub) {
      return ctx.Usage(
          absl::InvalidArgumentError("cannot write the key files"));
    }
  }
  std::filesystem::permissions(
      *flags->Get("private"),
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  absl::StatusOr<std::unique_ptr<audit::Signer>> signer =
      audit::Signer::FromPem(pems->first);
  ctx.out() << "key id " << (signer.ok() ? (*signer)->key_id() : "?") << "\n";
  return kExitOk;
}

int Verify(Context& ctx, ParsedArgs& args) {
  absl::StatusOr<Flags> flags =
      Flags::Take(args, {{"embedded-dir", FlagKind::kValue},
                         {"kafka-bootstrap", FlagKind::kValue},
                         {"kafka-properties", FlagKind::kValue},
                         {"topic-prefix", FlagKind::kValue},
                         {"topic", FlagKind::kRepeated},
                         {"public-key", FlagKind::kRepeated},
                         {"checkpoints", FlagKind::kValue},
                         {"save-checkpoints", FlagKind::kValue},
                         {"components", FlagKind::kSwitch},
                         {"derived", FlagKind::kSwitch}});
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, "audit verify"); !s.ok()) {
    return ctx.Usage(s);
  }
  if (args.positional.size() > 1) {
    return ctx.Usage(absl::InvalidArgumentError(
        "usage: lotctl audit verify [LOT_ID] | --embedded-dir=.. | "
        "--kafka-bootstrap=.."));
  }
  if (args.positional.size() == 1) {
    return VerifyLotOnline(ctx, args.positional[0], *flags);
  }
  return VerifyOffline(ctx, *flags);
}

int AsOf(Context& ctx, ParsedArgs& args) {
  absl::StatusOr<Flags> flags =
      Flags::Take(args, {{"at", FlagKind::kValue}, {"axis", FlagKind::kValue}});
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, "audit as-of"); !s.ok()) {
    return ctx.Usage(s);
  }
  if (args.positional.size() != 1 || !flags->Has("at")) {
    return ctx.Usage(absl::InvalidArgumentError(
        "usage: lotctl audit as-of LOT_ID --at=RFC3339 "
        "[--axis=business|record]"));
  }
  absl::StatusOr<absl::Time> at = ParseAtFlag(*flags->Get("at"));
  if (!at.ok()) return ctx.Usage(at.status());
  absl::StatusOr<bool> record =
      ParseRecordAxisFlag(flags->Get("axis").value_or("business"));
  if (!record.ok()) return ctx.Usage(record.status());
  v1::AsOfRequest req;
  req.set_lot_id(args.positional[0]);
  ToTimestamp(*at, req.mutable_at());
  req.set_axis(*record ? v1::TIME_AXIS_RECORD : v1::TIME_AXIS_BUSINESS);
  auto stub = v1::AuditService::NewStub(ctx.channel());
  v1::AsOfResponse resp;
  grpc::Status s = stub->AsOf(ctx.Call().get(), req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson(resp);
    return kExitOk;
  }
  const v1::LotAsOf& st = resp.state();
  std::string stock;
  for (const v1::LocationStock& l : st.stock()) {
    absl::StrAppend(&stock, stock.empty() ? "" : ", ", l.location_id(), " ",
                    l.amount());
  }
  std::string expires;
  if (st.lot().has_expires_on()) {
    expires = absl::StrFormat("%04d-%02d-%02d", st.lot().expires_on().year(),
                              st.lot().expires_on().month(),
                              st.lot().expires_on().day());
  }
  PrintFields(
      ctx.out(),
      {{"lot", st.lot_id()},
       {"as of", absl::StrCat(TimeText(st.at()), " UTC (",
                              *record ? "record" : "business", " time)")},
       {"exists", st.exists() ? "yes" : "no"},
       {"expires", expires},
       {"disposition", v1::Disposition_Name(st.disposition()).substr(12)},
       {"on hand", absl::StrCat(st.on_hand())},
       {"stock", stock},
       {"customers holding", absl::StrJoin(st.customers_holding(), ", ")},
       {"recalled", st.recalled() ? st.recall_id() : "no"},
       {"events folded", absl::StrCat(st.events_folded())}});
  return kExitOk;
}

int Export(Context& ctx, ParsedArgs& args) {
  absl::StatusOr<Flags> flags =
      Flags::Take(args, {{"components", FlagKind::kSwitch},
                         {"derived", FlagKind::kSwitch},
                         {"out", FlagKind::kValue}});
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, "audit export"); !s.ok()) {
    return ctx.Usage(s);
  }
  if (args.positional.size() != 1) {
    return ctx.Usage(absl::InvalidArgumentError(
        "usage: lotctl audit export LOT_ID [--components] [--derived] "
        "[--out=FILE.jsonld]"));
  }
  v1::ExportEpcisRequest req;
  req.set_lot_id(args.positional[0]);
  req.set_include_components(flags->Has("components"));
  req.set_include_derived(flags->Has("derived"));
  auto stub = v1::AuditService::NewStub(ctx.channel());
  v1::ExportEpcisResponse resp;
  grpc::Status s = stub->ExportEpcis(ctx.Call().get(), req, &resp);
  if (!s.ok()) return ctx.Fail(s);
  if (auto path = flags->Get("out")) {
    std::ofstream out(*path);
    out << resp.document() << "\n";
    if (!out) {
      return ctx.Usage(absl::InvalidArgumentError(
          absl::StrCat("--out: cannot write ", *path)));
    }
    ctx.err() << resp.event_count() << " EPCIS events written to " << *path
              << "\n";
  } else {
    ctx.out() << resp.document() << "\n";
  }
  return kExitOk;
}

std::string DateText(const v1::Date& d) {
  if (d.year() == 0) return "";
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

// The genealogy as Graphviz DOT: the lot, its components and the lots made
// from it, with the quantities consumed. Nodes are numbered (n0, n1, ...)
// and every user-supplied text is a quoted, escaped label, so no lot id or
// unit can add a node, an edge or an attribute (a URL) to the graph.
std::string GenealogyDot(const std::string& lot,
                         const std::vector<v1::HistoryEntry>& entries) {
  std::map<std::string, std::string> nodes;  // lot id -> node id
  auto node = [&nodes](const std::string& lot_id) {
    auto [it, added] = nodes.emplace(lot_id, absl::StrCat("n", nodes.size()));
    return it->second;
  };
  node(lot);
  std::set<std::string> edges;
  for (const v1::HistoryEntry& e : entries) {
    if (!e.event().has_lot_created()) continue;
    const v1::LotCreated& c = e.event().lot_created();
    for (const v1::LotInput& in : c.inputs()) {
      const std::string from = node(in.lot_id());
      const std::string to = node(c.lot_id());
      edges.insert(
          absl::StrCat("  ", from, " -> ", to, " [label=",
                       DotQuoted(absl::StrCat(in.quantity().amount(), " ",
                                              in.quantity().uom())),
                       "];\n"));
    }
  }
  std::string dot =
      "digraph genealogy {\n  rankdir=LR;\n  node [shape=box, "
      "fontname=\"Helvetica\"];\n";
  for (const auto& [lot_id, id] : nodes) {
    absl::StrAppend(
        &dot, "  ", id, " [label=", DotQuoted(lot_id),
        lot_id == lot ? ", style=filled, fillcolor=\"#ffe9a8\"" : "", "];\n");
  }
  for (const std::string& e : edges) dot += e;
  return dot + "}\n";
}

// Runs `dot -Tsvg`; empty when Graphviz is not installed.
std::string DotToSvg(const std::string& dot) {
  char in_path[] = "/tmp/lotctl-dot-XXXXXX";
  const int fd = mkstemp(in_path);
  if (fd < 0) return "";
  close(fd);
  {
    std::ofstream f(in_path);
    f << dot;
  }
  const std::string out_path = std::string(in_path) + ".svg";
  const std::string cmd =
      absl::StrCat("dot -Tsvg -o '", out_path, "' '", in_path, "' 2>/dev/null");
  std::string svg;
  if (std::system(cmd.c_str()) == 0) {
    std::ifstream f(out_path);
    std::stringstream text;
    text << f.rdbuf();
    svg = text.str();
  }
  std::remove(in_path);
  std::remove(out_path.c_str());
  return svg;
}

// The drawing as an <img> of a data: URL, not inline SVG: an image's
// scripts and links never run, whatever the SVG holds.
std::string SvgImage(const std::string& svg, const std::string& lot) {
  return absl::StrCat(
      "<img alt=\"", HtmlEscape(absl::StrCat("Genealogy of lot ", lot)),
      "\" src=\"data:image/svg+xml;base64,", absl::Base64Escape(svg), "\">");
}

int Report(Context& ctx, ParsedArgs& args) {
  absl::StatusOr<Flags> flags = Flags::Take(args, {{"html", FlagKind::kValue}});
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, "audit report"); !s.ok()) {
    return ctx.Usage(s);
  }
  if (args.positional.size() != 1 || !flags->Has("html")) {
    return ctx.Usage(absl::InvalidArgumentError(
        "usage: lotctl audit report LOT_ID --html=OUT.html"));
  }
  const std::string lot = args.positional[0];
  auto stub = v1::AuditService::NewStub(ctx.channel());
  // The whole genealogy's events, for the graph; the lot's own below.
  std::vector<v1::HistoryEntry> entries;
  {
    v1::LotHistoryRequest req;
    req.set_lot_id(lot);
    req.set_include_components(true);
    req.set_include_derived(true);
    auto call = ctx.Call();
    auto reader = stub->LotHistory(call.get(), req);
    v1::HistoryEntry e;
    while (reader->Read(&e)) entries.push_back(e);
    grpc::Status s = reader->Finish();
    if (!s.ok()) return ctx.Fail(s);
  }
  v1::AsOfRequest now_req;
  now_req.set_lot_id(lot);
  ToTimestamp(ctx.env().now(), now_req.mutable_at());
  now_req.set_axis(v1::TIME_AXIS_RECORD);
  v1::AsOfResponse now;
  grpc::Status s = stub->AsOf(ctx.Call().get(), now_req, &now);
  if (!s.ok()) return ctx.Fail(s);
  v1::VerifyLotRequest vreq;
  vreq.set_lot_id(lot);
  vreq.set_include_components(true);
  vreq.set_include_derived(true);
  v1::VerifyLotResponse verified;
  s = stub->VerifyLot(ctx.Call().get(), vreq, &verified);
  if (!s.ok()) return ctx.Fail(s);

  const v1::LotAsOf& st = now.state();
  const v1::Lot& l = st.lot();
  std::string h = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>Audit report ",
      HtmlEscape(lot),
      "</title><style>body{font-family:sans-serif;margin:2em}"
      "table{border-collapse:collapse;margin:1em 0}"
      "td,th{border:1px solid #999;padding:3px 6px;text-align:left;"
      "font-size:90%}.ok{color:#060}.broken{color:#a00;font-weight:bold}"
      "@media print{section{page-break-inside:avoid}}</style></head><body>\n",
      "<h1>Audit report: lot ", HtmlEscape(lot), "</h1>\n<p>Generated ",
      HtmlEscape(absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", ctx.env().now(),
                                  absl::UTCTimeZone())),
      " from the audit service (record time).</p>\n");
  // Lot master data and corrections.
  absl::StrAppend(&h, "<section id=\"lot\"><h2>Lot</h2><table>");
  const std::vector<std::pair<std::string, std::string>> facts = {
      {"Item", l.item()},
      {"Lot number", l.lot_number()},
      {"Manufactured", DateText(l.manufactured_on())},
      {"Expires", DateText(l.expires_on())},
      {"Quantity",
       absl::StrCat(l.quantity().amount(), " ", l.quantity().uom())},
      {"Site", l.site()},
      {"Disposition", v1::Disposition_Name(st.disposition())},
      {"On hand", absl::StrCat(st.on_hand())},
      {"Recalled", st.recalled() ? st.recall_id() : "no"},
  };
  for (const auto& [k, v] : facts) {
    absl::StrAppend(&h, "<tr><th>", HtmlEscape(k), "</th><td>", HtmlEscape(v),
                    "</td></tr>");
  }
  absl::StrAppend(&h,
                  "</table><h3>Corrections</h3><table><tr><th>Field</th>"
                  "<th>From</th><th>To</th><th>Reason</th><th>By</th>"
                  "<th>Recorded</th></tr>");
  for (const v1::LotCorrection& c : l.corrections()) {
    absl::StrAppend(&h, "<tr><td>", HtmlEscape(c.correction().field()),
                    "</td><td>", HtmlEscape(c.correction().old_value()),
                    "</td><td>", HtmlEscape(c.correction().new_value()),
                    "</td><td>", HtmlEscape(c.correction().reason()),
                    "</td><td>", HtmlEscape(c.actor()), "</td><td>",
                    TimeText(c.recorded_at()), "</td></tr>");
  }
  absl::StrAppend(&h, "</table></section>\n");
  // Genealogy.
  const std::string dot = GenealogyDot(lot, entries);
  const std::string svg = DotToSvg(dot);
  absl::StrAppend(&h, "<section id=\"genealogy\"><h2>Genealogy</h2>",
                  svg.empty() ? absl::StrCat("<pre>", HtmlEscape(dot), "</pre>")
                              : SvgImage(svg, lot),
                  "</section>\n");
  // Quality signatures, movements, recalls: the lot's own events.
  std::string quality, moves, recalls, timeline;
  for (const v1::HistoryEntry& e : entries) {
    const std::string row = absl::StrCat(
        "<tr><td>", TimeText(e.occurred_at()), "</td><td>",
        TimeText(e.recorded_at()), "</td><td>", HtmlEscape(e.actor()),
        "</td><td>", HtmlEscape(e.description()), "</td><td>",
        HtmlEscape(e.reason()), "</td></tr>");
    if (e.relation() == v1::LOT_RELATION_SELF) {
      if (e.event().has_disposition_changed() ||
          e.event().has_inspection_recorded()) {
        quality += row;
      }
      if (e.topic() == topics::kInventory) moves += row;
      if (e.topic() == topics::kRecall) recalls += row;
    }
    absl::StrAppend(&timeline, "<tr><td>", TimeText(e.occurred_at()),
                    "</td><td>", TimeText(e.recorded_at()), "</td><td>",
                    HtmlEscape(e.lot_id()), "</td><td>",
                    HtmlEscape(absl::StrCat(e.topic(), "/", e.partition(), "@",
                                            e.offset())),
                    "</td><td>", HtmlEscape(e.actor()), "</td><td>",
                    HtmlEscape(e.description()), "</td><td>",
                    HtmlEscape(e.reason()), "</td></tr>");
  }
  const std::string head =
      "<table><tr><th>Occurred (UTC)</th><th>Recorded (UTC)</th><th>Who</th>"
      "<th>What</th><th>Why</th></tr>";
  absl::StrAppend(&h, "<section id=\"quality\"><h2>Quality signatures</h2>",
                  head, quality,
                  "</table></section>\n<section id=\"movements\"><h2>Movements "
                  "and where it went</h2>",
                  head, moves, "</table><p>Customers holding it: ",
                  HtmlEscape(absl::StrJoin(st.customers_holding(), ", ")),
                  "</p></section>\n<section id=\"recalls\"><h2>Recalls</h2>",
                  head, recalls, "</table></section>\n");
  absl::StrAppend(&h, "<section id=\"verification\"><h2>Verification</h2>");
  if (verified.ok()) {
    absl::StrAppend(&h, "<p class=\"ok\">Intact: ", verified.records_checked(),
                    " records in ", verified.chains_checked(),
                    " hash chains checked.</p>");
  } else {
    const v1::ChainBreak& b = verified.first_break();
    absl::StrAppend(&h, "<p class=\"broken\">BROKEN at ", HtmlEscape(b.topic()),
                    "/", b.partition(), " offset ", b.offset(), " (",
                    HtmlEscape(b.aggregate_id()), "): ", HtmlEscape(b.what()),
                    "</p>");
  }
  absl::StrAppend(
      &h,
      "</section>\n<section id=\"timeline\"><h2>Full timeline</h2>"
      "<table><tr><th>Occurred (UTC)</th><th>Recorded (UTC)</th>"
      "<th>Lot</th><th>Log</th><th>Who</th><th>What</th><th>Why</th></tr>",
      timeline, "</table></section>\n</body></html>\n");
  std::ofstream out(*flags->Get("html"));
  out << h;
  if (!out) {
    return ctx.Usage(absl::InvalidArgumentError(
        absl::StrCat("--html: cannot write ", *flags->Get("html"))));
  }
  ctx.out() << "report written to " << *flags->Get("html") << " ("
            << entries.size() << " events, "
            << (verified.ok() ? "intact" : "BROKEN") << ")\n";
  return kExitOk;
}

}  // namespace

int RunAudit(Context& ctx, ParsedArgs& args) {
  const std::string sub = args.positional.empty() ? "" : args.positional[0];
  if (!args.positional.empty()) args.positional.erase(args.positional.begin());
  if (sub == "history") return History(ctx, args);
  if (sub == "verify") return Verify(ctx, args);
  if (sub == "as-of") return AsOf(ctx, args);
  if (sub == "keygen") return Keygen(ctx, args);
  if (sub == "export") return Export(ctx, args);
  if (sub == "report") return Report(ctx, args);
  return ctx.Usage(absl::InvalidArgumentError(
      "usage: lotctl audit history|verify|as-of|export|report|keygen ..."));
}

}  // namespace lotledger::lotctl
