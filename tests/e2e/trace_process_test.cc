// W3C trace context through a real lotledgerd process: a call with a
// `traceparent` header over a real gRPC socket has its trace id on its log
// lines, and the events it writes carry the header (the Event field and
// the record header ce_traceparent), read back from the log; a call with
// an invalid header is served with a fresh trace, never refused. Every
// line the process writes is one valid JSON object. And the same for the
// production shape: the five services as separate processes on Kafka,
// where the trace travels in the Kafka records another service reads.
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "gtest/gtest.h"
#include "libs/common/tests/json_check.h"
#include "libs/common/trace_context.h"
#include "libs/eventlog/kafka/kafka_event_log.h"
#include "libs/eventlog/record_codec.h"
#include "libs/server/process.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "tests/support/service_cluster.h"
#include "tests/support/stack.h"

#if !defined(LOTS_SERVICE_PATH) || !defined(AUDIT_SERVICE_PATH)
#error "the service binaries' paths must be defined (tests/CMakeLists.txt)"
#endif
#ifndef LOTLEDGERD_PATH
#error "LOTLEDGERD_PATH must name the lotledgerd binary"
#endif

namespace lotledger::testing {
namespace {

constexpr char kTraceId[] = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr char kTraceparent[] =
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
// Not version 00: replaced by a fresh trace.
constexpr char kInvalid[] =
    "ff-5bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& traceparent) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer tok-op");
  ctx->AddMetadata("traceparent", traceparent);
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(30));
  return ctx;
}

struct Written {
  v1::Event event;
  std::string header;  // ce_traceparent, empty when absent
};

// Every event of `topic` in `log`, by request: read until the reader's
// position reaches each partition's end offset (on Kafka the end counts
// transaction markers too, so records alone never add up to it).
std::map<std::string, Written> ReadEvents(eventlog::EventLog& log,
                                          const std::string& topic) {
  std::map<std::string, Written> out;
  auto parts = log.PartitionCount(topic);
  EXPECT_TRUE(parts.ok()) << parts.status();
  if (!parts.ok()) return out;
  eventlog::Offsets start, end;
  for (int32_t p = 0; p < *parts; ++p) {
    start[{topic, p}] = 0;
    end[{topic, p}] = log.EndOffset(topic, p).value_or(0);
  }
  auto reader = log.OpenReader(start);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return out;
  eventlog::Offsets next = start;
  for (int i = 0; i < 300 && next != end; ++i) {
    auto polled = (*reader)->Poll(1000, absl::Milliseconds(100));
    EXPECT_TRUE(polled.ok()) << polled.status();
    if (!polled.ok()) break;
    for (const auto& [tp, offset] : polled->next_offsets) next[tp] = offset;
    for (const eventlog::Record& r : polled->records) {
      auto rec = eventlog::DecodeRecord(r.value);
      EXPECT_TRUE(rec.ok()) << rec.status();
      auto event = eventlog::DecodeEvent(*rec);
      EXPECT_TRUE(event.ok()) << event.status();
      Written w{*event, ""};
      for (const eventlog::Header& h : r.headers) {
        if (h.key == "ce_traceparent") w.header = h.value;
      }
      out[event->request_id()] = w;
    }
  }
  EXPECT_EQ(next, end) << "the reader did not reach the end of " << topic;
  return out;
}

// The trace id an event carries, after checking that the Event field and
// the ce_traceparent header agree.
std::string TraceIdOf(const Written& w) {
  EXPECT_EQ(w.header, w.event.traceparent());
  std::optional<TraceContext> t = ParseTraceparent(w.event.traceparent());
  EXPECT_TRUE(t.has_value()) << w.event.traceparent();
  return t.has_value() ? t->trace_id : "";
}

// A product whose name carries quotes and a newline, and a lot of it.
v1::DefineProductRequest Product() {
  v1::DefineProductRequest def;
  def.set_request_id(NewRequestId());
  def.mutable_product()->set_item("09506000134352");
  def.mutable_product()->set_name("Catheter \"14 Fr\"\nsterile");
  def.mutable_product()->set_uom("EA");
  def.mutable_product()->set_kind(v1::ITEM_KIND_FINISHED_DEVICE);
  def.mutable_product()->mutable_policy()->set_shelf_life_days(365);
  return def;
}

v1::CreateLotRequest Lot() {
  v1::CreateLotRequest lot;
  lot.set_request_id(NewRequestId());
  lot.set_item("09506000134352");
  lot.set_lot_number("P1");
  lot.mutable_manufactured_on()->set_year(2026);
  lot.mutable_manufactured_on()->set_month(6);
  lot.mutable_manufactured_on()->set_day(1);
  lot.mutable_quantity()->set_amount(10);
  lot.mutable_quantity()->set_uom("EA");
  return lot;
}

