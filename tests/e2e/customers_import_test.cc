// `lotctl import customers FILE.csv` (tools/lotctl/import_customers.h),
// run in process against a real server on the embedded log: a file with
// one bad row writes nothing and names every bad row and column; a good
// file registers its customers; re-running it reports all unchanged and
// appends nothing; an edited row becomes an update with the file's reason;
// `lotctl inventory customer|customers` read them back.
#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "lotledger/v1/inventory.grpc.pb.h"
#include "tests/support/stack.h"
#include "tools/lotctl/tests/run_lotctl.h"

namespace lotledger::testing {
namespace {

constexpr char kHeader[] =
    "customer_id,name,region,addresses,contacts,default_min_days,"
    "product_min_days,group_min_days,reason\n";
constexpr char kStMary[] =
    "H-12,St. Mary,DE-South,\"Dock 3, Hauptstr. 1|Pharmacy, Hauptstr. 1\","
    "Dr. Weber;materials manager;weber@stmary.example;+49 89 1234,60,"
    "09506000134352=400,drapes:09506000134369+09506000134376=200,"
    "contract 2026\n";
constexpr char kCharite[] =
    "H-20,Charite,DE-East,\"Dock 1, Chariteplatz 1\","
    "Purchasing;;;+49 30 4500,,,,\n";

class CustomersImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ = TestStack::Start(Backend::kEmbedded, {"lots", "inventory"});
    ASSERT_NE(stack_, nullptr);
    inventory_ = v1::InventoryService::NewStub(stack_->channel());
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("customers-import-" + NewRequestId());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  LotctlResult Import(const std::string& path) {
    return RunLotctlAs(*stack_, "admin", {"import", "customers", path},
                       TestEnvironment());
  }
  // Every version of every registered customer.
  int Versions() {
    v1::ListCustomersRequest req;
    v1::ListCustomersResponse resp;
    grpc::Status s =
        inventory_->ListCustomers(stack_->Ctx("auditor").get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    int n = 0;
    for (const v1::CustomerVersion& c : resp.customers()) {
      v1::GetCustomerRequest get;
      get.set_customer_id(c.customer().customer_id());
      v1::GetCustomerResponse got;
      s = inventory_->GetCustomer(stack_->Ctx("auditor").get(), get, &got);
      EXPECT_TRUE(s.ok()) << s.error_message();
      n += got.versions_size();
    }
    return n;
  }

  std::unique_ptr<TestStack> stack_;
  std::unique_ptr<v1::InventoryService::Stub> inventory_;
  std::filesystem::path dir_;
};

TEST_F(CustomersImportTest, BadRowWritesNothingGoodFileImportsOnce) {
  // Row 3 has no reachable contact, row 4 a bad minimum: both named, and
  // the good row 2 is not written either.
  const std::string bad =
      Write("bad.csv", std::string(kHeader) + kStMary +
                           "H-13,St. Anna,DE-South,Dock 1,Front desk;;;,,,,\n" +
                           "H-14,St. Paul,DE-South,Dock 1,"
                           "Desk;;desk@paul.example;,-5,,,\n");
  LotctlResult r = Import(bad);
  EXPECT_EQ(r.code, 4) << r.out << r.err;
  EXPECT_NE(r.err.find("row 3, column contacts: customer.contacts[0]: an "
                       "email or a phone is required"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("row 4, column default_min_days: \"-5\" is not a "
                       "whole number of days >= 0"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("nothing written: 2 bad of 3 rows"), std::string::npos)
      << r.out;
  EXPECT_EQ(Versions(), 0);

  const std::string good =
      Write("good.csv", std::string(kHeader) + kStMary + kCharite);
  r = Import(good);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "customers: new 2, unchanged 0, updated 0, refused 0\n");
  EXPECT_EQ(Versions(), 2);

  v1::GetCustomerRequest get;
  get.set_customer_id("H-12");
  v1::GetCustomerResponse got;
  grpc::Status s =
      inventory_->GetCustomer(stack_->Ctx("auditor").get(), get, &got);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const v1::CustomerRecord& c = got.customer().customer();
  EXPECT_EQ(c.name(), "St. Mary");
  ASSERT_EQ(c.addresses_size(), 2);
  EXPECT_EQ(c.addresses(1), "Pharmacy, Hauptstr. 1");
  EXPECT_EQ(c.contacts(0).email(), "weber@stmary.example");
  EXPECT_EQ(c.shelf_life().default_min_remaining_days(), 60);
  ASSERT_EQ(c.shelf_life().products_size(), 1);
  EXPECT_EQ(c.shelf_life().products(0).min_remaining_days(), 400);
  ASSERT_EQ(c.shelf_life().groups_size(), 1);
  EXPECT_EQ(c.shelf_life().groups(0).items_size(), 2);
  EXPECT_EQ(got.customer().reason(), "contract 2026");

  // The same file again: all unchanged, nothing appended.
  r = Import(good);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "customers: new 0, unchanged 2, updated 0, refused 0\n");
  EXPECT_EQ(Versions(), 2);

  // An edited row is an update, once.
  std::string edited = kStMary;
  edited.replace(edited.find("DE-South"), 8, "DE-North");
  const std::string moved =
      Write("moved.csv", std::string(kHeader) + edited + kCharite);
  r = Import(moved);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "customers: new 0, unchanged 1, updated 1, refused 0\n");
  r = Import(moved);
  EXPECT_EQ(r.out, "customers: new 0, unchanged 2, updated 0, refused 0\n");
  EXPECT_EQ(Versions(), 3);

  // lotctl reads it back: the record, its contacts and both versions.
  r = RunLotctlAs(*stack_, "auditor", {"inventory", "customer", "H-12"},
                  TestEnvironment());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("DE-North"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("weber@stmary.example"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("version     2 of 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("09506000134352 400 days"), std::string::npos) << r.out;
  r = RunLotctlAs(*stack_, "auditor",
                  {"inventory", "customers", "--region=DE-East"},
                  TestEnvironment());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("H-20"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("H-12"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace lotledger::testing
