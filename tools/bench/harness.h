// What every benchmark scenario shares: its --key=value arguments, the
// result line it prints, a ServerHost to measure (on the embedded log or
// Kafka), and client channels and contexts. Scenarios live in bench.cc and
// in one file per area (inventory_scenarios.cc, ...); main() in bench.cc
// dispatches on --scenario.
//
// Thread-safety: Args is read-only once parsed; Channel and Ctx may be
// called from any client thread; Report from one thread at a time.
#ifndef LOTLEDGER_TOOLS_BENCH_HARNESS_H_
#define LOTLEDGER_TOOLS_BENCH_HARNESS_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "services/host/host.h"
#include "tools/bench/stats.h"

namespace lotledger::bench {

struct Args {
  std::map<std::string, std::string> kv;
  std::string Get(const std::string& k, const std::string& def) const;
  // Exits with a message when the value is not an integer.
  int64_t Int(const std::string& k, int64_t def) const;
};

// Prints `r` as JSON on stdout and readable on stderr. With limits loaded
// (LoadLimits) a throughput figure also gets its limit and ratio:
//   log_append (embedded)         -> limit_rocksdb_synced
//   log_append (kafka)            -> limit_kafka_produce
//   lots_create, ship*, commands  -> limit_grpc_noop at the same client
//                                    count (else the highest measured)
//   replay*, lots_replay, audit_index -> limit_rocksdb_unsynced
void Report(const Result& r);

// Reads the JSON lines of a --scenario=limits run (--limits=FILE); dies
// when the file cannot be read or holds no limit.
void LoadLimits(const std::string& path);

// Prints `s` and exits 1 without static destructors (server threads may
// still run).
[[noreturn]] void Die(const absl::Status& s);

// --kafka or $LOTLEDGER_TEST_KAFKA; dies when neither is set.
std::string KafkaBootstrap(const Args& a);

// Starts a ServerHost hosting `services` on `dir` (wiped first when
// `fresh`) with one dev token, "tok-bench", holding every role; on Kafka
// (--backend=kafka) under a topic prefix of its own.
std::unique_ptr<ServerHost> StartHost(
    const Args& a, const std::string& dir, bool fresh,
    const std::vector<std::string>& services = {"lots"});
// The same, with `adjust` applied to the configuration last (several hosts
// of one deployment: a shared topic prefix, writer election).
std::unique_ptr<ServerHost> StartHost(
    const Args& a, const std::string& dir, bool fresh,
    const std::vector<std::string>& services,
    const std::function<void(server::ProcessConfig&)>& adjust);

// A client context with tok-bench and a 30 s deadline.
std::unique_ptr<grpc::ClientContext> Ctx();

// --channels: client connections the client threads share (default 1).
inline int g_channels = 1;

// Client `i`'s channel: clients share --channels connections round-robin
// (HTTP/2 multiplexes their calls, as one client process would).
std::shared_ptr<grpc::Channel> Channel(const std::string& target, int i);

}  // namespace lotledger::bench

#endif  // LOTLEDGER_TOOLS_BENCH_HARNESS_H_
