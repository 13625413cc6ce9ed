#include "libs/domain/lots/decider.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "libs/common/ids.h"
#include "libs/common/status_macros.h"
#include "libs/domain/common/recall_standing.h"
#include "libs/domain/common/refusals.h"
#include "libs/domain/lots/correction.h"
#include "libs/domain/lots/dates.h"
#include "libs/domain/serials/serials.h"
#include "libs/gs1/element_string.h"

namespace lotledger::lots {
namespace {

using domain::Invalid;
using domain::IsBlank;
using domain::Refuse;

using google::protobuf::util::MessageDifferencer;

// GS1 AI (10) BATCH/LOT: up to 20 characters of CSET 82 (General
// Specifications 7.11, figure 7.11-1).
constexpr int kMaxLotNumberLength = 20;
constexpr int kMaxItemCodeLength = 40;

bool IsItemCode(absl::string_view item) {
  if (item.empty() || item.size() > kMaxItemCodeLength) return false;
  return std::all_of(item.begin(), item.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' ||
           c == '_' || c == '-';
  });
}

std::string FormatQuantity(int64_t amount, absl::string_view uom) {
  return absl::StrCat(amount, " ", uom);
}
std::string FormatQuantity(const v1::Quantity& q) {
  return FormatQuantity(q.amount(), q.uom());
}

// Why `item` is not a GTIN-14, for a person ("check digit is 3, expected
// 2"), or empty when it is one.
std::string WhyNotGtin14(const std::string& item) {
  if (gs1::IsValidGtin14(item)) return "";
  const bool digits = std::all_of(item.begin(), item.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
  if (item.size() != 14 || !digits) return "it is not 14 digits";
  return absl::StrCat("its check digit is ", item.substr(13), ", expected ",
                      gs1::CheckDigit(std::string_view(item).substr(0, 13)));
}

std::string ProductWord(const v1::Product& product) {
  return product.kind() == v1::ITEM_KIND_FINISHED_DEVICE ? "product" : "item";
}

std::string KindName(v1::ItemKind kind) {
  switch (kind) {
    case v1::ITEM_KIND_FINISHED_DEVICE:
      return "finished device";
    case v1::ITEM_KIND_COMPONENT:
      return "component";
    case v1::ITEM_KIND_RAW_MATERIAL:
      return "raw material";
    default:
      return "unspecified";
  }
}

// TRACKING_UNSPECIFIED is by lot (products defined before tracking).
bool BySerial(const v1::Product& product) {
  return product.tracking() == v1::TRACKING_SERIAL;
}

std::string TrackingName(const v1::Product& product) {
  return BySerial(product) ? "by serial" : "by lot";
}

// " since 2026-03-02 by qa.li: sterility retest" (`word` "since" or "on"),
// leaving out what is unknown.
std::string SinceByWhy(absl::string_view word,
                       const google::protobuf::Timestamp& since,
                       const std::string& by, const std::string& why) {
  std::string out;
  if (since.seconds() != 0 || since.nanos() != 0) {
    absl::StrAppend(
        &out, " ", word, " ",
        absl::FormatTime("%Y-%m-%d", absl::FromUnixSeconds(since.seconds()),
                         absl::UTCTimeZone()));
  }
  if (!by.empty()) absl::StrAppend(&out, " by ", by);
  if (!why.empty()) absl::StrAppend(&out, ": ", why);
  return out;
}

// Genealogy forward in time: a lot is never made from a component lot that
// is under an open recall, rejected or on hold (in that order of
// precedence). OK when nothing is known against it.
absl::Status CheckConsumable(const v1::LotsDecisionState& state,
                             const std::string& input_id,
                             const std::string& lot_id) {
  auto it = state.input_standing().find(input_id);
  if (it == state.input_standing().end()) return absl::OkStatus();
  const v1::LotStanding& standing = it->second;
  const std::string consequence =
      absl::StrCat("; lot ", lot_id, " cannot consume it");
  const std::vector<const v1::RecallStanding*> recalls =
      domain::OpenRecalls(standing.recall_ids(), state.recalls());
  if (!recalls.empty()) {
    return Refuse("component lot ", input_id, " ",
                  domain::UnderRecall(*recalls.front()), consequence);
  }
  switch (standing.disposition()) {
    case v1::DISPOSITION_REJECTED:
      return Refuse(
          "component lot ", input_id, " was rejected",
          SinceByWhy("on", standing.disposition_since(),
                     standing.disposition_by(), standing.disposition_reason()),
          consequence);
    case v1::DISPOSITION_ON_HOLD:
      return Refuse(
          "component lot ", input_id, " is on hold",
          SinceByWhy("since", standing.disposition_since(),
                     standing.disposition_by(), standing.disposition_reason()),
          consequence);
    default:
      return absl::OkStatus();
  }
}

// The lot as it was created: corrections undone, newest first.
v1::Lot AsCreated(const v1::Lot& lot) {
  v1::Lot original = lot;
  for (int i = lot.corrections_size() - 1; i >= 0; --i) {
    // A value that does not parse (never written by Decide) is skipped.
    absl::StatusOr<CorrectionValue> old =
        CorrectedOldValue(lot.corrections(i).correction());
    if (old.ok()) ApplyCorrectionValue(original, *old);
  }
  return original;
}

// ---- The component cap ------------------------------------------------------

// The lot of `inputs` that expires first, among those `known` holds with a
// valid expiry (the first listed on a tie), or nullptr; `*lot` is its Lot.
const v1::LotInput* EarliestExpiring(
    const google::protobuf::RepeatedPtrField<v1::LotInput>& inputs,
    const google::protobuf::Map<std::string, v1::Lot>& known,
    const v1::Lot** lot) {
  const v1::LotInput* earliest = nullptr;
  *lot = nullptr;
  for (const v1::LotInput& in : inputs) {
    auto it = known.find(in.lot_id());
    if (it == known.end() || !IsValidDate(it->second.expires_on())) continue;
    if (*lot == nullptr ||
        CompareDates(it->second.expires_on(), (*lot)->expires_on()) < 0) {
      earliest = &in;
      *lot = &it->second;
    }
  }
  return earliest;
}

// With cap_expiry_by_components, a lot of `product` may not expire after
// its earliest-expiring component lot (`earliest`, whose Lot is
// `earliest_lot`). OK without the cap or without such a component.
absl::Status CheckComponentCap(const v1::Product& product,
                               const std::string& lot_id,
                               const v1::Date& expires_on,
                               const v1::LotInput* earliest,
                               const v1::Lot* earliest_lot) {
  if (!product.policy().cap_expiry_by_components() || earliest == nullptr ||
      CompareDates(expires_on, earliest_lot->expires_on()) <= 0) {
    return absl::OkStatus();
  }
  return Refuse("lot ", lot_id, " cannot expire on ", FormatDate(expires_on),
                ": component lot ", earliest->lot_id(), " expires on ",
                FormatDate(earliest_lot->expires_on()), " and ",
                ProductWord(product), " ", product.item(),
                " may not outlive its components");
}

v1::Event NewEvent(absl::string_view aggregate_id) {
  v1::Event event;
  event.set_aggregate_id(std::string(aggregate_id));
  return event;
}

// ---- DefineProduct --------------------------------------------------------

absl::StatusOr<std::vector<v1::Event>> DecideDefineProduct(
    const v1::LotsDecisionState& state, const v1::DefineProductRequest& req) {
  if (!req.has_product()) return Invalid("define_product.product: required");
  if (absl::Status s = ValidateProduct(req.product()); !s.ok()) {
    return Invalid("define_product.", s.message());
  }
  v1::Product product = req.product();
  // Alerts fire from the longest horizon down; one canonical order also
  // makes "same thresholds, other order" an identical redefinition.
  if (product.has_policy()) {
    auto* thresholds =
        product.mutable_policy()->mutable_alert_thresholds_days();
    std::sort(thresholds->begin(), thresholds->end(), std::greater<int32_t>());
  }
  if (state.has_product() && state.product().item() == product.item()) {
    const v1::Product& was = state.product();
    if (MessageDifferencer::Equals(was, product)) {
      return std::vector<v1::Event>();
    }
    // Lots already counted in a unit, or made as a kind of item, would
    // change meaning under them: the master data of a product with lots
    // keeps its unit and kind (issue 14).
    std::vector<std::string> fixed, details;
    if (was.uom() != product.uom()) {
      fixed.push_back("unit");
      details.push_back(absl::StrCat("unit ", was.uom(),
                                     ", this definition says ", product.uom()));
    }
    if (was.kind() != product.kind()) {
      fixed.push_back("kind");
      details.push_back(absl::StrCat("kind ", KindName(was.kind()),
                                     ", this definition says ",
                                     KindName(product.kind())));
    }
    // Lots tracked by lot have no serials and serialised lots have them:
    // tracking is set before the first lot (issue 19).
    if (BySerial(was) != BySerial(product)) {
      fixed.push_back("tracking");
      details.push_back(absl::StrCat("tracking ", TrackingName(was),
                                     ", this definition says ",
                                     TrackingName(product)));
    }
    const int64_t lots = state.product_lot_count();
    if (lots > 0 && !fixed.empty()) {
      return Refuse(
          "product ", product.item(), " has ", lots,
          lots == 1 ? " lot" : " lots", "; its ", absl::StrJoin(fixed, " and "),
          " cannot change (", absl::StrJoin(details, "; "),
          "); define a new product for the new ", absl::StrJoin(fixed, " or "),
          BySerial(was) != BySerial(product)
              ? " (tracking is set before a product's first lot)"
              : "");
    }
  }
  v1::Event event = NewEvent(product.item());
  *event.mutable_product_defined()->mutable_product() = std::move(product);
  return std::vector<v1::Event>{std::move(event)};
}

// ---- CreateLot --------------------------------------------------------------

absl::Status ValidateCreateLotShape(const v1::CreateLotRequest& req,
                                    const std::string& lot_id) {
  if (req.item().empty()) return Invalid("create_lot.item: required");
  const std::string& number = req.lot_number();
  if (number.empty()) return Invalid("create_lot.lot_number: required");
  if (number.size() > kMaxLotNumberLength) {
    return Invalid("create_lot.lot_number: ", number.size(),
                   " characters, at most ", kMaxLotNumberLength);
  }
  for (size_t i = 0; i < number.size(); ++i) {
    if (!gs1::IsCset82(number[i])) {
      return Invalid(
          "create_lot.lot_number: character '", number.substr(i, 1),
          "' at position ", i + 1,
          " is not allowed; a GS1 lot number (AI 10) uses only letters, "
          "digits and !\"%&'()*+,-./:;<=>?_");
    }
  }
  if (!req.has_manufactured_on()) {
    return Invalid("create_lot.manufactured_on: required");
  }
  if (!IsValidDate(req.manufactured_on())) {
    return Invalid(
        "create_lot.manufactured_on: ", FormatDate(req.manufactured_on()),
        " is not a calendar date");
  }
  if (req.has_expires_on()) {
    if (!IsValidDate(req.expires_on())) {
      return Invalid("create_lot.expires_on: ", FormatDate(req.expires_on()),
                     " is not a calendar date");
    }
    if (CompareDates(req.expires_on(), req.manufactured_on()) <= 0) {
      return Invalid("create_lot.expires_on: ", FormatDate(req.expires_on()),
                     " is not after the manufacture date ",
                     FormatDate(req.manufactured_on()));
    }
  }
  if (req.quantity().amount() <= 0) {
    return Invalid("create_lot.quantity.amount: must be positive, got ",
                   req.quantity().amount());
  }
  if (req.quantity().uom().empty()) {
    return Invalid("create_lot.quantity.uom: required");
  }
  std::set<std::string> seen;
  for (int i = 0; i < req.inputs_size(); ++i) {
    const v1::LotInput& in = req.inputs(i);
    const std::string field = absl::StrCat("create_lot.inputs[", i, "]");
    if (in.lot_id().empty()) return Invalid(field, ".lot_id: required");
    if (in.lot_id() == lot_id) {
      return Invalid(field, ".lot_id: lot ", lot_id, " cannot consume itself");
    }
    if (!seen.insert(in.lot_id()).second) {
      return Invalid(field, ".lot_id: component lot ", in.lot_id(),
                     " is listed twice; give its total quantity once");
    }
    if (in.quantity().amount() <= 0) {
      return Invalid(field, ".quantity.amount: must be positive, got ",
                     in.quantity().amount());
    }
    if (in.quantity().uom().empty()) {
      return Invalid(field, ".quantity.uom: required");
    }
  }
  return absl::OkStatus();
}

// The first way the existing lot differs from what `req` would create, or
// empty when `req` is a repeat of its creation.
std::string DifferenceFromExisting(const v1::Lot& existing,
                                   const v1::CreateLotRequest& req) {
  const v1::Lot created = AsCreated(existing);
  v1::Lot requested;
  *requested.mutable_manufactured_on() = req.manufactured_on();
  *requested.mutable_expires_on() = req.expires_on();
  *requested.mutable_quantity() = req.quantity();
  requested.set_site(req.site());
  requested.set_production_order(req.production_order());
  requested.set_supplier(req.supplier());
  requested.set_supplier_lot(req.supplier_lot());
  for (absl::string_view field : kCorrectableFields) {
    // Without a given expiry the request asks for the computed one, which
    // the existing lot already has.
    if (field == "expires_on" && !req.has_expires_on()) continue;
    const std::string was = CurrentText(created, field);
    const std::string now = CurrentText(requested, field);
    if (was != now) {
      return absl::StrCat(field, " (", was.empty() ? "empty" : was,
                          ", this request says ", now.empty() ? "empty" : now,
                          ")");
    }
  }
  if (created.quantity().uom() != req.quantity().uom()) {
    return absl::StrCat("unit (", created.quantity().uom(),
                        ", this request says ", req.quantity().uom(), ")");
  }
  bool same_inputs = created.inputs_size() == req.inputs_size();
  for (int i = 0; same_inputs && i < req.inputs_size(); ++i) {
    same_inputs = MessageDifferencer::Equals(created.inputs(i), req.inputs(i));
  }
  if (!same_inputs) return "list of component lots";
  return "";
}

absl::StatusOr<std::vector<v1::Event>> DecideCreateLot(
    const v1::LotsDecisionState& state, const v1::CreateLotRequest& req) {
  const std::string lot_id = MakeLotId(req.item(), req.lot_number());
  RETURN_IF_ERROR(ValidateCreateLotShape(req, lot_id));

  if (state.has_lot() && !state.lot().lot_id().empty()) {
    const std::string diff = DifferenceFromExisting(state.lot(), req);
    if (diff.empty()) return std::vector<v1::Event>();  // a repeat
    return Refuse("lot ", lot_id, " already exists with a different ", diff);
  }
  if (!state.has_product() || state.product().item() != req.item()) {
    return Refuse("item ", req.item(),
                  " is not defined; define the product before creating lot ",
                  lot_id);
  }
  const v1::Product& product = state.product();
  if (req.quantity().uom() != product.uom()) {
    return Refuse("lot ", lot_id, " is counted in ", req.quantity().uom(),
                  " but ", ProductWord(product), " ", product.item(),
                  " is counted in ", product.uom());
  }

  // Genealogy: every component lot exists and has enough left.
  for (const v1::LotInput& in : req.inputs()) {
    auto it = state.inputs().find(in.lot_id());
    if (it == state.inputs().end() || it->second.lot_id().empty()) {
      return Refuse("component lot ", in.lot_id(), " does not exist; lot ",
                    lot_id, " cannot consume it");
    }
    const v1::Lot& input = it->second;
    RETURN_IF_ERROR(CheckConsumable(state, in.lot_id(), lot_id));
    if (in.quantity().uom() != input.quantity().uom()) {
      return Refuse("lot ", lot_id, " cannot consume ",
                    FormatQuantity(in.quantity()), " of component lot ",
                    in.lot_id(), ": that lot is counted in ",
                    input.quantity().uom());
    }
    const int64_t remaining =
        input.quantity().amount() - input.consumed().amount();
    if (in.quantity().amount() > remaining) {
      return Refuse("lot ", lot_id, " cannot consume ",
                    FormatQuantity(in.quantity()), " of component lot ",
                    in.lot_id(), ": only ",
                    FormatQuantity(std::max<int64_t>(remaining, 0),
                                   input.quantity().uom()),
                    " of its ", FormatQuantity(input.quantity()), " remain");
    }
  }
  const v1::Lot* earliest_lot = nullptr;  // the input expiring first
  const v1::LotInput* earliest =
      EarliestExpiring(req.inputs(), state.inputs(), &earliest_lot);

  // Expiry: given, or computed from the shelf life; capped by components
  // when the product says so.
  const v1::ShelfLifePolicy& policy = product.policy();
  const bool cap = policy.cap_expiry_by_components() && earliest != nullptr;
  v1::Date expires_on;
  v1::ExpirySource source;
  std::string set_by;
  if (req.has_expires_on()) {
    expires_on = req.expires_on();
    source = v1::EXPIRY_SOURCE_GIVEN;
    RETURN_IF_ERROR(
        CheckComponentCap(product, lot_id, expires_on, earliest, earliest_lot));
  } else {
    if (policy.shelf_life_days() <= 0) {
      return Refuse(ProductWord(product), " ", product.item(),
                    " has no shelf life: lot ", lot_id,
                    " needs an expiry date (expires_on)");
    }
    expires_on = AddDays(req.manufactured_on(), policy.shelf_life_days());
    source = v1::EXPIRY_SOURCE_SHELF_LIFE;
    if (!IsValidDate(expires_on)) {
      return Refuse("lot ", lot_id, ": manufacture date ",
                    FormatDate(req.manufactured_on()), " plus a shelf life of ",
                    policy.shelf_life_days(), " days is past 9999-12-31");
    }
    if (cap && CompareDates(expires_on, earliest_lot->expires_on()) > 0) {
      expires_on = earliest_lot->expires_on();
      source = v1::EXPIRY_SOURCE_COMPONENT_CAP;
      set_by = earliest->lot_id();
      if (CompareDates(expires_on, req.manufactured_on()) <= 0) {
        return Refuse("lot ", lot_id, " would expire on ",
                      FormatDate(expires_on), ", when component lot ", set_by,
                      " expires, which is not after its manufacture date ",
                      FormatDate(req.manufactured_on()));
      }
    }
  }

  v1::Event event = NewEvent(lot_id);
  event.add_lot_ids(lot_id);
  for (const v1::LotInput& in : req.inputs()) event.add_lot_ids(in.lot_id());
  if (req.has_occurred_at()) *event.mutable_occurred_at() = req.occurred_at();
  v1::LotCreated& created = *event.mutable_lot_created();
  created.set_lot_id(lot_id);
  created.set_item(req.item());
  created.set_lot_number(req.lot_number());
  *created.mutable_manufactured_on() = req.manufactured_on();
  *created.mutable_expires_on() = expires_on;
  created.set_expiry_source(source);
  created.set_expiry_set_by_lot_id(set_by);
  *created.mutable_quantity() = req.quantity();
  created.set_site(req.site());
  created.set_production_order(req.production_order());
  *created.mutable_inputs() = req.inputs();
  created.set_supplier(req.supplier());
  created.set_supplier_lot(req.supplier_lot());
  return std::vector<v1::Event>{std::move(event)};
}

// ---- CorrectLot -------------------------------------------------------------

// The proposed new value, typed, or InvalidArgument naming the field.
absl::StatusOr<CorrectionValue> ProposedValue(
    const v1::CorrectLotRequest& req) {
  absl::StatusOr<CorrectionValue> value =
      ParseCorrectionValue(req.field(), req.new_value());
  if (!value.ok()) {
    return Invalid("correct_lot.new_value: ", value.status().message());
  }
  if (value->field == "quantity" && value->amount <= 0) {
    return Invalid("correct_lot.new_value: a quantity must be positive, got ",
                   value->amount);
  }
  return value;
}

absl::StatusOr<std::vector<v1::Event>> DecideCorrectLot(
    const v1::LotsDecisionState& state, const v1::CorrectLotRequest& req) {
  if (req.lot_id().empty()) return Invalid("correct_lot.lot_id: required");
  if (!IsCorrectable(req.field())) {
    return Invalid("correct_lot.field: \"", req.field(),
                   "\" cannot be corrected; one of ",
                   absl::StrJoin(kCorrectableFields, ", "));
  }
  if (IsBlank(req.reason())) {
    return Invalid("correct_lot.reason: required; say why ", req.field(),
                   " is corrected");
  }
  ASSIGN_OR_RETURN(const CorrectionValue value, ProposedValue(req));
  const std::string new_value = FormatCorrectionValue(value);
  if (!state.has_lot() || state.lot().lot_id() != req.lot_id()) {
    return Refuse("lot ", req.lot_id(), " does not exist");
  }
  const v1::Lot& lot = state.lot();
  const std::string old_value = CurrentText(lot, req.field());
  if (old_value == new_value) return std::vector<v1::Event>();

  if (value.field == "expires_on") {
    if (CompareDates(value.date, lot.manufactured_on()) <= 0) {
      return Refuse("lot ", lot.lot_id(), " cannot expire on ", new_value,
                    ": it was manufactured on ",
                    FormatDate(lot.manufactured_on()));
    }
    const v1::Lot* earliest_lot = nullptr;
    const v1::LotInput* earliest =
        EarliestExpiring(lot.inputs(), state.inputs(), &earliest_lot);
    RETURN_IF_ERROR(CheckComponentCap(state.product(), lot.lot_id(), value.date,
                                      earliest, earliest_lot));
  } else if (value.field == "manufactured_on") {
    if (CompareDates(value.date, lot.expires_on()) >= 0) {
      return Refuse("lot ", lot.lot_id(), " cannot be manufactured on ",
                    new_value, ": it expires on ",
                    FormatDate(lot.expires_on()));
    }
  } else if (value.field == "quantity") {
    if (value.amount < lot.consumed().amount()) {
      return Refuse(
          "lot ", lot.lot_id(), " cannot be corrected to ",
          FormatQuantity(value.amount, lot.quantity().uom()), ": ",
          FormatQuantity(lot.consumed().amount(), lot.quantity().uom()),
          " of it were already consumed by other lots");
    }
    if (value.amount < lot.serial_count()) {
      return Refuse("lot ", lot.lot_id(), " cannot be corrected to ",
                    FormatQuantity(value.amount, lot.quantity().uom()),
                    ": it has ", lot.serial_count(),
                    " serial numbers assigned");
    }
  }

  v1::Event event = NewEvent(lot.lot_id());
  event.add_lot_ids(lot.lot_id());
  v1::LotCorrected& corrected = *event.mutable_lot_corrected();
  corrected.set_lot_id(lot.lot_id());
  corrected.set_field(req.field());
  corrected.set_old_value(old_value);
  corrected.set_new_value(new_value);
  corrected.set_reason(req.reason());
  return std::vector<v1::Event>{std::move(event)};
}

// ---- AssignSerials ----------------------------------------------------------

absl::StatusOr<std::vector<v1::Event>> DecideAssignSerials(
    const v1::LotsDecisionState& state, const v1::AssignSerialsRequest& req) {
  if (req.lot_id().empty()) return Invalid("assign_serials.lot_id: required");
  ASSIGN_OR_RETURN(
      std::vector<std::string> serials,
      domain::ExpandSerials(req.serials(), "assign_serials.serials"));
  if (!state.has_lot() || state.lot().lot_id() != req.lot_id() ||
      state.lot().item().empty()) {
    return Refuse("lot ", req.lot_id(), " does not exist");
  }
  const v1::Lot& lot = state.lot();
  if (!state.has_product() || !BySerial(state.product())) {
    return Refuse(
        "product ", lot.item(),
        " is tracked by lot: its lots have no serial numbers, so none can be "
        "assigned to lot ",
        lot.lot_id(),
        " (a product is tracked by serial from its definition, before its "
        "first lot)");
  }
  // Each serial of a product belongs to one lot: those on another lot are
  // refused by lot, those on this lot already are skipped.
  std::map<std::string, std::vector<std::string>> elsewhere;  // lot -> serials
  std::vector<std::string> fresh;
  for (std::string& serial : serials) {
    auto it = state.serial_lots().find(serial);
    if (it == state.serial_lots().end()) {
      fresh.push_back(std::move(serial));
    } else if (it->second != lot.lot_id()) {
      elsewhere[it->second].push_back(std::move(serial));
    }
  }
  if (!elsewhere.empty()) {
    std::vector<std::string> parts;
    for (const auto& [other, taken] : elsewhere) {
      parts.push_back(absl::StrCat(
          taken.size() == 1 ? "serial " : "serials ",
          domain::FormatSerials(domain::CompressSerials(taken)),
          taken.size() == 1 ? " belongs" : " belong", " to lot ", other));
    }
    return Refuse("product ", lot.item(), ": ", absl::StrJoin(parts, "; "),
                  "; a serial belongs to one lot only, so none can be "
                  "assigned to lot ",
                  lot.lot_id());
  }
  if (fresh.empty()) return std::vector<v1::Event>();  // all assigned here
  const int64_t count = static_cast<int64_t>(fresh.size());
  const int64_t total = state.lot_serial_count() + count;
  if (total > lot.quantity().amount()) {
    return Refuse("lot ", lot.lot_id(), " has ", FormatQuantity(lot.quantity()),
                  " and would have ", total, " serials (",
                  state.lot_serial_count(), " assigned, ", count,
                  " new); a lot has at most one serial per unit");
  }
  v1::Event event = NewEvent(lot.lot_id());
  event.add_lot_ids(lot.lot_id());
  if (req.has_occurred_at()) *event.mutable_occurred_at() = req.occurred_at();
  v1::SerialsAssigned& assigned = *event.mutable_serials_assigned();
  assigned.set_lot_id(lot.lot_id());
  assigned.set_item(lot.item());
  *assigned.mutable_serials() = domain::CompressSerials(fresh);
  assigned.set_count(count);
  assigned.set_lot_total(total);
  return std::vector<v1::Event>{std::move(event)};
}

}  // namespace

absl::Status ValidateProduct(const v1::Product& product) {
  const std::string& item = product.item();
  if (item.empty()) return Invalid("product.item: required");
  if (product.kind() == v1::ITEM_KIND_UNSPECIFIED ||
      !v1::ItemKind_IsValid(product.kind())) {
    return Invalid(
        "product.kind: required: finished device, component or raw material");
  }
  if (product.kind() == v1::ITEM_KIND_FINISHED_DEVICE) {
    if (std::string why = WhyNotGtin14(item); !why.empty()) {
      return Invalid("product.item: \"", item, "\" is not a valid GTIN-14 (",
                     why, "); a finished device is identified by its GTIN-14");
    }
  } else if (!IsItemCode(item)) {
    return Invalid("product.item: \"", item,
                   "\" is not an item code: 1-40 characters of A-Z a-z 0-9 "
                   ". _ - (or a GTIN-14)");
  }
  if (IsBlank(product.name())) return Invalid("product.name: required");
  if (IsBlank(product.uom())) return Invalid("product.uom: required");
  if (!v1::Tracking_IsValid(product.tracking())) {
    return Invalid("product.tracking: unknown value ", product.tracking(),
                   "; TRACKING_LOT or TRACKING_SERIAL");
  }
  const v1::ShelfLifePolicy& policy = product.policy();
  if (policy.shelf_life_days() < 0) {
    return Invalid("product.policy.shelf_life_days: must be 0 or more, got ",
                   policy.shelf_life_days());
  }
  std::set<int32_t> thresholds;
  for (int32_t days : policy.alert_thresholds_days()) {
    if (days <= 0) {
      return Invalid(
          "product.policy.alert_thresholds_days: must be positive, got ", days);
    }
    if (!thresholds.insert(days).second) {
      return Invalid("product.policy.alert_thresholds_days: ", days,
                     " is listed twice");
    }
  }
  if (policy.min_remaining_days_to_ship() < 0) {
    return Invalid(
        "product.policy.min_remaining_days_to_ship: must be 0 or more, got ",
        policy.min_remaining_days_to_ship());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::Event>> Decide(
    const v1::LotsDecisionState& state, const v1::LotsCommand& cmd) {
  switch (cmd.command_case()) {
    case v1::LotsCommand::kDefineProduct:
      return DecideDefineProduct(state, cmd.define_product());
    case v1::LotsCommand::kCreateLot:
      return DecideCreateLot(state, cmd.create_lot());
    case v1::LotsCommand::kCorrectLot:
      return DecideCorrectLot(state, cmd.correct_lot());
    case v1::LotsCommand::kAssignSerials:
      return DecideAssignSerials(state, cmd.assign_serials());
    case v1::LotsCommand::COMMAND_NOT_SET:
      break;
  }
  return Invalid(
      "command: required: define_product, create_lot, correct_lot or "
      "assign_serials");
}

}  // namespace lotledger::lots
