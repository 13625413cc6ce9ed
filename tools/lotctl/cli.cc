#include "tools/lotctl/cli.h"

#include <grpcpp/support/client_interceptor.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "libs/common/ids.h"
#include "libs/common/status_macros.h"
#include "tools/lotctl/context.h"

namespace lotledger::lotctl {
namespace {

// Reads the writer's address from the trailing metadata of a call a
// standby refused (command/writer_role.h kWriterMetadata).
class WriterHintInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit WriterHintInterceptor(std::function<void(std::string)> note)
      : note_(std::move(note)) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* m) override {
    if (m->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::POST_RECV_STATUS)) {
      if (auto* md = m->GetRecvTrailingMetadata(); md != nullptr) {
        if (auto it = md->find("lotledger-writer"); it != md->end()) {
          note_(std::string(it->second.data(), it->second.size()));
        }
      }
    }
    m->Proceed();
  }

 private:
  std::function<void(std::string)> note_;
};

class WriterHintInterceptorFactory final
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit WriterHintInterceptorFactory(std::function<void(std::string)> note)
      : note_(std::move(note)) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new WriterHintInterceptor(note_);
  }

 private:
  std::function<void(std::string)> note_;
};

// Help, one topic per verb; `lotctl --help` prints them all. Kept next to
// the dispatcher so a new verb and its help land together.
struct HelpTopic {
  const char* verb;
  const char* text;
};

constexpr char kHelpIntro[] =
    R"(lotctl: command-line client of lotledger (lot and expiry traceability).

usage: lotctl [GLOBAL OPTIONS] VERB [ARGS] [OPTIONS]
       lotctl help [VERB]

Global options (anywhere on the line; only the --name=value form):
  --server=HOST:PORT   server address (env LOTLEDGER_SERVER; default
                       127.0.0.1:7070)
  --token=TOKEN        bearer token (env LOTLEDGER_TOKEN)
  --token-file=PATH    read the token from a file instead
  --tls                TLS with the system's trusted roots
  --tls-ca=PATH        TLS, trusting this PEM CA (env LOTLEDGER_TLS_CA)
  --tls-cert=PATH --tls-key=PATH
                       client certificate for mutual TLS
  --tls-server-name=N  expect this name in the server certificate
  --insecure           plaintext (default only for a 127.0.0.1/localhost
                       server, as ./tools/run starts it)
  --json               machine output: the response as protobuf JSON, one line
  --timeout=SECONDS    deadline of each call (default 30)
  --request-id=ID      for commands that write: the idempotency key (default
                       a fresh UUIDv7); retrying with the same id is answered
                       once, so a script can retry safely

Exit codes:
  0  ok
  1  the server refused (FAILED_PRECONDITION, ALREADY_EXISTS, NOT_FOUND,
     PERMISSION_DENIED, UNAUTHENTICATED, ABORTED); a UDI scan that does not
     match master data or names no known lot
  2  usage or bad input (also the server's INVALID_ARGUMENT)
  3  server unreachable or not serving (UNAVAILABLE, DEADLINE_EXCEEDED,
     RESOURCE_EXHAUSTED, CANCELLED by a server that stopped): the outcome
     is unknown; retry, with the same --request-id for writes
  4  import found bad or refused rows
  5  server fault (INTERNAL, DATA_LOSS, UNKNOWN, UNIMPLEMENTED)
Errors print as "error: <CODE>: <message>"; the message names the field or
the rule.
)";

