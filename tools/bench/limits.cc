#include "tools/bench/limits.h"

#include <grpcpp/grpcpp.h>
#include <librdkafka/rdkafka.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "libs/common/ids.h"
#include "libs/eventlog/embedded/embedded_event_log.h"
#include "libs/eventlog/record_codec.h"
#include "lotledger/v1/embedded_log.pb.h"

namespace lotledger::bench {
namespace {

// A key shaped like the embedded log's: topic, partition, offset.
std::string RecordKey(int64_t i) {
  std::string k = "rlotledger.lots.v1";
  k.push_back('\0');
  for (int s = 3; s >= 0; --s)
    k.push_back(static_cast<char>((i % 3) >> (8 * s)));
  for (int s = 7; s >= 0; --s) k.push_back(static_cast<char>(i >> (8 * s)));
  return k;
}

// Raw librdkafka produce to `bootstrap`: acks=all, idempotent, as many in
// flight as the client allows, for `run`. Counts delivered records.
Result RawKafkaProduce(const std::string& bootstrap, size_t record_bytes,
                       absl::Duration run) {
  const std::string topic = "bench.limits." + NewUuidV7(absl::Now());
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (auto [k, v] : std::initializer_list<std::pair<const char*, std::string>>{
           {"bootstrap.servers", bootstrap},
           {"enable.idempotence", "true"},
           {"acks", "all"},
           {"linger.ms", "5"},
           {"socket.nagle.disable", "true"},
           {"queue.buffering.max.messages", "200000"}}) {
    if (rd_kafka_conf_set(conf, k, v.c_str(), err, sizeof(err)) !=
        RD_KAFKA_CONF_OK)
      Die(absl::InvalidArgumentError(err));
  }
  static std::atomic<int64_t> delivered{0}, failed{0};
  delivered = 0;
  failed = 0;
  rd_kafka_conf_set_dr_msg_cb(
      conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void*) {
        if (m->err) {
          failed++;
        } else {
          delivered++;
        }
      });
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (rk == nullptr) Die(absl::InternalError(err));
  // Create the topic (3 partitions, like a service topic) so the run does
  // not depend on the broker's auto-creation.
  {
    rd_kafka_NewTopic_t* nt =
        rd_kafka_NewTopic_new(topic.c_str(), 3, 1, err, sizeof(err));
    rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, nullptr, q);
    rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
    if (ev != nullptr) rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
  }
  const std::string value(record_bytes, 'x');
  int64_t sent = 0;
  const absl::Time start = absl::Now();
  while (absl::Now() - start < run) {
    const std::string key = absl::StrCat("lot-", sent % 1000);
    rd_kafka_resp_err_t e = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic.c_str()),
        RD_KAFKA_V_KEY(key.data(), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(rk, 1);
      continue;
    }
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
      Die(absl::InternalError(rd_kafka_err2str(e)));
    ++sent;
    if (sent % 1024 == 0) rd_kafka_poll(rk, 0);
  }
  rd_kafka_flush(rk, 60000);
  const absl::Duration took = absl::Now() - start;
  rd_kafka_destroy(rk);
  Result r;
  r.scenario = "limit_kafka_produce";
  r.backend = "kafka";
  r.operations = static_cast<uint64_t>(delivered.load());
  r.seconds = absl::ToDoubleSeconds(took);
  r.note = absl::StrCat(record_bytes,
                        "-byte records, acks=all, idempotent, linger 5 ms; "
                        "failed ",
                        failed.load());
  return r;
}

}  // namespace

size_t TypicalRecordBytes() {
  v1::Event e;
  const absl::Time now = absl::Now();
  e.set_event_id(NewUuidV7(now));
  e.set_aggregate_id("09506000134352:L4-0001234");
  e.set_actor("bench.generator");
  e.set_request_id(e.event_id());
  e.mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(now));
  e.mutable_recorded_at()->set_seconds(absl::ToUnixSeconds(now));
  e.add_lot_ids(e.aggregate_id());
  v1::LotCreated* c = e.mutable_lot_created();
  c->set_lot_id(e.aggregate_id());
  c->set_item("09506000134352");
  c->set_lot_number("L4-0001234");
  c->mutable_manufactured_on()->set_year(2026);
  c->mutable_manufactured_on()->set_month(5);
  c->mutable_manufactured_on()->set_day(4);
  *c->mutable_expires_on() = c->manufactured_on();
  c->mutable_expires_on()->set_year(2029);
  c->mutable_quantity()->set_amount(1000);
  c->mutable_quantity()->set_uom("EA");
  c->set_site("Galway");
  for (const char* in : {"ASM-KIT:L3-0000017", "ASM-KIT:L3-0000420"}) {
    v1::LotInput* li = c->add_inputs();
    li->set_lot_id(in);
    li->mutable_quantity()->set_amount(1);
    li->mutable_quantity()->set_uom("EA");
    e.add_lot_ids(in);
  }
  eventlog::ChainHead head;
  const eventlog::OutgoingRecord out =
      eventlog::ToOutgoing(e, eventlog::Seal(e, head), "lots");
  v1::EmbeddedRecord stored;
  stored.set_key(out.key);
  stored.set_value(out.value);
  for (const eventlog::Header& h : out.headers) {
    auto* sh = stored.add_headers();
    sh->set_key(h.key);
    sh->set_value(h.value);
  }
  stored.set_timestamp_micros(absl::ToUnixMicros(now));
  return stored.ByteSizeLong();
}

