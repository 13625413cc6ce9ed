// AuditService.GetLotHistory: a lot's history in pages, on both shapes
// (every service in one process on the embedded log, and each service its
// own process on Kafka). The pages together are the stream's answer, in
// its order; a token names the last entry sent, so an event recorded
// between two pages comes once, at its place; bad page sizes and tokens
// are refused naming the field. No consistency token is passed: the audit
// service's read barrier is what makes it see the facts just written.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "gtest/gtest.h"
#include "libs/domain/lots/dates.h"
#include "lotledger/v1/audit.grpc.pb.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "tests/support/stack.h"
#include "tests/support/two_shapes.h"

namespace lotledger::testing {
namespace {

constexpr char kDevice[] = "09506000134352";
constexpr char kComponent[] = "C-200";
constexpr char kLot[] = "09506000134352:P1";
constexpr char kComponentLot[] = "C-200:K9";

// An entry's identity: the record it shows and the lot it was found for.
std::string Id(const v1::HistoryEntry& e) {
  return absl::StrCat(e.topic(), "/", e.partition(), "@", e.offset(), " ",
                      e.lot_id(), " ", e.event_type());
}

class AuditPagesTest : public TwoShapesTest {
 protected:
  void Product(const std::string& item, v1::ItemKind kind) {
    v1::DefineProductRequest req;
    req.set_request_id(NewRequestId());
    req.mutable_product()->set_item(item);
    req.mutable_product()->set_name(item + " product");
    req.mutable_product()->set_uom("EA");
    req.mutable_product()->set_kind(kind);
    req.mutable_product()->mutable_policy()->set_shelf_life_days(730);
    v1::DefineProductResponse resp;
    grpc::Status s = lots_->DefineProduct(Ctx("admin").get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  void Lot(const std::string& item, const std::string& number,
           const std::string& input) {
    v1::CreateLotRequest req;
    req.set_request_id(NewRequestId());
    req.set_item(item);
    req.set_lot_number(number);
    *req.mutable_manufactured_on() =
        lots::FromCivilDay(absl::CivilDay(2026, 3, 2));
    req.mutable_quantity()->set_amount(100);
    req.mutable_quantity()->set_uom("EA");
    req.set_site("Galway");
    if (!input.empty()) {
      v1::LotInput* in = req.add_inputs();
      in->set_lot_id(input);
      in->mutable_quantity()->set_amount(10);
      in->mutable_quantity()->set_uom("EA");
    }
    v1::CreateLotResponse resp;
    grpc::Status s = lots_->CreateLot(Ctx("operator").get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  void CorrectExpiry(int day) {
    v1::CorrectLotRequest req;
    req.set_request_id(NewRequestId());
    req.set_lot_id(kLot);
    req.set_field("expires_on");
    req.set_new_value(absl::StrCat("2028-01-", day < 10 ? "0" : "", day));
    req.set_reason("label printed with the wrong expiry");
    v1::CorrectLotResponse resp;
    grpc::Status s = lots_->CorrectLot(Ctx("approver").get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // A component lot, a device lot made from it, and four corrections of
  // the device lot's expiry: six records, five of them the device lot's.
  void Scenario() {
    Product(kDevice, v1::ITEM_KIND_FINISHED_DEVICE);
    Product(kComponent, v1::ITEM_KIND_COMPONENT);
    Lot(kComponent, "K9", "");
    Lot(kDevice, "P1", kComponentLot);
    for (int day = 20; day < 24; ++day) CorrectExpiry(day);
  }

  v1::LotHistoryRequest Request() const {
    v1::LotHistoryRequest req;
    req.set_lot_id(kLot);
    req.set_include_components(true);
    return req;
  }

  std::vector<std::string> Stream() {
    auto ctx = Ctx("auditor");
    auto reader = audit_->LotHistory(ctx.get(), Request());
    std::vector<std::string> out;
    v1::HistoryEntry e;
    while (reader->Read(&e)) out.push_back(Id(e));
    grpc::Status s = reader->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  grpc::Status Page(int size, const std::string& token,
                    v1::GetLotHistoryResponse* resp) {
    v1::GetLotHistoryRequest req;
    *req.mutable_history() = Request();
    req.set_page_size(size);
    req.set_page_token(token);
    return audit_->GetLotHistory(Ctx("auditor").get(), req, resp);
  }
};

TEST_P(AuditPagesTest, PagesAreTheStreamInOrderAndNothingComesTwice) {
  ASSERT_NO_FATAL_FAILURE(Scenario());
  const std::vector<std::string> stream = Stream();
  ASSERT_EQ(stream.size(), 6u);
  EXPECT_NE(stream.front().find(kComponentLot), std::string::npos)
      << stream.front();

  // One page holds the whole history when it fits.
  v1::GetLotHistoryResponse all;
  grpc::Status s = Page(0, "", &all);
  ASSERT_TRUE(s.ok()) << s.error_message();
  std::vector<std::string> whole;
  for (const auto& e : all.entries()) whole.push_back(Id(e));
  EXPECT_EQ(whole, stream);
  EXPECT_TRUE(all.next_page_token().empty());
  // The same entry as the stream gives, event and description included.
  EXPECT_EQ(all.entries(1).event().lot_created().lot_id(), kLot);
  EXPECT_FALSE(all.entries(1).description().empty());
  EXPECT_EQ(all.entries(1).hash().size(), 32u);

  // Pages of four: the first, then a correction recorded between the two
  // calls, then the rest, which ends with that correction.
  v1::GetLotHistoryResponse first;
  s = Page(4, "", &first);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(first.entries_size(), 4);
  ASSERT_FALSE(first.next_page_token().empty());
  ASSERT_NO_FATAL_FAILURE(CorrectExpiry(24));
  std::vector<std::string> paged;
  for (const auto& e : first.entries()) paged.push_back(Id(e));
  std::string token = first.next_page_token();
  int pages = 1;
  while (!token.empty()) {
    v1::GetLotHistoryResponse next;
    s = Page(4, token, &next);
    ASSERT_TRUE(s.ok()) << s.error_message();
    for (const auto& e : next.entries()) paged.push_back(Id(e));
    token = next.next_page_token();
    ASSERT_LT(++pages, 10) << "the pages do not end";
  }
  EXPECT_EQ(pages, 2);
  const std::vector<std::string> after = Stream();
  ASSERT_EQ(after.size(), 7u);
  EXPECT_EQ(paged, after);
}

TEST_P(AuditPagesTest, RefusesBadPagesNamingTheField) {
  ASSERT_NO_FATAL_FAILURE(Scenario());
  v1::GetLotHistoryResponse resp;
  grpc::Status s = Page(1001, "", &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(),
            "page_size: must be 0..1000 (0 means 200), got 1001");
  s = Page(-1, "", &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  s = Page(2, "not-a-token", &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("page_token: not a token GetLotHistory "
                                   "gave"),
            std::string::npos)
      << s.error_message();
  v1::GetLotHistoryRequest unknown;
  unknown.mutable_history()->set_lot_id("09506000134352:NOPE");
  s = audit_->GetLotHistory(Ctx("auditor").get(), unknown, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  // The reading roles only.
  s = Page(2, "", &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::GetLotHistoryRequest req;
  *req.mutable_history() = Request();
  grpc::ClientContext anonymous;
  s = audit_->GetLotHistory(&anonymous, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

INSTANTIATE_TEST_SUITE_P(Shapes, AuditPagesTest,
                         ::testing::Values(Shape::kEmbedded,
                                           Shape::kKafkaProcesses),
                         ShapeName);

}  // namespace
}  // namespace lotledger::testing