const HelpTopic kHelp[] = {
    {"health", R"(
lotctl health
  grpc.health.v1 Check of the server ("") and each lotledger service;
  prints SERVING / NOT_SERVING. Exit 3 unless the server and every service
  it hosts are SERVING.
)"},
    {"gs1", R"(
lotctl gs1 parse SCAN
  Parses a GS1 element string (UDI) offline: scanner form
  "]d201095060001343521726123110A17" or bracketed "(01)...(17)...(10)...".
  Write the group separator (FNC1, byte 0x1D) as \x1d, <GS> or {GS}.
  Prints the AIs and values (--json: an array of {ai,title,value}).
  Exit 2 with the reason when the scan is invalid.
)"},
    {"product", R"(
lotctl product define --item=GTIN --name=NAME --uom=EA
      --kind=finished|component|raw [--shelf-life-days=N]
      [--alert-days=180,90,30] [--min-ship-days=N]
      [--cap-expiry-by-components] [--require-released-components]
      [--tracking=lot|serial]
  Defines a product or replaces its master data (role admin). Tracking by
  serial (a serial register per lot) is set before the product's first lot.
lotctl product get ITEM
)"},
    {"lot", R"(
lotctl lot create --item=ITEM --lot=LOT_NUMBER --manufactured=YYYY-MM-DD
      [--expires=YYYY-MM-DD] --quantity=N --uom=EA [--site=..] [--order=..]
      [--input=LOT_ID:QTY[:UOM] ...] [--supplier=.. --supplier-lot=..]
  LOT_ID is "<item>:<lot number>"; an input without UOM is counted in the
  input lot's unit.
lotctl lot get LOT_ID
lotctl lot correct LOT_ID --field=FIELD --value=VALUE --reason=TEXT
  FIELD: expires_on, manufactured_on, quantity, site, production_order,
  supplier, supplier_lot.
lotctl lot list [--item=..] [--expires-from=YYYY-MM-DD]
      [--expires-to=YYYY-MM-DD] [--page-size=N] [--page-token=T] [--all]
  --all follows the pages to the end.
lotctl lot assign-serials LOT_ID SERIAL|FIRST..LAST ... [--request-id=ID]
  Assigns serial numbers ("SN0001..SN0100", "SN0142") to a lot of a product
  tracked by serial (role admin). Serials already on the lot are skipped;
  one on another lot of the product is refused, naming that lot.
lotctl lot serial ITEM SERIAL
  The lot a serial belongs to, and the lot's serials.
)"},
    {"trace", R"(
lotctl trace LOT_ID [--backward|--forward] [--depth=N]
lotctl trace --serial=ITEM:SERIAL [--backward|--forward] [--depth=N]
  The genealogy as an indented tree with quantities: backward (default;
  what went into the lot) or forward (what it went into). With --serial,
  from the lot the serial register puts that unit in.
)"},
    {"udi", R"(
lotctl udi resolve SCAN
  Resolves a scanned UDI to its lot and prints every mismatch with master
  data. Exit 1 when there is a mismatch or no such lot: a scan firewall.
  Group separators as for gs1 parse.
)"},
    {"inspect", R"(
lotctl inspect LOT_ID --type=final|incoming|in-process --sample-size=N
      --result="characteristic|spec|value|unit|pass" ... [--notes=..]
      [--inspection-id=ID]
  One --result per characteristic; the last part is pass or fail.
)"},
    {"release", R"(
lotctl release|hold|reject LOT_ID --meaning=TEXT --reason=TEXT
      [--sign-token=TOKEN]
  An electronic signature by the caller. --sign-token is the fresh
  re-authentication credential (default: the --token).
  A release under a deviation adds: --deviation=ID --justification=TEXT
      --co-sign-token=TOKEN --co-sign-meaning=TEXT --co-sign-reason=TEXT
  (the second signer: another principal with role qa_approver).
)"},
    {"quality", R"(
lotctl quality get LOT_ID
lotctl quality list --disposition=released|on-hold|rejected|undecided
      [--page-size=N] [--page-token=T] [--all]
)"},
    {"audit", R"(
lotctl audit history LOT_ID [--components] [--derived] [--depth=N]
      | LOT_ID --serial=SN  (one unit: its events and the lot's own)
  Every event that touched the lot, from every topic, by business time,
  with record time, log position, actor, what and why (--json: one
  HistoryEntry per line). --components / --derived add the genealogy.
lotctl audit verify LOT_ID [--components] [--derived]
  The audit service checks the hash chains of the lot's records.
lotctl audit verify --embedded-dir=DIR | --kafka-bootstrap=HOST:PORT
      [--kafka-properties=k=v,..] [--topic-prefix=P] [--topic=NAME ...]
      [--public-key=PEM ...] [--checkpoints=FILE] [--save-checkpoints=FILE]
  OFFLINE: reads the log itself (no service needed; stop lotledgerd first
  for an embedded dir) and checks every record's hash chain, every topic
  or the --topic ones; names the first break per topic. Exit 1 on a break.
  Signed checkpoints are checked with the --public-key(s); --checkpoints
  names the latest checkpoints kept from an earlier run (written by
  --save-checkpoints) and proves no tail they cover was cut off since.
lotctl audit export LOT_ID [--components] [--derived] [--out=FILE.jsonld]
  The lot's history as a GS1 EPCIS 2.0 JSON-LD document.
lotctl audit report LOT_ID --html=OUT.html
  One self-contained page to read and print: lot master data and
  corrections, genealogy graph (Graphviz dot, inline SVG), quality
  signatures, movements and customers, recalls, verification, timeline.
lotctl audit keygen --private=PATH --public=PATH
  A new Ed25519 checkpoint signing key pair (PEM); prints its key id.
lotctl audit as-of LOT_ID --at=2026-03-02T10:00:00Z [--axis=business|record]
  The lot's state at that time: as it was in the world (business, default)
  or as the system knew it (record).
)"},
    {"recall", R"(
lotctl recall initiate --class=I|II|III --title=.. --reason=.. --hazard=..
      [--instructions=..] [--recall-id=ID] (--lot=LOT_ID ... |
      --item=ITEM --made-from=YYYY-MM-DD --made-to=YYYY-MM-DD [--derived] |
      --item=ITEM --serials=SN0001..SN0100 ...)
      [--sign-token=T]  (initiating is a signature; default: the --token)
  Recall the lots (with --derived: every lot made from them, any depth);
  inventory blocks them from shipping. Prints the scope and the impact.
lotctl recall show|impact|notifications RECALL_ID [--customer=ID]
lotctl recall impact RECALL_ID [--view=full|summary|lots|customers]
      [--page-size=N]
  summary: totals and each customer's totals (fast on large recalls);
  lots, customers: the lists, read page by page and printed as one.
lotctl recall list [--status=open|closed]
lotctl recall notify RECALL_ID
  One notification per affected customer not yet notified.
lotctl recall respond RECALL_ID --customer=ID [--acknowledged]
      [--nothing-found] [--returned=LOT_ID:N ...] [--destroyed=LOT_ID:N ...]
lotctl recall effectiveness RECALL_ID [--days=N]
lotctl recall close RECALL_ID --summary=.. [--unanswered-reason=..]
      [--sign-token=T]  (closing is a signature; default: the --token)
lotctl recall drill (--lot=.. | --item=.. --made-from=.. --made-to=.. |
      --item=.. --serials=SN0001..SN0100 ...)
      [--derived] [--notes=..] [--totals]
  A mock recall: same scope and impact, timed; blocks and notifies nothing.
lotctl recall report RECALL_ID --csv [--out=FILE] | --html=FILE
)"},
    {"inventory", R"(
lotctl inventory location-create ID --name=.. --kind=site|region|warehouse|bin
      [--parent=ID] [--quarantine] [--address=..]
lotctl inventory locations [--under=ID]
lotctl inventory receive (LOT_ID | --scan=SCAN) --location=ID --quantity=N
      --source=production|supplier [--uom=EA] [--supplier=..] [--reference=..]
lotctl inventory transfer LOT_ID --from=ID --to=ID --quantity=N [--reason=..]
lotctl inventory ship --customer=ID --line=LOT_ID@LOCATION:N ...
      [--customer-name=..] [--customer-region=..] [--min-shelf-life-days=N]
      [--shipment-id=ID] [--reference=..]
      [--override-min-days=N --override-reason=.. [--override-meaning=..]
       [--sign-token=T]]  (an override is a signature; default: the --token)
  All lines or none; a held, unreleased, recalled or expired lot is refused,
  and so is one with less shelf life than the customer's minimum unless a
  signed override names a lower one (the product's minimum still applies).
lotctl inventory return LOT_ID --customer=ID --location=ID --quantity=N
      --condition=resaleable|damaged|recalled [--shipment=ID] [--notes=..]
lotctl inventory scrap LOT_ID --location=ID --quantity=N
      --reason=expired|damaged|recalled|quality-rejected|other [--notes=..]
      [--sign-token=T]  (scrapping is a signature; default: the --token)
lotctl inventory adjust LOT_ID --location=ID --counted=N --reason=..
  Serialised products (docs/inventory.md, "Serials"): receive, transfer,
  return, scrap and adjust take --serials=SN0001..SN0010 (repeatable, or
  "SN1 SN5 SN7") instead of --quantity/--counted (adjust: every serial
  found there); ship names them in the line: --line=LOT_ID@LOC:SN0001..SN0003
  (or --serials with one --line).
lotctl inventory usage LOT_ID --customer=ID --serials=.. --used-on=YYYY-MM-DD
      [--site=..] [--report-id=..]  (serials the customer reports used)
lotctl inventory serial ITEM SERIAL  (where it is; the movements naming it)
lotctl inventory get LOT_ID
lotctl inventory fefo --item=ITEM --quantity=N [--from=LOCATION]
      [--customer=ID --min-shelf-life-days=N] [--ship-date=YYYY-MM-DD]
  A first-expiry-first-out pick list; ship its lines as they are.
lotctl inventory stock [--lot=..] [--location=.. [--exclude-children]]
      [--item=..] [--region=..] [--page-size=N] [--page-token=T] [--all]
lotctl inventory where LOT_ID
  Which customers got the lot: shipped, returned, still held.
lotctl inventory movements LOT_ID [--page-size=N] [--page-token=T] [--all]
lotctl inventory near-expiry [--within-days=N | --expired] [--item=..]
      [--region=..] [--location=..] [--all]
  --expired lists what to scrap.
lotctl inventory kpis [--item=..] [--region=..] [--period-days=90]
  Quantities and, at standard unit cost, values: near expiry, expired,
  received, written off by month, expiry loss, recall cost and days to
  95 % effective (docs/inventory.md "Value KPIs").
lotctl inventory set-cost ITEM --cost="EUR 12.50" --from=YYYY-MM-DD
      --reason=TEXT
  The product's standard unit cost from that day on (role admin).
lotctl inventory customer ID [--at=RFC3339] [--axis=business|record]
  A registered customer (contacts, contracted minimum shelf life per
  product or group) as of a time, with its versions.
lotctl inventory customers [--region=REGION]
lotctl inventory alerts [--item=..] [--region=..] [--resume-after=POSITION]
      [--limit=N]
  Streams expiry alerts as they are raised until --limit alerts or
  --timeout seconds; --resume-after replays those after a position.
)"},
    {"kpi", R"(
lotctl kpi [--item=..] [--region=..] [--period-days=90]
  The management KPIs: the same as `lotctl inventory kpis`.
)"},
    {"import", R"(
lotctl import products|lots FILE.csv [--partial] [--dry-run]
  RFC 4180 CSV with a header row; columns by name, in any order, unknown
  columns refused. Row numbers count the header as row 1.
  products: item*, name*, uom*, kind* (finished|component|raw),
    shelf_life_days, alert_days (e.g. "180,90,30"), min_ship_days,
    cap_expiry_by_components, require_released_components (true/false),
    tracking (lot|serial; default lot)
  lots: item*, lot_number*, manufactured_on* (YYYY-MM-DD), expires_on,
    quantity*, uom*, site, production_order,
    inputs ("LOT_ID:QTY[:UOM];LOT_ID:QTY[:UOM]"), supplier, supplier_lot
  (* required). Every row is checked first and every bad row reported
  ("row 7, column expires_on: ..."); with any bad row nothing is written and
  the exit code is 4. --partial writes the good rows anyway (still exit 4).
  --dry-run only checks. Re-running a file is safe: each row's request id
  is derived from its content, so nothing is imported twice.
  Summary: imported N, already present M, refused K.
lotctl import customers FILE.csv [--dry-run]
  The customer master (docs/inventory.md, "Customers"), '|' between list
  items: customer_id*, name*, region, addresses* (first = ship-to),
  contacts* ("NAME;ROLE;EMAIL;PHONE"), default_min_days, product_min_days
  ("ITEM=DAYS"), group_min_days ("GROUP:ITEM+ITEM=DAYS"), reason. All rows
  checked first; then each is registered, updated or left unchanged.
  Summary: customers: new N, unchanged M, updated K, refused R.
lotctl import serials FILE.csv [--dry-run]
  The serial register of existing lots: lot_id*, serials* (a serial or
  FIRST..LAST); a lot's rows are merged. All rows checked first (a serial
  named twice, also on two lots of one item, is a bad row); then one
  AssignSerials per lot (request id from the content: a re-run writes
  nothing new). Summary: serials: new N, unchanged M, refused R (lots: K).
lotctl import stock FILE.csv [--dry-run]
  Opening stock, one receipt per row: lot_id*, location_id*, quantity,
  serials ("SN1..SN9" or "SN1 SN5 SN7"; empty for a lot-tracked product;
  quantity may then be empty), reference, source (production, the default,
  or supplier). All rows checked first; request ids from the content (a
  re-run receives nothing twice). Summary: rows received N (units,
  serials), refused R.
)"},
    {"admin", R"(
lotctl admin rebuild SERVICE [--request-id=ID]
  Rebuilds SERVICE's projection (lots, quality, inventory, recall, audit)
  from the log while it keeps serving, then switches to it (role admin).
  A progress bar with records/s and ETA on a terminal; a summary with both
  digests at the end (--json: one progress message per line). Not bounded
  by --timeout; interrupting it before the switch abandons it harmlessly.
lotctl admin backup --out=DIR [--request-id=ID]
  Backs up lotledgerd's log into DIR on the server while it keeps serving
  (role admin); backups in one DIR share unchanged files (docs/backup.md).
)"},
};

std::string HelpText(const std::string& verb) {
  std::string text;
  for (const HelpTopic& topic : kHelp) {
    const bool alias = (verb == "hold" || verb == "reject") &&
                       std::string(topic.verb) == "release";
    if (verb == topic.verb || alias) {
      return absl::StrCat("usage:", topic.text);
    }
    absl::StrAppend(&text, topic.text);
  }
  return absl::StrCat(kHelpIntro, "\nVerbs:", text);
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("--token-file: cannot read ", path));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return std::string(absl::StripAsciiWhitespace(buffer.str()));
}

