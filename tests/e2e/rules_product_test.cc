// Product master data (issue 14): once a product has lots, DefineProduct
// may not change its unit of measure or its kind (the lots were counted in
// that unit and made as that kind); every other attribute may change, and
// a product without lots may change anything. Over real gRPC on the
// embedded log and on Kafka.
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "tests/support/stack.h"

namespace lotledger::testing {
namespace {

class RulesProductTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    stack_ = TestStack::Start(GetParam(), {"lots"});
    ASSERT_NE(stack_, nullptr);
    lots_ = v1::LotsService::NewStub(stack_->channel());
  }

  grpc::Status Define(const std::string& item, const std::string& name,
                      const std::string& uom, v1::ItemKind kind) {
    v1::DefineProductRequest req;
    req.set_request_id(NewRequestId());
    v1::Product* p = req.mutable_product();
    p->set_item(item);
    p->set_name(name);
    p->set_uom(uom);
    p->set_kind(kind);
    p->mutable_policy()->set_shelf_life_days(365);
    v1::DefineProductResponse resp;
    return lots_->DefineProduct(stack_->Ctx("admin").get(), req, &resp);
  }

  grpc::Status Lot(const std::string& item, const std::string& number) {
    v1::CreateLotRequest req;
    req.set_request_id(NewRequestId());
    req.set_item(item);
    req.set_lot_number(number);
    req.mutable_manufactured_on()->set_year(2026);
    req.mutable_manufactured_on()->set_month(3);
    req.mutable_manufactured_on()->set_day(2);
    req.mutable_quantity()->set_amount(100);
    req.mutable_quantity()->set_uom("EA");
    v1::CreateLotResponse resp;
    return lots_->CreateLot(stack_->Ctx("operator").get(), req, &resp);
  }

  std::unique_ptr<TestStack> stack_;
  std::unique_ptr<v1::LotsService::Stub> lots_;
};

TEST_P(RulesProductTest, UnitAndKindOfAProductWithLotsCannotChange) {
  ASSERT_TRUE(Define("C-100", "Tube", "EA", v1::ITEM_KIND_COMPONENT).ok());
  // Without lots, anything may change.
  grpc::Status s = Define("C-100", "Tube", "M", v1::ITEM_KIND_RAW_MATERIAL);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_TRUE(Define("C-100", "Tube", "EA", v1::ITEM_KIND_COMPONENT).ok());
  ASSERT_TRUE(Lot("C-100", "L1").ok());
  ASSERT_TRUE(Lot("C-100", "L2").ok());

  s = Define("C-100", "Tube", "M", v1::ITEM_KIND_COMPONENT);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(),
            "product C-100 has 2 lots; its unit cannot change (unit EA, this "
            "definition says M); define a new product for the new unit");
  s = Define("C-100", "Tube", "EA", v1::ITEM_KIND_RAW_MATERIAL);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(),
            "product C-100 has 2 lots; its kind cannot change (kind "
            "component, this definition says raw material); define a new "
            "product for the new kind");

  // The name (and the rest) may change; the unit stays EA.
  s = Define("C-100", "Catheter tube, 12Fr", "EA", v1::ITEM_KIND_COMPONENT);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::GetProductRequest get;
  get.set_item("C-100");
  v1::GetProductResponse got;
  s = lots_->GetProduct(stack_->Ctx("auditor").get(), get, &got);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(got.product().name(), "Catheter tube, 12Fr");
  EXPECT_EQ(got.product().uom(), "EA");
  EXPECT_EQ(got.product().kind(), v1::ITEM_KIND_COMPONENT);
}

INSTANTIATE_TEST_SUITE_P(Backends, RulesProductTest,
                         ::testing::Values(Backend::kEmbedded, Backend::kKafka),
                         [](const auto& info) {
                           return BackendName(info.param);
                         });

}  // namespace
}  // namespace lotledger::testing
