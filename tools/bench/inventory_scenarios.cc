#include "tools/bench/inventory_scenarios.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "libs/common/ids.h"
#include "libs/domain/lots/dates.h"
#include "libs/gs1/element_string.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "lotledger/v1/quality.grpc.pb.h"

namespace lotledger::bench {
namespace {

constexpr int kRegions = 5;
constexpr int kBinsPerWarehouse = 5;

void Check(const grpc::Status& s, const std::string& what) {
  if (!s.ok()) {
    Die(absl::InternalError(absl::StrCat(what, ": ", s.error_message())));
  }
}

// Consistency tokens of many writers, merged: the largest offset per
// partition. Thread-safe.
class Tokens {
 public:
  void Add(const v1::ConsistencyToken& t) {
    absl::MutexLock l(&mu_);
    for (const auto& o : t.offsets()) {
      int64_t& v = offsets_[{o.topic(), o.partition()}];
      v = std::max(v, o.offset());
    }
  }
  v1::ConsistencyToken Get() const {
    absl::MutexLock l(&mu_);
    v1::ConsistencyToken t;
    for (const auto& [tp, offset] : offsets_) {
      auto* o = t.add_offsets();
      o->set_topic(tp.first);
      o->set_partition(tp.second);
      o->set_offset(offset);
    }
    return t;
  }

 private:
  mutable absl::Mutex mu_;
  std::map<std::pair<std::string, int32_t>, int64_t> offsets_;
};

// A GTIN-14 with a valid GS1 check digit, one per benchmark item.
std::string Gtin(int i) {
  const std::string body = absl::StrFormat("0950600%06d", i);
  return absl::StrCat(body, gs1::CheckDigit(body));
}

using lots::FromCivilDay;

// A passing final inspection of `lot_id`, after the lot's creation.
v1::RecordInspectionRequest PassingInspection(
    const std::string& lot_id, const v1::ConsistencyToken& after) {
  v1::RecordInspectionRequest ins;
  ins.set_request_id(NewUuidV7(absl::Now()));
  ins.set_lot_id(lot_id);
  ins.set_type(v1::INSPECTION_TYPE_FINAL);
  ins.set_sample_size(13);
  v1::CharacteristicResult* r = ins.add_results();
  r->set_characteristic("seal strength");
  r->set_specification(">= 1.2 N/15mm");
  r->set_measured_value("1.45");
  r->set_unit("N/15mm");
  r->set_passed(true);
  *ins.mutable_after() = after;
  return ins;
}

// What the set-up makes, derived from its parameters alone (so a reused
// data directory needs only them).
struct Layout {
  int lots = 0;
  int64_t lot_quantity = 0;
  int unreleased_percent = 0;
  std::vector<std::string> items;
  std::vector<std::string> regions;
  std::vector<std::string> warehouses;  // warehouse w is in region w % 5
  std::vector<std::string> bins;        // stock is received into these
  // > 0: the items are tracked by serial, each lot has lot_quantity
  // serials Serial(i, 1..lot_quantity), assigned and received by range.
  bool serialised = false;

