// The serial register's rules (issue 19) as given/when/then rows: a
// product's tracking (set before its first lot), and AssignSerials over
// the register as the service loads it (serial -> lot of the serials the
// request names, the lot's serial count). Refusals are checked by their
// reason.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/domain/lots/decider.h"
#include "libs/domain/testing/decider_table.h"

namespace lotledger::lots {
namespace {

using domain::testing::CaseName;
using domain::testing::Ev;
using domain::testing::ExpectDecision;
using domain::testing::kInvalid;
using domain::testing::kRefused;
using domain::testing::Parse;

constexpr char kItem[] = "09506000134352";
constexpr char kA17[] = "09506000134352:A17";
constexpr char kA18[] = "09506000134352:A18";

// A hip implant tracked by serial ("SERIAL") or by lot ("LOT",
// "UNSPECIFIED").
std::string Implant(const std::string& tracking) {
  return absl::StrCat(
      "item: \"09506000134352\" name: \"Hip stem\" uom: \"EA\" "
      "kind: ITEM_KIND_FINISHED_DEVICE policy { shelf_life_days: 1825 } "
      "tracking: TRACKING_",
      tracking);
}

// The register as the service loads it for one command.
struct World {
  std::string tracking = "SERIAL";
  int64_t quantity = 5;     // lot A17's quantity
  int64_t lot_serials = 0;  // serials A17 has
  std::map<std::string, std::string> serial_lots;
  int64_t product_lots = 1;
};

struct Row {
  Row(std::string name, World world, std::string when,
      std::vector<std::string> then,
      absl::StatusCode code = absl::StatusCode::kOk,
      std::string message_has = "")
      : name(std::move(name)),
        world(std::move(world)),
        when(std::move(when)),
        then(std::move(then)),
        code(code),
        message_has(std::move(message_has)) {}
  std::string name;
  World world;
  std::string when;
  std::vector<std::string> then;
  absl::StatusCode code;
  std::string message_has;
};

void PrintTo(const Row& r, std::ostream* os) { *os << r.name; }

v1::LotsDecisionState Load(const World& w) {
  v1::LotsDecisionState state;
  *state.mutable_product() = Parse<v1::Product>(Implant(w.tracking));
  v1::Lot& lot = *state.mutable_lot();
  lot.set_lot_id(kA17);
  lot.set_item(kItem);
  lot.set_lot_number("A17");
  lot.mutable_quantity()->set_amount(w.quantity);
  lot.mutable_quantity()->set_uom("EA");
  lot.set_serial_count(w.lot_serials);
  for (const auto& [serial, lot_id] : w.serial_lots) {
    (*state.mutable_serial_lots())[serial] = lot_id;
  }
  state.set_lot_serial_count(w.lot_serials);
  state.set_product_lot_count(w.product_lots);
  return state;
}

std::string Assign(const std::string& ranges) {
  return absl::StrCat("assign_serials { lot_id: \"", kA17, "\" ", ranges, " }");
}

std::string Assigned(const std::string& ranges, int64_t count, int64_t total) {
  return absl::StrCat("aggregate_id: \"", kA17, "\" lot_ids: \"", kA17,
                      "\" serials_assigned { lot_id: \"", kA17, "\" item: \"",
                      kItem, "\" ", ranges, " count: ", count,
                      " lot_total: ", total, " }");
}

class SerialRegister : public ::testing::TestWithParam<Row> {};

TEST_P(SerialRegister, GivenWhenThen) {
  const Row& r = GetParam();
  const v1::LotsCommand cmd = Parse<v1::LotsCommand>(r.when);
  domain::testing::DecideCase<> c(r.name, {}, r.when, r.then, r.code,
                                  r.message_has);
  ExpectDecision(c, Decide(Load(r.world), cmd));
}

std::vector<Row> Rows() {
  World fresh;
  World on_a17 = fresh;  // SN0001..SN0003 on A17 already
  on_a17.lot_serials = 3;
  on_a17.serial_lots = {{"SN0002", kA17}, {"SN0003", kA17}};
  World on_a18 = fresh;
  on_a18.serial_lots = {{"SN0002", kA18}, {"SN0003", kA18}, {"X9", kA18}};
  World by_lot = fresh;
  by_lot.tracking = "LOT";
  World full = fresh;
  full.quantity = 3;
  full.lot_serials = 2;
  return {
      {"NewSerialsAreAssignedInCanonicalForm",
       fresh,
       Assign("serials { first: \"SN0003\" } "
              "serials { first: \"SN0001\" last: \"SN0002\" } "
              "serials { first: \"SN0005\" }"),
       {Assigned("serials { first: \"SN0001\" last: \"SN0003\" } "
                 "serials { first: \"SN0005\" }",
                 4, 4)}},
      {"SerialsOnThisLotAreSkipped",
       on_a17,
       Assign("serials { first: \"SN0002\" last: \"SN0004\" }"),
       {Assigned("serials { first: \"SN0004\" }", 1, 4)}},
      {"AllOnThisLotWritesNothing",
       on_a17,
       Assign("serials { first: \"SN0002\" last: \"SN0003\" }"),
       {}},
      {"SerialOfAnotherLotIsRefusedNamingIt",
       on_a18,
       Assign("serials { first: \"SN0001\" last: \"SN0003\" }"),
       {},
       kRefused,
       "product 09506000134352: serials SN0002..SN0003 belong to lot "
       "09506000134352:A18; a serial belongs to one lot only, so none can "
       "be assigned to lot 09506000134352:A17"},
      {"ProductTrackedByLotIsRefused",
       by_lot,
       Assign("serials { first: \"SN0001\" }"),
       {},
       kRefused,
       "product 09506000134352 is tracked by lot: its lots have no serial "
       "numbers"},
      {"MoreSerialsThanUnitsIsRefused",
       full,
       Assign("serials { first: \"SN0007\" last: \"SN0008\" }"),
       {},
       kRefused,
       "lot 09506000134352:A17 has 3 EA and would have 4 serials"},
      {"UnknownLotIsRefused",
       fresh,
       "assign_serials { lot_id: \"09506000134352:B1\" "
       "serials { first: \"SN1\" } }",
       {},
       kRefused,
       "lot 09506000134352:B1 does not exist"},
      {"BadRangeNamesTheField",
       fresh,
       Assign("serials { first: \"SN0009\" last: \"SN0001\" }"),
       {},
       kInvalid,
       "assign_serials.serials[0].last: 'SN0001' comes before first "
       "'SN0009'"},
      {"NoSerialsIsInvalid",
       fresh,
       Assign(""),
       {},
       kInvalid,
       "assign_serials.serials: at least one serial is required"},
      {"SerialNamedTwiceIsInvalid",
       fresh,
       Assign("serials { first: \"SN1\" } serials { first: \"SN1\" }"),
       {},
       kInvalid,
       "assign_serials.serials: serial SN1 is named twice"},
      // Tracking is set before the first lot.
      {"TrackingOfProductWithLotsCannotChange",
       by_lot,
       absl::StrCat("define_product { product { ", Implant("SERIAL"), " } }"),
       {},
       kRefused,
       "product 09506000134352 has 1 lot; its tracking cannot change "
       "(tracking by lot, this definition says by serial); define a new "
       "product for the new tracking (tracking is set before a product's "
       "first lot)"},
      {"SerialToLotWithLotsCannotChangeEither",
       fresh,
       absl::StrCat("define_product { product { ", Implant("LOT"), " } }"),
       {},
       kRefused,
       "its tracking cannot change (tracking by serial, this definition "
       "says by lot)"},
      {"UnspecifiedIsByLotSoNotAChangeOfTracking",
       by_lot,
       absl::StrCat("define_product { product { ", Implant("UNSPECIFIED"),
                    " } }"),
       {absl::StrCat("aggregate_id: \"", kItem,
                     "\" product_defined { product { ", Implant("UNSPECIFIED"),
                     " } }")}},
      {"UnknownTrackingIsInvalid",
       fresh,
       absl::StrCat("define_product { product { item: \"", kItem,
                    "\" name: \"Hip stem\" uom: \"EA\" "
                    "kind: ITEM_KIND_FINISHED_DEVICE tracking: 7 } }"),
       {},
       kInvalid,
       "define_product.product.tracking: unknown value 7"},
      {"QuantityCannotDropBelowSerials",
       on_a17,
       "correct_lot { lot_id: \"09506000134352:A17\" field: \"quantity\" "
       "new_value: \"2\" reason: \"count error\" }",
       {},
       kRefused,
       "lot 09506000134352:A17 cannot be corrected to 2 EA: it has 3 serial "
       "numbers assigned"},
  };
}

INSTANTIATE_TEST_SUITE_P(Serials, SerialRegister, ::testing::ValuesIn(Rows()),
                         CaseName());

TEST(SerialRegisterEvolve, SerialCountIsTheLastTotal) {
  v1::Lot lot;
  lot.set_lot_id(kA17);
  Evolve(lot, Ev(Assigned("serials { first: \"SN1\" last: \"SN4\" }", 4, 4)));
  Evolve(lot, Ev(Assigned("serials { first: \"SN5\" }", 1, 5)));
  Evolve(lot, Ev(Assigned("serials { first: \"SN5\" }", 1, 5)));  // again
  EXPECT_EQ(lot.serial_count(), 5);
  // An older event delivered late does not take the count back.
  Evolve(lot, Ev(Assigned("serials { first: \"SN1\" last: \"SN4\" }", 4, 4)));
  EXPECT_EQ(lot.serial_count(), 5);
  v1::Lot other;
  other.set_lot_id(kA18);
  Evolve(other, Ev(Assigned("serials { first: \"SN6\" }", 1, 6)));
  EXPECT_EQ(other.serial_count(), 0);
}

}  // namespace
}  // namespace lotledger::lots
