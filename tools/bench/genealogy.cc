#include "tools/bench/genealogy.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "libs/common/ids.h"
#include "libs/common/status_macros.h"
#include "libs/eventlog/record_codec.h"

namespace lotledger::bench {
namespace {

constexpr const char* kItems[] = {"RM-RESIN", "CMP-TUBE", "SUB-VALVE",
                                  "ASM-KIT", "09506000134352"};
constexpr v1::ItemKind kKinds[] = {
    v1::ITEM_KIND_RAW_MATERIAL, v1::ITEM_KIND_COMPONENT,
    v1::ITEM_KIND_COMPONENT, v1::ITEM_KIND_COMPONENT,
    v1::ITEM_KIND_FINISHED_DEVICE};

v1::Event Envelope(const std::string& aggregate, absl::Time now) {
  v1::Event e;
  e.set_event_id(NewUuidV7(now));
  e.set_aggregate_id(aggregate);
  e.set_actor("bench.generator");
  e.set_request_id(e.event_id());
  const int64_t s = absl::ToUnixSeconds(now);
  e.mutable_occurred_at()->set_seconds(s);
  e.mutable_recorded_at()->set_seconds(s);
  return e;
}

}  // namespace

std::string DeviceItem() { return kItems[4]; }

std::string DeviceSerial(int64_t lot_index, int n) {
  return absl::StrFormat("T%07d%04d", lot_index, n);
}

absl::StatusOr<Genealogy> WriteGenealogy(eventlog::EventLog& log,
                                         const std::string& topic, int64_t lots,
                                         uint64_t seed,
                                         int serials_per_device) {
  const int device_level = 4;
  Genealogy g;
  g.lot_ids.resize(g.levels);
  std::mt19937_64 rng(seed);
  const absl::Time now = absl::Now();
  std::vector<eventlog::OutgoingRecord> batch;
  auto flush = [&]() -> absl::Status {
    if (batch.empty()) return absl::OkStatus();
    g.events += batch.size();
    absl::StatusOr<std::vector<eventlog::Position>> pos =
        log.Append(topic, std::move(batch));
    batch.clear();
    if (!pos.ok()) return pos.status();
    for (const eventlog::Position& p : *pos) {
      int64_t& end = g.end[{topic, p.partition}];
      end = std::max(end, p.offset + 1);
    }
    return absl::OkStatus();
  };
  // Seals `e` after `head` (a fresh head: the aggregate's first event).
  auto add = [&](const v1::Event& e,
                 eventlog::ChainHead head = {}) -> absl::Status {
    batch.push_back(eventlog::ToOutgoing(e, eventlog::Seal(e, head), "bench"));
    return batch.size() >= 1000 ? flush() : absl::OkStatus();
  };
  for (int level = 0; level < g.levels; ++level) {
    v1::Event e = Envelope(kItems[level], now);
    v1::Product* p = e.mutable_product_defined()->mutable_product();
    p->set_item(kItems[level]);
    p->set_name(absl::StrCat("bench level ", level));
    p->set_uom("EA");
    p->set_kind(kKinds[level]);
    p->mutable_policy()->set_shelf_life_days(1095);
    if (level == device_level && serials_per_device > 0) {
      p->set_tracking(v1::TRACKING_SERIAL);
    }
    RETURN_IF_ERROR(add(e));
  }
  const int64_t per_level = std::max<int64_t>(1, lots / g.levels);
  for (int level = 0; level < g.levels; ++level) {
    for (int64_t i = 0; i < per_level; ++i) {
      const std::string lot_number = absl::StrFormat("L%d-%07d", level, i);
      const std::string lot_id = MakeLotId(kItems[level], lot_number);
      v1::Event e = Envelope(lot_id, now);
      e.add_lot_ids(lot_id);
      v1::LotCreated* c = e.mutable_lot_created();
      c->set_lot_id(lot_id);
      c->set_item(kItems[level]);
      c->set_lot_number(lot_number);
      c->mutable_manufactured_on()->set_year(2026);
      c->mutable_manufactured_on()->set_month(1 + static_cast<int>(i % 12));
      c->mutable_manufactured_on()->set_day(1 + static_cast<int>(i % 28));
      *c->mutable_expires_on() = c->manufactured_on();
      c->mutable_expires_on()->set_year(2029);
      c->set_expiry_source(v1::EXPIRY_SOURCE_SHELF_LIFE);
      c->mutable_quantity()->set_amount(1000);
      c->mutable_quantity()->set_uom("EA");
      c->set_site("Galway");
      if (level > 0) {
        const auto& below = g.lot_ids[level - 1];
        std::uniform_int_distribution<size_t> pick(0, below.size() - 1);
        std::string a = below[pick(rng)], b = below[pick(rng)];
        while (b == a && below.size() > 1) b = below[pick(rng)];
        for (const std::string& in : {a, b}) {
          if (in == b && a == b) break;
          v1::LotInput* li = c->add_inputs();
          li->set_lot_id(in);
          li->mutable_quantity()->set_amount(1);
          li->mutable_quantity()->set_uom("EA");
          e.add_lot_ids(in);
        }
      }
      eventlog::ChainHead created_head;
      const v1::EventRecord created = eventlog::Seal(e, created_head);
      batch.push_back(eventlog::ToOutgoing(e, created, "bench"));
      if (batch.size() >= 1000) RETURN_IF_ERROR(flush());
      if (level == device_level && serials_per_device > 0) {
        v1::Event s = Envelope(lot_id, now);
        s.add_lot_ids(lot_id);
        v1::SerialsAssigned* a = s.mutable_serials_assigned();
        a->set_lot_id(lot_id);
        a->set_item(kItems[level]);
        v1::SerialRange* r = a->add_serials();
        r->set_first(DeviceSerial(i, 1));
        if (serials_per_device > 1) {
          r->set_last(DeviceSerial(i, serials_per_device));
        }
        a->set_count(serials_per_device);
        a->set_lot_total(serials_per_device);
        // The lot's second event: its chain continues from the first.
        RETURN_IF_ERROR(add(s, created_head));
      }
      g.lot_ids[level].push_back(lot_id);
    }
  }
  RETURN_IF_ERROR(flush());
  return g;
}

}  // namespace lotledger::bench
