// The value KPIs of GetKpis (docs/inventory.md "Value KPIs") on the bench
// generator's year of data (tools/bench/gen.h: unit costs with a change
// mid-year, damaged returns scrapped, recalls answered by customers),
// plus expiry sweeps over the following months and expired stock
// scrapped, on a real inventory service over the embedded log. Every
// figure is checked against a computation written here, straight from
// the events in the log: plain loops, none of the service's code.
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "libs/command/command_runner.h"
#include "libs/common/clock.h"
#include "libs/common/topics.h"
#include "libs/eventlog/embedded/embedded_event_log.h"
#include "libs/eventlog/record_codec.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "tests/support/stack.h"
#include "tools/bench/gen.h"

namespace lotledger {
namespace {

using testing::Backend;
using testing::NewRequestId;
using testing::TestStack;

// The day of the KPIs, counted from the generator's first day: the year
// and then months of sweeps, so that lots expire.
constexpr int kToday = 660;

constexpr const char* kServices[] = {"lots", "quality", "inventory", "recall"};

// A day as an integer count from the civil epoch, for plain arithmetic.
int64_t DayNumber(int y, int m, int d) {
  return absl::CivilDay(y, m, d) - absl::CivilDay(1970, 1, 1);
}
int64_t DayNumber(const v1::Date& d) {
  return DayNumber(d.year(), d.month(), d.day());
}
int64_t DayNumber(const google::protobuf::Timestamp& t) {
  return (t.seconds() >= 0 ? t.seconds() : t.seconds() - 86399) / 86400;
}
const google::protobuf::Timestamp& BusinessTime(const v1::Event& e) {
  return e.has_occurred_at() ? e.occurred_at() : e.recorded_at();
}
int64_t BusinessDayNumber(const v1::Event& e) {
  return DayNumber(BusinessTime(e));
}
std::string Month(int64_t day) {
  const absl::CivilDay c = absl::CivilDay(1970, 1, 1) + day;
  return absl::StrFormat("%04d-%02d", c.year(), c.month());
}
absl::Time Noon(absl::CivilDay d) {
  return absl::FromCivil(d, absl::UTCTimeZone()) + absl::Hours(12);
}

class ValueKpisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The year ends kToday days before today: signatures (scrapping) are
    // checked against the real time of the caller's authentication.
    first_ =
        absl::CivilDay(absl::ToCivilDay(absl::Now(), absl::UTCTimeZone())) -
        kToday;
    clock_ = std::make_unique<ManualClock>(Noon(first_ + 300));
    stack_ = TestStack::Start(
        Backend::kEmbedded,
        std::vector<std::string>(std::begin(kServices), std::end(kServices)),
        clock_.get());
    stack_->Stop();
    {
      auto log = eventlog::OpenEmbeddedEventLog(
          {.path = stack_->config().data_dir + "/log"});
      ASSERT_TRUE(log.ok()) << log.status();
      bench::GenOptions o;
      o.events = 20000;
      o.partitions = stack_->config().partitions;
      o.topic_prefix = stack_->config().topic_prefix;
      o.first_day = first_;
      auto summary = bench::Generate(**log, o);
      ASSERT_TRUE(summary.ok()) << summary.status();
      ASSERT_GE(summary->recalls, 1u);
      token_ = command::ToToken(summary->end);
    }
    stack_->Restart();
    inventory_ = v1::InventoryService::NewStub(stack_->channel());
    CatchUp();
  }

