// Broker down: the lots service on a Kafka broker of the test's own; the
// broker is stopped under a stream of commands and started again.
//  * Commands issued while it is down fail with UNAVAILABLE before their
//    deadline, also a deadline far shorter than the server's append
//    timeout: the server answers, it does not hang.
//  * Every acknowledged command is in the log, once; retrying a failed
//    command with its request id applies it exactly once, and retrying an
//    applied one writes nothing.
//  * The projection catches up by itself (no restart): every lot reads
//    back with the last write's consistency token.
// Real parts: Kafka 4.1 (tools/kafka/start), gRPC over 127.0.0.1, RocksDB.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "libs/eventlog/kafka/kafka_event_log.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "tests/faults/log_check.h"
#include "tests/faults/own_broker.h"
#include "tests/support/stack.h"

namespace lotledger::testing {
namespace {

constexpr char kGtin[] = "09506000134352";
// Longer than the server's own bound on an append (KafkaOptions::
// append_timeout, 30 s): the answer must come from the server.
constexpr auto kOutageDeadline = std::chrono::seconds(60);
// Far shorter than append_timeout: the server must honour the caller's.
constexpr auto kShortDeadline = std::chrono::seconds(3);

v1::CreateLotRequest LotRequest(const std::string& lot_number) {
  v1::CreateLotRequest req;
  req.set_request_id(NewRequestId());
  req.set_item(kGtin);
  req.set_lot_number(lot_number);
  req.mutable_manufactured_on()->set_year(2026);
  req.mutable_manufactured_on()->set_month(3);
  req.mutable_manufactured_on()->set_day(2);
  req.mutable_quantity()->set_amount(100 + lot_number.size());
  req.mutable_quantity()->set_uom("EA");
  return req;
}

TEST(BrokerDown, CommandsFailUnavailableAndNothingIsLostOrDoubled) {
  const std::string dir =
      ::testing::TempDir() + "/broker-down-" + NewRequestId();
  std::filesystem::create_directories(dir);
  faults::OwnBroker broker(dir + "/kafka");
  const std::string bootstrap = broker.Start();
  ASSERT_FALSE(bootstrap.empty());
  setenv("LOTLEDGER_TEST_KAFKA", bootstrap.c_str(), 1);
  std::unique_ptr<TestStack> stack =
      TestStack::Start(Backend::kKafka, {"lots"});
  ASSERT_NE(stack, nullptr);
  auto lots = v1::LotsService::NewStub(stack->channel());

  v1::DefineProductRequest def;
  def.set_request_id(NewRequestId());
  def.mutable_product()->set_item(kGtin);
  def.mutable_product()->set_name("Catheter");
  def.mutable_product()->set_uom("EA");
  def.mutable_product()->set_kind(v1::ITEM_KIND_FINISHED_DEVICE);
  def.mutable_product()->mutable_policy()->set_shelf_life_days(365);
  v1::DefineProductResponse defined;
  ASSERT_TRUE(
      lots->DefineProduct(stack->Ctx("admin").get(), def, &defined).ok());

  std::vector<v1::CreateLotRequest> acked;
  for (const char* n : {"B1", "B2", "B3"}) {
    acked.push_back(LotRequest(n));
    v1::CreateLotResponse resp;
    grpc::Status s =
        lots->CreateLot(stack->Ctx("operator").get(), acked.back(), &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  ASSERT_TRUE(broker.Stop());

  std::vector<v1::CreateLotRequest> during;
  // A command with a short deadline is answered UNAVAILABLE within it, by
  // the server: the append gives up at the caller's deadline, not at the
  // server's append timeout (30 s). S1 waits for a delivery report that
  // never comes; S2, after it, for the end offset the service checks on a
  // partition whose last append failed.
  for (const char* n : {"S1", "S2"}) {
    during.push_back(LotRequest(n));
    auto ctx = stack->Ctx("operator");
    ctx->set_deadline(std::chrono::system_clock::now() + kShortDeadline);
    v1::CreateLotResponse resp;
    const auto started = std::chrono::steady_clock::now();
    grpc::Status s = lots->CreateLot(ctx.get(), during.back(), &resp);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE)
        << n << ": " << s.error_code() << " " << s.error_message();
    // A figure for the report, not an assertion.
    std::fprintf(stderr, "%s: %d after %lld ms (deadline %lld ms)\n", n,
                 static_cast<int>(s.error_code()),
                 static_cast<long long>(took.count()),
                 static_cast<long long>(
                     std::chrono::milliseconds(kShortDeadline).count()));
  }

  // A stream of commands while the broker is down, several at once.
  const size_t streamed = during.size();
  for (const char* n : {"D1", "D2", "D3", "D4"})
    during.push_back(LotRequest(n));
  std::vector<grpc::Status> outcome(during.size());
  {
    std::vector<std::thread> clients;
    for (size_t i = streamed; i < during.size(); ++i) {
      clients.emplace_back([&, i] {
        auto ctx = stack->Ctx("operator");
        ctx->set_deadline(std::chrono::system_clock::now() + kOutageDeadline);
        v1::CreateLotResponse resp;
        outcome[i] = lots->CreateLot(ctx.get(), during[i], &resp);
      });
    }
    for (std::thread& t : clients) t.join();
  }
  for (size_t i = streamed; i < during.size(); ++i) {
    EXPECT_EQ(outcome[i].error_code(), grpc::StatusCode::UNAVAILABLE)
        << during[i].lot_number() << ": " << outcome[i].error_code() << " "
        << outcome[i].error_message();
  }

  ASSERT_TRUE(broker.Resume());

  // The client retries what failed, with the same request ids, until the
  // service takes it (a client's retry loop; bounded).
  v1::ConsistencyToken last_token;
  for (const v1::CreateLotRequest& req : during) {
    grpc::Status s;
    v1::CreateLotResponse resp;
    for (int attempt = 0; attempt < 20; ++attempt) {
      auto ctx = stack->Ctx("operator");
      ctx->set_deadline(std::chrono::system_clock::now() + kOutageDeadline);
      s = lots->CreateLot(ctx.get(), req, &resp);
      if (s.error_code() != grpc::StatusCode::UNAVAILABLE) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));  // backoff
    }
    ASSERT_TRUE(s.ok()) << req.lot_number() << ": " << s.error_message();
    EXPECT_EQ(resp.lot().quantity().amount(), req.quantity().amount());
    last_token = resp.token();
  }
  // Retrying everything once more writes nothing new.
  for (const auto* group : {&acked, &during}) {
    for (const v1::CreateLotRequest& req : *group) {
      v1::CreateLotResponse resp;
      grpc::Status s =
          lots->CreateLot(stack->Ctx("operator").get(), req, &resp);
      ASSERT_TRUE(s.ok()) << req.lot_number() << ": " << s.error_message();
    }
  }

