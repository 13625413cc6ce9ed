// Test data for the recall service's tests: a seeded genealogy with
// diamonds, a raw lot (RM:HUB) used in about half of all lots, a lot
// consumed but never created, a lot number that is not its id's tail, and
// its distribution (receipts, transfers, shipments, one lot to every
// customer, returns, scrapping, count adjustments, a return of a lot a
// customer never received) and date corrections, written to the lots and
// inventory topics of an event log as the services would have (sealed).
#ifndef LOTLEDGER_SERVICES_RECALL_TESTS_RECALL_WORLD_H_
#define LOTLEDGER_SERVICES_RECALL_TESTS_RECALL_WORLD_H_

#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "libs/common/topics.h"
#include "libs/eventlog/event_log.h"
#include "libs/eventlog/record_codec.h"
#include "lotledger/v1/events.pb.h"

namespace lotledger::recall::testing {

constexpr int32_t kPartitions = 3;

// Lots by level: raw materials, components, assemblies, finished devices.
constexpr const char* kItems[] = {"RM", "CMP", "ASM", "FG"};
constexpr int kCustomers = 30;

// Writes events to the lots and inventory topics as the services would
// have: sealed, each its own aggregate (spread over the partitions).
class Writer {
 public:
  explicit Writer(eventlog::EventLog* log) : log_(log) {}

  void Add(const std::string& topic, v1::Event e) {
    e.set_event_id(absl::StrCat("ev-", ++n_));
    e.set_aggregate_id(e.event_id());
    e.set_actor("test");
    e.mutable_recorded_at()->set_seconds(1790000000 + n_);
    eventlog::ChainHead head;
    batches_[topic].push_back(
        eventlog::ToOutgoing(e, eventlog::Seal(e, head), "recall-index-test"));
  }

  // Appends what was added; the log's end offsets.
  eventlog::Offsets Flush() {
    for (auto& [topic, batch] : batches_) {
      if (batch.empty()) continue;
      auto pos = log_->Append(topic, std::move(batch));
      EXPECT_TRUE(pos.ok()) << pos.status();
      batch.clear();
    }
    eventlog::Offsets end;
    for (const char* topic : {topics::kLots, topics::kInventory}) {
      for (int32_t p = 0; p < kPartitions; ++p) {
        auto e = log_->EndOffset(topic, p);
        EXPECT_TRUE(e.ok()) << e.status();
        end[{topic, p}] = e.ok() ? *e : 0;
      }
    }
    return end;
  }

