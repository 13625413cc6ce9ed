// A feature tested on both shapes users run, over real gRPC with one
// story: the embedded log with every service in one process (TestStack),
// and the Kafka broker ($LOTLEDGER_TEST_KAFKA) with each service its own
// process (ServiceCluster, the production shape). The fixture starts the
// lots, quality, inventory, recall and audit services and gives a stub to
// each, and names the role holders as each shape does.
//
// Header-only: a test target that includes it defines LOTS_SERVICE_PATH,
// QUALITY_SERVICE_PATH, INVENTORY_SERVICE_PATH, RECALL_SERVICE_PATH and
// AUDIT_SERVICE_PATH (the service binaries' paths, for the cluster) and
// links lotledger_test_stack and lotledger_service_cluster.
#ifndef LOTLEDGER_TESTS_SUPPORT_TWO_SHAPES_H_
#define LOTLEDGER_TESTS_SUPPORT_TWO_SHAPES_H_

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "lotledger/v1/audit.grpc.pb.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "lotledger/v1/lots.grpc.pb.h"
#include "lotledger/v1/quality.grpc.pb.h"
#include "lotledger/v1/recall.grpc.pb.h"
#include "tests/support/service_cluster.h"
#include "tests/support/stack.h"

namespace lotledger::testing {

enum class Shape { kEmbedded, kKafkaProcesses };

inline std::string ShapeName(const ::testing::TestParamInfo<Shape>& info) {
  return info.param == Shape::kEmbedded ? "Embedded" : "KafkaProcesses";
}

class TwoShapesTest : public ::testing::TestWithParam<Shape> {
 protected:
  void SetUp() override {
    if (GetParam() == Shape::kEmbedded) {
      stack_ =
          TestStack::Start(Backend::kEmbedded,
                           {"lots", "quality", "inventory", "recall", "audit"});
      ASSERT_NE(stack_, nullptr);
      lots_ = v1::LotsService::NewStub(stack_->channel());
      quality_ = v1::QualityService::NewStub(stack_->channel());
      inventory_ = v1::InventoryService::NewStub(stack_->channel());
      recall_ = v1::RecallService::NewStub(stack_->channel());
      audit_ = v1::AuditService::NewStub(stack_->channel());
      return;
    }
    cluster_ = ServiceCluster::Start({LOTS_SERVICE_PATH, QUALITY_SERVICE_PATH,
                                      INVENTORY_SERVICE_PATH,
                                      RECALL_SERVICE_PATH, AUDIT_SERVICE_PATH});
    ASSERT_NE(cluster_, nullptr);
    lots_ = v1::LotsService::NewStub(cluster_->channel(Service::kLots));
    quality_ =
        v1::QualityService::NewStub(cluster_->channel(Service::kQuality));
    inventory_ =
        v1::InventoryService::NewStub(cluster_->channel(Service::kInventory));
    recall_ = v1::RecallService::NewStub(cluster_->channel(Service::kRecall));
    audit_ = v1::AuditService::NewStub(cluster_->channel(Service::kAudit));
  }

  // The principal holding a role in this shape: the stack's dev tokens
  // are named after the roles ("inspector"), the cluster's after people
  // ("qa.inspector").
  std::string Principal(const std::string& who) const {
    if (stack_ != nullptr) return who;
    if (who == "inspector") return "qa.inspector";
    if (who == "approver") return "qa.approver";
    if (who == "recall") return "recall.manager";
    return who;
  }
  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& who) const {
    return stack_ != nullptr ? stack_->Ctx(who) : cluster_->Ctx(Principal(who));
  }
  // Its bearer token, also its signing credential.
  std::string Token(const std::string& who) const {
    return stack_ != nullptr ? stack_->Token(who)
                             : cluster_->Token(Principal(who));
  }

  std::unique_ptr<TestStack> stack_;
  std::unique_ptr<ServiceCluster> cluster_;
  std::unique_ptr<v1::LotsService::Stub> lots_;
  std::unique_ptr<v1::QualityService::Stub> quality_;
  std::unique_ptr<v1::InventoryService::Stub> inventory_;
  std::unique_ptr<v1::RecallService::Stub> recall_;
  std::unique_ptr<v1::AuditService::Stub> audit_;
};

}  // namespace lotledger::testing

#endif  // LOTLEDGER_TESTS_SUPPORT_TWO_SHAPES_H_
