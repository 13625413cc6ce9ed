#include "libs/server/auth.h"

#include "gtest/gtest.h"

namespace lotledger::server {
namespace {

TEST(DevTokens, ParsesPrincipalsAndRoles) {
  auto auth = DevTokenAuthenticator::FromText(
      "# dev tokens\n"
      "t-admin   ada   admin\n"
      "t-qa  qa.li qa_inspector,qa_approver  # two roles\n");
  ASSERT_TRUE(auth.ok()) << auth.status();
  absl::StatusOr<Principal> p = (*auth)->Authenticate("t-qa");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->name, "qa.li");
  EXPECT_TRUE(p->HasRole("qa_approver"));
  EXPECT_TRUE(p->HasRole("qa_inspector"));
  EXPECT_FALSE(p->HasRole("admin"));
  EXPECT_EQ((*auth)->Authenticate("nope").status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(DevTokens, RejectsMalformedLineWithItsNumber) {
  auto auth = DevTokenAuthenticator::FromText("ok ada admin\nbroken line\n");
  ASSERT_FALSE(auth.ok());
  EXPECT_NE(auth.status().message().find("line 2"), absl::string_view::npos);
}

TEST(RoleTable, DeniesByDefault) {
  EXPECT_TRUE(RolesFor("/lotledger.v1.LotsService/NoSuchMethod").empty());
  EXPECT_TRUE(
      RolesFor("/lotledger.v1.LotsService/DefineProduct").contains("admin"));
  EXPECT_FALSE(
      RolesFor("/lotledger.v1.LotsService/DefineProduct").contains("operator"));
  EXPECT_FALSE(RolesFor("/lotledger.v1.QualityService/ChangeDisposition")
                   .contains("auditor"));
}

}  // namespace
}  // namespace lotledger::server
