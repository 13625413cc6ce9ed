#include "tools/bench/gen.h"

#include <deque>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "libs/common/ids.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/common/topics.h"
#include "libs/domain/lots/dates.h"
#include "libs/eventlog/record_codec.h"
#include "libs/gs1/element_string.h"

namespace lotledger::bench {
namespace {

constexpr const char* kRegions[] = {"EU-N", "EU-S", "US-E", "US-W", "APAC"};
constexpr int kRegionCount = 5;
constexpr int kWarehouses = 2;  // per region
constexpr int kBins = 8;        // per warehouse
constexpr int kHospitals = 2000;
constexpr int kItems[3] = {12, 24, 40};         // raw, component, finished
constexpr double kEventsPerFinishedLot = 33.5;  // calibrated, see Generate
constexpr int kRecallScopeCap = 1000;
constexpr absl::CivilDay kFirstDay{2025, 11, 3};

// EUR micros of one unit of item `i` of `level` from `day` on: a raw
// material 0.85 + 0.05 i, a component 4.20 + 0.15 i, a finished device
// 18.50 + 1.25 i; 5 % more (rounded down to the micro) from
// kGenCostChangeDay.
int64_t GenUnitCost(int level, int i, int day) {
  const int64_t base[3] = {850'000, 4'200'000, 18'500'000};
  const int64_t step[3] = {50'000, 150'000, 1'250'000};
  const int64_t micros = base[level] + step[level] * i;
  return day >= kGenCostChangeDay ? micros * 105 / 100 : micros;
}

enum Topic { kLotsT = 0, kQualityT, kInventoryT, kRecallT, kTopics };
// The writing service of each Topic; its topic comes from the registry.
constexpr const char* kSources[] = {"lots", "quality", "inventory", "recall"};

// GTIN-14 from 13 digits plus the GS1 check digit.
std::string Gtin(int n) {
  const std::string body = absl::StrFormat("0950600%06d", n);
  return absl::StrCat(body, gs1::CheckDigit(body));
}

using lots::FromCivilDay;

struct Lot {
  uint32_t item = 0;  // index into the level's items
  int32_t day = 0;    // made on
  int32_t expiry_day = 0;
};

struct Stock {
  uint32_t lot = 0;  // finished lot index
  uint16_t bin = 0;  // global bin index
  int64_t qty = 0;
};

struct PendingReturn {
  int32_t due = 0;
  uint32_t lot = 0;
  uint16_t bin = 0;
  int customer = 0;
  std::string shipment_id;
  int64_t qty = 0;
};

// A customer's answer to a recall, due on a day.
struct PendingAnswer {
  int day = 0;
  std::string recall_id;
  int customer = 0;
  std::vector<std::pair<std::string, int64_t>> destroyed;  // lot, units
};

class Generator {
 public:
  Generator(eventlog::EventLog& log, const GenOptions& o)
      : log_(log), o_(o), rng_(o.seed) {}

  absl::StatusOr<GenSummary> Run();

 private:
  std::string TopicName(Topic t) const {
    return o_.topic_prefix + topics::WrittenBy(kSources[t]);
  }
  bool Full() const { return s_.events >= static_cast<uint64_t>(o_.events); }
  absl::Time When(int day) {
    // Business hours of the day, strictly increasing within it.
    tick_ = std::max(
        tick_ + absl::Milliseconds(7),
        absl::FromCivil(start_ + day, absl::UTCTimeZone()) + absl::Hours(6));
    return tick_;
  }
  std::string Uuid(absl::Time t) {
    const uint64_t ms = static_cast<uint64_t>(absl::ToUnixMillis(t));
    const uint64_t r = rng_(), r2 = rng_();
    return absl::StrFormat("%08x-%04x-7%03x-%04x-%012x", ms >> 16, ms & 0xffff,
                           r & 0xfff, 0x8000 | ((r >> 12) & 0x3fff),
                           r2 & 0xffffffffffffULL);
  }
  absl::Status Emit(Topic t, v1::Event& e, absl::Time when);
  absl::Status Flush(Topic t);

  std::string LotNumber(int level, uint32_t i) const {
    return absl::StrFormat("%c%08d", "RCF"[level], i);
  }
  std::string ItemCode(int level, uint32_t item) const {
    if (level == 2) return Gtin(1000 + static_cast<int>(item));
    return absl::StrFormat("%s-%03d", level == 0 ? "RM" : "CMP", item);
  }
  std::string LotId(int level, uint32_t i) const {
    return MakeLotId(ItemCode(level, lots_[level][i].item),
                     LotNumber(level, i));
  }
  std::string BinId(int bin) const {
    const int region = bin / (kWarehouses * kBins);
    const int wh = (bin / kBins) % kWarehouses;
    return absl::StrFormat("%s-WH%d-B%02d", kRegions[region], wh + 1,
                           bin % kBins + 1);
  }
  int RegionOfBin(int bin) const { return bin / (kWarehouses * kBins); }
  v1::Customer Hospital(int i) const {
    v1::Customer c;
    const int region = i % kRegionCount;
    c.set_customer_id(absl::StrFormat("HOSP-%s-%04d", kRegions[region], i));
    c.set_name(absl::StrFormat("Hospital %d (%s)", i, kRegions[region]));
    c.set_region(kRegions[region]);
    c.set_min_remaining_shelf_life_days(i % 7 == 0 ? 180 : 0);
    return c;
  }
  // A lot index of `level` made in the last `window` days (-1: none).
  int64_t Recent(int level, int day, int window) {
    const auto& first = first_of_day_[level];
    const int from_day = std::max(0, day - window);
    const int64_t lo = from_day < static_cast<int>(first.size())
                           ? first[from_day]
                           : static_cast<int64_t>(lots_[level].size());
    const int64_t hi = static_cast<int64_t>(lots_[level].size());
    if (hi <= lo) return hi > 0 ? hi - 1 : -1;
    return std::uniform_int_distribution<int64_t>(lo, hi - 1)(rng_);
  }

  absl::Status Setup();
  absl::Status MakeLot(int level, int day);
  absl::Status Release(int level, uint32_t i, int day, bool inspect);
  absl::Status Ship(int day);
  absl::Status Transfer(int day);
  absl::Status Return(const PendingReturn& r, int day);
  absl::Status Recall(int day);
  // A customer's answer to a recall (RecallResponseRecorded).
  absl::Status Respond(const PendingAnswer& a, int day);
  // The standard unit cost of every product (UnitCostSet, GenUnitCost),
  // effective from `day`.
  absl::Status SetUnitCosts(int day);
  absl::Status CloseRecall(const std::string& id, int day, int64_t lots);

  eventlog::EventLog& log_;
  const GenOptions o_;
  std::mt19937_64 rng_;
  GenSummary s_;
  absl::CivilDay start_ = o_.first_day;
  absl::Time tick_ = absl::InfinitePast();
  absl::flat_hash_map<std::string, eventlog::ChainHead> heads_[kTopics];
  std::vector<eventlog::OutgoingRecord> batch_[kTopics];
  int shelf_life_[3][40] = {};
  bool capped_[40] = {};
  std::vector<Lot> lots_[3];
  std::vector<std::vector<int64_t>> first_of_day_ =
      std::vector<std::vector<int64_t>>(3);
  std::vector<std::vector<uint32_t>> children_[2];  // raw->cmp, cmp->fin
  std::vector<bool> recalled_;                      // by finished lot
  // By finished lot: (customer, units) of each shipment, negative for a
  // return; what a recalled lot's customers hold.
  std::vector<std::vector<std::pair<int32_t, int32_t>>> moved_;
  std::vector<PendingAnswer> answers_;  // due on their day
  std::vector<Stock> pool_;
  std::deque<PendingReturn> returns_;
  std::vector<std::pair<int, std::pair<std::string, int64_t>>> closing_;
};

absl::Status Generator::Flush(Topic t) {
  auto& b = batch_[t];
  if (b.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::vector<eventlog::Position> pos,
                   log_.Append(TopicName(t), std::move(b)));
  b.clear();
  for (const eventlog::Position& p : pos) {
    int64_t& end = s_.end[{TopicName(t), p.partition}];
    end = std::max(end, p.offset + 1);
  }
  return absl::OkStatus();
}

absl::Status Generator::Emit(Topic t, v1::Event& e, absl::Time when) {
  e.set_event_id(Uuid(when));
  e.set_actor(t == kQualityT ? "qa.approver" : "erp.integration");
  e.set_request_id(e.event_id());
  ToTimestamp(when, e.mutable_occurred_at());
  ToTimestamp(when + absl::Milliseconds(3), e.mutable_recorded_at());
  eventlog::ChainHead& head = heads_[t][e.aggregate_id()];
  batch_[t].push_back(
      eventlog::ToOutgoing(e, eventlog::Seal(e, head), kSources[t]));
  ++s_.events;
  if (batch_[t].size() >= o_.batch) return Flush(t);
  return absl::OkStatus();
}

absl::Status Generator::Setup() {
  for (int t = 0; t < kTopics; ++t) {
    RETURN_IF_ERROR(
        log_.EnsureTopic(TopicName(static_cast<Topic>(t)), o_.partitions));
  }
  const absl::Time when = When(0);
  for (int level = 0; level < 3; ++level) {
    for (int i = 0; i < kItems[level]; ++i) {
      v1::Event e;
      const std::string item = ItemCode(level, i);
      e.set_aggregate_id(item);
      v1::Product* p = e.mutable_product_defined()->mutable_product();
      p->set_item(item);
      p->set_name(absl::StrCat(level == 0   ? "Resin grade "
                               : level == 1 ? "Valve assembly "
                                            : "Infusion set ",
                               i));
      p->set_uom("EA");
      p->set_kind(level == 0   ? v1::ITEM_KIND_RAW_MATERIAL
                  : level == 1 ? v1::ITEM_KIND_COMPONENT
                               : v1::ITEM_KIND_FINISHED_DEVICE);
      const int base[3] = {1460, 1095, 730};
      shelf_life_[level][i] = base[level] - 30 * (i % 12);
      v1::ShelfLifePolicy* pol = p->mutable_policy();
      pol->set_shelf_life_days(shelf_life_[level][i]);
      if (level == 2) {
        for (int d : {180, 90, 30}) pol->add_alert_thresholds_days(d);
        pol->set_min_remaining_days_to_ship(90);
        capped_[i] = i % 3 == 0;
        pol->set_cap_expiry_by_components(capped_[i]);
        pol->set_require_released_components(true);
      }
      RETURN_IF_ERROR(Emit(kLotsT, e, when));
    }
  }
  auto location = [&](const std::string& id, const std::string& name,
                      v1::LocationKind kind, const std::string& parent,
                      const std::string& region) -> absl::Status {
    v1::Event e;
    e.set_aggregate_id(id);
    v1::Location* l = e.mutable_location_created()->mutable_location();
    l->set_location_id(id);
    l->set_name(name);
    l->set_kind(kind);
    l->set_parent_id(parent);
    l->set_site_id(region.empty() ? id : region);
    l->set_region_id(region);
    return Emit(kInventoryT, e, when);
  };
  RETURN_IF_ERROR(
      location("GALWAY", "Galway plant", v1::LOCATION_KIND_SITE, "", ""));
  RETURN_IF_ERROR(location("GALWAY-RAW", "Galway raw store",
                           v1::LOCATION_KIND_BIN, "GALWAY", ""));
  for (int r = 0; r < kRegionCount; ++r) {
    RETURN_IF_ERROR(location(kRegions[r], kRegions[r], v1::LOCATION_KIND_REGION,
                             "", kRegions[r]));
    for (int w = 0; w < kWarehouses; ++w) {
      const std::string wh = absl::StrFormat("%s-WH%d", kRegions[r], w + 1);
      RETURN_IF_ERROR(location(wh, wh, v1::LOCATION_KIND_WAREHOUSE, kRegions[r],
                               kRegions[r]));
      for (int b = 0; b < kBins; ++b) {
        const int bin = (r * kWarehouses + w) * kBins + b;
        RETURN_IF_ERROR(location(BinId(bin), BinId(bin), v1::LOCATION_KIND_BIN,
                                 wh, kRegions[r]));
      }
    }
  }
  return SetUnitCosts(0);
}

absl::Status Generator::Release(int level, uint32_t i, int day, bool inspect) {
  const std::string lot = LotId(level, i);
  if (inspect) {
    v1::Event e;
    e.set_aggregate_id(lot);
    e.add_lot_ids(lot);
    v1::InspectionRecorded* r = e.mutable_inspection_recorded();
    r->set_inspection_id(Uuid(When(day)));
    r->set_lot_id(lot);
    r->set_type(level == 0   ? v1::INSPECTION_TYPE_INCOMING
                : level == 1 ? v1::INSPECTION_TYPE_IN_PROCESS
                             : v1::INSPECTION_TYPE_FINAL);
    r->set_sample_size(level == 2 ? 32 : 8);
    v1::CharacteristicResult* c = r->add_results();
    c->set_characteristic("seal strength");
    c->set_specification(">= 1.2 N/15mm");
    c->set_measured_value(absl::StrFormat("%.2f", 1.3 + (rng_() % 50) / 100.0));
    c->set_unit("N/15mm");
    c->set_passed(true);
    r->set_passed(true);
    RETURN_IF_ERROR(Emit(kQualityT, e, When(day)));
  }
  v1::Event e;
  e.set_aggregate_id(lot);
  e.add_lot_ids(lot);
  v1::DispositionChanged* d = e.mutable_disposition_changed();
  d->set_lot_id(lot);
  d->set_to(v1::DISPOSITION_RELEASED);
  d->mutable_signature()->set_signer("qa.approver");
  d->mutable_signature()->set_meaning("approved for release");
  ToTimestamp(When(day), d->mutable_signature()->mutable_signed_at());
  d->mutable_signature()->set_authentication("dev-token");
  return Emit(kQualityT, e, When(day));
}

absl::Status Generator::MakeLot(int level, int day) {
  const uint32_t i = static_cast<uint32_t>(lots_[level].size());
  Lot lot;
  lot.item = static_cast<uint32_t>(rng_() % kItems[level]);
  lot.day = day;
  lot.expiry_day = day + shelf_life_[level][lot.item];
  // Inputs: 2-3 raw lots for a component, 2-4 components for a device.
  std::vector<int64_t> inputs;
  if (level > 0) {
    const int n = level == 1 ? 2 + static_cast<int>(rng_() % 2)
                             : 2 + static_cast<int>(rng_() % 3);
    for (int k = 0; k < n; ++k) {
      const int64_t in = Recent(level - 1, day, 45);
      if (in < 0) break;
      if (std::find(inputs.begin(), inputs.end(), in) != inputs.end()) continue;
      inputs.push_back(in);
      if (level == 2 && capped_[lot.item])
        lot.expiry_day =
            std::min(lot.expiry_day, lots_[level - 1][in].expiry_day);
    }
  }
  lots_[level].push_back(lot);
  if (level < 2) children_[level].emplace_back();
  if (level == 2) {
    recalled_.push_back(false);
    moved_.emplace_back();
  }
  for (int64_t in : inputs) children_[level - 1][in].push_back(i);
  if (s_.sample_lots[level].size() < 1000 && i % 7 == 0 &&
      (level == 0 || !inputs.empty()))
    s_.sample_lots[level].push_back(LotId(level, i));
  ++s_.lots[level];

  const std::string id = LotId(level, i);
  const absl::Time when = When(day);
  v1::Event e;
  e.set_aggregate_id(id);
  e.add_lot_ids(id);
  v1::LotCreated* c = e.mutable_lot_created();
  c->set_lot_id(id);
  c->set_item(ItemCode(level, lot.item));
  c->set_lot_number(LotNumber(level, i));
  *c->mutable_manufactured_on() = FromCivilDay(start_ + day);
  *c->mutable_expires_on() = FromCivilDay(start_ + lot.expiry_day);
  c->set_expiry_source(v1::EXPIRY_SOURCE_SHELF_LIFE);
  const int64_t qty = level == 2 ? 1000 : 5000;
  c->mutable_quantity()->set_amount(qty);
  c->mutable_quantity()->set_uom("EA");
  c->set_site(level == 0 ? "supplier" : "Galway");
  for (int64_t in : inputs) {
    const std::string in_id = LotId(level - 1, static_cast<uint32_t>(in));
    v1::LotInput* li = c->add_inputs();
    li->set_lot_id(in_id);
    li->mutable_quantity()->set_amount(level == 2 ? 1000 : 2500);
    li->mutable_quantity()->set_uom("EA");
    e.add_lot_ids(in_id);
  }
  RETURN_IF_ERROR(Emit(kLotsT, e, when));
  RETURN_IF_ERROR(Release(level, i, day, level > 0));
  if (level == 1) return absl::OkStatus();
  // Raw lots into the plant's raw store, devices into a regional bin.
  const int bin =
      static_cast<int>(rng_() % (kRegionCount * kWarehouses * kBins));
  v1::Event r;
  r.set_aggregate_id(id);
  r.add_lot_ids(id);
  v1::StockReceived* sr = r.mutable_stock_received();
  sr->set_lot_id(id);
  sr->set_location_id(level == 0 ? "GALWAY-RAW" : BinId(bin));
  sr->mutable_quantity()->set_amount(qty);
  sr->mutable_quantity()->set_uom("EA");
  sr->set_source(level == 0 ? v1::RECEIPT_SOURCE_SUPPLIER
                            : v1::RECEIPT_SOURCE_PRODUCTION);
  if (level == 0) sr->set_supplier("Polymer Supplies GmbH");
  sr->set_reference(absl::StrFormat("GRN-%08d", s_.events));
  RETURN_IF_ERROR(Emit(kInventoryT, r, When(day)));
  if (level == 2) pool_.push_back({i, static_cast<uint16_t>(bin), qty});
  return absl::OkStatus();
}

absl::Status Generator::Ship(int day) {
  if (pool_.empty()) return absl::OkStatus();
  const int customer = static_cast<int>(rng_() % kHospitals);
  const v1::Customer cust = Hospital(customer);
  const int lines = 1 + static_cast<int>(rng_() % 3);
  const std::string shipment = absl::StrFormat("SHP-%08d", ++s_.shipments);
  for (int k = 0; k < lines && !pool_.empty() && !Full(); ++k) {
    const size_t at = rng_() % pool_.size();
    Stock& st = pool_[at];
    if (recalled_[st.lot] || lots_[2][st.lot].expiry_day - day < 90) {
      st = pool_.back();  // recalled or too short-dated: no longer shipped
      pool_.pop_back();
      --k;
      continue;
    }
    const int64_t qty =
        std::min<int64_t>(st.qty, 5 + static_cast<int64_t>(rng_() % 56));
    const std::string id = LotId(2, st.lot);
    v1::Event e;
    e.set_aggregate_id(id);
    e.add_lot_ids(id);
    v1::StockShipped* s = e.mutable_stock_shipped();
    s->set_shipment_id(shipment);
    s->set_line_index(k);
    s->set_line_count(lines);
    s->set_lot_id(id);
    s->set_from_location_id(BinId(st.bin));
    s->mutable_quantity()->set_amount(qty);
    s->mutable_quantity()->set_uom("EA");
    *s->mutable_customer() = cust;
    s->set_reference(absl::StrFormat("SO-%08d", s_.shipments));
    *s->mutable_ship_date() = FromCivilDay(start_ + day);
    *s->mutable_expires_on() =
        FromCivilDay(start_ + lots_[2][st.lot].expiry_day);
    s->set_remaining_shelf_life_days(lots_[2][st.lot].expiry_day - day);
    s->set_required_shelf_life_days(
        std::max(90, cust.min_remaining_shelf_life_days()));
    s->set_from_region_id(kRegions[RegionOfBin(st.bin)]);
    RETURN_IF_ERROR(Emit(kInventoryT, e, When(day)));
    moved_[st.lot].push_back({customer, static_cast<int32_t>(qty)});
    if (rng_() % 100 < 3) {
      returns_.push_back({day + 3 + static_cast<int>(rng_() % 18), st.lot,
                          st.bin, customer, shipment,
                          std::min<int64_t>(qty, 1 + rng_() % 5)});
    }
    st.qty -= qty;
    if (st.qty == 0) {
      st = pool_.back();
      pool_.pop_back();
    }
  }
  return absl::OkStatus();
}

absl::Status Generator::Transfer(int day) {
  if (pool_.empty()) return absl::OkStatus();
  const size_t at = rng_() % pool_.size();
  const Stock st = pool_[at];
  if (st.qty < 2) return absl::OkStatus();
  const int region = RegionOfBin(st.bin);
  const uint16_t to = static_cast<uint16_t>(region * kWarehouses * kBins +
                                            rng_() % (kWarehouses * kBins));
  if (to == st.bin) return absl::OkStatus();
  const int64_t qty = st.qty / 2;
  const std::string id = LotId(2, st.lot);
  v1::Event e;
  e.set_aggregate_id(id);
  e.add_lot_ids(id);
  v1::StockTransferred* t = e.mutable_stock_transferred();
  t->set_lot_id(id);
  t->set_from_location_id(BinId(st.bin));
  t->set_to_location_id(BinId(to));
  t->mutable_quantity()->set_amount(qty);
  t->mutable_quantity()->set_uom("EA");
  t->set_reason("rebalance");
  t->set_from_region_id(kRegions[region]);
  t->set_to_region_id(kRegions[region]);
  RETURN_IF_ERROR(Emit(kInventoryT, e, When(day)));
  ++s_.transfers;
  pool_[at].qty -= qty;
  pool_.push_back({st.lot, to, qty});
  return absl::OkStatus();
}

absl::Status Generator::SetUnitCosts(int day) {
  const absl::Time when = When(day);
  for (int level = 0; level < 3; ++level) {
    for (int i = 0; i < kItems[level]; ++i) {
      const std::string item = ItemCode(level, i);
      v1::Event e;
      e.set_aggregate_id(absl::StrCat("cost/", item));
      v1::UnitCostSet* c = e.mutable_unit_cost_set();
      c->set_item(item);
      c->mutable_unit_cost()->set_currency("EUR");
      c->mutable_unit_cost()->set_micros(GenUnitCost(level, i, day));
      *c->mutable_effective_from() = FromCivilDay(start_ + day);
      c->set_reason(day == 0 ? "standard cost" : "standard cost revision");
      RETURN_IF_ERROR(Emit(kInventoryT, e, when));
    }
  }
  return absl::OkStatus();
}

absl::Status Generator::Return(const PendingReturn& r, int day) {
  const std::string id = LotId(2, r.lot);
  const bool damaged = rng_() % 5 == 0;
  v1::Event e;
  e.set_aggregate_id(id);
  e.add_lot_ids(id);
  v1::StockReturned* s = e.mutable_stock_returned();
  s->set_lot_id(id);
  s->set_customer_id(Hospital(r.customer).customer_id());
  s->set_shipment_id(r.shipment_id);
  s->set_to_location_id(BinId(r.bin));
  s->mutable_quantity()->set_amount(r.qty);
  s->mutable_quantity()->set_uom("EA");
  s->set_condition(damaged ? v1::RETURN_CONDITION_DAMAGED
                           : v1::RETURN_CONDITION_RESALEABLE);
  s->set_return_id(absl::StrFormat("RMA-%08d", ++s_.returns));
  RETURN_IF_ERROR(Emit(kInventoryT, e, When(day)));
  moved_[r.lot].push_back({r.customer, -static_cast<int32_t>(r.qty)});
  if (!damaged) {
    pool_.push_back({r.lot, r.bin, r.qty});
    return absl::OkStatus();
  }
  // Damaged goods are written off on the day they come back.
  v1::Event x;
  x.set_aggregate_id(id);
  x.add_lot_ids(id);
  v1::StockScrapped* sc = x.mutable_stock_scrapped();
  sc->set_lot_id(id);
  sc->set_location_id(BinId(r.bin));
  sc->mutable_quantity()->set_amount(r.qty);
  sc->mutable_quantity()->set_uom("EA");
  sc->set_reason(v1::SCRAP_REASON_DAMAGED);
  sc->set_notes(absl::StrCat("returned damaged (", s->return_id(), ")"));
  return Emit(kInventoryT, x, When(day));
}

absl::Status Generator::Recall(int day) {
  // A raw lot made 30-60 days ago, and everything made from it.
  if (lots_[0].empty()) return absl::OkStatus();
  const int64_t raw = Recent(0, day - 30, 30);
  if (raw < 0) return absl::OkStatus();
  std::vector<v1::ScopedLot> scope;
  auto add = [&](int level, uint32_t i, const std::string& via, int depth) {
    const Lot& l = lots_[level][i];
    v1::ScopedLot s;
    s.set_lot_id(LotId(level, i));
    s.set_item(ItemCode(level, l.item));
    s.set_lot_number(LotNumber(level, i));
    s.set_reason(depth == 0 ? v1::SCOPE_REASON_LISTED
                            : v1::SCOPE_REASON_DERIVED);
    s.set_via_lot_id(via);
    s.set_depth(depth);
    *s.mutable_manufactured_on() = FromCivilDay(start_ + l.day);
    *s.mutable_expires_on() = FromCivilDay(start_ + l.expiry_day);
    s.set_uom("EA");
    scope.push_back(std::move(s));
    if (level == 2) recalled_[i] = true;
  };
  add(0, static_cast<uint32_t>(raw), "", 0);
  std::vector<bool> seen_fin;
  for (uint32_t c : children_[0][raw]) {
    if (scope.size() >= kRecallScopeCap) break;
    add(1, c, LotId(0, static_cast<uint32_t>(raw)), 1);
    for (uint32_t f : children_[1][c]) {
      if (scope.size() >= kRecallScopeCap) break;
      if (recalled_[f]) continue;
      add(2, f, LotId(1, c), 2);
    }
  }
  const std::string id = absl::StrFormat("RC-2026-%03d", ++s_.recalls);
  s_.recall_ids.push_back(id);
  v1::Event e;
  e.set_aggregate_id(id);
  v1::RecallInitiated* r = e.mutable_recall_initiated();
  r->set_recall_id(id);
  r->set_part_index(0);
  r->set_part_count(1);
  r->set_classification(v1::RECALL_CLASS_II);
  r->set_reason("seal strength below specification in resin lot");
  r->set_title(
      absl::StrCat("Recall of devices made from ", scope.front().lot_id()));
  r->set_health_hazard("possible leak of the fluid path");
  r->set_instructions("quarantine and return affected units");
  r->mutable_criteria()->add_lot_ids(scope.front().lot_id());
  r->mutable_criteria()->set_include_derived(true);
  r->set_lots_in_scope(static_cast<int32_t>(scope.size()));
  for (v1::ScopedLot& s : scope) {
    e.add_lot_ids(s.lot_id());
    *r->add_lots() = std::move(s);
  }
  RETURN_IF_ERROR(Emit(kRecallT, e, When(day)));
  // Each customer holding finished lots in scope answers 2-27 days later
  // (before the close): 39 in 40 destroyed what they held, the 40th only
  // acknowledges.
  std::map<int, std::map<std::string, int64_t>> held;
  for (const v1::ScopedLot& s : r->lots()) {
    if (s.depth() != 2) continue;
    uint32_t f = 0;
    if (!absl::SimpleAtoi(s.lot_number().substr(1), &f)) continue;
    for (const auto& [customer, units] : moved_[f]) {
      held[customer][s.lot_id()] += units;
    }
  }
  for (const auto& [customer, lots] : held) {
    PendingAnswer a{day + 2 + static_cast<int>(rng_() % 26), id, customer, {}};
    if (rng_() % 40 != 0) {
      for (const auto& [lot, units] : lots) {
        if (units > 0) a.destroyed.push_back({lot, units});
      }
    }
    answers_.push_back(std::move(a));
  }
  closing_.push_back({day + 30, {id, static_cast<int64_t>(scope.size())}});
  return absl::OkStatus();
}

absl::Status Generator::Respond(const PendingAnswer& a, int day) {
  v1::Event e;
  e.set_aggregate_id(a.recall_id);
  v1::RecallResponseRecorded* r = e.mutable_recall_response_recorded();
  r->set_recall_id(a.recall_id);
  r->set_response_id(absl::StrFormat("RSP-%08d", s_.events));
  r->set_customer_id(Hospital(a.customer).customer_id());
  r->set_acknowledged(true);
  for (const auto& [lot, units] : a.destroyed) {
    v1::RecallResponseLine* l = r->add_lines();
    l->set_lot_id(lot);
    l->set_destroyed(units);
  }
  if (a.destroyed.empty()) r->set_notes("acknowledged; stock being checked");
  return Emit(kRecallT, e, When(day));
}

absl::Status Generator::CloseRecall(const std::string& id, int day,
                                    int64_t lots) {
  v1::Event e;
  e.set_aggregate_id(id);
  v1::RecallClosed* c = e.mutable_recall_closed();
  c->set_recall_id(id);
  c->set_part_index(0);
  c->set_part_count(1);
  c->set_summary(absl::StrCat("all ", lots, " lots in scope accounted for"));
  return Emit(kRecallT, e, When(day));
}

absl::StatusOr<GenSummary> Generator::Run() {
  RETURN_IF_ERROR(Setup());
  // Finished lots per day so that the year holds about o_.events events
  // (each brings ~33.5 with its share of raw and component lots).
  const double fin_per_day =
      std::max(0.05, o_.events / 365.0 / kEventsPerFinishedLot);
  double acc[3] = {0, 0, 0}, acc_lines = 0, acc_transfers = 0;
  for (int day = 0; !Full(); ++day) {
    for (int level = 0; level < 3; ++level) {
      first_of_day_[level].push_back(static_cast<int64_t>(lots_[level].size()));
    }
    if (day == kGenCostChangeDay && !Full()) {
      RETURN_IF_ERROR(SetUnitCosts(day));
    }
    acc[0] += fin_per_day / 4;
    acc[1] += fin_per_day / 2;
    acc[2] += fin_per_day;
    for (int level = 0; level < 3; ++level) {
      for (; acc[level] >= 1 && !Full(); acc[level] -= 1) {
        RETURN_IF_ERROR(MakeLot(level, day));
      }
    }
    // ~25 shipment lines per finished lot, in shipments of 1-3 lines.
    acc_lines += fin_per_day * 25 / 2;
    for (; acc_lines >= 1 && !Full(); acc_lines -= 1) {
      RETURN_IF_ERROR(Ship(day));
    }
    acc_transfers += fin_per_day;
    for (; acc_transfers >= 1 && !Full(); acc_transfers -= 1) {
      RETURN_IF_ERROR(Transfer(day));
    }
    while (!returns_.empty() && returns_.front().due <= day && !Full()) {
      RETURN_IF_ERROR(Return(returns_.front(), day));
      returns_.pop_front();
    }
    if (day % 90 == 60 && o_.events >= 1000 && !Full()) {
      RETURN_IF_ERROR(Recall(day));
    }
    for (auto it = answers_.begin(); it != answers_.end() && !Full();) {
      if (it->day > day) {
        ++it;
        continue;
      }
      RETURN_IF_ERROR(Respond(*it, day));
      it = answers_.erase(it);
    }
    for (auto it = closing_.begin(); it != closing_.end() && !Full();) {
      if (it->first > day) {
        ++it;
        continue;
      }
      RETURN_IF_ERROR(CloseRecall(it->second.first, day, it->second.second));
      it = closing_.erase(it);
    }
  }
  for (int t = 0; t < kTopics; ++t)
    RETURN_IF_ERROR(Flush(static_cast<Topic>(t)));
  return std::move(s_);
}

}  // namespace

absl::CivilDay GenFirstDay() { return kFirstDay; }

absl::StatusOr<GenSummary> Generate(eventlog::EventLog& log,
                                    const GenOptions& options) {
  Generator g(log, options);
  return g.Run();
}

absl::Status SaveSummary(const GenSummary& s, const std::string& path) {
  std::ofstream out(path);
  out << "requested " << s.requested << "\n";
  out << "events " << s.events << "\n";
  out << "lots " << s.lots[0] << " " << s.lots[1] << " " << s.lots[2] << "\n";
  out << "moves " << s.shipments << " " << s.returns << " " << s.transfers
      << " " << s.recalls << "\n";
  for (const auto& [tp, off] : s.end)
    out << "end " << tp.topic << " " << tp.partition << " " << off << "\n";
  for (int level = 0; level < 3; ++level)
    for (const std::string& id : s.sample_lots[level])
      out << "lot " << level << " " << id << "\n";
  for (const std::string& id : s.recall_ids) out << "recall " << id << "\n";
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

absl::StatusOr<GenSummary> LoadSummary(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return absl::NotFoundError(absl::StrCat(
        "no generated log summary at ", path, " (run --scenario=gen first)"));
  GenSummary s;
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f = absl::StrSplit(line, ' ');
    if (f.empty()) continue;
    if (f[0] == "requested" && f.size() == 2) {
      (void)absl::SimpleAtoi(f[1], &s.requested);
    } else if (f[0] == "events" && f.size() == 2) {
      (void)absl::SimpleAtoi(f[1], &s.events);
    } else if (f[0] == "lots" && f.size() == 4) {
      for (int i = 0; i < 3; ++i) (void)absl::SimpleAtoi(f[1 + i], &s.lots[i]);
    } else if (f[0] == "moves" && f.size() == 5) {
      (void)absl::SimpleAtoi(f[1], &s.shipments);
      (void)absl::SimpleAtoi(f[2], &s.returns);
      (void)absl::SimpleAtoi(f[3], &s.transfers);
      (void)absl::SimpleAtoi(f[4], &s.recalls);
    } else if (f[0] == "end" && f.size() == 4) {
      int32_t p = 0;
      int64_t off = 0;
      (void)absl::SimpleAtoi(f[2], &p);
      (void)absl::SimpleAtoi(f[3], &off);
      s.end[{f[1], p}] = off;
    } else if (f[0] == "lot" && f.size() == 3) {
      int level = 0;
      (void)absl::SimpleAtoi(f[1], &level);
      if (level >= 0 && level < 3) s.sample_lots[level].push_back(f[2]);
    } else if (f[0] == "recall" && f.size() == 2) {
      s.recall_ids.push_back(f[1]);
    }
  }
  return s;
}

}  // namespace lotledger::bench
