#include "libs/audit/describe.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "libs/common/status_macros.h"
#include "libs/domain/lots/dates.h"
#include "libs/domain/serials/serials.h"

namespace lotledger::audit {
namespace {

std::string Qty(const v1::Quantity& q) {
  return q.uom().empty() ? absl::StrCat(q.amount())
                         : absl::StrCat(q.amount(), " ", q.uom());
}

// The quantity, and the units of a serialised product: "2 EA (SN0001..
// SN0002)".
std::string Units(const v1::Quantity& q, const domain::SerialRanges& serials) {
  if (serials.empty()) return Qty(q);
  return absl::StrCat(Qty(q), " (", domain::FormatSerials(serials), ")");
}

// "EUR 12.345" from millionths.
std::string MoneyText(const v1::Money& m) {
  const int64_t whole = m.micros() / 1'000'000;
  int64_t frac = m.micros() % 1'000'000;
  if (frac < 0) frac = -frac;
  std::string digits = absl::StrFormat("%06d", frac);
  while (digits.size() > 2 && digits.back() == '0') digits.pop_back();
  return absl::StrCat(m.currency(), " ",
                      m.micros() < 0 && whole == 0 ? "-" : "", whole, ".",
                      digits);
}

// "DISPOSITION_ON_HOLD" -> "on hold".
std::string EnumWords(const std::string& name, const std::string& prefix) {
  std::string s = name.starts_with(prefix) ? name.substr(prefix.size()) : name;
  s = absl::AsciiStrToLower(s);
  for (char& c : s) {
    if (c == '_') c = ' ';
  }
  return s;
}

std::string DispositionWords(v1::Disposition d) {
  if (d == v1::DISPOSITION_UNSPECIFIED) return "undecided";
  return EnumWords(v1::Disposition_Name(d), "DISPOSITION_");
}

std::string DateText(const v1::Date& d) {
  return d.year() == 0 ? "-" : lots::FormatDate(d);
}

// ", signed by <signer> (<meaning>)" for a recall's electronic signature;
// empty on events written before recalls were signed.
std::string SignedBy(const v1::Signature& sig) {
  if (sig.signer().empty()) return "";
  return absl::StrCat(", signed by ", sig.signer(), " (", sig.meaning(), ")");
}

}  // namespace

std::string Describe(const v1::Event& e) {
  switch (e.payload_case()) {
    case v1::Event::kProductDefined: {
      const v1::Product& p = e.product_defined().product();
      return absl::StrCat(
          "product ", p.item(), " defined: ", p.name(), " (",
          EnumWords(v1::ItemKind_Name(p.kind()), "ITEM_KIND_"), ", shelf life ",
          p.policy().shelf_life_days(), " days",
          p.tracking() == v1::TRACKING_SERIAL ? ", tracked by serial" : "",
          ")");
    }
    case v1::Event::kLotCreated: {
      const v1::LotCreated& c = e.lot_created();
      std::string s =
          absl::StrCat("lot ", c.lot_id(), " created: ", Qty(c.quantity()),
                       ", made ", DateText(c.manufactured_on()), ", expires ",
                       DateText(c.expires_on()));
      if (!c.site().empty()) absl::StrAppend(&s, ", at ", c.site());
      if (!c.supplier().empty()) {
        absl::StrAppend(&s, ", from supplier ", c.supplier(), " lot ",
                        c.supplier_lot());
      }
      if (c.inputs_size() > 0) {
        std::vector<std::string> in;
        for (const v1::LotInput& i : c.inputs()) {
          in.push_back(absl::StrCat(i.lot_id(), " (", Qty(i.quantity()), ")"));
        }
        absl::StrAppend(&s, ", from ", absl::StrJoin(in, ", "));
      }
      return s;
    }
    case v1::Event::kLotCorrected: {
      const v1::LotCorrected& c = e.lot_corrected();
      return absl::StrCat("lot ", c.lot_id(), " corrected: ", c.field(),
                          " from ", c.old_value(), " to ", c.new_value());
    }
    case v1::Event::kInspectionRecorded: {
      const v1::InspectionRecorded& i = e.inspection_recorded();
      return absl::StrCat(
          EnumWords(v1::InspectionType_Name(i.type()), "INSPECTION_TYPE_"),
          " inspection ", i.inspection_id(), " of ", i.lot_id(), ": ",
          i.passed() ? "passed" : "failed", " (", i.results_size(),
          " characteristics, sample of ", i.sample_size(), ")");
    }
    case v1::Event::kDispositionChanged: {
      const v1::DispositionChanged& d = e.disposition_changed();
      std::string s = absl::StrCat("disposition of ", d.lot_id(),
                                   " changed from ", DispositionWords(d.from()),
                                   " to ", DispositionWords(d.to()),
                                   ", signed by ", d.signature().signer(), " (",
                                   d.signature().meaning(), ")");
      if (d.has_deviation()) {
        absl::StrAppend(&s, " under deviation ", d.deviation().deviation_id(),
                        " approved by ", d.deviation().approval().signer());
      }
      return s;
    }
    case v1::Event::kLocationCreated: {
      const v1::Location& l = e.location_created().location();
      return absl::StrCat(
          "location ", l.location_id(), " created: ", l.name(), " (",
          EnumWords(v1::LocationKind_Name(l.kind()), "LOCATION_KIND_"),
          l.quarantine() ? ", quarantine" : "", ")");
    }
    case v1::Event::kStockReceived: {
      const v1::StockReceived& r = e.stock_received();
      return absl::StrCat("received ", Units(r.quantity(), r.serials()), " of ",
                          r.lot_id(), " at ", r.location_id(),
                          r.reference().empty() ? "" : " (", r.reference(),
                          r.reference().empty() ? "" : ")");
    }
    case v1::Event::kStockTransferred: {
      const v1::StockTransferred& t = e.stock_transferred();
      return absl::StrCat("moved ", Units(t.quantity(), t.serials()), " of ",
                          t.lot_id(), " from ", t.from_location_id(), " to ",
                          t.to_location_id());
    }
    case v1::Event::kStockShipped: {
      const v1::StockShipped& s = e.stock_shipped();
      return absl::StrCat("shipped ", Units(s.quantity(), s.serials()), " of ",
                          s.lot_id(), " from ", s.from_location_id(),
                          " to customer ", s.customer().customer_id(),
                          " (shipment ", s.shipment_id(), ", line ",
                          s.line_index() + 1, " of ", s.line_count(), ")");
    }
    case v1::Event::kStockReturned: {
      const v1::StockReturned& r = e.stock_returned();
      return absl::StrCat("customer ", r.customer_id(), " returned ",
                          Units(r.quantity(), r.serials()), " of ", r.lot_id(),
                          " to ", r.to_location_id(), " (",
                          EnumWords(v1::ReturnCondition_Name(r.condition()),
                                    "RETURN_CONDITION_"),
                          ")");
    }
    case v1::Event::kStockScrapped: {
      const v1::StockScrapped& s = e.stock_scrapped();
      return absl::StrCat(
          "scrapped ", Units(s.quantity(), s.serials()), " of ", s.lot_id(),
          " at ", s.location_id(), " (",
          EnumWords(v1::ScrapReason_Name(s.reason()), "SCRAP_REASON_"), ")");
    }
    case v1::Event::kStockAdjusted: {
      const v1::StockAdjusted& a = e.stock_adjusted();
      std::string s =
          absl::StrCat("counted ", Qty(a.counted()), " of ", a.lot_id(), " at ",
                       a.location_id(), " (book said ", Qty(a.previous()), ")");
      if (!a.serials_found().empty()) {
        absl::StrAppend(&s, ", found ",
                        domain::FormatSerials(a.serials_found()));
      }
      if (!a.serials_missing().empty()) {
        absl::StrAppend(&s, ", missing ",
                        domain::FormatSerials(a.serials_missing()));
      }
      return s;
    }
    case v1::Event::kSerialsAssigned: {
      const v1::SerialsAssigned& a = e.serials_assigned();
      return absl::StrCat("serials ", domain::FormatSerials(a.serials()),
                          " assigned to lot ", a.lot_id(), " (", a.count(),
                          ", ", a.lot_total(), " in the lot)");
    }
    case v1::Event::kDeviceUsageReported: {
      const v1::DeviceUsageReported& u = e.device_usage_reported();
      return absl::StrCat(
          "customer ", u.customer_id(), " reported ", u.count(), " of ",
          u.lot_id(), " used (", domain::FormatSerials(u.serials()), ") on ",
          DateText(u.used_on()), u.report_id().empty() ? "" : ", report ",
          u.report_id());
    }
    case v1::Event::kUnitCostSet: {
      const v1::UnitCostSet& c = e.unit_cost_set();
      return absl::StrCat("unit cost of ", c.item(), " set to ",
                          MoneyText(c.unit_cost()), " from ",
                          DateText(c.effective_from()));
    }
    case v1::Event::kExpiryThresholdCrossed: {
      const v1::ExpiryThresholdCrossed& x = e.expiry_threshold_crossed();
      return absl::StrCat("expiry alert for ", x.lot_id(), ": ", x.days_left(),
                          " days left (threshold ", x.threshold_days(),
                          ", expires ", DateText(x.expires_on()), ")");
    }
    case v1::Event::kLotExpired: {
      const v1::LotExpired& x = e.lot_expired();
      return absl::StrCat("lot ", x.lot_id(), " expired on ",
                          DateText(x.expires_on()), " with ", Qty(x.on_hand()),
                          " on hand");
    }
    case v1::Event::kRecallInitiated: {
      const v1::RecallInitiated& r = e.recall_initiated();
      return absl::StrCat(
          "recall ", r.recall_id(), " initiated (", "class ",
          absl::AsciiStrToUpper(EnumWords(
              v1::RecallClass_Name(r.classification()), "RECALL_CLASS_")),
          "): ", r.lots_size(), " lots in this part, ",
          r.part_index() == 0 ? absl::StrCat(r.lots_in_scope(), " in scope")
                              : absl::StrCat("part ", r.part_index() + 1),
          SignedBy(r.signature()));
    }
    case v1::Event::kRecallNotificationIssued: {
      const v1::RecallNotificationIssued& n = e.recall_notification_issued();
      int64_t units = 0;
      for (const v1::RecallNoticeLine& l : n.lines()) {
        units += domain::CountSerials(l.serials());
      }
      return absl::StrCat(
          "recall ", n.recall_id(), ": customer ", n.customer().customer_id(),
          " notified (", n.lines_size(), " lots",
          units > 0 ? absl::StrCat(", ", units, " serials") : "", ")");
    }
    case v1::Event::kRecallResponseRecorded: {
      const v1::RecallResponseRecorded& r = e.recall_response_recorded();
      return absl::StrCat("recall ", r.recall_id(), ": customer ",
                          r.customer_id(), " answered",
                          r.acknowledged() ? " (acknowledged)" : "",
                          r.nothing_found() ? ", nothing found" : "");
    }
    case v1::Event::kRecallClosed: {
      const v1::RecallClosed& c = e.recall_closed();
      return absl::StrCat("recall ", c.recall_id(), " closed: recovered ",
                          c.recovered(), " of ", c.distributed(),
                          " distributed", SignedBy(c.signature()));
    }
    case v1::Event::kRecallDrillCompleted: {
      const v1::RecallDrillCompleted& d = e.recall_drill_completed();
      return absl::StrCat("recall drill ", d.drill_id(), ": ",
                          d.lots_in_scope(), " lots in scope, ",
                          d.customers_affected(), " customers affected");
    }
    case v1::Event::kRecallScopeExtended: {
      const v1::RecallScopeExtended& x = e.recall_scope_extended();
      std::string lots;
      for (const v1::ScopedLot& l : x.lots()) {
        absl::StrAppend(&lots, lots.empty() ? "" : ", ", l.lot_id(),
                        " (made from ", l.via_lot_id(), ")");
      }
      return absl::StrCat("recall ", x.recall_id(), ": scope extended to ",
                          lots);
    }
    default:
      return absl::StrCat("event ", e.event_id(), " (payload ",
                          static_cast<int>(e.payload_case()), ")");
  }
}

std::string Reason(const v1::Event& e) {
  switch (e.payload_case()) {
    case v1::Event::kLotCorrected:
      return e.lot_corrected().reason();
    case v1::Event::kDispositionChanged:
      return e.disposition_changed().signature().reason();
    case v1::Event::kInspectionRecorded:
      return e.inspection_recorded().notes();
    case v1::Event::kStockTransferred:
      return e.stock_transferred().reason();
    case v1::Event::kStockScrapped:
      return e.stock_scrapped().notes();
    case v1::Event::kStockAdjusted:
      return e.stock_adjusted().reason();
    case v1::Event::kStockReturned:
      return e.stock_returned().notes();
    case v1::Event::kUnitCostSet:
      return e.unit_cost_set().reason();
    case v1::Event::kRecallInitiated:
      return e.recall_initiated().reason();
    case v1::Event::kRecallScopeExtended:
      return e.recall_scope_extended().reason();
    case v1::Event::kRecallClosed:
      return e.recall_closed().summary();
    case v1::Event::kRecallResponseRecorded:
      return e.recall_response_recorded().notes();
    default:
      return "";
  }
}

}  // namespace lotledger::audit
