// What every lotctl command shares: the global options, the streams, the
// channel to the server, and the one mapping from a failed call to a
// printed error and an exit code (see cli.h for the codes).
//
// Thread-safety: a Context belongs to one RunLotctl call on one thread.
#ifndef LOTLEDGER_TOOLS_LOTCTL_CONTEXT_H_
#define LOTLEDGER_TOOLS_LOTCTL_CONTEXT_H_

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "libs/server/status.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "tools/lotctl/cli.h"
#include "tools/lotctl/flags.h"

namespace lotledger::lotctl {

struct GlobalOptions {
  std::string server = "127.0.0.1:7070";
  std::string token;  // empty: calls go out unauthenticated
  // Transport: plaintext with `insecure`; TLS against `tls_ca` (else the
  // system roots) otherwise, with a client certificate when given. With
  // neither flag a loopback server (tools/run) is reached in plaintext.
  bool insecure = false;
  bool tls = false;
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_server_name;
  bool json = false;
  absl::Duration timeout = absl::Seconds(30);
};

class Context {
 public:
  Context(GlobalOptions options, const Environment& env, std::ostream& out,
          std::ostream& err)
      : options_(std::move(options)), env_(env), out_(out), err_(err) {}

  const GlobalOptions& options() const { return options_; }
  const Environment& env() const { return env_; }
  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }
  bool json() const { return options_.json; }

  // The channel to --server, made on first use (offline commands never
  // make one).
  std::shared_ptr<grpc::Channel> channel();
  // A context for one call: deadline now + --timeout, and the bearer token.
  std::unique_ptr<grpc::ClientContext> Call() const;

  // The --request-id flag, else a fresh UUIDv7 (or, when this run
  // follows a standby to its writer, the id the first run made).
  std::string RequestId(const Flags& flags);

  // Following a standby to the writer: a standby replica refuses commands
  // with UNAVAILABLE and the writer's address in the `lotledger-writer`
  // trailing metadata; RunLotctl then runs the command again at that
  // address with the same request ids (so it is done once).
  const std::string& writer_hint() const { return writer_hint_->address; }
  const std::vector<std::string>& request_ids() const { return request_ids_; }
  void ReuseRequestIds(std::vector<std::string> ids) {
    reuse_ = std::move(ids);
  }

  // Prints `error: <CODE>: <message>` (plus a hint for an unreachable
  // server) and returns the exit code for `status`.
  int Fail(const grpc::Status& status);
  // Prints `error: <message>` and returns kExitUsage.
  int Usage(const absl::Status& status);
  // The message as one line of protobuf JSON.
  void PrintJson(const google::protobuf::Message& message);

 private:
  GlobalOptions options_;
  const Environment& env_;
  std::ostream& out_;
  std::ostream& err_;
  std::shared_ptr<grpc::Channel> channel_;
  // Filled in by the channel's interceptor from a call's trailing
  // metadata (shared with it: the channel may outlive nothing here, but
  // calls finish on gRPC's threads).
  struct WriterHint {
    std::string address;
  };
  std::shared_ptr<WriterHint> writer_hint_ = std::make_shared<WriterHint>();
  std::vector<std::string> request_ids_;  // made or reused, in order
  std::vector<std::string> reuse_;
};

// The exit code for a call that ended with `code` (see cli.h).
int ExitCodeFor(grpc::StatusCode code);
// "FAILED_PRECONDITION", as gRPC names codes: the servers' one spelling.
using ::lotledger::server::CodeName;

// Commands: each gets the arguments after its verb words and returns the
// exit code. Defined in commands_*.cc and import.cc.
int RunHealth(Context& ctx, ParsedArgs& args);
int RunGs1(Context& ctx, ParsedArgs& args);
int RunProduct(Context& ctx, ParsedArgs& args);
int RunLot(Context& ctx, ParsedArgs& args);
int RunTrace(Context& ctx, ParsedArgs& args);
int RunUdi(Context& ctx, ParsedArgs& args);
int RunInspect(Context& ctx, ParsedArgs& args);
// verb: "release", "hold" or "reject".
int RunDisposition(Context& ctx, const std::string& verb, ParsedArgs& args);
int RunQuality(Context& ctx, ParsedArgs& args);
int RunImport(Context& ctx, ParsedArgs& args);
int RunRecall(Context& ctx, ParsedArgs& args);
int RunInventory(Context& ctx, ParsedArgs& args);
int RunAudit(Context& ctx, ParsedArgs& args);
int RunAdmin(Context& ctx, ParsedArgs& args);

// Sets the unit of each input given without one to the input lot's own
// unit (looked up, memoized in `unit_cache`), because the server needs it
// stated. An unknown input lot gets `fallback`, so the server's refusal is
// about the lot, not a missing unit. Returns the first failed lookup.
grpc::Status FillInputUnits(
    Context& ctx, v1::LotsService::Stub& stub, const std::string& fallback,
    google::protobuf::RepeatedPtrField<v1::LotInput>* inputs,
    std::map<std::string, std::string>& unit_cache);

// Aligned "key  value" lines, keys padded to the widest; empty values are
// left out so optional facts do not print as blank lines.
void PrintFields(std::ostream& out,
                 const std::vector<std::pair<std::string, std::string>>& rows);
// A table: header row then rows, columns padded to the widest cell
// (UTF-8 code points), two spaces apart, no trailing spaces.
void PrintTable(std::ostream& out, const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows);

// Replaces the spellings of the GS1 group separator a shell can type —
// `\x1d` (any case), `<GS>`, `{GS}` — with the byte 0x1D.
std::string UnescapeGroupSeparators(std::string scan);

}  // namespace lotledger::lotctl

#endif  // LOTLEDGER_TOOLS_LOTCTL_CONTEXT_H_