Result RawRocksDbPuts(const std::string& dir, bool sync, size_t record_bytes,
                      int batch, absl::Duration run) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  // The embedded log's options (libs/eventlog/embedded).
  rocksdb::Options o;
  o.create_if_missing = true;
  o.IncreaseParallelism(2);
  o.enable_pipelined_write = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, dir, &raw);
  if (!s.ok()) Die(absl::InternalError(s.ToString()));
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  std::string value(record_bytes, 'x');
  int64_t puts = 0;
  Samples samples;
  const absl::Time start = absl::Now();
  while (absl::Now() - start < run) {
    rocksdb::WriteBatch b;
    for (int i = 0; i < batch; ++i, ++puts) {
      value[puts % record_bytes] = static_cast<char>('a' + puts % 26);
      b.Put(RecordKey(puts), value);
    }
    const absl::Time t0 = absl::Now();
    s = db->Write(wo, &b);
    samples.Add(absl::Now() - t0);
    if (!s.ok()) Die(absl::InternalError(s.ToString()));
  }
  const absl::Duration took = absl::Now() - start;
  Result r = Summarize(sync ? "limit_rocksdb_synced" : "limit_rocksdb_unsynced",
                       "rocksdb", 1, samples, took);
  r.operations = static_cast<uint64_t>(puts);  // puts, not batches
  r.note = absl::StrCat(record_bytes, "-byte values, batches of ", batch,
                        sync ? ", fsync per batch" : ", WAL without fsync",
                        "; latency per batch");
  db->Close();
  return r;
}

Result GrpcNoopRun(const Args& a, const std::string& dir,
                   const std::string& scenario, int clients,
                   absl::Duration run) {
  auto host = StartHost(a, dir, true);
  std::vector<Samples> samples(clients);
  const absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      auto stub = grpc::health::v1::Health::NewStub(Channel(host->target(), t));
      while (absl::Now() - start < run) {
        grpc::health::v1::HealthCheckRequest req;
        grpc::health::v1::HealthCheckResponse resp;
        const absl::Time t0 = absl::Now();
        if (stub->Check(Ctx().get(), req, &resp).ok())
          samples[t].Add(absl::Now() - t0);
      }
    });
  }
  for (auto& th : threads) th.join();
  Samples all;
  for (auto& s : samples) all.Merge(s);
  return Summarize(scenario, "-", clients, all, absl::Now() - start,
                   "health Check, the no-op ceiling");
}

void LimitsScenario(const Args& a) {
  const std::string dir = a.Get("dir", "build/bench-data") + "/limits";
  const absl::Duration run = absl::Seconds(a.Int("seconds", 5));
  const size_t bytes =
      static_cast<size_t>(a.Int("record-bytes", TypicalRecordBytes()));
  Report(RawRocksDbPuts(dir + "/rocksdb", false, bytes, 32, run));
  Report(RawRocksDbPuts(dir + "/rocksdb", true, bytes, 32, run));
  std::filesystem::remove_all(dir + "/rocksdb");
  const char* env = std::getenv("LOTLEDGER_TEST_KAFKA");
  const std::string kafka = a.Get("kafka", env ? env : "");
  if (kafka.empty()) {
    std::fprintf(stderr,
                 "limit_kafka_produce skipped: no --kafka or "
                 "$LOTLEDGER_TEST_KAFKA\n");
  } else {
    Report(RawKafkaProduce(kafka, bytes, run));
  }
  for (absl::string_view c :
       absl::StrSplit(a.Get("noop-clients", "1,32"), ',')) {
    int clients = 1;
    if (!absl::SimpleAtoi(c, &clients) || clients < 1)
      Die(absl::InvalidArgumentError("--noop-clients: e.g. 1,32"));
    Report(GrpcNoopRun(a, dir + "/grpc", "limit_grpc_noop", clients, run));
  }
}

}  // namespace lotledger::bench