  // Waits until the inventory projection has applied token_.
  void CatchUp() {
    grpc::Status st;
    do {  // the server bounds one wait; ask until it has caught up
      v1::GetKpisRequest req;
      *req.mutable_after() = token_;
      v1::GetKpisResponse resp;
      st = inventory_->GetKpis(stack_->Ctx("auditor").get(), req, &resp);
    } while (st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }

  // Stops the server, reads every event of every topic, starts it again;
  // token_ then covers them all.
  std::vector<v1::Event> ReadAll() {
    stack_->Stop();
    std::vector<v1::Event> out;
    {
      auto log = eventlog::OpenEmbeddedEventLog(
          {.path = stack_->config().data_dir + "/log"});
      EXPECT_TRUE(log.ok()) << log.status();
      if (!log.ok()) return out;
      eventlog::Offsets start, end;
      for (const char* service : kServices) {
        const std::string topic =
            stack_->config().topic_prefix + topics::WrittenBy(service);
        auto parts = (*log)->PartitionCount(topic);
        if (!parts.ok()) continue;
        for (int32_t p = 0; p < *parts; ++p) {
          start[{topic, p}] = 0;
          end[{topic, p}] = (*log)->EndOffset(topic, p).value_or(0);
        }
      }
      auto reader = (*log)->OpenReader(start);
      EXPECT_TRUE(reader.ok()) << reader.status();
      eventlog::Offsets next = start;
      for (int i = 0; i < 100000 && next != end; ++i) {
        auto polled = (*reader)->Poll(4096, absl::Milliseconds(100));
        EXPECT_TRUE(polled.ok()) << polled.status();
        if (!polled.ok()) break;
        for (const auto& [tp, offset] : polled->next_offsets) next[tp] = offset;
        for (const eventlog::Record& r : polled->records) {
          auto rec = eventlog::DecodeRecord(r.value);
          EXPECT_TRUE(rec.ok()) << rec.status();
          auto event = eventlog::DecodeEvent(*rec);
          EXPECT_TRUE(event.ok()) << event.status();
          if (event.ok()) out.push_back(*std::move(event));
        }
      }
      EXPECT_EQ(next, end);
      token_ = command::ToToken(end);
    }
    stack_->Restart();
    inventory_ = v1::InventoryService::NewStub(stack_->channel());
    CatchUp();
    return out;
  }

  absl::CivilDay first_;
  std::unique_ptr<ManualClock> clock_;
  std::unique_ptr<TestStack> stack_;
  std::unique_ptr<v1::InventoryService::Stub> inventory_;
  v1::ConsistencyToken token_;
};

// What the test computes from the events, per item.
struct Expected {
  std::map<int32_t, int64_t> near_value;  // threshold -> micros
  int64_t expired_value = 0;
  std::map<std::pair<std::string, int>, int64_t> written_off;
  int64_t received = 0;
  int64_t expired_written_off = 0;
};

TEST_F(ValueKpisTest, EveryValueKpiMatchesAComputationFromTheEvents) {
  // Expiry sweeps over the months after the year, so that lots cross
  // their thresholds early or late and some expire with stock.
  // A gap of eight months (300 -> 540) lets lots reach their expiry
  // without an alert 90 days before it.
  for (int day : {300, 540, 630, kToday}) {
    clock_->Set(day == kToday ? absl::Now() : Noon(first_ + day));
    absl::StatusOr<int> alerts = stack_->SweepExpiry();
    ASSERT_TRUE(alerts.ok()) << alerts.status();
  }
  // Expired stock written off: every second expired lot's stock.
  std::vector<v1::Event> events = ReadAll();
  int scrapped = 0, expired_lots = 0;
  for (const v1::Event& e : events) {
    if (!e.has_lot_expired()) continue;
    if (expired_lots++ % 2 != 0) continue;
    for (const v1::LocationStock& s : e.lot_expired().stock()) {
      v1::ScrapStockRequest req;
      req.set_request_id(NewRequestId());
      req.set_lot_id(e.lot_expired().lot_id());
      req.set_location_id(s.location_id());
      req.mutable_quantity()->set_amount(s.amount());
      req.set_reason(v1::SCRAP_REASON_EXPIRED);
      req.mutable_signature()->set_credential(stack_->Token("operator"));
      *req.mutable_after() = token_;
      v1::ScrapStockResponse resp;
      grpc::Status st =
          inventory_->ScrapStock(stack_->Ctx("operator").get(), req, &resp);
      ASSERT_TRUE(st.ok()) << st.error_message();
      ++scrapped;
    }
  }
  ASSERT_GT(expired_lots, 0) << "no lot expired: the sweeps found nothing";
  ASSERT_GT(scrapped, 0);
  events = ReadAll();

  const int64_t today =
      DayNumber(first_.year(), first_.month(), first_.day()) + kToday;
  const int32_t period = kToday + 1;  // from the generator's first day
  const int64_t from = today - (period - 1);

  // ---- The independent computation ----------------------------------
  std::map<std::string, std::map<int64_t, int64_t>> costs;  // item->day->µ
  std::map<std::string, std::string> item_of;               // lot -> item
  std::map<std::string, int64_t> expiry_of;                 // lot -> day
  std::map<std::string, std::vector<int32_t>> thresholds;   // item
  std::map<std::string, int64_t> on_hand;                   // lot
  for (const v1::Event& e : events) {
    if (e.has_unit_cost_set()) {
      const v1::UnitCostSet& c = e.unit_cost_set();
      costs[c.item()][DayNumber(c.effective_from())] = c.unit_cost().micros();
    } else if (e.has_lot_created()) {
      item_of[e.lot_created().lot_id()] = e.lot_created().item();
      if (e.lot_created().has_expires_on()) {
        expiry_of[e.lot_created().lot_id()] =
            DayNumber(e.lot_created().expires_on());
      }
    } else if (e.has_product_defined()) {
      const v1::Product& p = e.product_defined().product();
      thresholds[p.item()].assign(p.policy().alert_thresholds_days().begin(),
                                  p.policy().alert_thresholds_days().end());
    }
  }
  auto cost_on = [&](const std::string& item, int64_t day) -> int64_t {
    int64_t found = -1;
    for (const auto& [d, micros] : costs[item]) {
      if (d <= day) found = micros;
    }
    return found;
  };
  std::map<std::string, Expected> want;
  for (const v1::Event& e : events) {
    const int64_t day = BusinessDayNumber(e);
    const bool in_period = day >= from && day <= today;
    if (e.has_stock_received()) {
      const auto& r = e.stock_received();
      on_hand[r.lot_id()] += r.quantity().amount();
      const std::string& item = item_of[r.lot_id()];
      if (in_period && cost_on(item, day) >= 0) {
        want[item].received += r.quantity().amount() * cost_on(item, day);
      }
    } else if (e.has_stock_shipped()) {
      on_hand[e.stock_shipped().lot_id()] -=
          e.stock_shipped().quantity().amount();
    } else if (e.has_stock_returned()) {
      on_hand[e.stock_returned().lot_id()] +=
          e.stock_returned().quantity().amount();
    } else if (e.has_stock_adjusted()) {
      on_hand[e.stock_adjusted().lot_id()] += e.stock_adjusted().delta();
    } else if (e.has_stock_scrapped()) {
      const auto& s = e.stock_scrapped();
      on_hand[s.lot_id()] -= s.quantity().amount();
      const std::string& item = item_of[s.lot_id()];
      if (in_period && cost_on(item, day) >= 0) {
        const int64_t value = s.quantity().amount() * cost_on(item, day);
        want[item].written_off[{Month(day), s.reason()}] += value;
        if (s.reason() == v1::SCRAP_REASON_EXPIRED) {
          want[item].expired_written_off += value;
        }
      }
    }
  }
  for (const auto& [lot, units] : on_hand) {
    if (units <= 0) continue;
    const std::string& item = item_of[lot];
    const int64_t c = cost_on(item, today);
    if (c < 0 || !expiry_of.contains(lot)) continue;
    const int64_t left = expiry_of[lot] - today;
    if (left <= 0) {
      want[item].expired_value += units * c;
      continue;
    }
    for (int32_t t : thresholds[item]) {
      if (left <= t) want[item].near_value[t] += units * c;
    }
  }

  // Lots that expired in the period; alerted 90 days or more before.
  std::set<std::pair<std::string, int64_t>> expired, alerted;
  for (const v1::Event& e : events) {
    if (e.has_lot_expired()) {
      const int64_t x = DayNumber(e.lot_expired().expires_on());
      if (x >= from && x <= today)
        expired.insert({e.lot_expired().lot_id(), x});
    }
    if (e.has_expiry_threshold_crossed()) {
      const auto& c = e.expiry_threshold_crossed();
      if (DayNumber(c.expires_on()) - DayNumber(c.evaluated_on()) >= 90) {
        alerted.insert({c.lot_id(), DayNumber(c.expires_on())});
      }
    }
  }
  int32_t alerted_expired = 0;
  for (const auto& x : expired) alerted_expired += alerted.contains(x);

  // Recalls: units and cost at initiation, and the first day the
  // recovered share of what was distributed reached 95 %.
  struct RecallWant {
    int64_t initiated = 0;
    google::protobuf::Timestamp at;
    std::vector<std::string> lots;
    int64_t units = 0, cost = 0;
    int32_t days_to_95 = -1;
  };
  std::map<std::string, RecallWant> recalls;
  for (const v1::Event& e : events) {
    if (!e.has_recall_initiated()) continue;
    RecallWant& r = recalls[e.recall_initiated().recall_id()];
    if (e.recall_initiated().part_index() == 0) {
      r.initiated = BusinessDayNumber(e);
      r.at = BusinessTime(e);
    }
    for (const v1::ScopedLot& l : e.recall_initiated().lots()) {
      r.lots.push_back(l.lot_id());
    }
  }
  auto not_after = [](const google::protobuf::Timestamp& a,
                      const google::protobuf::Timestamp& b) {
    return a.seconds() < b.seconds() ||
           (a.seconds() == b.seconds() && a.nanos() <= b.nanos());
  };
  for (auto& [id, r] : recalls) {
    const std::set<std::string> scope(r.lots.begin(), r.lots.end());
    // (customer, lot) -> day -> shipped, returned, destroyed that day.
    struct Day {
      int64_t shipped = 0, returned = 0, destroyed = 0;
    };
    std::map<std::pair<std::string, std::string>, std::map<int64_t, Day>> cl;
    std::map<std::string, int64_t> units;  // lot -> at initiation
    for (const v1::Event& e : events) {
      const int64_t day = BusinessDayNumber(e);
      const bool before = not_after(BusinessTime(e), r.at);
      if (e.has_stock_received() &&
          scope.contains(e.stock_received().lot_id()) && before) {
        units[e.stock_received().lot_id()] +=
            e.stock_received().quantity().amount();
      } else if (e.has_stock_shipped() &&
                 scope.contains(e.stock_shipped().lot_id())) {
        const auto& s = e.stock_shipped();
        cl[{s.customer().customer_id(), s.lot_id()}][day].shipped +=
            s.quantity().amount();
        // Shipped stays in the units (distributed); transfers are neutral.
      } else if (e.has_stock_returned() &&
                 scope.contains(e.stock_returned().lot_id())) {
        const auto& s = e.stock_returned();
        cl[{s.customer_id(), s.lot_id()}][day].returned +=
            s.quantity().amount();
        if (before) units[s.lot_id()] += s.quantity().amount();
      } else if (e.has_stock_scrapped() &&
                 scope.contains(e.stock_scrapped().lot_id()) && before) {
        units[e.stock_scrapped().lot_id()] -=
            e.stock_scrapped().quantity().amount();
      } else if (e.has_stock_adjusted() &&
                 scope.contains(e.stock_adjusted().lot_id()) && before) {
        units[e.stock_adjusted().lot_id()] += e.stock_adjusted().delta();
      } else if (e.has_recall_response_recorded() &&
                 e.recall_response_recorded().recall_id() == id) {
        for (const auto& l : e.recall_response_recorded().lines()) {
          cl[{e.recall_response_recorded().customer_id(), l.lot_id()}][day]
              .destroyed += l.destroyed();
        }
      }
    }
    for (const std::string& lot : scope) {
      // units so far = received + returned - scrapped + adjusted before
      // initiation, i.e. shipped + on hand then.
      const int64_t u = units[lot];
      r.units += u;
      r.cost += u * cost_on(item_of[lot], r.initiated);
    }
    for (int64_t d = r.initiated; d <= today && r.days_to_95 < 0; ++d) {
      int64_t distributed = 0, recovered = 0;
      for (const auto& [key, days] : cl) {
        int64_t shipped = 0, back = 0;
        for (const auto& [day, m] : days) {
          if (day > d) break;
          shipped += m.shipped;
          back += m.returned + m.destroyed;
        }
        distributed += shipped;
        recovered += std::min(shipped, back);
      }
      if (distributed == 0 || recovered * 100 >= distributed * 95) {
        r.days_to_95 = static_cast<int32_t>(d - r.initiated);
      }
    }
  }

  // ---- The service's answer ----------------------------------------
  v1::GetKpisRequest req;
  req.set_period_days(period);
  *req.mutable_after() = token_;
  v1::GetKpisResponse got;
  grpc::Status st =
      inventory_->GetKpis(stack_->Ctx("auditor").get(), req, &got);
  ASSERT_TRUE(st.ok()) << st.error_message();

  int items_with_value = 0;
  std::set<std::string> answered;
  for (const v1::ItemKpis& k : got.items()) {
    SCOPED_TRACE(k.item());
    answered.insert(k.item());
    const Expected& w = want[k.item()];
    ASSERT_GE(cost_on(k.item(), today), 0) << "every product has a cost";
    EXPECT_EQ(k.unit_cost().currency(), "EUR");
    EXPECT_EQ(k.unit_cost().micros(), cost_on(k.item(), today));
    for (const v1::ThresholdValue& t : k.near_expiry_value()) {
      const auto it = w.near_value.find(t.threshold_days());
      EXPECT_EQ(t.value().micros(), it == w.near_value.end() ? 0 : it->second)
          << "threshold " << t.threshold_days();
    }
    EXPECT_EQ(k.near_expiry_value_size(),
              static_cast<int>(thresholds[k.item()].size()));
    EXPECT_EQ(k.expired_value().micros(), w.expired_value);
    EXPECT_EQ(k.received_value().micros(), w.received);
    EXPECT_EQ(k.expired_written_off().micros(), w.expired_written_off);
    std::map<std::pair<std::string, int>, int64_t> written;
    for (const v1::MonthlyValue& m : k.written_off()) {
      written[{m.month(), m.reason()}] = m.value().micros();
    }
    EXPECT_EQ(written, w.written_off);
    EXPECT_DOUBLE_EQ(k.expiry_loss_rate(),
                     w.received == 0
                         ? 0.0
                         : static_cast<double>(w.expired_written_off) /
                               static_cast<double>(w.received));
    if (w.received > 0) ++items_with_value;
  }
  // Every item with a value in the period is answered.
  for (const auto& [item, w] : want) {
    if (w.received > 0 || w.expired_value > 0 || !w.written_off.empty()) {
      EXPECT_TRUE(answered.contains(item)) << item;
    }
  }
  EXPECT_GT(items_with_value, 10);

  // With an item filter: that item's values, and only the recalls whose
  // scope holds a lot of it.
  const v1::ItemKpis* finished = nullptr;
  for (const v1::ItemKpis& k : got.items()) {
    if (!k.near_expiry_value().empty()) finished = &k;
  }
  ASSERT_NE(finished, nullptr);
  v1::GetKpisRequest one = req;
  one.set_item(finished->item());
  v1::GetKpisResponse got_one;
  st = inventory_->GetKpis(stack_->Ctx("auditor").get(), one, &got_one);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(got_one.items_size(), 1);
  EXPECT_EQ(got_one.items(0).SerializeAsString(),
            finished->SerializeAsString());
  int recalls_of_item = 0;
  for (const auto& [id, r] : recalls) {
    recalls_of_item += std::any_of(
        r.lots.begin(), r.lots.end(),
        [&](const std::string& lot) { return item_of[lot] == one.item(); });
  }
  EXPECT_EQ(got_one.recalls_size(), recalls_of_item);

  EXPECT_EQ(got.lots_expired(), static_cast<int32_t>(expired.size()));
  EXPECT_EQ(got.lots_alerted_90_days(), alerted_expired);
  EXPECT_GT(got.lots_expired(), 0);
  EXPECT_GT(got.lots_alerted_90_days(), 0);
  EXPECT_LT(got.lots_alerted_90_days(), got.lots_expired());
  EXPECT_DOUBLE_EQ(got.alerted_90_days_share(),
                   static_cast<double>(alerted_expired) /
                       static_cast<double>(expired.size()));

  ASSERT_EQ(got.recalls_size(), static_cast<int>(recalls.size()));
  int reached = 0;
  for (const v1::RecallKpis& k : got.recalls()) {
    SCOPED_TRACE(k.recall_id());
    ASSERT_TRUE(recalls.contains(k.recall_id()));
    const RecallWant& w = recalls[k.recall_id()];
    EXPECT_EQ(DayNumber(k.initiated_on()), w.initiated);
    EXPECT_EQ(k.units_in_scope(), w.units);
    ASSERT_EQ(k.cost_size(), 1);
    EXPECT_EQ(k.cost(0).currency(), "EUR");
    EXPECT_EQ(k.cost(0).micros(), w.cost);
    EXPECT_EQ(k.days_to_95(), w.days_to_95);
    if (w.days_to_95 >= 0) {
      ++reached;
      EXPECT_EQ(DayNumber(k.effective_on()), w.initiated + w.days_to_95);
    } else {
      EXPECT_FALSE(k.has_effective_on());
    }
  }
  EXPECT_GT(reached, 0) << "no generated recall reached 95 %";
}

TEST_F(ValueKpisTest, SetUnitCostIsAnAdminsAndTheSameCostAgainIsANoOp) {
  v1::SetUnitCostRequest req;
  req.set_request_id(NewRequestId());
  req.set_item("RM-000");
  req.mutable_unit_cost()->set_currency("EUR");
  req.mutable_unit_cost()->set_micros(990'000);
  req.mutable_effective_from()->set_year(2026);
  req.mutable_effective_from()->set_month(9);
  req.mutable_effective_from()->set_day(1);
  req.set_reason("supplier price rise");
  v1::SetUnitCostResponse resp;
  grpc::Status st =
      inventory_->SetUnitCost(stack_->Ctx("operator").get(), req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  st = inventory_->SetUnitCost(stack_->Ctx("admin").get(), req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_TRUE(resp.changed());
  req.set_request_id(NewRequestId());
  st = inventory_->SetUnitCost(stack_->Ctx("admin").get(), req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_FALSE(resp.changed());
  req.set_request_id(NewRequestId());
  req.mutable_unit_cost()->set_currency("USD");
  st = inventory_->SetUnitCost(stack_->Ctx("admin").get(), req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(st.error_message(),
            "product RM-000 is costed in EUR; a cost in USD cannot be set: a "
            "product's costs share one currency");
}

}  // namespace
}  // namespace lotledger