absl::StatusOr<GlobalOptions> TakeGlobalOptions(ParsedArgs& parsed,
                                                const Environment& env) {
  ASSIGN_OR_RETURN(
      Flags flags,
      Flags::Take(parsed, {
                              {"server", FlagKind::kValue},
                              {"token", FlagKind::kValue},
                              {"token-file", FlagKind::kValue},
                              {"json", FlagKind::kSwitch},
                              {"timeout", FlagKind::kValue},
                              {"tls", FlagKind::kSwitch},
                              {"tls-ca", FlagKind::kValue},
                              {"tls-cert", FlagKind::kValue},
                              {"tls-key", FlagKind::kValue},
                              {"tls-server-name", FlagKind::kValue},
                              {"insecure", FlagKind::kSwitch},
                          }));
  GlobalOptions options;
  const auto from_env = [&](const char* name) -> std::optional<std::string> {
    if (!env.getenv) return std::nullopt;
    std::optional<std::string> v = env.getenv(name);
    if (v.has_value() && v->empty()) return std::nullopt;
    return v;
  };
  if (auto s = flags.Get("server")) {
    options.server = *s;
  } else if (auto e = from_env("LOTLEDGER_SERVER")) {
    options.server = *e;
  }
  if (options.server.empty()) {
    return absl::InvalidArgumentError("--server: empty address");
  }
  if (flags.Has("token") && flags.Has("token-file")) {
    return absl::InvalidArgumentError(
        "--token and --token-file: give one of them");
  }
  if (auto t = flags.Get("token")) {
    options.token = *t;
  } else if (auto f = flags.Get("token-file")) {
    ASSIGN_OR_RETURN(options.token, ReadTokenFile(*f));
  } else if (auto e = from_env("LOTLEDGER_TOKEN")) {
    options.token = *e;
  }
  options.insecure = flags.Has("insecure");
  options.tls_ca =
      flags.Get("tls-ca").value_or(from_env("LOTLEDGER_TLS_CA").value_or(""));
  options.tls_cert = flags.Get("tls-cert").value_or("");
  options.tls_key = flags.Get("tls-key").value_or("");
  options.tls_server_name = flags.Get("tls-server-name").value_or("");
  options.tls = flags.Has("tls") || !options.tls_ca.empty() ||
                !options.tls_cert.empty() || !options.tls_server_name.empty();
  if (options.insecure && options.tls) {
    return absl::InvalidArgumentError(
        "--insecure and --tls*: give one of them");
  }
  for (const auto& [flag, path] :
       {std::pair<const char*, const std::string&>{"tls-ca", options.tls_ca},
        {"tls-cert", options.tls_cert},
        {"tls-key", options.tls_key}}) {
    if (!path.empty() && !std::ifstream(path)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag, ": cannot read ", path));
    }
  }
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return absl::InvalidArgumentError(
        "--tls-cert and --tls-key: give both or neither");
  }
  if (!options.insecure && !options.tls) {
    // Plaintext only to this machine (./tools/run); anything else is TLS.
    const std::string host =
        options.server.substr(0, options.server.rfind(':'));
    options.insecure =
        host == "127.0.0.1" || host == "localhost" || host == "[::1]";
  }
  options.json = flags.Has("json");
  if (auto t = flags.Get("timeout")) {
    double seconds = 0;
    if (!absl::SimpleAtod(*t, &seconds) || !(seconds > 0) || seconds > 86400) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--timeout: \"", *t, "\" is not a number of seconds in (0, 86400]"));
    }
    options.timeout = absl::Seconds(seconds);
  }
  return options;
}

