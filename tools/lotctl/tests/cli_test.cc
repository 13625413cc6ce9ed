// lotctl's argument handling and offline verbs, run in-process.
#include "tools/lotctl/cli.h"

#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/lotctl/context.h"
#include "tools/lotctl/flags.h"
#include "tools/lotctl/values.h"

namespace lotledger::lotctl {
namespace {

using ::testing::HasSubstr;

struct Result {
  int code;
  std::string out;
  std::string err;
};

Result RunCli(std::vector<std::string> args,
              std::map<std::string, std::string> vars = {}) {
  Environment env;
  env.getenv = [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  env.now = [] {
    return absl::FromCivil(absl::CivilDay(2026, 3, 2), absl::UTCTimeZone());
  };
  std::ostringstream out, err;
  const int code = RunLotctl(std::move(args), env, out, err);
  return {code, out.str(), err.str()};
}

TEST(CliTest, HelpDocumentsExitCodesAndImportColumns) {
  Result r = RunCli({"--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_THAT(r.out, HasSubstr("Exit codes:"));
  EXPECT_THAT(r.out, HasSubstr("4  import found bad or refused rows"));
  EXPECT_THAT(r.out,
              HasSubstr("inputs (\"LOT_ID:QTY[:UOM];LOT_ID:QTY[:UOM]\")"));
  EXPECT_THAT(r.out, HasSubstr("<GS>"));
  Result lot = RunCli({"help", "lot"});
  EXPECT_EQ(lot.code, kExitOk);
  EXPECT_THAT(lot.out, HasSubstr("lotctl lot create"));
  EXPECT_THAT(lot.out, testing::Not(HasSubstr("lotctl import")));
  EXPECT_THAT(RunCli({"hold", "--help"}).out, HasSubstr("release|hold|reject"));
}

TEST(CliTest, UsageErrorsExitTwoAndSayWhatIsWrong) {
  const struct {
    std::vector<std::string> args;
    std::string message;
  } cases[] = {
      {{}, "error: no verb given"},
      {{"frobnicate"}, "error: unknown verb 'frobnicate'"},
      {{"lot", "create", "--item=X", "--colour=red"},
       "error: unknown option --colour for 'lot create'"},
      {{"lot", "create", "--item"},
       "error: --item needs a value: write --item=VALUE"},
      {{"lot", "create", "--item=a", "--item=b"},
       "error: --item is given more than once"},
      {{"trace", "X:1", "--forward=yes"},
       "error: --forward is a switch and takes no value"},
      {{"trace", "X:1", "--forward", "--backward"},
       "error: --backward and --forward: give one of them"},
      {{"trace", "X:1", "--depth=0"},
       "error: --depth: \"0\" is not an integer in 1..64"},
      {{"lot", "create", "--item=X", "--lot=L", "--quantity=5", "--uom=EA"},
       "error: --manufactured is required for 'lot create'"},
      {{"lot", "create", "--item=X", "--lot=L", "--manufactured=2026-13-01",
        "--quantity=5", "--uom=EA"},
       "error: --manufactured: \"2026-13-01\" is not a valid date "
       "(YYYY-MM-DD)"},
      {{"lot", "create", "--item=X", "--lot=L", "--manufactured=2026-03-01",
        "--quantity=5", "--uom=EA", "--input=RM-1:40"},
       "error: --input: \"RM-1:40\" is not LOT_ID:QTY[:UOM]"},
      {{"product", "define", "--item=X", "--name=N", "--uom=EA", "--kind=gas"},
       "error: --kind: \"gas\" is not a kind"},
      {{"health", "--timeout=soon"},
       "error: --timeout: \"soon\" is not a number"},
      {{"health", "--token=a", "--token-file=/nonexistent"},
       "error: --token and --token-file: give one of them"},
      {{"health", "--token-file=/nonexistent/token"},
       "error: --token-file: cannot read /nonexistent/token"},
      {{"lot", "get"}, "error: usage: lotctl lot get LOT_ID"},
      // Inventory verbs use the same flag checks, so the same wording.
      {{"inventory", "fefo", "--quantity=5"},
       "error: --item is required for 'inventory fefo'"},
      {{"inventory", "ship", "--line=X:1@B:1"},
       "error: --customer is required for 'inventory ship'"},
      {{"inventory", "transfer", "X:1", "--from=A", "--to=B"},
       "error: --quantity is required for 'inventory transfer'"},
      {{"inventory", "location-create", "B1", "--name=n", "--kind=shelf"},
       "error: --kind: \"shelf\" is not one of bin, region, site, "
       "warehouse"},
      {{"inventory", "get"}, "error: usage: lotctl inventory get LOT_ID"},
      {{"-v"}, "error: unknown option -v"},
      {{"inspect", "X:1", "--type=final", "--sample-size=3",
        "--result=seal|>=1|2|N"},
       "error: --result: \"seal|>=1|2|N\" is not "
       "characteristic|spec|value|unit|pass"},
      {{"hold", "X:1", "--meaning=m", "--reason=r", "--deviation=D1"},
       "error: unknown option --deviation for 'hold'"},
      {{"release", "X:1", "--meaning=m", "--reason=r", "--deviation=D1"},
       "error: --justification is required for a release under a deviation"},
      {{"quality", "list", "--disposition=maybe"},
       "error: --disposition: \"maybe\" is not released, on-hold"},
      {{"import", "parts", "x.csv"},
       "error: usage: lotctl import products|lots"},
      {{"import", "lots", "/nonexistent.csv"},
       "error: cannot read /nonexistent.csv"},
  };
  for (const auto& c : cases) {
    Result r = RunCli(c.args);
    EXPECT_EQ(r.code, kExitUsage) << c.message;
    EXPECT_THAT(r.err, HasSubstr(c.message));
    EXPECT_EQ(r.out, "") << c.message;
  }
}

TEST(CliTest, Gs1ParseWorksOfflineWithTypedGroupSeparators) {
  for (const std::string gs : {"<GS>", "{GS}", "\\x1d", "\\x1D"}) {
    Result r = RunCli({"gs1", "parse",
                       "]d20109506000134352172612311"
                       "0A17" +
                           gs + "21S1"});
    EXPECT_EQ(r.code, kExitOk) << gs << r.err;
    EXPECT_THAT(r.out, HasSubstr("(10)  BATCH/LOT         A17\n")) << gs;
    EXPECT_THAT(r.out, HasSubstr("(21)  SERIAL            S1\n")) << gs;
  }
  Result json = RunCli({"gs1", "parse", "--json", "(01)09506000134352(10)A17"});
  EXPECT_EQ(json.code, kExitOk);
  EXPECT_EQ(json.out,
            "[{\"ai\":\"01\",\"title\":\"GTIN\",\"value\":\"09506000134352\"},"
            "{\"ai\":\"10\",\"title\":\"BATCH/LOT\",\"value\":\"A17\"}]\n");
  Result bad = RunCli({"gs1", "parse", "(01)09506000134353"});
  EXPECT_EQ(bad.code, kExitUsage);
  EXPECT_THAT(bad.err, HasSubstr("check digit is 3, expected 2"));
}

TEST(CliTest, UnreachableServerExitsThreeNamingTheAddress) {
  // Port 1 refuses at once; the address comes from the environment.
  Result r = RunCli({"lot", "get", "X:1", "--timeout=5"},
                    {{"LOTLEDGER_SERVER", "127.0.0.1:1"}});
  EXPECT_EQ(r.code, kExitUnavailable);
  EXPECT_THAT(r.err, HasSubstr("error: UNAVAILABLE: "));
  EXPECT_THAT(r.err, HasSubstr("127.0.0.1:1"));
}

TEST(CliTest, ExitCodesFollowTheContract) {
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::OK), 0);
  for (auto c :
       {grpc::StatusCode::FAILED_PRECONDITION, grpc::StatusCode::ALREADY_EXISTS,
        grpc::StatusCode::NOT_FOUND, grpc::StatusCode::PERMISSION_DENIED,
        grpc::StatusCode::UNAUTHENTICATED}) {
    EXPECT_EQ(ExitCodeFor(c), kExitRefused) << CodeName(c);
  }
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::INVALID_ARGUMENT), kExitUsage);
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::UNAVAILABLE), kExitUnavailable);
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::DEADLINE_EXCEEDED), kExitUnavailable);
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::CANCELLED), kExitUnavailable);
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::DATA_LOSS), kExitServerFault);
  EXPECT_EQ(CodeName(grpc::StatusCode::FAILED_PRECONDITION),
            "FAILED_PRECONDITION");
}

