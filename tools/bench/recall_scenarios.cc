#include "tools/bench/recall_scenarios.h"

#include <cstdio>
#include <filesystem>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "libs/command/command_runner.h"
#include "libs/command/projector.h"
#include "libs/common/ids.h"
#include "libs/common/topics.h"
#include "libs/eventlog/embedded/embedded_event_log.h"
#include "libs/eventlog/record_codec.h"
#include "libs/projection/projection_store.h"
#include "lotledger/v1/recall.grpc.pb.h"
#include "lotledger/v1/recall_domain.pb.h"
#include "services/recall/recall_index.h"
#include "services/recall/recall_projection.h"
#include "tools/bench/genealogy.h"

namespace lotledger::bench {
namespace {

constexpr const char* kLotsTopic = topics::kLots;
constexpr const char* kInventoryTopic = topics::kInventory;
constexpr const char* kItems[] = {"RM-RESIN", "CMP-TUBE", "SUB-VALVE",
                                  "ASM-KIT", "09506000134352"};

// Appends sealed events in batches, tracking each topic's end offsets.
class Writer {
 public:
  explicit Writer(eventlog::EventLog& log) : log_(log) {}

  void Add(const std::string& topic, v1::Event e) {
    const absl::Time now = absl::Now();
    e.set_event_id(NewUuidV7(now));
    e.set_actor("bench.generator");
    e.set_request_id(e.event_id());
    e.mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(now));
    e.mutable_recorded_at()->set_seconds(absl::ToUnixSeconds(now));
    eventlog::ChainHead& head = heads_[{topic, e.aggregate_id()}];
    auto& batch = batches_[topic];
    batch.push_back(eventlog::ToOutgoing(e, eventlog::Seal(e, head), "bench"));
    ++events;
    if (batch.size() >= 1000) Flush(topic);
  }

  void FlushAll() {
    for (auto& [topic, batch] : batches_) Flush(topic);
  }

  eventlog::Offsets end;
  uint64_t events = 0;

 private:
  void Flush(const std::string& topic) {
    auto& batch = batches_[topic];
    if (batch.empty()) return;
    absl::StatusOr<std::vector<eventlog::Position>> pos =
        log_.Append(topic, std::move(batch));
    batch.clear();
    if (!pos.ok()) Die(pos.status());
    for (const eventlog::Position& p : *pos) {
      int64_t& e = end[{topic, p.partition}];
      e = std::max(e, p.offset + 1);
    }
  }

  eventlog::EventLog& log_;
  std::map<std::pair<std::string, std::string>, eventlog::ChainHead> heads_;
  std::map<std::string, std::vector<eventlog::OutgoingRecord>> batches_;
};

v1::Event LotCreated(int level, const std::string& number,
                     const std::vector<std::string>& inputs) {
  const std::string id = MakeLotId(kItems[level], number);
  v1::Event e;
  e.set_aggregate_id(id);
  e.add_lot_ids(id);
  v1::LotCreated* c = e.mutable_lot_created();
  c->set_lot_id(id);
  c->set_item(kItems[level]);
  c->set_lot_number(number);
  c->mutable_manufactured_on()->set_year(2026);
  c->mutable_manufactured_on()->set_month(4);
  c->mutable_manufactured_on()->set_day(1);
  *c->mutable_expires_on() = c->manufactured_on();
  c->mutable_expires_on()->set_year(2029);
  c->set_expiry_source(v1::EXPIRY_SOURCE_SHELF_LIFE);
  c->mutable_quantity()->set_amount(1000);
  c->mutable_quantity()->set_uom("EA");
  for (const std::string& in : inputs) {
    v1::LotInput* li = c->add_inputs();
    li->set_lot_id(in);
    li->mutable_quantity()->set_amount(1);
    li->mutable_quantity()->set_uom("EA");
    e.add_lot_ids(in);
  }
  return e;
}

}  // namespace