// Width in UTF-8 code points, so names with non-ASCII letters align.
size_t DisplayWidth(const std::string& s) {
  size_t width = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++width;
  }
  return width;
}

}  // namespace

// Runs one verb (after the global options were taken).
int Dispatch(Context& ctx, const std::string& verb, ParsedArgs& parsed);

Environment Environment::Process() {
  Environment env;
  env.getenv = [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
  env.err_is_tty = isatty(STDERR_FILENO) == 1;
  env.now = [] { return absl::Now(); };
  return env;
}

int RunLotctl(std::vector<std::string> args, std::ostream& out,
              std::ostream& err) {
  return RunLotctl(std::move(args), Environment::Process(), out, err);
}

int RunLotctl(std::vector<std::string> args, const Environment& env,
              std::ostream& out, std::ostream& err) {
  absl::StatusOr<ParsedArgs> split = SplitArgs(args);
  if (!split.ok()) {
    err << "error: " << split.status().message() << "\n";
    return kExitUsage;
  }
  ParsedArgs& parsed = *split;
  absl::StatusOr<Flags> help =
      Flags::Take(parsed, {{"help", FlagKind::kSwitch}});
  if (!help.ok()) {
    err << "error: " << help.status().message() << "\n";
    return kExitUsage;
  }
  std::string verb = parsed.positional.empty() ? "" : parsed.positional[0];
  if (verb == "help" || help->Has("help")) {
    std::string topic =
        verb == "help"
            ? (parsed.positional.size() > 1 ? parsed.positional[1] : "")
            : verb;
    out << HelpText(topic);
    return kExitOk;
  }
  if (verb.empty()) {
    err << "error: no verb given\n" << HelpText("");
    return kExitUsage;
  }
  parsed.positional.erase(parsed.positional.begin());

  absl::StatusOr<GlobalOptions> options = TakeGlobalOptions(parsed, env);
  if (!options.ok()) {
    err << "error: " << options.status().message() << "\n";
    return kExitUsage;
  }
  // A standby names the writer; the command runs again there with the
  // same request ids (a few hops at most: a writer that just changed may
  // be named by a replica that has not heard yet).
  std::vector<std::string> request_ids;
  for (int hop = 0;; ++hop) {
    Context ctx(*options, env, out, err);
    ctx.ReuseRequestIds(request_ids);
    ParsedArgs args = parsed;
    const int code = Dispatch(ctx, verb, args);
    const std::string& writer = ctx.writer_hint();
    if (code != kExitUnavailable || writer.empty() ||
        writer == options->server || hop == 3) {
      return code;
    }
    err << "note: " << options->server << " is a standby; running the "
        << "command again at the writer, " << writer
        << ", with the same request id\n";
    options->server = writer;
    request_ids = ctx.request_ids();
  }
}

int Dispatch(Context& ctx, const std::string& verb, ParsedArgs& parsed) {
  std::ostream& err = ctx.err();
  if (verb == "health") return RunHealth(ctx, parsed);
  if (verb == "gs1") return RunGs1(ctx, parsed);
  if (verb == "product") return RunProduct(ctx, parsed);
  if (verb == "lot") return RunLot(ctx, parsed);
  if (verb == "trace") return RunTrace(ctx, parsed);
  if (verb == "udi") return RunUdi(ctx, parsed);
  if (verb == "inspect") return RunInspect(ctx, parsed);
  if (verb == "release" || verb == "hold" || verb == "reject") {
    return RunDisposition(ctx, verb, parsed);
  }
  if (verb == "quality") return RunQuality(ctx, parsed);
  if (verb == "import") return RunImport(ctx, parsed);
  if (verb == "recall") return RunRecall(ctx, parsed);
  if (verb == "inventory") return RunInventory(ctx, parsed);
  if (verb == "kpi") {  // the management's name for `inventory kpis`
    parsed.positional.insert(parsed.positional.begin(), "kpis");
    return RunInventory(ctx, parsed);
  }
  if (verb == "audit") return RunAudit(ctx, parsed);
  if (verb == "admin") return RunAdmin(ctx, parsed);
  err << "error: unknown verb '" << verb << "' (see: lotctl help)\n";
  return kExitUsage;
}

std::shared_ptr<grpc::Channel> Context::channel() {
  if (channel_ == nullptr) {
    std::shared_ptr<grpc::ChannelCredentials> creds =
        grpc::InsecureChannelCredentials();
    grpc::ChannelArguments args;
    if (!options_.insecure) {
      grpc::SslCredentialsOptions ssl;
      auto read = [](const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
      };
      if (!options_.tls_ca.empty()) ssl.pem_root_certs = read(options_.tls_ca);
      if (!options_.tls_cert.empty()) {
        ssl.pem_cert_chain = read(options_.tls_cert);
        ssl.pem_private_key = read(options_.tls_key);
      }
      creds = grpc::SslCredentials(ssl);
      if (!options_.tls_server_name.empty()) {
        args.SetSslTargetNameOverride(options_.tls_server_name);
      }
    }
    std::vector<
        std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
        interceptors;
    interceptors.push_back(std::make_unique<WriterHintInterceptorFactory>(
        [hint = writer_hint_](std::string address) {
          hint->address = std::move(address);
        }));
    channel_ = grpc::experimental::CreateCustomChannelWithInterceptors(
        options_.server, creds, args, std::move(interceptors));
  }
  return channel_;
}

std::unique_ptr<grpc::ClientContext> Context::Call() const {
  auto call = std::make_unique<grpc::ClientContext>();
  // The deadline is wall-clock time on this machine, never the injected
  // clock (which may be a fixed business date in tests).
  call->set_deadline(std::chrono::system_clock::now() +
                     absl::ToChronoMilliseconds(options_.timeout));
  if (!options_.token.empty()) {
    call->AddMetadata("authorization", "Bearer " + options_.token);
  }
  return call;
}

std::string Context::RequestId(const Flags& flags) {
  if (auto id = flags.Get("request-id")) return *id;
  std::string id = request_ids_.size() < reuse_.size()
                       ? reuse_[request_ids_.size()]
                       : NewUuidV7(env_.now());
  request_ids_.push_back(id);
  return id;
}

int Context::Fail(const grpc::Status& status) {
  const int code = ExitCodeFor(status.error_code());
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE &&
      !writer_hint().empty() && writer_hint() != options_.server) {
    return code;  // RunLotctl follows the writer and says so
  }
  err_ << "error: " << CodeName(status.error_code()) << ": "
       << status.error_message() << "\n";
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    err_ << "note: is lotledgerd running at " << options_.server
         << "? (--server / LOTLEDGER_SERVER)\n";
  } else if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    err_ << "note: no answer from " << options_.server << " within "
         << absl::FormatDuration(options_.timeout) << " (--timeout)\n";
  }
  return code;
}