TEST(TraceProcess, TheCallersTraceIsOnItsLogLinesAndInItsEvents) {
  const std::string dir = ::testing::TempDir() + "/trace-" + NewRequestId();
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/tokens") << "tok-op operator.one operator,admin\n";

  const v1::DefineProductRequest def = Product();
  const v1::CreateLotRequest lot = Lot();

  ServiceProcess lotledgerd(
      LOTLEDGERD_PATH,
      {"--listen=127.0.0.1:0", "--data-dir=" + dir + "/data",
       "--dev-tokens=" + dir + "/tokens", "--insecure-dev=true",
       "--metrics-listen=0", "--log-level=debug"},
      dir + "/stderr");
  ASSERT_TRUE(lotledgerd.AwaitServing());
  {
    auto lots = v1::LotsService::NewStub(grpc::CreateChannel(
        lotledgerd.target(), grpc::InsecureChannelCredentials()));
    v1::DefineProductResponse defined;
    grpc::Status s =
        lots->DefineProduct(Ctx(kTraceparent).get(), def, &defined);
    ASSERT_TRUE(s.ok()) << s.error_message();
    v1::CreateLotResponse created;
    s = lots->CreateLot(Ctx(kInvalid).get(), lot, &created);
    ASSERT_TRUE(s.ok()) << "an invalid traceparent is never refused: "
                        << s.error_message();
    // A refusal whose message carries the caller's quotes and newline.
    v1::GetLotRequest get;
    get.set_lot_id("no \"such\"\nlot");
    v1::GetLotResponse got;
    s = lots->GetLot(Ctx(kTraceparent).get(), get, &got);
    EXPECT_FALSE(s.ok());
  }
  const int status = lotledgerd.Terminate();
  ASSERT_TRUE(WIFEXITED(status)) << lotledgerd.LogTail(20);
  EXPECT_EQ(WEXITSTATUS(status), 0) << lotledgerd.LogTail(20);

  // Every line is JSON; the calls' lines carry their trace ids.
  std::map<std::string, std::string> trace_of_method;
  std::istringstream lines(lotledgerd.LogText());
  int n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    std::map<std::string, std::string> f;
    ASSERT_EQ(StrictJson::CheckObject(line, &f), "") << line;
    if (f["msg"] == "rpc") trace_of_method[f["method"]] = f["trace_id"];
  }
  EXPECT_GT(n, 3);
  EXPECT_EQ(trace_of_method["DefineProduct"], kTraceId);
  EXPECT_EQ(trace_of_method["GetLot"], kTraceId);
  const std::string fresh = trace_of_method["CreateLot"];
  EXPECT_EQ(fresh.size(), 32u);
  EXPECT_NE(fresh, "5bf92f3577b34da6a3ce929d0e0e4736");

  // The events carry the trace, in the event and as the Kafka header.
  server::ProcessConfig config;
  config.data_dir = dir + "/data";
  auto log = server::OpenEventLog(config, "trace-test");
  ASSERT_TRUE(log.ok()) << log.status();
  std::map<std::string, Written> events =
      ReadEvents(**log, "lotledger.lots.v1");
  ASSERT_TRUE(events.contains(def.request_id()));
  ASSERT_TRUE(events.contains(lot.request_id()));
  EXPECT_EQ(TraceIdOf(events[def.request_id()]), kTraceId);
  EXPECT_EQ(TraceIdOf(events[lot.request_id()]), fresh);
}

// The production shape: lots-service as its own process on the Kafka
// broker. The caller's trace is in the events it wrote to Kafka (field
// and record header), read back by a read-only reader as another service
// would; a call without a traceparent starts a trace of its own.
TEST(TraceProcess, SeparateServicesOnKafkaCarryTheTraceInTheirRecords) {
  std::unique_ptr<ServiceCluster> cluster = ServiceCluster::Start(
      {LOTS_SERVICE_PATH, QUALITY_SERVICE_PATH, INVENTORY_SERVICE_PATH,
       RECALL_SERVICE_PATH, AUDIT_SERVICE_PATH});
  ASSERT_NE(cluster, nullptr);
  auto lots = v1::LotsService::NewStub(cluster->channel(Service::kLots));
  const v1::DefineProductRequest def = Product();
  const v1::CreateLotRequest lot = Lot();
  std::unique_ptr<grpc::ClientContext> ctx = cluster->Ctx("admin");
  ctx->AddMetadata("traceparent", kTraceparent);
  v1::DefineProductResponse defined;
  grpc::Status s = lots->DefineProduct(ctx.get(), def, &defined);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::CreateLotResponse created;
  s = lots->CreateLot(cluster->Ctx("operator").get(), lot, &created);
  ASSERT_TRUE(s.ok()) << s.error_message();

  eventlog::KafkaOptions options;
  options.bootstrap_servers = std::getenv("LOTLEDGER_TEST_KAFKA");
  options.read_only = true;
  absl::StatusOr<std::unique_ptr<eventlog::EventLog>> log =
      eventlog::KafkaEventLog::Create(options);
  ASSERT_TRUE(log.ok()) << log.status();
  std::map<std::string, Written> events =
      ReadEvents(**log, cluster->topic_prefix() + "lotledger.lots.v1");
  ASSERT_TRUE(events.contains(def.request_id()));
  ASSERT_TRUE(events.contains(lot.request_id()));
  EXPECT_EQ(TraceIdOf(events[def.request_id()]), kTraceId);
  const std::string fresh = TraceIdOf(events[lot.request_id()]);
  EXPECT_EQ(fresh.size(), 32u);
  EXPECT_NE(fresh, kTraceId);
}

}  // namespace
}  // namespace lotledger::testing
