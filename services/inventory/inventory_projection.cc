#include "services/inventory/inventory_projection.h"

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/common/ids.h"
#include "libs/common/status_macros.h"
#include "libs/domain/common/recall_standing.h"
#include "libs/domain/inventory/customers.h"
#include "libs/domain/inventory/decider.h"
#include "libs/domain/inventory/gate.h"
#include "libs/projection/stored_message.h"
#include "services/inventory/inventory_serials.h"
#include "services/inventory/inventory_values.h"

namespace lotledger::inventory {
namespace {

constexpr char kLots[] = "inv_lots";
constexpr char kLocations[] = "locations";
constexpr char kProducts[] = "products";
constexpr char kLotsByItem[] = "lots_by_item";
constexpr char kStockByExpiry[] = "stock_by_expiry";
constexpr char kStockByItem[] = "stock_by_item";
constexpr char kStockByLocation[] = "stock_by_location";
constexpr char kMovements[] = "movements";
constexpr char kDistribution[] = "distribution";
constexpr char kActivity[] = "activity";
constexpr char kAlerts[] = "alerts";
constexpr char kRecalls[] = "inv_recalls";
constexpr char kLotRecalls[] = "inv_lot_recalls";
constexpr char kCustomers[] = "customers";

constexpr char kSep = '\0';
// In kLocations: the number of LocationCreated applied (see the header).
constexpr std::string_view kLocationsVersionKey = "";

template <typename... Parts>
std::string Key(const Parts&... parts) {
  std::string out;
  bool first = true;
  auto add = [&](std::string_view p) {
    if (!first) out.push_back(kSep);
    first = false;
    out.append(p.data(), p.size());
  };
  (add(std::string_view(parts)), ...);
  return out;
}

std::string ItemKey(std::string_view item, std::string_view lot_id) {
  return Key(item, lot_id);
}

std::string OffsetHex(int64_t offset) {
  return absl::StrFormat("%016x", static_cast<uint64_t>(offset));
}

std::string DateKey(const v1::Date& d) {
  return absl::StrFormat("%04d%02d%02d", d.year(), d.month(), d.day());
}

void PutBigEndian(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
}

uint64_t GetBigEndian(std::string_view in) {
  uint64_t v = 0;
  for (char c : in) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

std::string AlertKey(int32_t partition, int64_t offset) {
  std::string key;
  PutBigEndian(key, static_cast<uint32_t>(partition), 4);
  PutBigEndian(key, static_cast<uint64_t>(offset), 8);
  return key;
}

// The index keys a lot's view puts in each stock index.
struct IndexKeys {
  std::set<std::string> by_expiry, by_item, by_location;
};

IndexKeys KeysOf(const v1::LotInventory& lot) {
  IndexKeys keys;
  const bool stocked =
      std::any_of(lot.stock().begin(), lot.stock().end(),
                  [](const v1::LocationStock& s) { return s.amount() > 0; });
  if (stocked) {
    const std::string expiry = ExpiryKey(lot);
    keys.by_expiry.insert(Key(expiry, lot.lot_id()));
    if (!lot.item().empty()) {
      keys.by_item.insert(Key(lot.item(), expiry, lot.lot_id()));
    }
  }
  for (const v1::LocationStock& s : lot.stock()) {
    if (s.amount() > 0) {
      keys.by_location.insert(Key(s.location_id(), lot.lot_id()));
    }
  }
  return keys;
}

void UpdateIndex(projection::ProjectionStore::Batch& batch, const char* cf,
                 const std::set<std::string>& before,
                 const std::set<std::string>& after) {
  for (const std::string& k : before) {
    if (!after.contains(k)) batch.Delete(cf, k);
  }
  for (const std::string& k : after) {
    if (!before.contains(k)) batch.Put(cf, k, "");
  }
}

bool IsLotStockEvent(const v1::Event& event) {
  switch (event.payload_case()) {
    case v1::Event::kStockReceived:
    case v1::Event::kStockTransferred:
    case v1::Event::kStockShipped:
    case v1::Event::kStockReturned:
    case v1::Event::kStockScrapped:
    case v1::Event::kStockAdjusted:
    case v1::Event::kExpiryThresholdCrossed:
    case v1::Event::kLotExpired:
    case v1::Event::kDeviceUsageReported:  // a movement of its serials
      return true;
    default:
      return false;
  }
}

const google::protobuf::Timestamp& BusinessTime(const v1::Event& event) {
  return event.has_occurred_at() ? event.occurred_at() : event.recorded_at();
}

v1::Quantity Amount(int64_t amount, const std::string& uom) {
  v1::Quantity q;
  q.set_amount(amount);
  q.set_uom(uom);
  return q;
}

void AddTo(v1::Quantity* q, int64_t amount, const std::string& uom) {
  q->set_amount(q->amount() + amount);
  if (q->uom().empty()) q->set_uom(uom);
}

// Shipments and returns into the lot's per-customer balance (one small
// record per lot and customer). A shipment's lines are the lot's
// movements (Distribution reads them there).
absl::Status FoldDistribution(const v1::Event& event,
                              projection::ProjectionStore::Batch& batch) {
  const std::string lot_id = EventLotId(event);
  const bool shipped = event.has_stock_shipped();
  const std::string& customer_id =
      shipped ? event.stock_shipped().customer().customer_id()
              : event.stock_returned().customer_id();
  const v1::Quantity& q = shipped ? event.stock_shipped().quantity()
                                  : event.stock_returned().quantity();
  const std::string key = Key(lot_id, customer_id);
  ASSIGN_OR_RETURN(std::optional<v1::CustomerDistribution> stored,
                   projection::ParseStored<v1::CustomerDistribution>(
                       batch.Get(kDistribution, key), "distribution"));
  v1::CustomerDistribution c = stored.value_or(v1::CustomerDistribution());
  if (shipped) {
    *c.mutable_customer() = event.stock_shipped().customer();  // the latest
    AddTo(c.mutable_shipped(), q.amount(), q.uom());
  } else {
    c.mutable_customer()->set_customer_id(customer_id);
    AddTo(c.mutable_returned(), q.amount(), q.uom());
  }
  const std::string uom =
      c.shipped().uom().empty() ? c.returned().uom() : c.shipped().uom();
  if (c.shipped().uom().empty()) c.mutable_shipped()->set_uom(uom);
  if (c.returned().uom().empty()) c.mutable_returned()->set_uom(uom);
  *c.mutable_net_held() =
      Amount(c.shipped().amount() - c.returned().amount(), uom);
  batch.Put(kDistribution, key, c.SerializeAsString());
  // The lot's balance with the customer (LotInventory.customers), beside
  // the lot's row: the row stays small, a movement writes this one entry.
  v1::CustomerBalance balance;
  balance.set_customer_id(customer_id);
  balance.set_shipped(c.shipped().amount());
  balance.set_returned(c.returned().amount());
  batch.Put(kLots, key, balance.SerializeAsString());
  return absl::OkStatus();
}

// The item comes from the lot id, not from the lot's facts: those arrive
// on the lots topic, which a rebuild may apply after this movement, and
// a live projection and a rebuilt one must count the same.
absl::Status AddActivity(projection::ProjectionStore::Batch& batch,
                         std::string_view lot_id, const v1::Event& event,
                         const std::string& region, const std::string& kind,
                         int64_t amount) {
  const std::string_view item = ItemOfLotId(lot_id);
  if (item.empty() || amount == 0) return absl::OkStatus();
  const std::string key =
      Key(item,
          DateKey(BusinessDay(BusinessTime(event), kWarehouseUtcOffsetMinutes)),
          region, kind);
  ASSIGN_OR_RETURN(std::optional<std::string> stored,
                   batch.Get(kActivity, key));
  int64_t total = 0;
  if (stored.has_value() && !absl::SimpleAtoi(*stored, &total)) {
    return absl::DataLossError(absl::StrCat(
        "stored activity of ", std::string(item), " cannot be decoded"));
  }
  batch.Put(kActivity, key, absl::StrCat(total + amount));
  return absl::OkStatus();
}

absl::StatusOr<std::string> RegionOfLocation(
    projection::ProjectionStore::Batch& batch, const std::string& id) {
  ASSIGN_OR_RETURN(std::optional<v1::Location> l,
                   projection::ParseStored<v1::Location>(
                       batch.Get(kLocations, id), "location"));
  return l.has_value() ? l->region_id() : "";
}

// The value of a lot's stock_by_item entry: 'F', the regions the lot has
// stock in (ids joined by '\0', sorted) behind their length (4 bytes, big
// endian), then the lot without its customers and alerts (what FEFO and
// the shipping gate read). "" (as written before the facts existed, or
// when a stock location has no region) means: read the lot.
absl::StatusOr<std::string> FefoFacts(projection::ProjectionStore::Batch& batch,
                                      v1::LotInventory& lot) {
  std::set<std::string> regions;
  for (const v1::LocationStock& s : lot.stock()) {
    if (s.amount() <= 0) continue;
    ASSIGN_OR_RETURN(std::string region,
                     RegionOfLocation(batch, s.location_id()));
    if (region.empty()) return std::string();
    regions.insert(std::move(region));
  }
  std::string joined;
  for (const std::string& r : regions) {
    if (!joined.empty()) joined.push_back(kSep);
    joined.append(r);
  }
  std::string out(1, 'F');
  PutBigEndian(out, joined.size(), 4);
  out.append(joined);
  // The lot without its alerts (it has no customers here): moved aside
  // while it is serialized instead of copying the lot.
  google::protobuf::RepeatedPtrField<v1::RaisedExpiryAlert> alerts;
  alerts.Swap(lot.mutable_alerts());
  lot.AppendToString(&out);
  alerts.Swap(lot.mutable_alerts());
  return out;
}

absl::StatusOr<std::optional<v1::RecallStanding>> StoredRecall(
    projection::ProjectionStore::Batch& batch, const std::string& id) {
  return projection::ParseStored<v1::RecallStanding>(batch.Get(kRecalls, id),
                                                     "recall standing");
}

// The recalls that include derived lots whose scope includes `lot_id`
// (kept in a LotStanding's recall_ids).
absl::StatusOr<v1::LotStanding> DerivedRecallsOf(
    projection::ProjectionStore::Batch& batch, const std::string& lot_id) {
  ASSIGN_OR_RETURN(std::optional<v1::LotStanding> stored,
                   projection::ParseStored<v1::LotStanding>(
                       batch.Get(kLotRecalls, lot_id), "lot recalls"));
  return stored.value_or(v1::LotStanding());
}

absl::Status AddDerivedRecall(projection::ProjectionStore::Batch& batch,
                              const std::string& lot_id,
                              const std::string& recall_id) {
  ASSIGN_OR_RETURN(v1::LotStanding recalls, DerivedRecallsOf(batch, lot_id));
  if (domain::AddSorted(recalls.mutable_recall_ids(), recall_id)) {
    batch.Put(kLotRecalls, lot_id, recalls.SerializeAsString());
  }
  return absl::OkStatus();
}

// Recall-topic facts the shipping gate needs beyond the lots' own views:
// each recall's standing, and which lots are in the scope of a recall that
// includes derived lots (a lot made from one of them inherits the block).
absl::Status FoldRecallFacts(const v1::Event& event,
                             projection::ProjectionStore::Batch& batch) {
  const std::string id = domain::RecallIdOf(event);
  if (id.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::optional<v1::RecallStanding> stored,
                   StoredRecall(batch, id));
  v1::RecallStanding standing = stored.value_or(v1::RecallStanding());
  if (event.has_recall_initiated() || event.has_recall_closed()) {
    const std::string was = standing.SerializeAsString();
    domain::EvolveRecallStanding(standing, event);
    if (!stored.has_value() || standing.SerializeAsString() != was) {
      batch.Put(kRecalls, id, standing.SerializeAsString());
    }
  }
  if (!standing.include_derived()) return absl::OkStatus();
  for (const std::string& lot_id : domain::ScopeAdditions(event)) {
    if (!lot_id.empty()) RETURN_IF_ERROR(AddDerivedRecall(batch, lot_id, id));
  }
  return absl::OkStatus();
}

// The open recall, including derived lots, whose scope a lot made from
// `created`'s inputs joins (the one with the smallest id when several do),
// after recording the lot in the scope of each of them.
absl::StatusOr<std::optional<v1::RecallStanding>> InheritedRecall(
    const v1::LotCreated& created, projection::ProjectionStore::Batch& batch) {
  std::optional<v1::RecallStanding> first;
  for (const v1::LotInput& in : created.inputs()) {
    ASSIGN_OR_RETURN(v1::LotStanding recalls,
                     DerivedRecallsOf(batch, in.lot_id()));
    for (const std::string& r : recalls.recall_ids()) {
      ASSIGN_OR_RETURN(std::optional<v1::RecallStanding> recall,
                       StoredRecall(batch, r));
      if (!recall.has_value() || !recall->open() ||
          !recall->include_derived()) {
        continue;
      }
      RETURN_IF_ERROR(AddDerivedRecall(batch, created.lot_id(), r));
      if (!first.has_value() || r < first->recall_id()) first = *recall;
    }
  }
  return first;
}

// Folds the event into the view of `lot_id` and keeps its indexes; with
// `inherit`, the lot also inherits that recall's block (InheritRecall).
// The row is parsed once and serialized once; an event that leaves it as
// stored (inspections, a recall the lot already names) writes nothing.
absl::Status FoldIntoLot(const std::string& lot_id, const v1::Event& event,
                         projection::ProjectionStore::Batch& batch,
                         const v1::RecallStanding* inherit = nullptr) {
  ASSIGN_OR_RETURN(std::optional<std::string> stored, batch.Get(kLots, lot_id));
  v1::LotInventory lot;
  if (stored.has_value() && !lot.ParseFromString(*stored)) {
    return absl::DataLossError("stored lot inventory cannot be decoded");
  }
  lot.set_lot_id(lot_id);
  const IndexKeys old_keys = stored.has_value() ? KeysOf(lot) : IndexKeys();
  const std::string old_item = lot.item();
  std::string unchanged;
  if (!stored.has_value()) {
    lot.SerializeToString(&unchanged);  // the empty view of the lot
  }
  Evolve(lot, event);
  if (inherit != nullptr) InheritRecall(lot, *inherit, BusinessTime(event));
  // The customers' balances are keys of their own (FoldDistribution).
  lot.clear_customers();
  const std::string bytes = lot.SerializeAsString();
  // Events inventory does not fold (inspections) leave no trace.
  if (bytes == (stored.has_value() ? *stored : unchanged)) {
    return absl::OkStatus();
  }
  if (!lot.item().empty() && old_item != lot.item()) {
    batch.Put(kLotsByItem, ItemKey(lot.item(), lot_id), "");
  }
  const IndexKeys new_keys = KeysOf(lot);
  UpdateIndex(batch, kStockByExpiry, old_keys.by_expiry, new_keys.by_expiry);
  // stock_by_item carries the lot's FEFO facts as its value, rewritten on
  // every change while the lot has stock.
  for (const std::string& k : old_keys.by_item) {
    if (!new_keys.by_item.contains(k)) batch.Delete(kStockByItem, k);
  }
  if (!new_keys.by_item.empty()) {
    ASSIGN_OR_RETURN(const std::string facts, FefoFacts(batch, lot));
    for (const std::string& k : new_keys.by_item) {
      batch.Put(kStockByItem, k, facts);
    }
  }
  UpdateIndex(batch, kStockByLocation, old_keys.by_location,
              new_keys.by_location);
  batch.Put(kLots, lot_id, bytes);
  return absl::OkStatus();
}

}  // namespace

std::string ExpiryKey(const v1::LotInventory& lot) {
  return HasExpiry(lot) ? DateKey(lot.expires_on()) : "99999999";
}

std::vector<std::string> InventoryColumnFamilies() {
  std::vector<std::string> families = {
      kLots,          kLocations,   kProducts,        kLotsByItem,
      kStockByExpiry, kStockByItem, kStockByLocation, kMovements,
      kDistribution,  kActivity,    kAlerts,          kRecalls,
      kLotRecalls,    kCustomers};
  for (std::string& cf : ValueColumnFamilies()) families.push_back(cf);
  for (std::string& cf : SerialColumnFamilies()) families.push_back(cf);
  return families;
}

absl::Status ApplyInventoryEvent(const eventlog::Record& record,
                                 const v1::Event& event,
                                 projection::ProjectionStore::Batch& batch) {
  if (event.has_location_created()) {
    const v1::Location& l = event.location_created().location();
    batch.Put(kLocations, l.location_id(), l.SerializeAsString());
    ASSIGN_OR_RETURN(std::optional<std::string> version,
                     batch.Get(kLocations, kLocationsVersionKey));
    uint64_t n = 0;
    if (version.has_value() && !absl::SimpleAtoi(*version, &n)) {
      return absl::DataLossError("stored locations version cannot be decoded");
    }
    batch.Put(kLocations, kLocationsVersionKey, absl::StrCat(n + 1));
    return absl::OkStatus();
  }
  if (event.has_product_defined()) {
    const v1::Product& p = event.product_defined().product();
    batch.Put(kProducts, p.item(), p.SerializeAsString());
    return absl::OkStatus();
  }
  if (event.has_customer_registered() || event.has_customer_updated()) {
    const std::string& id =
        event.has_customer_registered()
            ? event.customer_registered().customer().customer_id()
            : event.customer_updated().customer().customer_id();
    ASSIGN_OR_RETURN(std::optional<v1::CustomerHistory> history,
                     projection::ParseStored<v1::CustomerHistory>(
                         batch.Get(kCustomers, id), "customer history"));
    if (!history.has_value()) history.emplace();
    EvolveCustomer(*history, event);
    batch.Put(kCustomers, id, history->SerializeAsString());
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(FoldRecallFacts(event, batch));
  RETURN_IF_ERROR(FoldValues(event, batch));
  RETURN_IF_ERROR(FoldSerials(event, batch));
  if (event.has_serials_assigned()) return absl::OkStatus();
  const std::string own = EventLotId(event);
  if (own.empty()) {
    // An event about several lots (a recall): into each lot it lists.
    std::set<std::string> seen;
    for (const std::string& id : event.lot_ids()) {
      if (id.empty() || !seen.insert(id).second) continue;
      RETURN_IF_ERROR(FoldIntoLot(id, event, batch));
    }
    return absl::OkStatus();
  }
  std::optional<v1::RecallStanding> inherited;
  if (event.has_lot_created()) {
    // Genealogy forward in time: made from a lot in the scope of an open
    // recall that includes derived lots, the new lot is blocked at once.
    ASSIGN_OR_RETURN(inherited, InheritedRecall(event.lot_created(), batch));
  }
  RETURN_IF_ERROR(FoldIntoLot(own, event, batch,
                              inherited.has_value() ? &*inherited : nullptr));
  if (!IsLotStockEvent(event)) return absl::OkStatus();

  batch.Put(kMovements, Key(own, OffsetHex(record.offset)),
            event.SerializeAsString());
  switch (event.payload_case()) {
    case v1::Event::kStockReceived: {
      const v1::StockReceived& e = event.stock_received();
      ASSIGN_OR_RETURN(std::string region,
                       RegionOfLocation(batch, e.location_id()));
      RETURN_IF_ERROR(AddActivity(batch, own, event, region, "recv",
                                  e.quantity().amount()));
      break;
    }
    case v1::Event::kStockShipped: {
      const v1::StockShipped& e = event.stock_shipped();
      RETURN_IF_ERROR(FoldDistribution(event, batch));
      RETURN_IF_ERROR(AddActivity(batch, own, event, e.from_region_id(), "ship",
                                  e.quantity().amount()));
      break;
    }
    case v1::Event::kStockReturned:
      RETURN_IF_ERROR(FoldDistribution(event, batch));
      break;
    case v1::Event::kStockScrapped: {
      const v1::StockScrapped& e = event.stock_scrapped();
      ASSIGN_OR_RETURN(std::string region,
                       RegionOfLocation(batch, e.location_id()));
      RETURN_IF_ERROR(AddActivity(batch, own, event, region,
                                  absl::StrCat("scrap.", e.reason()),
                                  e.quantity().amount()));
      break;
    }
    case v1::Event::kExpiryThresholdCrossed:
    case v1::Event::kLotExpired: {
      v1::InventoryAlert alert;
      alert.set_event_id(event.event_id());
      *alert.mutable_recorded_at() = event.recorded_at();
      if (event.has_lot_expired()) {
        *alert.mutable_expired() = event.lot_expired();
      } else {
        *alert.mutable_threshold_crossed() = event.expiry_threshold_crossed();
      }
      batch.Put(kAlerts, AlertKey(record.partition, record.offset),
                alert.SerializeAsString());
      break;
    }
    default:
      break;
  }
  return absl::OkStatus();
}

struct InventoryQueries::LocationsLease::Copy {
  std::optional<std::string> version;
  google::protobuf::Map<std::string, v1::Location> map;
};

struct InventoryQueries::LocationsLease::Pool {
  absl::Mutex mu;
  std::vector<std::unique_ptr<Copy>> free ABSL_GUARDED_BY(mu);
};

InventoryQueries::LocationsLease::LocationsLease(std::shared_ptr<Pool> pool,
                                                 std::unique_ptr<Copy> copy)
    : pool_(std::move(pool)), copy_(std::move(copy)) {}

InventoryQueries::LocationsLease::LocationsLease(
    LocationsLease&& other) noexcept = default;

InventoryQueries::LocationsLease::~LocationsLease() {
  if (pool_ == nullptr || copy_ == nullptr) return;
  absl::MutexLock l(&pool_->mu);
  pool_->free.push_back(std::move(copy_));
}

google::protobuf::Map<std::string, v1::Location>&
InventoryQueries::LocationsLease::map() {
  return copy_->map;
}

InventoryQueries::InventoryQueries(const projection::ProjectionStore* store)
    : store_(store), locations_(std::make_shared<LocationsLease::Pool>()) {}

absl::StatusOr<InventoryQueries::LocationsLease>
InventoryQueries::LeaseLocations() const {
  std::unique_ptr<LocationsLease::Copy> copy;
  {
    absl::MutexLock l(&locations_->mu);
    if (!locations_->free.empty()) {
      copy = std::move(locations_->free.back());
      locations_->free.pop_back();
    }
  }
  if (copy == nullptr) copy = std::make_unique<LocationsLease::Copy>();
  // The version is read before the locations, so a copy holds at least
  // every location its version counts; a newer one only makes it reload
  // again later.
  ASSIGN_OR_RETURN(std::optional<std::string> version,
                   store_->Get(kLocations, kLocationsVersionKey));
  if (copy->map.empty() || copy->version != version) {
    copy->map.clear();
    copy->version.reset();
    RETURN_IF_ERROR(LoadLocations(&copy->map));
    copy->version = std::move(version);
  }
  return LocationsLease(locations_, std::move(copy));
}

absl::StatusOr<std::optional<v1::LotInventory>> InventoryQueries::FindLot(
    std::string_view lot_id) const {
  // The row is key `lot_id`; its customers' balances follow it at once
  // (lot id \0 customer id sorts right after the lot id, before any other
  // key starting with it), so one scan reads the whole lot from one
  // snapshot.
  std::optional<v1::LotInventory> lot;
  absl::Status inner;
  RETURN_IF_ERROR(store_->Scan(
      kLots, lot_id, "", [&](std::string_view key, std::string_view value) {
        if (key == lot_id) {
          lot.emplace();
          if (!lot->ParseFromArray(value.data(),
                                   static_cast<int>(value.size()))) {
            inner = absl::DataLossError(absl::StrCat(
                "stored lot inventory ", Sv(lot_id), " cannot be decoded"));
            return false;
          }
          return true;
        }
        if (!lot.has_value() || key.size() <= lot_id.size() ||
            key[lot_id.size()] != kSep) {
          return false;  // another lot whose id starts with this one
        }
        if (!lot->add_customers()->ParseFromArray(
                value.data(), static_cast<int>(value.size()))) {
          inner = absl::DataLossError(
              absl::StrCat("stored customer balance of lot ", Sv(lot_id),
                           " cannot be decoded"));
          return false;
        }
        return true;
      }));
  RETURN_IF_ERROR(inner);
  return lot;
}

absl::StatusOr<v1::LotInventory> InventoryQueries::GetLot(
    std::string_view lot_id) const {
  ASSIGN_OR_RETURN(std::optional<v1::LotInventory> lot, FindLot(lot_id));
  if (!lot.has_value() || !lot->exists()) {
    return absl::NotFoundError(
        absl::StrCat("lot ", Sv(lot_id), " does not exist"));
  }
  return *std::move(lot);
}

absl::StatusOr<std::vector<v1::LotInventory>> InventoryQueries::LoadLots(
    const std::vector<std::string>& ids) const {
  std::vector<v1::LotInventory> out;
  out.reserve(ids.size());
  for (const std::string& id : ids) {
    ASSIGN_OR_RETURN(std::optional<v1::LotInventory> lot, FindLot(id));
    if (lot.has_value()) out.push_back(*std::move(lot));
  }
  return out;
}

absl::StatusOr<std::optional<v1::Product>> InventoryQueries::FindProduct(
    std::string_view item) const {
  return projection::ParseStored<v1::Product>(store_->Get(kProducts, item),
                                              "product");
}

absl::StatusOr<std::map<std::string, v1::Product>>
InventoryQueries::LoadProducts() const {
  std::map<std::string, v1::Product> out;
  absl::Status inner;
  RETURN_IF_ERROR(store_->Scan(
      kProducts, "", "", [&](std::string_view key, std::string_view value) {
        v1::Product p;
        if (!p.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          inner = absl::DataLossError(
              absl::StrCat("stored product ", Sv(key), " cannot be decoded"));
          return false;
        }
        out.emplace(std::string(key), std::move(p));
        return true;
      }));
  RETURN_IF_ERROR(inner);
  return out;
}

absl::StatusOr<std::optional<v1::Location>> InventoryQueries::FindLocation(
    std::string_view location_id) const {
  return projection::ParseStored<v1::Location>(
      store_->Get(kLocations, location_id), "location");
}

absl::Status InventoryQueries::LoadLocations(
    google::protobuf::Map<std::string, v1::Location>* out) const {
  absl::Status inner;
  RETURN_IF_ERROR(store_->Scan(
      kLocations, "", "", [&](std::string_view key, std::string_view value) {
        if (key == kLocationsVersionKey) return true;
        v1::Location l;
        if (!l.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          inner = absl::DataLossError(
              absl::StrCat("stored location ", Sv(key), " cannot be decoded"));
          return false;
        }
        (*out)[std::string(key)] = std::move(l);
        return true;
      }));
  return inner;
}

absl::Status InventoryQueries::LoadLotsOfItem(
    std::string_view item,
    google::protobuf::Map<std::string, v1::LotInventory>* out) const {
  const std::string prefix = ItemKey(item, "");
  std::vector<std::string> ids;
  RETURN_IF_ERROR(store_->Scan(kLotsByItem, prefix, "",
                               [&](std::string_view key, std::string_view) {
                                 ids.emplace_back(key.substr(prefix.size()));
                                 return true;
                               }));
  ASSIGN_OR_RETURN(std::vector<v1::LotInventory> lots, LoadLots(ids));
  for (v1::LotInventory& lot : lots) {
    const std::string id = lot.lot_id();
    (*out)[id] = std::move(lot);
  }
  return absl::OkStatus();
}

absl::Status InventoryQueries::ScanStockByExpiry(
    const std::function<bool(std::string_view expiry, std::string_view lot_id)>&
        fn) const {
  return store_->Scan(kStockByExpiry, "", "",
                      [&](std::string_view key, std::string_view) {
                        const size_t sep = key.find(kSep);
                        if (sep == std::string_view::npos) return true;
                        return fn(key.substr(0, sep), key.substr(sep + 1));
                      });
}

absl::StatusOr<std::vector<std::string>> InventoryQueries::StockedLotsOfItem(
    std::string_view item) const {
  const std::string prefix = Key(item, "");
  std::vector<std::string> ids;
  RETURN_IF_ERROR(store_->Scan(
      kStockByItem, prefix, "", [&](std::string_view key, std::string_view) {
        std::string_view rest = key.substr(prefix.size());
        const size_t sep = rest.find(kSep);
        if (sep != std::string_view::npos) {
          ids.emplace_back(rest.substr(sep + 1));
        }
        return true;
      }));
  return ids;
}

absl::Status InventoryQueries::ScanFefoCandidates(
    std::string_view item, const std::string& after_key,
    const std::function<bool(const FefoCandidate&)>& fn) const {
  const std::string prefix = Key(item, "");
  FefoCandidate c;
  return store_->Scan(kStockByItem, prefix, after_key,
                      [&](std::string_view key, std::string_view value) {
                        std::string_view rest = key.substr(prefix.size());
                        const size_t sep = rest.find(kSep);
                        if (sep == std::string_view::npos) return true;
                        c.key = key;
                        c.expiry = rest.substr(0, sep);
                        c.lot_id = rest.substr(sep + 1);
                        c.has_facts = false;
                        c.regions = {};
                        c.lot = {};
                        if (value.size() >= 5 && value[0] == 'F') {
                          const uint64_t n = GetBigEndian(value.substr(1, 4));
                          if (n <= value.size() - 5) {
                            c.has_facts = true;
                            c.regions = value.substr(5, n);
                            c.lot = value.substr(5 + n);
                          }
                        }
                        return fn(c);
                      });
}

bool InventoryQueries::FefoCandidate::InRegion(std::string_view region) const {
  if (!has_facts) return true;
  std::string_view rest = regions;
  while (!rest.empty()) {
    const size_t sep = rest.find(kSep);
    if (rest.substr(0, sep) == region) return true;
    if (sep == std::string_view::npos) break;
    rest.remove_prefix(sep + 1);
  }
  return false;
}

absl::Status InventoryQueries::StockedLotsOfItemPage(
    std::string_view item, const std::string& after_key, int limit,
    std::vector<std::pair<std::string, std::string>>* out,
    std::string* last_key) const {
  const std::string prefix = Key(item, "");
  return store_->Scan(kStockByItem, prefix, after_key,
                      [&](std::string_view key, std::string_view) {
                        std::string_view rest = key.substr(prefix.size());
                        const size_t sep = rest.find(kSep);
                        if (sep == std::string_view::npos) return true;
                        out->emplace_back(std::string(rest.substr(0, sep)),
                                          std::string(rest.substr(sep + 1)));
                        *last_key = std::string(key);
                        return static_cast<int>(out->size()) < limit;
                      });
}

absl::StatusOr<std::vector<std::string>> InventoryQueries::StockedLotsAt(
    std::string_view location_id) const {
  const std::string prefix = Key(location_id, "");
  std::vector<std::string> ids;
  RETURN_IF_ERROR(store_->Scan(kStockByLocation, prefix, "",
                               [&](std::string_view key, std::string_view) {
                                 ids.emplace_back(key.substr(prefix.size()));
                                 return true;
                               }));
  return ids;
}

absl::Status InventoryQueries::ListMovements(std::string_view lot_id,
                                             int64_t after_offset, int limit,
                                             std::vector<v1::Event>* events,
                                             std::vector<int64_t>* offsets,
                                             bool* more) const {
  const std::string prefix = Key(lot_id, "");
  const std::string start_after =
      after_offset < 0 ? "" : Key(lot_id, OffsetHex(after_offset));
  *more = false;
  absl::Status inner;
  RETURN_IF_ERROR(store_->Scan(
      kMovements, prefix, start_after,
      [&](std::string_view key, std::string_view value) {
        if (static_cast<int>(events->size()) >= limit) {
          *more = true;
          return false;
        }
        v1::Event e;
        uint64_t offset = 0;
        if (!e.ParseFromArray(value.data(), static_cast<int>(value.size())) ||
            !absl::SimpleHexAtoi(Sv(key.substr(prefix.size())), &offset)) {
          inner = absl::DataLossError(absl::StrCat(
              "stored movement of lot ", Sv(lot_id), " cannot be decoded"));
          return false;
        }
        events->push_back(std::move(e));
        offsets->push_back(static_cast<int64_t>(offset));
        return true;
      }));
  return inner;
}

absl::StatusOr<v1::TraceLotDistributionResponse> InventoryQueries::Distribution(
    std::string_view lot_id) const {
  v1::TraceLotDistributionResponse out;
  out.set_lot_id(std::string(lot_id));
  const std::string prefix = Key(lot_id, "");
  absl::Status inner;
  RETURN_IF_ERROR(store_->Scan(
      kDistribution, prefix, "", [&](std::string_view, std::string_view value) {
        v1::CustomerDistribution* c = out.add_customers();
        if (!c->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          inner = absl::DataLossError(absl::StrCat(
              "stored distribution of lot ", Sv(lot_id), " cannot be decoded"));
          return false;
        }
        return true;
      }));
  RETURN_IF_ERROR(inner);
  // Each customer's shipments of the lot, in log order, from the lot's
  // movements; the lines of one shipment (several locations) are added up.
  std::map<std::string_view, v1::CustomerDistribution*> by_id;
  for (v1::CustomerDistribution& c : *out.mutable_customers()) {
    by_id[c.customer().customer_id()] = &c;
  }
  RETURN_IF_ERROR(store_->Scan(
      kMovements, prefix, "", [&](std::string_view, std::string_view value) {
        v1::Event e;
        if (!e.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          inner = absl::DataLossError(absl::StrCat(
              "stored movement of lot ", Sv(lot_id), " cannot be decoded"));
          return false;
        }
        if (!e.has_stock_shipped()) return true;
        const v1::StockShipped& s = e.stock_shipped();
        auto it = by_id.find(s.customer().customer_id());
        if (it == by_id.end()) return true;
        for (v1::ShipmentRef& ref : *it->second->mutable_shipments()) {
          if (ref.shipment_id() == s.shipment_id()) {
            AddTo(ref.mutable_quantity(), s.quantity().amount(),
                  s.quantity().uom());
            return true;
          }
        }
        v1::ShipmentRef* line = it->second->add_shipments();
        line->set_shipment_id(s.shipment_id());
        *line->mutable_ship_date() = s.ship_date();
        *line->mutable_quantity() = s.quantity();
        return true;
      }));
  RETURN_IF_ERROR(inner);
  return out;
}

absl::Status InventoryQueries::ScanActivity(
    std::string_view item, std::string_view region, std::string_view from,
    std::string_view to,
    const std::function<void(std::string_view item, std::string_view day,
                             std::string_view kind, int64_t amount)>& fn)
    const {
  const std::string prefix = item.empty() ? "" : Key(item, "");
  absl::Status inner;
  RETURN_IF_ERROR(store_->Scan(
      kActivity, prefix, "", [&](std::string_view key, std::string_view value) {
        std::vector<std::string_view> parts;
        for (size_t pos = 0;;) {
          const size_t sep = key.find(kSep, pos);
          parts.push_back(key.substr(pos, sep - pos));
          if (sep == std::string_view::npos) break;
          pos = sep + 1;
        }
        if (parts.size() != 4) return true;
        if (parts[1] < from || parts[1] > to) return true;
        if (!region.empty() && parts[2] != region) return true;
        int64_t amount = 0;
        if (!absl::SimpleAtoi(Sv(value), &amount)) {
          inner = absl::DataLossError("stored activity cannot be decoded");
          return false;
        }
        fn(parts[0], parts[1], parts[3], amount);
        return true;
      }));
  return inner;
}

absl::Status InventoryQueries::ScanAlerts(
    int32_t partition, int64_t from_offset,
    const std::function<bool(int64_t offset, const v1::InventoryAlert&)>& fn)
    const {
  std::string prefix;
  PutBigEndian(prefix, static_cast<uint32_t>(partition), 4);
  const std::string start_after =
      from_offset <= 0 ? "" : AlertKey(partition, from_offset - 1);
  absl::Status inner;
  RETURN_IF_ERROR(store_->Scan(
      kAlerts, prefix, start_after,
      [&](std::string_view key, std::string_view value) {
        v1::InventoryAlert alert;
        if (key.size() != 12 ||
            !alert.ParseFromArray(value.data(),
                                  static_cast<int>(value.size()))) {
          inner = absl::DataLossError("stored alert cannot be decoded");
          return false;
        }
        return fn(static_cast<int64_t>(GetBigEndian(key.substr(4))), alert);
      }));
  return inner;
}

absl::StatusOr<std::optional<v1::CustomerHistory>>
InventoryQueries::FindCustomer(std::string_view customer_id) const {
  return projection::ParseStored<v1::CustomerHistory>(
      store_->Get(kCustomers, customer_id), "customer history");
}

absl::StatusOr<std::optional<v1::CustomerVersion>>
InventoryQueries::CurrentCustomer(std::string_view customer_id) const {
  ASSIGN_OR_RETURN(std::optional<v1::CustomerHistory> history,
                   FindCustomer(customer_id));
  if (!history.has_value() || history->versions().empty()) {
    return std::nullopt;
  }
  return history->versions(history->versions_size() - 1);
}

absl::Status InventoryQueries::ListCustomers(
    std::string_view region, const std::string& after_id, int limit,
    std::vector<v1::CustomerHistory>* out, bool* more) const {
  *more = false;
  absl::Status inner;
  RETURN_IF_ERROR(store_->Scan(
      kCustomers, "", after_id,
      [&](std::string_view key, std::string_view value) {
        v1::CustomerHistory history;
        if (!history.ParseFromArray(value.data(),
                                    static_cast<int>(value.size())) ||
            history.versions().empty()) {
          inner = absl::DataLossError(absl::StrCat(
              "stored customer history ", Sv(key), " cannot be decoded"));
          return false;
        }
        const v1::CustomerVersion& current =
            history.versions(history.versions_size() - 1);
        if (!region.empty() && current.customer().region() != region) {
          return true;
        }
        if (static_cast<int>(out->size()) == limit) {
          *more = true;
          return false;
        }
        out->push_back(std::move(history));
        return true;
      }));
  return inner;
}

}  // namespace lotledger::inventory