  // The projection caught up by itself: every lot reads back.
  for (const auto* group : {&acked, &during}) {
    for (const v1::CreateLotRequest& req : *group) {
      v1::GetLotRequest get;
      get.set_lot_id(std::string(kGtin) + ":" + req.lot_number());
      *get.mutable_after() = last_token;
      v1::GetLotResponse got;
      grpc::Status s = lots->GetLot(stack->Ctx("auditor").get(), get, &got);
      ASSERT_TRUE(s.ok()) << get.lot_id() << ": " << s.error_message();
      EXPECT_EQ(got.lot().quantity().amount(), req.quantity().amount());
    }
  }

  // The log holds each command once, in intact chains.
  eventlog::KafkaOptions k;
  k.bootstrap_servers = bootstrap;
  auto log = eventlog::KafkaEventLog::Create(k);
  ASSERT_TRUE(log.ok()) << log.status();
  auto summary = faults::SummarizeTopic(
      **log, stack->config().topic_prefix + "lotledger.lots.v1");
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->chain_break, "");
  EXPECT_EQ(summary->lots_created.size(), acked.size() + during.size());
  for (const auto& [lot, n] : summary->lots_created) {
    EXPECT_EQ(n, 1) << lot << " created " << n << " times";
  }
  for (const auto* group : {&acked, &during}) {
    for (const v1::CreateLotRequest& req : *group) {
      EXPECT_EQ(summary->by_request_id[req.request_id()], 1)
          << req.lot_number();
    }
  }
  stack.reset();
}

}  // namespace
}  // namespace lotledger::testing