int Context::Usage(const absl::Status& status) {
  err_ << "error: " << status.message() << "\n";
  return kExitUsage;
}

void Context::PrintJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = false;
  // A message always serializes; a failure here is a broken invariant.
  const auto status =
      google::protobuf::util::MessageToJsonString(message, &json, opts);
  if (!status.ok()) {
    err_ << "error: cannot print JSON: " << status.ToString() << "\n";
    return;
  }
  out_ << json << "\n";
}

int ExitCodeFor(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return kExitOk;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
      return kExitUsage;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    // lotctl never cancels its own calls: CANCELLED is a server that
    // stopped with the call running, whose outcome is unknown.
    case grpc::StatusCode::CANCELLED:
      return kExitUnavailable;
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::DATA_LOSS:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::UNIMPLEMENTED:
      return kExitServerFault;
    default:  // FAILED_PRECONDITION, ALREADY_EXISTS, NOT_FOUND, ...
      return kExitRefused;
  }
}

void PrintFields(std::ostream& out,
                 const std::vector<std::pair<std::string, std::string>>& rows) {
  size_t width = 0;
  for (const auto& [key, value] : rows) {
    if (!value.empty()) width = std::max(width, DisplayWidth(key));
  }
  for (const auto& [key, value] : rows) {
    if (value.empty()) continue;
    out << key << std::string(width - DisplayWidth(key) + 2, ' ') << value
        << "\n";
  }
}

void PrintTable(std::ostream& out, const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(header.size(), 0);
  const auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], DisplayWidth(row[i]));
    }
  };
  measure(header);
  for (const auto& row : rows) measure(row);
  const auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      if (i > 0) line += "  ";
      line += row[i];
      if (i + 1 < row.size()) {
        line += std::string(widths[i] - DisplayWidth(row[i]), ' ');
      }
    }
    out << line << "\n";
  };
  print(header);
  for (const auto& row : rows) print(row);
}

std::string UnescapeGroupSeparators(std::string scan) {
  const std::string gs(1, '\x1D');
  scan = absl::StrReplaceAll(scan, {{"<GS>", gs},
                                    {"{GS}", gs},
                                    {"\\x1d", gs},
                                    {"\\x1D", gs},
                                    {"\\X1D", gs},
                                    {"\\X1d", gs}});
  return scan;
}

}  // namespace lotledger::lotctl