void RecallDrillScenario(const Args& a) {
  const std::string dir = a.Get("dir", "build/bench-data") + "/recall_drill";
  const int64_t lots = a.Int("lots", 1000000);
  const int64_t scope_lots = a.Int("scope-lots", 16000);
  const int64_t customers = a.Int("customers", 2000);
  const int64_t per_lot = a.Int("shipments-per-lot", 2);
  const int samples_n = static_cast<int>(a.Int("samples", 20));
  // The recalled tree's levels, as shares of --scope-lots.
  const double shares[] = {0, 500.0 / 16000, 1500.0 / 16000, 4000.0 / 16000,
                           10000.0 / 16000};
  const std::string root = MakeLotId(kItems[0], "RECALL-R1");
  eventlog::Offsets end;
  uint64_t events = 0;
  int64_t finished = 0;
  const bool reuse = a.Get("reuse", "0") == "1" &&
                     std::filesystem::exists(dir + "/projections/recall");
  if (reuse) {
    finished = static_cast<int64_t>(scope_lots * shares[4]);
  } else {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    auto log =
        eventlog::OpenEmbeddedEventLog({.path = dir + "/log", .sync = false});
    if (!log.ok()) Die(log.status());
    for (const char* t : {kLotsTopic, kInventoryTopic, topics::kRecall}) {
      if (auto s = (*log)->EnsureTopic(t, 3); !s.ok()) Die(s);
    }
    const absl::Time t0 = absl::Now();
    auto g = WriteGenealogy(**log, kLotsTopic,
                            std::max<int64_t>(5, lots - scope_lots - 1), 42);
    if (!g.ok()) Die(g.status());
    end = g->end;
    events = g->events;
    Writer w(**log);
    std::mt19937_64 rng(4242);
    std::vector<std::vector<std::string>> tree(5);
    w.Add(kLotsTopic, LotCreated(0, "RECALL-R1", {}));
    tree[0].push_back(root);
    for (int level = 1; level < 5; ++level) {
      const int64_t n = std::max<int64_t>(
          1, static_cast<int64_t>(scope_lots * shares[level]));
      const auto& below = tree[level - 1];
      const auto& other = g->lot_ids[level - 1];
      std::uniform_int_distribution<size_t> pick_below(0, below.size() - 1);
      std::uniform_int_distribution<size_t> pick_other(0, other.size() - 1);
      for (int64_t i = 0; i < n; ++i) {
        // Round-robin first, so every lot of the level below is used.
        const std::string& in =
            below[i < static_cast<int64_t>(below.size()) ? i : pick_below(rng)];
        const std::string number = absl::StrFormat("RC%d-%06d", level, i);
        w.Add(kLotsTopic,
              LotCreated(level, number, {in, other[pick_other(rng)]}));
        tree[level].push_back(MakeLotId(kItems[level], number));
      }
    }
    // Finished devices: received, then shipped to customers.
    finished = static_cast<int64_t>(tree[4].size());
    int64_t next_customer = 0;
    for (const std::string& lot : tree[4]) {
      v1::Event r;
      r.set_aggregate_id(lot);
      r.add_lot_ids(lot);
      v1::StockReceived* rec = r.mutable_stock_received();
      rec->set_lot_id(lot);
      rec->set_location_id("WH1");
      rec->mutable_quantity()->set_amount(100);
      rec->mutable_quantity()->set_uom("EA");
      rec->set_source(v1::RECEIPT_SOURCE_PRODUCTION);
      w.Add(kInventoryTopic, r);
      for (int64_t j = 0; j < per_lot; ++j) {
        const int64_t c = next_customer++ % customers;
        v1::Event s;
        s.set_aggregate_id(lot);
        s.add_lot_ids(lot);
        v1::StockShipped* sh = s.mutable_stock_shipped();
        sh->set_shipment_id(absl::StrCat("SHP-", lot, "-", j));
        sh->set_line_count(1);
        sh->set_lot_id(lot);
        sh->set_from_location_id("WH1");
        sh->mutable_quantity()->set_amount(10);
        sh->mutable_quantity()->set_uom("EA");
        sh->mutable_customer()->set_customer_id(absl::StrFormat("H-%05d", c));
        sh->mutable_customer()->set_name(absl::StrFormat("Hospital %05d", c));
        sh->mutable_customer()->set_region(absl::StrCat("R", c % 16));
        sh->mutable_ship_date()->set_year(2026);
        sh->mutable_ship_date()->set_month(5);
        sh->mutable_ship_date()->set_day(1);
        w.Add(kInventoryTopic, s);
      }
    }
    w.FlushAll();
    for (const auto& [tp, offset] : w.end) {
      int64_t& e = end[tp];
      e = std::max(e, offset);
    }
    events += w.events;
    std::fprintf(stderr, "generated %llu events in %.1f s\n",
                 static_cast<unsigned long long>(events),
                 absl::ToDoubleSeconds(absl::Now() - t0));
  }
  const absl::Time replay_start = absl::Now();
  auto host = StartHost(a, dir, false, {"recall"});
  // A 16,000-lot recall's full impact (AnalyzeImpact, Initiate) is ~5 MB,
  // over gRPC's default 4 MB receive limit.
  grpc::ChannelArguments channel_args;
  channel_args.SetMaxReceiveMessageSize(-1);
  auto stub = v1::RecallService::NewStub(grpc::CreateCustomChannel(
      host->target(), grpc::InsecureChannelCredentials(), channel_args));
  {
    v1::ListRecallsRequest req;
    *req.mutable_after() = command::ToToken(end);
    v1::ListRecallsResponse resp;
    grpc::Status s;
    do {  // the server bounds one wait; ask until it has caught up
      s = stub->ListRecalls(Ctx().get(), req, &resp);
    } while (s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
    if (!s.ok()) Die(absl::InternalError(s.error_message()));
  }
  Result replay;
  replay.scenario = "recall_replay";
  replay.backend = "embedded";
  replay.operations = events;
  replay.seconds = absl::ToDoubleSeconds(absl::Now() - replay_start);
  replay.note = "recall projector replay of lots and inventory, incl. start-up";
  Report(replay);
  absl::SleepFor(absl::Seconds(a.Int("settle-seconds", 0)));

  Samples server, cpu, client;
  v1::RunDrillResponse last;
  const absl::Time start = absl::Now();
  for (int i = 0; i < samples_n; ++i) {
    v1::RunDrillRequest req;
    req.set_request_id(NewUuidV7(absl::Now()));
    req.mutable_criteria()->add_lot_ids(root);
    req.mutable_criteria()->set_include_derived(true);
    req.set_notes("bench drill");
    req.set_totals_only(true);  // computed in full; only totals sent back
    v1::RunDrillResponse resp;
    const absl::Time t0 = absl::Now();
    grpc::Status s = stub->RunDrill(Ctx().get(), req, &resp);
    client.Add(absl::Now() - t0);
    if (!s.ok()) Die(absl::InternalError(s.error_message()));
    server.Add(absl::Microseconds(resp.elapsed_us()));
    cpu.Add(absl::Microseconds(resp.cpu_us()));
    last = resp;
  }
  const absl::Duration took = absl::Now() - start;
  const v1::RecallImpact& im = last.impact();
  if (im.lots_in_scope() < scope_lots || im.customers_affected() == 0) {
    Die(absl::InternalError(absl::StrCat("drill found ", im.lots_in_scope(),
                                         " lots and ", im.customers_affected(),
                                         " customers; expected at least ",
                                         scope_lots, " lots")));
  }
  const std::string what = absl::StrCat(
      im.lots_in_scope(), " lots in scope (", finished, " finished), ",
      im.customers_affected(), " customers, ", im.distributed(),
      " units distributed, in a ", lots, "-lot genealogy");
  Report(Summarize("recall_drill_impact", "embedded", 1, server, took,
                   "service-side scope + full impact: " + what));
  Report(Summarize("recall_drill_impact_cpu", "embedded", 1, cpu, took,
                   "CPU time of the same computation (the service thread's)"));
  Report(Summarize("recall_drill_rpc", "embedded", 1, client, took,
                   "RunDrill round trip incl. writing the drill's events"));

  // AnalyzeImpact of a recall of the same lot (initiated once; a --reuse=1
  // run finds it): the recorded scope's full impact, every lot and
  // customer line sent back.
  const std::string recall_id = "RCL-BENCH-IMPACT";
  {
    v1::GetRecallRequest get;
    get.set_recall_id(recall_id);
    v1::GetRecallResponse got;
    grpc::Status s = stub->GetRecall(Ctx().get(), get, &got);
    if (s.error_code() == grpc::StatusCode::NOT_FOUND) {
      v1::InitiateRequest req;
      req.set_request_id("bench-recall-impact");
      req.set_recall_id(recall_id);
      req.set_classification(v1::RECALL_CLASS_II);
      req.set_title("bench: resin contamination");
      req.set_reason("bench recall of every lot made from one resin lot");
      req.set_health_hazard("none: a benchmark");
      req.mutable_criteria()->add_lot_ids(root);
      req.mutable_criteria()->set_include_derived(true);
      req.mutable_signature()->set_credential("tok-bench");
      v1::InitiateResponse resp;
      s = stub->Initiate(Ctx().get(), req, &resp);
    }
    if (!s.ok()) Die(absl::InternalError(s.error_message()));
  }
  Samples impact_rtt;
  size_t impact_bytes = 0;
  int64_t impact_lots = 0;
  const absl::Time impact_start = absl::Now();
  for (int i = 0; i < samples_n; ++i) {
    v1::AnalyzeImpactRequest req;
    req.set_recall_id(recall_id);
    v1::AnalyzeImpactResponse resp;
    const absl::Time t0 = absl::Now();
    grpc::Status s = stub->AnalyzeImpact(Ctx().get(), req, &resp);
    impact_rtt.Add(absl::Now() - t0);
    if (!s.ok()) Die(absl::InternalError(s.error_message()));
    impact_bytes = resp.ByteSizeLong();
    impact_lots = resp.impact().lots_in_scope();
  }
  Report(Summarize(
      "recall_impact_rpc", "embedded", 1, impact_rtt,
      absl::Now() - impact_start,
      absl::StrFormat("AnalyzeImpact round trip of a recall of %d lots: the "
                      "recorded scope read, its full impact (%.1f MB) sent",
                      impact_lots, impact_bytes / 1e6)));
  // The same recall asked for less (AnalyzeImpactRequest.view): the
  // summary (totals and per-customer totals, no per-lot detail built),
  // then the first page of the lot rows and of the customers' lines.
  v1::AnalyzeImpactResponse full;
  {
    v1::AnalyzeImpactRequest req;
    req.set_recall_id(recall_id);
    grpc::Status s = stub->AnalyzeImpact(Ctx().get(), req, &full);
    if (!s.ok()) Die(absl::InternalError(s.error_message()));
  }
  const struct {
    const char* scenario;
    v1::ImpactView view;
    int32_t page_size;
    const char* what;
  } views[] = {
      {"recall_impact_summary_rpc", v1::IMPACT_VIEW_SUMMARY, 0,
       "view SUMMARY: totals and every customer's totals, no lot rows"},
      {"recall_impact_lots_page_rpc", v1::IMPACT_VIEW_LOTS, 1000,
       "view LOTS, first page of 1,000 lot rows"},
      {"recall_impact_customers_page_rpc", v1::IMPACT_VIEW_CUSTOMERS, 100,
       "view CUSTOMERS, first page of 100 customers with their lines"},
  };
  for (const auto& v : views) {
    Samples rtt;
    size_t bytes = 0;
    const absl::Time view_start = absl::Now();
    for (int i = 0; i < samples_n; ++i) {
      v1::AnalyzeImpactRequest req;
      req.set_recall_id(recall_id);
      req.set_view(v.view);
      req.set_page_size(v.page_size);
      v1::AnalyzeImpactResponse resp;
      const absl::Time t0 = absl::Now();
      grpc::Status s = stub->AnalyzeImpact(Ctx().get(), req, &resp);
      rtt.Add(absl::Now() - t0);
      if (!s.ok()) Die(absl::InternalError(s.error_message()));
      bytes = resp.ByteSizeLong();
      const v1::RecallImpact& a = resp.impact();
      const v1::RecallImpact& b = full.impact();
      if (a.distributed() != b.distributed() ||
          a.customers_affected() != b.customers_affected() ||
          a.lots_in_scope() != b.lots_in_scope() ||
          a.on_hand() != b.on_hand()) {
        Die(absl::InternalError(absl::StrCat(
            v.scenario, ": totals differ from the full answer's")));
      }
    }
    Report(Summarize(
        v.scenario, "embedded", 1, rtt, absl::Now() - view_start,
        absl::StrFormat("AnalyzeImpact round trip, %s (%.1f kB), of the "
                        "same %d-lot recall",
                        v.what, bytes / 1e3, impact_lots)));
  }
  host->Shutdown();
  host.reset();

  // The recall index the service answers from (services/recall/
  // recall_index.h): loaded from the projection as a restart loads it,
  // once the host has closed it; its size; the same drill's scope and
  // impact computed by it in this process (no gRPC, no command).
  auto store = projection::ProjectionStore::Open(
      {.path = dir + "/projections/recall",
       .column_families =
           command::ProjectorColumnFamilies(recall::RecallColumnFamilies())});
  if (!store.ok()) Die(store.status());
  recall::RecallIndex index;
  const absl::Time load_start = absl::Now();
  if (absl::Status s = index.Load(**store); !s.ok()) Die(s);
  const absl::Duration load = absl::Now() - load_start;
  const recall::RecallIndex::Stats stats = index.stats();
  Result li;
  li.scenario = "recall_index_load";
  li.backend = "embedded";
  li.operations = stats.lots;
  li.seconds = absl::ToDoubleSeconds(load);
  li.note = absl::StrFormat(
      "recall index loaded from the projection: %d lots, %d forward edges, "
      "%d lots distributed, %d holdings, %d customers, %.1f MiB, %.0f bytes "
      "per lot",
      stats.lots, stats.forward_edges, stats.distributed_lots, stats.holdings,
      stats.customers, stats.bytes / 1048576.0,
      stats.bytes / std::max<double>(1, static_cast<double>(stats.lots)));
  li.extra = absl::StrFormat("\"index_bytes\":%d", stats.bytes);
  Report(li);
  Samples in_process;
  v1::RecallCriteria criteria;
  criteria.add_lot_ids(root);
  criteria.set_include_derived(true);
  const absl::Time index_start = absl::Now();
  for (int i = 0; i < samples_n; ++i) {
    google::protobuf::Arena arena;
    auto* state =
        google::protobuf::Arena::CreateMessage<v1::RecallDecisionState>(&arena);
    const absl::Time t0 = absl::Now();
    absl::Status s = index.ScopeAndImpact(criteria, state->mutable_scope(),
                                          state->mutable_impact());
    in_process.Add(absl::Now() - t0);
    if (!s.ok()) Die(s);
  }
  Report(Summarize("recall_impact_index", "embedded", 1, in_process,
                   absl::Now() - index_start,
                   "the drill's scope + full impact by RecallIndex in "
                   "process (no gRPC, no command)"));
  // The summary view as AnalyzeImpact computes it, in process: the
  // recorded scope's lot ids read from its stored bytes, then the totals
  // and per-customer totals by the index.
  const recall::RecallQueries queries(store->get());
  Samples summary_in_process;
  const absl::Time summary_start = absl::Now();
  for (int i = 0; i < samples_n; ++i) {
    const absl::Time t0 = absl::Now();
    recall::StoredScope scope;
    if (absl::Status s = queries.ReadScope(recall_id, &scope); !s.ok()) Die(s);
    recall::ImpactSlice slice;
    slice.view = v1::IMPACT_VIEW_SUMMARY;
    recall::ImpactNext next;
    v1::RecallImpact summary;
    index.Impact(scope, slice, &summary, &next);
    summary_in_process.Add(absl::Now() - t0);
  }
  Report(Summarize("recall_impact_summary_index", "embedded", 1,
                   summary_in_process, absl::Now() - summary_start,
                   "the recall's summary view by RecallIndex in process "
                   "(recorded scope read unparsed; no gRPC)"));
}

}  // namespace lotledger::bench