  static Layout Make(int lots, int items, int bins, int64_t lot_quantity,
                     int unreleased_percent) {
    Layout l;
    l.lots = lots;
    l.lot_quantity = lot_quantity;
    l.unreleased_percent = unreleased_percent;
    for (int i = 0; i < items; ++i) l.items.push_back(Gtin(i));
    for (int r = 0; r < kRegions; ++r)
      l.regions.push_back(absl::StrCat("R", r));
    for (int w = 0; w * kBinsPerWarehouse < bins; ++w) {
      l.warehouses.push_back(absl::StrCat("WH", w));
    }
    for (int b = 0; b < bins; ++b) {
      l.bins.push_back(absl::StrCat("WH", b / kBinsPerWarehouse, "-B",
                                    b % kBinsPerWarehouse));
    }
    return l;
  }
  // Lot i: item i % items, bin i % bins.
  const std::string& Item(int i) const { return items[i % items.size()]; }
  std::string LotNumber(int i) const { return absl::StrFormat("L%07d", i); }
  std::string LotId(int i) const {
    return absl::StrCat(Item(i), ":", LotNumber(i));
  }
  const std::string& Bin(int i) const { return bins[i % bins.size()]; }
  // Every unreleased_percent-th lot in a hundred is left unreleased (the
  // gate skips it).
  bool Released(int i) const { return (i * 37) % 100 >= unreleased_percent; }
  // The n-th serial (1-based) of lot i: "S<lot 7 digits><n 6 digits>".
  static std::string Serial(int i, int64_t n) {
    return absl::StrFormat("S%07d%06d", i, n);
  }
  std::string Describe() const {
    return absl::StrCat("lots=", lots, " items=", items.size(),
                        " bins=", bins.size(), " qty=", lot_quantity,
                        " unreleased=", unreleased_percent, "%",
                        serialised ? " serialised" : "");
  }
};

// Makes the layout's products, locations and lots through the services'
// command path: CreateLot, RecordInspection + ChangeDisposition(RELEASED)
// for released lots, ReceiveStock into the lot's bin; `clients` threads,
// one lot at a time each. Returns when the inventory projection has
// applied all of it.
// Seeds `layout` through lots and quality at `target` and inventory at
// `inventory_target`.
void Seed(const std::string& target, const std::string& inventory_target,
          const Layout& layout, int clients) {
  Tokens tokens;
  const absl::Time start = absl::Now();
  {
    auto lots = v1::LotsService::NewStub(Channel(target, -1));
    for (const std::string& item : layout.items) {
      v1::DefineProductRequest req;
      req.set_request_id(NewUuidV7(absl::Now()));
      v1::Product* p = req.mutable_product();
      p->set_item(item);
      p->set_name(absl::StrCat("bench device ", item));
      p->set_uom("EA");
      p->set_kind(v1::ITEM_KIND_FINISHED_DEVICE);
      p->mutable_policy()->set_shelf_life_days(730);
      p->mutable_policy()->set_min_remaining_days_to_ship(30);
      if (layout.serialised) p->set_tracking(v1::TRACKING_SERIAL);
      v1::DefineProductResponse resp;
      Check(lots->DefineProduct(Ctx().get(), req, &resp), "DefineProduct");
      tokens.Add(resp.token());
    }
    auto inventory =
        v1::InventoryService::NewStub(Channel(inventory_target, -1));
    auto location = [&](const std::string& id, v1::LocationKind kind,
                        const std::string& parent) {
      v1::CreateLocationRequest req;
      req.set_request_id(NewUuidV7(absl::Now()));
      req.set_location_id(id);
      req.set_name(id);
      req.set_kind(kind);
      req.set_parent_id(parent);
      v1::CreateLocationResponse resp;
      Check(inventory->CreateLocation(Ctx().get(), req, &resp),
            "CreateLocation " + id);
      tokens.Add(resp.token());
    };
    location("EU", v1::LOCATION_KIND_SITE, "");
    for (const std::string& r : layout.regions) {
      location(r, v1::LOCATION_KIND_REGION, "EU");
    }
    for (size_t w = 0; w < layout.warehouses.size(); ++w) {
      location(layout.warehouses[w], v1::LOCATION_KIND_WAREHOUSE,
               layout.regions[w % kRegions]);
    }
    for (size_t b = 0; b < layout.bins.size(); ++b) {
      location(layout.bins[b], v1::LOCATION_KIND_BIN,
               layout.warehouses[b / kBinsPerWarehouse]);
    }
  }
  const absl::CivilDay today =
      absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      auto lots = v1::LotsService::NewStub(Channel(target, t));
      auto quality = v1::QualityService::NewStub(Channel(target, t));
      auto inventory =
          v1::InventoryService::NewStub(Channel(inventory_target, t));
      std::mt19937 rng(static_cast<uint32_t>(t));
      for (int i = next++; i < layout.lots; i = next++) {
        v1::CreateLotRequest lot;
        lot.set_request_id(NewUuidV7(absl::Now()));
        lot.set_item(layout.Item(i));
        lot.set_lot_number(layout.LotNumber(i));
        // Made over the last 600 days: 130 to 730 days of shelf life left.
        *lot.mutable_manufactured_on() = FromCivilDay(today - (i * 7919) % 600);
        lot.mutable_quantity()->set_amount(layout.lot_quantity);
        lot.mutable_quantity()->set_uom("EA");
        v1::CreateLotResponse created;
        Check(lots->CreateLot(Ctx().get(), lot, &created), "CreateLot");
        tokens.Add(created.token());
        const std::string lot_id = created.lot().lot_id();
        v1::SerialRange all;
        if (layout.serialised) {
          all.set_first(Layout::Serial(i, 1));
          all.set_last(Layout::Serial(i, layout.lot_quantity));
          v1::AssignSerialsRequest assign;
          assign.set_request_id(NewUuidV7(absl::Now()));
          assign.set_lot_id(lot_id);
          *assign.add_serials() = all;
          *assign.mutable_after() = created.token();
          v1::AssignSerialsResponse assigned;
          Check(lots->AssignSerials(Ctx().get(), assign, &assigned),
                "AssignSerials");
          tokens.Add(assigned.token());
        }
        if (layout.Released(i)) {
          v1::RecordInspectionRequest ins =
              PassingInspection(lot_id, created.token());
          v1::RecordInspectionResponse inspected;
          Check(quality->RecordInspection(Ctx().get(), ins, &inspected),
                "RecordInspection");
          v1::ChangeDispositionRequest rel;
          rel.set_request_id(NewUuidV7(absl::Now()));
          rel.set_lot_id(lot_id);
          rel.set_to(v1::DISPOSITION_RELEASED);
          rel.mutable_signature()->set_meaning("approved for release");
          rel.mutable_signature()->set_reason("final inspection passed");
          rel.mutable_signature()->set_credential("tok-bench");
          *rel.mutable_after() = inspected.token();
          v1::ChangeDispositionResponse released;
          Check(quality->ChangeDisposition(Ctx().get(), rel, &released),
                "ChangeDisposition");
          tokens.Add(released.token());
        }
        v1::ReceiveStockRequest recv;
        recv.set_request_id(NewUuidV7(absl::Now()));
        recv.set_lot_id(lot_id);
        recv.set_location_id(layout.Bin(i));
        recv.mutable_quantity()->set_amount(layout.lot_quantity);
        recv.set_source(v1::RECEIPT_SOURCE_PRODUCTION);
        if (layout.serialised) *recv.add_serials() = all;
        *recv.mutable_after() = tokens.Get();
        v1::ReceiveStockResponse received;
        Check(inventory->ReceiveStock(Ctx().get(), recv, &received),
              "ReceiveStock");
        tokens.Add(received.token());
        if ((i + 1) % 10000 == 0) {
          std::fprintf(stderr, "seeded %d lots in %.1f s\n", i + 1,
                       absl::ToDoubleSeconds(absl::Now() - start));
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  // Wait until inventory has applied every release and receipt.
  auto inventory = v1::InventoryService::NewStub(Channel(inventory_target, -1));
  v1::GetLotInventoryRequest req;
  req.set_lot_id(layout.LotId(layout.lots - 1));
  *req.mutable_after() = tokens.Get();
  v1::GetLotInventoryResponse resp;
  grpc::Status s;
  do {  // the server bounds one wait; keep asking until it has caught up
    s = inventory->GetLotInventory(Ctx().get(), req, &resp);
  } while (s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
  Check(s, "GetLotInventory");
  const double secs = absl::ToDoubleSeconds(absl::Now() - start);
  std::fprintf(stderr, "seeded %s in %.1f s (%.0f lots/s, %d clients)\n",
               layout.Describe().c_str(), secs, layout.lots / secs, clients);
}

void Seed(const std::string& target, const Layout& layout, int clients) {
  Seed(target, target, layout, clients);
}

std::vector<int> IntList(const Args& a, const std::string& key,
                         const std::string& def) {
  std::vector<int> out;
  for (absl::string_view part :
       absl::StrSplit(a.Get(key, def), ',', absl::SkipEmpty())) {
    int v = 0;
    if (!absl::SimpleAtoi(part, &v) || v <= 0) {
      std::fprintf(stderr, "--%s: expected positive integers, got %s\n",
                   key.c_str(), a.Get(key, def).c_str());
      std::exit(2);
    }
    out.push_back(v);
  }
  return out;
}

}  // namespace

void ShipScenario(const Args& a) {
  const std::string backend = a.Get("backend", "embedded");
  auto host = StartHost(a, a.Get("dir", "build/bench-data") + "/ship", true,
                        {"lots", "quality", "inventory"});
  // --serials-per-line=N: a product tracked by serial, N serials a line.
  const int per_line = static_cast<int>(a.Int("serials-per-line", 0));
  Layout layout =
      Layout::Make(static_cast<int>(a.Int("lots", 1000)), 1, 50,
                   per_line > 0 ? a.Int("lot-serials", 1000) : 1'000'000'000,
                   /*unreleased_percent=*/0);
  layout.serialised = per_line > 0;
  Seed(host->target(), layout, static_cast<int>(a.Int("setup-clients", 64)));
  // The next unshipped serial of each lot (serialised runs).
  std::vector<std::atomic<int64_t>> next_serial(layout.lots);
  for (auto& n : next_serial) n = 1;
  const absl::Duration run = absl::Seconds(a.Int("seconds", 10));
  for (const int lines : IntList(a, "lines", "1,3")) {
    if (lines > layout.lots) {
      Die(absl::InvalidArgumentError("--lines: more than --lots"));
    }
    for (const int clients : IntList(a, "clients", "1,32")) {
      std::vector<Samples> samples(clients);
      std::atomic<int64_t> errors{0};
      const absl::Time start = absl::Now();
      std::vector<std::thread> threads;
      for (int t = 0; t < clients; ++t) {
        threads.emplace_back([&, t] {
          auto stub = v1::InventoryService::NewStub(Channel(host->target(), t));
          std::mt19937 rng(static_cast<uint32_t>(t * 7 + lines));
          std::uniform_int_distribution<int> pick(0, layout.lots - 1);
          while (absl::Now() - start < run) {
            v1::ShipStockRequest req;
            req.set_request_id(NewUuidV7(absl::Now()));
            req.mutable_customer()->set_customer_id(absl::StrCat("H-", t));
            req.mutable_customer()->set_name("bench hospital");
            req.mutable_customer()->set_region("DE-South");
            std::vector<int> chosen;
            while (static_cast<int>(chosen.size()) < lines) {
              const int i = pick(rng);
              if (std::find(chosen.begin(), chosen.end(), i) == chosen.end()) {
                chosen.push_back(i);
              }
            }
            bool exhausted = false;
            for (int i : chosen) {
              v1::ShipmentLine* l = req.add_lines();
              l->set_lot_id(layout.LotId(i));
              l->set_location_id(layout.Bin(i));
              l->mutable_quantity()->set_amount(per_line > 0 ? per_line : 1);
              l->mutable_quantity()->set_uom("EA");
              if (per_line > 0) {
                const int64_t from = next_serial[i].fetch_add(per_line);
                if (from + per_line - 1 > layout.lot_quantity) {
                  exhausted = true;
                  break;
                }
                // One serial each, as a scanner reads the units.
                for (int64_t n = from; n < from + per_line; ++n) {
                  l->add_serials()->set_first(Layout::Serial(i, n));
                }
              }
            }
            if (exhausted) {
              if (errors++ == 0) {
                std::fprintf(stderr,
                             "error: a lot ran out of serials; raise "
                             "--lot-serials\n");
              }
              continue;
            }
            v1::ShipStockResponse resp;
            const absl::Time t0 = absl::Now();
            grpc::Status s = stub->ShipStock(Ctx().get(), req, &resp);
            if (!s.ok()) {
              if (errors++ == 0) {
                std::fprintf(stderr, "error: %s\n", s.error_message().c_str());
              }
              continue;
            }
            samples[t].Add(absl::Now() - t0);
          }
        });
      }
      for (std::thread& th : threads) th.join();
      Samples all;
      for (Samples& s : samples) all.Merge(s);
      Report(Summarize(
          absl::StrCat(
              "ship_", lines, "line",
              per_line > 0 ? absl::StrCat("_", per_line, "serials") : ""),
          backend, clients, all, absl::Now() - start,
          absl::StrCat("gRPC ShipStock, ", lines, " line(s) of random lots of ",
                       layout.lots,
                       per_line > 0
                           ? absl::StrCat(", ", per_line,
                                          " serials per line, one by one")
                           : "",
                       ", durable; errors ", errors.load())));
    }
  }
}

void FefoScenario(const Args& a) {
  const std::string backend = a.Get("backend", "embedded");
  const Layout layout = Layout::Make(
      static_cast<int>(a.Int("lots", 100000)),
      static_cast<int>(a.Int("items", 1)),
      static_cast<int>(a.Int("locations", 50)), a.Int("lot-quantity", 1000),
      static_cast<int>(a.Int("unreleased-percent", 5)));
  if (layout.lots < 1 || layout.items.empty() || layout.bins.empty()) {
    Die(absl::InvalidArgumentError("--lots, --items, --locations: >= 1"));
  }
  const std::string dir = a.Get("dir", "build/bench-data") + "/fefo";
  const std::string marker = dir + "/seeded";
  const bool reuse_wanted = a.Int("reuse", 0) != 0 && backend == "embedded";
  bool reuse = false;
  if (reuse_wanted) {
    std::ifstream in(marker);
    std::stringstream seen;
    seen << in.rdbuf();
    reuse = seen.str() == layout.Describe();
  }
  auto host = StartHost(a, dir, !reuse, {"lots", "quality", "inventory"});
  if (reuse) {
    std::fprintf(stderr, "reusing %s in %s\n", layout.Describe().c_str(),
                 dir.c_str());
  } else {
    Seed(host->target(), layout, static_cast<int>(a.Int("setup-clients", 64)));
    std::ofstream(marker) << layout.Describe();
  }
  absl::SleepFor(absl::Seconds(a.Int("settle-seconds", 0)));

  const int clients = static_cast<int>(a.Int("clients", 1));
  const int64_t samples_n = a.Int("samples", 20000);
  auto request = [&](std::mt19937& rng) {
    v1::AllocateFefoRequest req;
    req.set_item(layout.items[rng() % layout.items.size()]);
    // About three lots' worth.
    req.mutable_quantity()->set_amount(
        1 + static_cast<int64_t>(rng() % (3 * layout.lot_quantity)));
    req.mutable_quantity()->set_uom("EA");
    if (rng() % 2 == 0) {
      req.set_from_location_id(layout.regions[rng() % layout.regions.size()]);
    }
    req.mutable_customer()->set_customer_id("H-12");
    if (rng() % 3 == 0) {
      req.mutable_customer()->set_min_remaining_shelf_life_days(365);
    }
    return req;
  };
  {  // Warm-up: caches, connections.
    auto stub = v1::InventoryService::NewStub(Channel(host->target(), 0));
    std::mt19937 rng(1);
    for (int64_t i = 0; i < a.Int("warmup", 100); ++i) {
      v1::AllocateFefoResponse resp;
      Check(stub->AllocateFefo(Ctx().get(), request(rng), &resp),
            "AllocateFefo");
    }
  }
  // Requests with a customer minimum shelf life (365 days) are reported
  // apart: the gate skips every lot expiring sooner, and FEFO reaches
  // those first.
  std::vector<Samples> plain(clients), strict(clients);
  std::atomic<int64_t> lines{0}, short_of{0};
  const absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      auto stub = v1::InventoryService::NewStub(Channel(host->target(), t));
      std::mt19937 rng(static_cast<uint32_t>(100 + t));
      for (int64_t i = t; i < samples_n; i += clients) {
        const v1::AllocateFefoRequest req = request(rng);
        v1::AllocateFefoResponse resp;
        const absl::Time t0 = absl::Now();
        grpc::Status s = stub->AllocateFefo(Ctx().get(), req, &resp);
        (req.customer().min_remaining_shelf_life_days() > 0 ? strict : plain)[t]
            .Add(absl::Now() - t0);
        Check(s, "AllocateFefo");
        lines += resp.lines_size();
        if (resp.shortfall().amount() > 0) ++short_of;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  const absl::Duration elapsed = absl::Now() - start;
  const double n = static_cast<double>(std::max<int64_t>(1, samples_n));
  const std::string what = absl::StrFormat(
      "gRPC AllocateFefo, %s; mean %.1f lines, %.1f%% short", layout.Describe(),
      lines.load() / n, 100.0 * short_of.load() / n);
  Samples all_plain, all_strict;
  for (Samples& s : plain) all_plain.Merge(s);
  for (Samples& s : strict) all_strict.Merge(s);
  Report(Summarize("fefo", backend, clients, all_plain, elapsed,
                   what + "; product minimum only"));
  Report(Summarize("fefo_min365", backend, clients, all_strict, elapsed,
                   what + "; customer minimum 365 days"));
}

// The business cycle of one client, as a warehouse and a QA desk drive
// it: CreateLot, RecordInspection, ChangeDisposition(RELEASED),
// ReceiveStock of the new lot, ShipStock of 3 lines of seeded lots,
// TransferStock of a seeded lot; each command durable before its answer.
void CommandsScenario(const Args& a) {
  const std::string backend = a.Get("backend", "embedded");
  auto host = StartHost(a, a.Get("dir", "build/bench-data") + "/commands", true,
                        {"lots", "quality", "inventory"});
  const Layout layout =
      Layout::Make(static_cast<int>(a.Int("lots", 1000)), 1, 50, 1'000'000'000,
                   /*unreleased_percent=*/0);
  Seed(host->target(), layout, static_cast<int>(a.Int("setup-clients", 64)));
  const absl::Duration run = absl::Seconds(a.Int("seconds", 10));
  constexpr int kKinds = 6;
  constexpr const char* kNames[kKinds] = {"create",  "inspect", "release",
                                          "receive", "ship3",   "transfer"};
  std::atomic<int64_t> batch{0};
  for (const int clients : IntList(a, "clients", "1,8,32,128")) {
    const int64_t run_id = batch++;
    // Per client, per command kind.
    std::vector<std::vector<Samples>> samples(clients,
                                              std::vector<Samples>(kKinds));
    std::atomic<int64_t> errors{0};
    const absl::Time start = absl::Now();
    std::vector<std::thread> threads;
    for (int t = 0; t < clients; ++t) {
      threads.emplace_back([&, t] {
        auto lots = v1::LotsService::NewStub(Channel(host->target(), t));
        auto quality = v1::QualityService::NewStub(Channel(host->target(), t));
        auto inventory =
            v1::InventoryService::NewStub(Channel(host->target(), t));
        std::mt19937 rng(static_cast<uint32_t>(t * 13 + run_id));
        std::uniform_int_distribution<int> pick(0, layout.lots - 1);
        auto timed = [&](int kind, auto&& call) -> bool {
          const absl::Time t0 = absl::Now();
          grpc::Status s = call();
          if (!s.ok()) {
            if (errors++ == 0) {
              std::fprintf(stderr, "error (%s): %s\n", kNames[kind],
                           s.error_message().c_str());
            }
            return false;
          }
          samples[t][kind].Add(absl::Now() - t0);
          return true;
        };
        const absl::CivilDay today =
            absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
        for (int i = 0; absl::Now() - start < run; ++i) {
          v1::CreateLotRequest lot;
          lot.set_request_id(NewUuidV7(absl::Now()));
          lot.set_item(layout.Item(0));
          lot.set_lot_number(absl::StrFormat(
              "C%lld-%d-%d", static_cast<long long>(run_id), t, i));
          *lot.mutable_manufactured_on() = FromCivilDay(today);
          lot.mutable_quantity()->set_amount(500);
          lot.mutable_quantity()->set_uom("EA");
          v1::CreateLotResponse created;
          if (!timed(0, [&] {
                return lots->CreateLot(Ctx().get(), lot, &created);
              }))
            continue;
          const std::string lot_id = created.lot().lot_id();
          v1::RecordInspectionRequest ins =
              PassingInspection(lot_id, created.token());
          v1::RecordInspectionResponse inspected;
          if (!timed(1, [&] {
                return quality->RecordInspection(Ctx().get(), ins, &inspected);
              }))
            continue;
          v1::ChangeDispositionRequest rel;
          rel.set_request_id(NewUuidV7(absl::Now()));
          rel.set_lot_id(lot_id);
          rel.set_to(v1::DISPOSITION_RELEASED);
          rel.mutable_signature()->set_meaning("approved for release");
          rel.mutable_signature()->set_reason("final inspection passed");
          rel.mutable_signature()->set_credential("tok-bench");
          *rel.mutable_after() = inspected.token();
          v1::ChangeDispositionResponse released;
          if (!timed(2, [&] {
                return quality->ChangeDisposition(Ctx().get(), rel, &released);
              }))
            continue;
          v1::ReceiveStockRequest recv;
          recv.set_request_id(NewUuidV7(absl::Now()));
          recv.set_lot_id(lot_id);
          recv.set_location_id(layout.Bin(i + t));
          recv.mutable_quantity()->set_amount(500);
          recv.set_source(v1::RECEIPT_SOURCE_PRODUCTION);
          *recv.mutable_after() = created.token();
          v1::ReceiveStockResponse received;
          if (!timed(3, [&] {
                return inventory->ReceiveStock(Ctx().get(), recv, &received);
              }))
            continue;
          v1::ShipStockRequest ship;
          ship.set_request_id(NewUuidV7(absl::Now()));
          ship.mutable_customer()->set_customer_id(absl::StrCat("H-", t));
          ship.mutable_customer()->set_name("bench hospital");
          ship.mutable_customer()->set_region("DE-South");
          std::vector<int> chosen;
          while (chosen.size() < 3 && layout.lots >= 3) {
            const int k = pick(rng);
            if (std::find(chosen.begin(), chosen.end(), k) == chosen.end())
              chosen.push_back(k);
          }
          for (int k : chosen) {
            v1::ShipmentLine* l = ship.add_lines();
            l->set_lot_id(layout.LotId(k));
            l->set_location_id(layout.Bin(k));
            l->mutable_quantity()->set_amount(1);
            l->mutable_quantity()->set_uom("EA");
          }
          v1::ShipStockResponse shipped;
          if (!timed(4, [&] {
                return inventory->ShipStock(Ctx().get(), ship, &shipped);
              }))
            continue;
          // A unit of a seeded lot to the next bin of its warehouse (its
          // own bin keeps ~10^9 units for the shipments).
          const int k = pick(rng);
          v1::TransferStockRequest tr;
          tr.set_request_id(NewUuidV7(absl::Now()));
          tr.set_lot_id(layout.LotId(k));
          tr.set_from_location_id(layout.Bin(k));
          tr.set_to_location_id(layout.Bin(k + 1));
          tr.mutable_quantity()->set_amount(1);
          tr.mutable_quantity()->set_uom("EA");
          tr.set_reason("replenish");
          v1::TransferStockResponse transferred;
          timed(5, [&] {
            return inventory->TransferStock(Ctx().get(), tr, &transferred);
          });
        }
      });
    }
    for (std::thread& th : threads) th.join();
    const absl::Duration elapsed = absl::Now() - start;
    Samples all;
    for (int kind = 0; kind < kKinds; ++kind) {
      Samples one;
      for (int t = 0; t < clients; ++t) one.Merge(samples[t][kind]);
      all.Merge(one);
      Report(Summarize(absl::StrCat("commands_", kNames[kind]), backend,
                       clients, one, elapsed,
                       "one step of the cycle; per_second is its share"));
    }
    Report(Summarize("commands", backend, clients, all, elapsed,
                     absl::StrCat("create, inspect, release, receive, ship "
                                  "3 lines, transfer in a cycle per client, "
                                  "durable; errors ",
                                  errors.load())));
  }
}

}  // namespace lotledger::bench

namespace lotledger::bench {

void ReplicaReadsScenario(const Args& a) {
  if (a.Get("backend", "kafka") != "kafka") {
    Die(
        absl::InvalidArgumentError("--scenario=replica_reads: replicas share a "
                                   "Kafka log (--backend=kafka)"));
  }
  Args k = a;
  k.kv["backend"] = "kafka";
  const std::string dir = a.Get("dir", "build/bench-data") + "/replica_reads";
  const std::string prefix =
      absl::StrCat("replicas", absl::ToUnixSeconds(absl::Now()), ".");
  auto shared = [&](server::ProcessConfig& c) {
    c.topic_prefix = prefix;
    c.writer_id.clear();  // each service's own name under the prefix
  };
  auto writers = StartHost(k, dir + "/lots-quality", true, {"lots", "quality"},
                           [&](server::ProcessConfig& c) {
                             shared(c);
                             c.writer_id = prefix + "lq";
                           });
  std::vector<int> counts = IntList(a, "replicas", "1,3");
  const int most = *std::max_element(counts.begin(), counts.end());
  std::vector<std::unique_ptr<ServerHost>> replicas;
  for (int r = 0; r < most; ++r) {
    replicas.push_back(StartHost(k, absl::StrCat(dir, "/inventory-", r), true,
                                 {"inventory"}, [&](server::ProcessConfig& c) {
                                   shared(c);
                                   c.writer_id = prefix + "inventory";
                                   c.writer_election = true;
                                 }));
  }
  // The writer: the replica whose lotledger.writer health is SERVING.
  std::string writer;
  for (const absl::Time give_up = absl::Now() + absl::Seconds(60);
       writer.empty() && absl::Now() < give_up;) {
    for (const auto& r : replicas) {
      auto health = grpc::health::v1::Health::NewStub(Channel(r->target(), -1));
      grpc::ClientContext ctx;
      grpc::health::v1::HealthCheckRequest req;
      req.set_service("lotledger.writer");
      grpc::health::v1::HealthCheckResponse resp;
      if (health->Check(&ctx, req, &resp).ok() &&
          resp.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
        writer = r->target();
      }
    }
    if (writer.empty()) absl::SleepFor(absl::Milliseconds(100));
  }
  if (writer.empty()) {
    Die(absl::UnavailableError("no inventory replica took the writer role"));
  }
  const Layout layout = Layout::Make(static_cast<int>(a.Int("lots", 1000)), 1,
                                     50, 1'000'000, /*unreleased_percent=*/0);
  Seed(writers->target(), writer, layout,
       static_cast<int>(a.Int("setup-clients", 32)));
  const absl::Duration run = absl::Seconds(a.Int("seconds", 10));
  for (const int clients : IntList(a, "clients", "32")) {
    for (const int count : counts) {
      std::vector<Samples> samples(clients);
      std::atomic<int64_t> errors{0};
      const absl::Time start = absl::Now();
      std::vector<std::thread> threads;
      for (int t = 0; t < clients; ++t) {
        threads.emplace_back([&, t] {
          // Client t reads from replica t mod count: the writer and the
          // standbys alike, as a Kubernetes Service spreads connections.
          auto stub = v1::InventoryService::NewStub(
              Channel(replicas[t % count]->target(), t));
          std::mt19937 rng(static_cast<uint32_t>(t));
          std::uniform_int_distribution<int> pick(0, layout.lots - 1);
          while (absl::Now() - start < run) {
            v1::GetLotInventoryRequest req;
            req.set_lot_id(layout.LotId(pick(rng)));
            v1::GetLotInventoryResponse resp;
            const absl::Time t0 = absl::Now();
            const grpc::Status s =
                stub->GetLotInventory(Ctx().get(), req, &resp);
            if (!s.ok()) {
              if (errors++ == 0) {
                std::fprintf(stderr, "error: %s\n", s.error_message().c_str());
              }
              continue;
            }
            samples[t].Add(absl::Now() - t0);
          }
        });
      }
      for (std::thread& th : threads) th.join();
      Samples all;
      for (Samples& s : samples) all.Merge(s);
      Report(Summarize(
          absl::StrCat("replica_reads_", count), "kafka", clients, all,
          absl::Now() - start,
          absl::StrCat("gRPC GetLotInventory (read barrier on) spread over ",
                       count, " inventory replica(s) of ", most,
                       " running, one of them the writer; errors ",
                       errors.load())));
    }
  }
}

}  // namespace lotledger::bench