 private:
  eventlog::EventLog* log_;
  int n_ = 0;
  std::map<std::string, std::vector<eventlog::OutgoingRecord>> batches_;
};

inline void SetDate(v1::Date* d, int year, int month, int day) {
  d->set_year(year);
  d->set_month(month);
  d->set_day(day);
}

inline v1::Event Created(const std::string& item, const std::string& number,
                         const std::vector<std::string>& inputs, int serial,
                         const std::string& lot_id = "") {
  v1::Event e;
  v1::LotCreated* c = e.mutable_lot_created();
  c->set_lot_id(lot_id.empty() ? absl::StrCat(item, ":", number) : lot_id);
  c->set_item(item);
  c->set_lot_number(number);
  SetDate(c->mutable_manufactured_on(), 2026, 1 + serial % 12, 1 + serial % 28);
  SetDate(c->mutable_expires_on(), 2029, 1 + serial % 12, 1 + serial % 28);
  c->mutable_quantity()->set_amount(1000);
  c->mutable_quantity()->set_uom(serial % 5 == 0 ? "KG" : "EA");
  e.add_lot_ids(c->lot_id());
  for (const std::string& in : inputs) {
    v1::LotInput* line = c->add_inputs();
    line->set_lot_id(in);
    line->mutable_quantity()->set_amount(2);
    line->mutable_quantity()->set_uom("EA");
    bool listed = false;
    for (const std::string& id : e.lot_ids()) listed |= id == in;
    if (!listed) e.add_lot_ids(in);
  }
  return e;
}

inline v1::Event Corrected(const std::string& lot_id, const std::string& field,
                           const std::string& value) {
  v1::Event e;
  v1::LotCorrected* c = e.mutable_lot_corrected();
  c->set_lot_id(lot_id);
  c->set_field(field);
  c->set_new_value(value);
  c->set_reason("label misprint");
  e.add_lot_ids(lot_id);
  return e;
}

inline v1::Event Received(const std::string& lot, const std::string& location,
                          int64_t amount) {
  v1::Event e;
  e.add_lot_ids(lot);
  v1::StockReceived* r = e.mutable_stock_received();
  r->set_lot_id(lot);
  r->set_location_id(location);
  r->mutable_quantity()->set_amount(amount);
  r->mutable_quantity()->set_uom("EA");
  return e;
}

inline v1::Event Transferred(const std::string& lot, const std::string& from,
                             const std::string& to, int64_t amount) {
  v1::Event e;
  e.add_lot_ids(lot);
  v1::StockTransferred* t = e.mutable_stock_transferred();
  t->set_lot_id(lot);
  t->set_from_location_id(from);
  t->set_to_location_id(to);
  t->mutable_quantity()->set_amount(amount);
  return e;
}

inline v1::Event Shipped(const std::string& lot, const std::string& from,
                         int customer, int64_t amount, int day, int version) {
  v1::Event e;
  e.add_lot_ids(lot);
  v1::StockShipped* s = e.mutable_stock_shipped();
  s->set_shipment_id(absl::StrCat("SHP-", lot, "-", customer, "-", day));
  s->set_lot_id(lot);
  s->set_from_location_id(from);
  s->mutable_quantity()->set_amount(amount);
  s->mutable_quantity()->set_uom("EA");
  v1::Customer* c = s->mutable_customer();
  c->set_customer_id(absl::StrFormat("C-%03d", customer));
  // A customer's name changes: the latest shipment's counts.
  c->set_name(absl::StrFormat("Hospital %d v%d", customer, version));
  c->set_region(absl::StrCat("R", customer % 4));
  SetDate(s->mutable_ship_date(), 2026, 6, day);
  return e;
}

inline v1::Event Returned(const std::string& lot,
                          const std::string& customer_id, const std::string& to,
                          int64_t amount) {
  v1::Event e;
  e.add_lot_ids(lot);
  v1::StockReturned* r = e.mutable_stock_returned();
  r->set_lot_id(lot);
  r->set_customer_id(customer_id);
  r->set_to_location_id(to);
  r->mutable_quantity()->set_amount(amount);
  return e;
}

inline v1::Event Scrapped(const std::string& lot, const std::string& location,
                          int64_t amount) {
  v1::Event e;
  e.add_lot_ids(lot);
  v1::StockScrapped* s = e.mutable_stock_scrapped();
  s->set_lot_id(lot);
  s->set_location_id(location);
  s->mutable_quantity()->set_amount(amount);
  return e;
}

inline v1::Event Adjusted(const std::string& lot, const std::string& location,
                          int64_t delta) {
  v1::Event e;
  e.add_lot_ids(lot);
  v1::StockAdjusted* a = e.mutable_stock_adjusted();
  a->set_lot_id(lot);
  a->set_location_id(location);
  a->set_delta(delta);
  return e;
}

// A seeded genealogy and its distribution, written in rounds.
class World {
 public:
  explicit World(uint64_t seed) : rng_(seed) {}

  // Raw lots (one, RM:HUB, goes into about half of all lots) and
  // `per_level` lots per level above, each of 1-3 inputs from any level
  // below (shared inputs make diamonds).
  void Round(Writer& w, int per_level) {
    if (lots_.empty()) {
      lots_.resize(4);
      Create(w, 0, "HUB", {});
      // Consumed by one component, never created itself.
      lots_[1].push_back("CMP:GHOSTLY");
      w.Add(topics::kLots, Created("CMP", "GHOSTLY", {"RM:GHOST"}, ++serial_));
      // A lot whose number is not its id's tail.
      w.Add(topics::kLots,
            Created("FG", "odd-number", {"RM:HUB"}, ++serial_, "FG:other"));
      lots_[3].push_back("FG:other");
    }
    for (int i = 0; i < per_level * 2; ++i) {
      Create(w, 0, absl::StrFormat("R%03d", ++serial_), {});
    }
    for (int level = 1; level < 4; ++level) {
      for (int i = 0; i < per_level; ++i) {
        std::vector<std::string> inputs;
        const int n = 1 + static_cast<int>(rng_() % 3);
        for (int k = 0; k < n; ++k) {
          const auto& pool = lots_[rng_() % level];
          inputs.push_back(pool[rng_() % pool.size()]);
        }
        if (rng_() % 2 == 0) inputs.push_back("RM:HUB");
        Create(w, level, absl::StrFormat("L%d-%03d", level, ++serial_), inputs);
      }
    }
  }