TEST(ValuesTest, LotInputsAreReadFromTheRight) {
  absl::StatusOr<v1::LotInput> in = ParseLotInput("09506000134352:A:17:40");
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->lot_id(), "09506000134352:A:17");  // lot number "A:17"
  EXPECT_EQ(in->quantity().amount(), 40);
  EXPECT_EQ(in->quantity().uom(), "");
  in = ParseLotInput("RM-100:L7:40:G");
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->lot_id(), "RM-100:L7");
  EXPECT_EQ(in->quantity().uom(), "G");
  for (const char* bad : {"RM-100", "RM-100:40", "RM-100:L7:0", ":L7:4",
                          "RM-100:L7:x:G", "RM-100::4"}) {
    EXPECT_FALSE(ParseLotInput(bad).ok()) << bad;
  }
}

TEST(ValuesTest, DaysDatesAndQuantities) {
  EXPECT_THAT(*ParseDayList("180, 90;30"), testing::ElementsAre(180, 90, 30));
  EXPECT_FALSE(ParseDayList("180,-1").ok());
  EXPECT_FALSE(ParseDateText("2024-02-30").ok());
  EXPECT_TRUE(ParseDateText("2024-02-29").ok());
  EXPECT_EQ(DateText(*ParseDateText("2026-03-02")), "2026-03-02");
  v1::Quantity q;
  q.set_amount(500);
  q.set_uom("EA");
  EXPECT_EQ(QuantityText(q), "500 EA");
  EXPECT_EQ(UnescapeGroupSeparators("a<GS>b{GS}c\\x1dd"),
            "a\x1D"
            "b\x1D"
            "c\x1D"
            "d");
}

TEST(FlagsTest, DoubleDashMakesTheRestPositional) {
  absl::StatusOr<ParsedArgs> parsed =
      SplitArgs({"gs1", "parse", "--", "--not-a-flag"});
  ASSERT_TRUE(parsed.ok());
  EXPECT_THAT(parsed->positional,
              testing::ElementsAre("gs1", "parse", "--not-a-flag"));
  EXPECT_TRUE(parsed->flags.empty());
}

}  // namespace
}  // namespace lotledger::lotctl
