// The hash chain: sealing, decoding, and the verifier locating the first
// break for each kind of tampering, on records stored in a real log.
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/eventlog/embedded/embedded_event_log.h"
#include "libs/eventlog/record_codec.h"

namespace lotledger::eventlog {
namespace {

v1::Event MakeEvent(const std::string& lot, int n) {
  v1::Event e;
  e.set_event_id(absl::StrCat(lot, "/", n));
  e.set_aggregate_id(lot);
  e.set_actor("qa.li");
  e.add_lot_ids(lot);
  e.mutable_recorded_at()->set_seconds(1767225600 + n);
  auto* c = e.mutable_lot_corrected();
  c->set_lot_id(lot);
  c->set_field("expires_on");
  c->set_new_value(absl::StrCat("2027-01-", 10 + n));
  return e;
}

// Two lots with five events each, interleaved, as stored values in order.
std::vector<OutgoingRecord> CleanStream() {
  std::map<std::string, ChainHead> heads;
  std::vector<OutgoingRecord> out;
  for (int n = 0; n < 5; ++n) {
    for (const std::string lot : {"09506000134352:A17", "09506000134352:B02"}) {
      v1::Event e = MakeEvent(lot, n);
      out.push_back(ToOutgoing(e, Seal(e, heads[lot]), "test"));
    }
  }
  return out;
}

class ChainTest : public ::testing::Test {
 protected:
  // Stores `values` in a fresh single-partition topic and verifies it.
  VerifyReport StoreAndVerify(const std::vector<OutgoingRecord>& values) {
    const std::string dir = (std::filesystem::path(::testing::TempDir()) /
                             absl::StrCat("chain-", counter_++, "-", getpid()))
                                .string();
    std::filesystem::remove_all(dir);
    auto log = OpenEmbeddedEventLog({.path = dir});
    EXPECT_TRUE(log.ok()) << log.status();
    EXPECT_TRUE((*log)->EnsureTopic("t", 1).ok());
    for (const auto& v : values) EXPECT_TRUE((*log)->Append("t", {v}).ok());
    absl::StatusOr<VerifyReport> report = VerifyTopic(**log, "t");
    EXPECT_TRUE(report.ok()) << report.status();
    return report.ok() ? *report : VerifyReport{};
  }
  int counter_ = 0;
};

TEST_F(ChainTest, SealChainsSeqAndHashes) {
  ChainHead head;
  v1::Event e1 = MakeEvent("L", 1), e2 = MakeEvent("L", 2);
  v1::EventRecord r1 = Seal(e1, head);
  v1::EventRecord r2 = Seal(e2, head);
  EXPECT_EQ(r1.seq(), 1u);
  EXPECT_EQ(r1.prev_hash(), std::string(32, '\0'));
  EXPECT_EQ(r2.seq(), 2u);
  EXPECT_EQ(r2.prev_hash(), r1.hash());
  EXPECT_EQ(head.hash, r2.hash());
  absl::StatusOr<v1::EventRecord> back = DecodeRecord(r2.SerializeAsString());
  ASSERT_TRUE(back.ok()) << back.status();
  absl::StatusOr<v1::Event> ev = DecodeEvent(*back);
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev->event_id(), "L/2");
}

TEST_F(ChainTest, CarriesCloudEventsHeaders) {
  ChainHead head;
  v1::Event e = MakeEvent("L", 1);
  OutgoingRecord out = ToOutgoing(e, Seal(e, head), "lotledger/lots");
  std::map<std::string, std::string> h;
  for (const auto& [k, v] : out.headers) h[k] = v;
  EXPECT_EQ(out.key, "L");
  EXPECT_EQ(h["ce_specversion"], "1.0");
  EXPECT_EQ(h["ce_id"], "L/1");
  EXPECT_EQ(h["ce_type"], "lotledger.v1.LotCorrected");
  EXPECT_EQ(h["ce_source"], "lotledger/lots");
  EXPECT_EQ(h["ce_time"], "2026-01-01T00:00:01Z");
  EXPECT_EQ(h["content-type"], "application/protobuf");
}

TEST_F(ChainTest, CleanStreamVerifies) {
  VerifyReport r = StoreAndVerify(CleanStream());
  EXPECT_EQ(r.records, 10u);
  EXPECT_FALSE(r.first_break.has_value());
}

TEST_F(ChainTest, FlippedByteIsLocated) {
  std::vector<OutgoingRecord> s = CleanStream();
  s[6].value[s[6].value.size() / 2] ^= 0x01;
  VerifyReport r = StoreAndVerify(s);
  ASSERT_TRUE(r.first_break.has_value());
  EXPECT_EQ(r.first_break->offset, 6);
  EXPECT_EQ(r.first_break->aggregate_id, s[6].key);
}

TEST_F(ChainTest, RemovedRecordIsLocatedAtItsSuccessor) {
  std::vector<OutgoingRecord> s = CleanStream();
  s.erase(s.begin() + 4);  // A17 seq 3
  VerifyReport r = StoreAndVerify(s);
  ASSERT_TRUE(r.first_break.has_value());
  // Offset 5 now holds A17 seq 4, which follows seq 2.
  EXPECT_EQ(r.first_break->offset, 5);
  EXPECT_EQ(r.first_break->aggregate_id, "09506000134352:A17");
  EXPECT_NE(r.first_break->what.find("expected 3"), std::string::npos)
      << r.first_break->what;
}

TEST_F(ChainTest, ReorderedPairIsLocated) {
  std::vector<OutgoingRecord> s = CleanStream();
  std::swap(s[2], s[4]);  // A17 seq 2 and seq 3
  VerifyReport r = StoreAndVerify(s);
  ASSERT_TRUE(r.first_break.has_value());
  EXPECT_EQ(r.first_break->offset, 2);
}

TEST_F(ChainTest, ReplacedRecordWithValidOwnHashIsLocated) {
  std::vector<OutgoingRecord> s = CleanStream();
  // Rewrite A17 seq 2 consistently with seq 1, as a forger would: its own
  // hash is valid, but seq 3 still points at the original.
  std::map<std::string, ChainHead> heads;
  v1::Event first = MakeEvent("09506000134352:A17", 0);
  Seal(first, heads["A"]);
  v1::Event forged = MakeEvent("09506000134352:A17", 1);
  forged.mutable_lot_corrected()->set_new_value("2030-12-31");
  s[2] = ToOutgoing(forged, Seal(forged, heads["A"]), "forger");
  VerifyReport r = StoreAndVerify(s);
  ASSERT_TRUE(r.first_break.has_value());
  EXPECT_EQ(r.first_break->offset, 4);
  EXPECT_NE(r.first_break->what.find("prev_hash"), std::string::npos)
      << r.first_break->what;
}

}  // namespace
}  // namespace lotledger::eventlog