  // Assemblies and finished lots received, moved, shipped, returned,
  // scrapped and counted; one finished lot shipped to every customer.
  void Distribute(Writer& w) {
    ++version_;
    for (int level = 2; level < 4; ++level) {
      for (const std::string& lot : lots_[level]) {
        if (lot == "CMP:GHOSTLY" || rng_() % 3 == 0) continue;
        const std::string wh = rng_() % 2 ? "WH1" : "WH2";
        w.Add(topics::kInventory, Received(lot, wh, 100));
        if (rng_() % 4 == 0) {
          w.Add(topics::kInventory, Transferred(lot, wh, "QA", 10));
        }
        const int shipments = static_cast<int>(rng_() % 4);
        for (int s = 0; s < shipments; ++s) {
          const int customer = static_cast<int>(rng_() % kCustomers);
          w.Add(topics::kInventory,
                Shipped(lot, wh, customer, 5 + s, 1 + s, version_));
          if (rng_() % 3 == 0) {
            w.Add(topics::kInventory,
                  Returned(lot, absl::StrFormat("C-%03d", customer), "RET", 2));
          }
        }
        if (rng_() % 5 == 0) w.Add(topics::kInventory, Scrapped(lot, wh, 3));
        if (rng_() % 6 == 0) w.Add(topics::kInventory, Adjusted(lot, wh, -4));
        // Everything moved out of a location: its entry goes.
        if (rng_() % 9 == 0) {
          w.Add(topics::kInventory, Received(lot, "DOCK", 7));
          w.Add(topics::kInventory, Transferred(lot, "DOCK", wh, 7));
        }
      }
    }
    const std::string& big = lots_[3][1];
    for (int c = 0; c < kCustomers; ++c) {
      w.Add(topics::kInventory, Shipped(big, "WH9", c, 1, 9, version_));
    }
    // A return from a customer never shipped that lot: a holding with
    // nothing shipped, which no impact lists.
    w.Add(topics::kInventory, Returned(lots_[3][2], "C-999", "RET", 1));
  }

  // Manufacture dates (moving lots in and out of date ranges) and expiry
  // dates corrected.
  void Corrections(Writer& w) {
    for (int level = 0; level < 4; ++level) {
      for (int i = 0; i < 3; ++i) {
        const auto& pool = lots_[level];
        const std::string& lot = pool[rng_() % pool.size()];
        w.Add(topics::kLots,
              Corrected(lot, "manufactured_on",
                        absl::StrFormat("2026-%02d-%02d", 3 + i, 10 + level)));
        w.Add(topics::kLots, Corrected(lot, "expires_on",
                                       absl::StrFormat("2031-%02d-01", 1 + i)));
      }
    }
  }

  // Every lot id written, and ones never created or never named.
  std::vector<std::string> Ids() const {
    std::vector<std::string> ids = {"RM:GHOST", "NOPE:1", "FG:odd-number"};
    for (const auto& level : lots_)
      ids.insert(ids.end(), level.begin(), level.end());
    return ids;
  }

 private:
  void Create(Writer& w, int level, const std::string& number,
              const std::vector<std::string>& inputs) {
    v1::Event e = Created(kItems[level], number, inputs, ++serial_);
    lots_[level].push_back(e.lot_created().lot_id());
    w.Add(topics::kLots, std::move(e));
  }

  std::mt19937_64 rng_;
  int serial_ = 0;
  int version_ = 0;
  std::vector<std::vector<std::string>> lots_;
};

}  // namespace lotledger::recall::testing

#endif  // LOTLEDGER_SERVICES_RECALL_TESTS_RECALL_WORLD_H_
