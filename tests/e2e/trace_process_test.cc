// W3C trace context through a real lotledgerd process: a call with a
// `traceparent` header over a real gRPC socket has its trace id on its log
// lines, and the events it writes carry the header (the Event field and
// the record header ce_traceparent), read back from the log; a call with
// an invalid header is served with a fresh trace, never refused. Every
// line the process writes is one valid JSON object.
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "gtest/gtest.h"
#include "libs/common/tests/json_check.h"
#include "libs/common/trace_context.h"
#include "libs/eventlog/record_codec.h"
#include "libs/server/process.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "tests/support/service_cluster.h"
#include "tests/support/stack.h"

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

// Every event of `topic` in the embedded log under `data_dir`, by request.
std::map<std::string, Written> ReadEvents(const std::string& data_dir,
                                          const std::string& topic) {
  std::map<std::string, Written> out;
  server::ProcessConfig config;
  config.data_dir = data_dir;
  auto log = server::OpenEventLog(config, "trace-test");
  EXPECT_TRUE(log.ok()) << log.status();
  if (!log.ok()) return out;
  auto parts = (*log)->PartitionCount(topic);
  EXPECT_TRUE(parts.ok()) << parts.status();
  eventlog::Offsets start;
  int64_t total = 0;
  for (int32_t p = 0; p < *parts; ++p) {
    start[{topic, p}] = 0;
    total += *(*log)->EndOffset(topic, p);
  }
  auto reader = (*log)->OpenReader(start);
  EXPECT_TRUE(reader.ok()) << reader.status();
  int64_t seen = 0;
  for (int i = 0; i < 100 && seen < total; ++i) {
    auto polled = (*reader)->Poll(1000, absl::Milliseconds(100));
    EXPECT_TRUE(polled.ok()) << polled.status();
    if (!polled.ok()) break;
    for (const eventlog::Record& r : polled->records) {
      ++seen;
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
  EXPECT_EQ(seen, total);
  return out;
}

TEST(TraceProcess, TheCallersTraceIsOnItsLogLinesAndInItsEvents) {
  const std::string dir = ::testing::TempDir() + "/trace-" + NewRequestId();
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/tokens") << "tok-op operator.one operator,admin\n";

  v1::DefineProductRequest def;
  def.set_request_id(NewRequestId());
  def.mutable_product()->set_item("09506000134352");
  def.mutable_product()->set_name("Catheter \"14 Fr\"\nsterile");
  def.mutable_product()->set_uom("EA");
  def.mutable_product()->set_kind(v1::ITEM_KIND_FINISHED_DEVICE);
  def.mutable_product()->mutable_policy()->set_shelf_life_days(365);
  v1::CreateLotRequest lot;
  lot.set_request_id(NewRequestId());
  lot.set_item("09506000134352");
  lot.set_lot_number("P1");
  lot.mutable_manufactured_on()->set_year(2026);
  lot.mutable_manufactured_on()->set_month(6);
  lot.mutable_manufactured_on()->set_day(1);
  lot.mutable_quantity()->set_amount(10);
  lot.mutable_quantity()->set_uom("EA");

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
  std::map<std::string, Written> events =
      ReadEvents(dir + "/data", "lotledger.lots.v1");
  ASSERT_TRUE(events.contains(def.request_id()));
  ASSERT_TRUE(events.contains(lot.request_id()));
  const Written& defined = events[def.request_id()];
  std::optional<TraceContext> t = ParseTraceparent(defined.event.traceparent());
  ASSERT_TRUE(t.has_value()) << defined.event.traceparent();
  EXPECT_EQ(t->trace_id, kTraceId);
  EXPECT_EQ(defined.header, defined.event.traceparent());
  const Written& created = events[lot.request_id()];
  t = ParseTraceparent(created.event.traceparent());
  ASSERT_TRUE(t.has_value()) << created.event.traceparent();
  EXPECT_EQ(t->trace_id, fresh);
  EXPECT_EQ(created.header, created.event.traceparent());
}

}  // namespace
}  // namespace lotledger::testing
