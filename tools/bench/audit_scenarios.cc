#include "tools/bench/audit_scenarios.h"

#include <cstdio>
#include <filesystem>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/audit/log_verify.h"
#include "libs/command/command_runner.h"
#include "libs/common/ids.h"
#include "libs/common/proto_time.h"
#include "libs/common/topics.h"
#include "libs/eventlog/embedded/embedded_event_log.h"
#include "libs/eventlog/record_codec.h"
#include "lotledger/v1/audit.grpc.pb.h"

namespace lotledger::bench {
namespace {

using topics::kInventory;
using topics::kLots;
using topics::kQuality;
constexpr int kEventsPerLot = 20;

std::string LotId(int64_t i) { return absl::StrCat("09506000134352:B", i); }

// Appends sealed events in batches per topic, tracking end offsets.
class Writer {
 public:
  explicit Writer(eventlog::EventLog& log) : log_(log) {}

  void Add(const std::string& topic, v1::Event e, absl::Time when) {
    e.set_event_id(NewUuidV7(when));
    e.set_actor("bench.generator");
    e.set_request_id(e.event_id());
    ToTimestamp(when, e.mutable_occurred_at());
    ToTimestamp(when, e.mutable_recorded_at());
    e.add_lot_ids(e.aggregate_id());
    eventlog::ChainHead& head = heads_[{topic, e.aggregate_id()}];
    auto& batch = batches_[topic];
    batch.push_back(eventlog::ToOutgoing(e, eventlog::Seal(e, head), "bench"));
    if (batch.size() >= 2000) Flush(topic);
  }
  void FlushAll() {
    for (auto& [topic, batch] : batches_) Flush(topic);
  }
  eventlog::Offsets end;

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

// The k-th event (0..19) of lot i.
void AddEvent(Writer& w, int64_t i, int k, absl::Time when) {
  v1::Event e;
  const std::string lot = LotId(i);
  e.set_aggregate_id(lot);
  if (k == 0) {
    v1::LotCreated* c = e.mutable_lot_created();
    c->set_lot_id(lot);
    c->set_item("09506000134352");
    c->set_lot_number(absl::StrCat("B", i));
    c->mutable_manufactured_on()->set_year(2026);
    c->mutable_manufactured_on()->set_month(3);
    c->mutable_manufactured_on()->set_day(2);
    c->mutable_expires_on()->set_year(2028);
    c->mutable_expires_on()->set_month(3);
    c->mutable_expires_on()->set_day(1);
    c->mutable_quantity()->set_amount(1000);
    c->mutable_quantity()->set_uom("EA");
    c->set_site("Galway");
    w.Add(kLots, std::move(e), when);
  } else if (k == 1) {
    v1::DispositionChanged* d = e.mutable_disposition_changed();
    d->set_lot_id(lot);
    d->set_to(v1::DISPOSITION_RELEASED);
    d->mutable_signature()->set_signer("qa.approver");
    d->mutable_signature()->set_meaning("approved for release");
    w.Add(kQuality, std::move(e), when);
  } else if (k == 2) {
    v1::StockReceived* r = e.mutable_stock_received();
    r->set_lot_id(lot);
    r->set_location_id("FRA-WH1-B07");
    r->mutable_quantity()->set_amount(1000);
    r->mutable_quantity()->set_uom("EA");
    w.Add(kInventory, std::move(e), when);
  } else {
    v1::StockTransferred* t = e.mutable_stock_transferred();
    t->set_lot_id(lot);
    t->set_from_location_id(k % 2 == 0 ? "FRA-WH1-B07" : "FRA-WH1-B08");
    t->set_to_location_id(k % 2 == 0 ? "FRA-WH1-B08" : "FRA-WH1-B07");
    t->mutable_quantity()->set_amount(10);
    t->mutable_quantity()->set_uom("EA");
    w.Add(kInventory, std::move(e), when);
  }
}

}  // namespace

void AuditScenario(const Args& a) {
  const std::string dir = a.Get("dir", "build/bench-data") + "/audit";
  const int64_t events = a.Int("events", 10000000);
  const int64_t lots = std::max<int64_t>(1, events / kEventsPerLot);
  const int samples = static_cast<int>(a.Int("samples", 200));
  const int32_t partitions = static_cast<int32_t>(a.Int("partitions", 3));
  eventlog::Offsets end;
  {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    auto log =
        eventlog::OpenEmbeddedEventLog({.path = dir + "/log", .sync = false});
    if (!log.ok()) Die(log.status());
    for (const char* t : {kLots, kQuality, kInventory, topics::kRecall}) {
      if (auto s = (*log)->EnsureTopic(t, partitions); !s.ok()) Die(s);
    }
    Writer w(**log);
    const absl::Time t0 = absl::Now();
    // Lots in waves of 1000: each lot's 20 events spread over the wave, so
    // one lot's records are far apart in the log, as in production.
    const int64_t wave = 1000;
    absl::Time when = absl::FromUnixSeconds(1772438400);  // 2026-03-02
    for (int64_t first = 0; first < lots; first += wave) {
      const int64_t last = std::min(lots, first + wave);
      for (int k = 0; k < kEventsPerLot; ++k) {
        for (int64_t i = first; i < last; ++i) {
          when += absl::Milliseconds(1);
          AddEvent(w, i, k, when);
        }
      }
    }
    w.FlushAll();
    end = w.end;
    std::fprintf(stderr, "generated %lld events (%lld lots) in %.1f s\n",
                 static_cast<long long>(lots * kEventsPerLot),
                 static_cast<long long>(lots),
                 absl::ToDoubleSeconds(absl::Now() - t0));
  }
  const absl::Time replay_start = absl::Now();
  auto host = StartHost(a, dir, false, {"audit"});
  auto stub = v1::AuditService::NewStub(Channel(host->target(), 0));
  {
    v1::AsOfRequest req;
    req.set_lot_id(LotId(0));
    ToTimestamp(absl::Now(), req.mutable_at());
    *req.mutable_after() = command::ToToken(end);
    v1::AsOfResponse resp;
    grpc::Status s;
    do {  // the server bounds one wait; ask until it has caught up
      s = stub->AsOf(Ctx().get(), req, &resp);
    } while (s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
    if (!s.ok()) Die(absl::InternalError(s.error_message()));
  }
  Result index;
  index.scenario = "audit_index";
  index.backend = "embedded";
  index.operations = static_cast<uint64_t>(lots * kEventsPerLot);
  index.seconds = absl::ToDoubleSeconds(absl::Now() - replay_start);
  index.note = "audit projector indexing every topic, incl. start-up";
  Report(index);

  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> pick(0, lots - 1);
  Samples history, as_of;
  uint64_t streamed = 0;
  const absl::Time h0 = absl::Now();
  for (int i = 0; i < samples; ++i) {
    v1::LotHistoryRequest req;
    req.set_lot_id(LotId(pick(rng)));
    const absl::Time start = absl::Now();
    auto ctx = Ctx();
    auto reader = stub->LotHistory(ctx.get(), req);
    v1::HistoryEntry e;
    while (reader->Read(&e)) ++streamed;
    grpc::Status s = reader->Finish();
    if (!s.ok()) Die(absl::InternalError(s.error_message()));
    history.Add(absl::Now() - start);
  }
  Result hr =
      Summarize("audit_history", "embedded", 1, history, absl::Now() - h0);
  hr.note = absl::StrCat("one lot's history (", streamed / samples,
                         " events) out of ", lots * kEventsPerLot);
  Report(hr);

  const absl::Time a0 = absl::Now();
  for (int i = 0; i < samples; ++i) {
    v1::AsOfRequest req;
    req.set_lot_id(LotId(pick(rng)));
    req.set_axis(v1::TIME_AXIS_RECORD);
    ToTimestamp(absl::FromUnixSeconds(1772438400) + absl::Hours(1),
                req.mutable_at());
    v1::AsOfResponse resp;
    const absl::Time start = absl::Now();
    grpc::Status s = stub->AsOf(Ctx().get(), req, &resp);
    if (!s.ok()) Die(absl::InternalError(s.error_message()));
    as_of.Add(absl::Now() - start);
  }
  Result ar = Summarize("audit_as_of", "embedded", 1, as_of, absl::Now() - a0);
  ar.note = "one lot's state at a time, record-time axis";
  Report(ar);
  host->Shutdown();
  host.reset();

  auto log = eventlog::OpenEmbeddedEventLog({.path = dir + "/log"});
  if (!log.ok()) Die(log.status());
  const absl::Time v0 = absl::Now();
  absl::StatusOr<audit::LogVerification> v =
      audit::VerifyLog(**log, "", audit::VerifyOptions{});
  if (!v.ok()) Die(v.status());
  if (!v->ok()) Die(absl::DataLossError("the generated log does not verify"));
  Result vr;
  vr.scenario = "audit_verify";
  vr.backend = "embedded";
  vr.operations = v->records();
  vr.seconds = absl::ToDoubleSeconds(absl::Now() - v0);
  vr.note = "offline verify of every topic (lotctl audit verify)";
  Report(vr);
}

}  // namespace lotledger::bench
