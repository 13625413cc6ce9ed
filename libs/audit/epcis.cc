#include "libs/audit/epcis.h"

#include <cstdio>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/audit/topics.h"
#include "libs/common/json_log.h"
#include "libs/common/proto_time.h"
#include "libs/domain/serials/serials.h"

namespace lotledger::audit {
namespace {

// A JSON string literal.
std::string Q(std::string_view s) { return JsonString(s); }

// An object from "key": value pairs whose values are JSON already.
std::string Obj(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : kv) {
    if (!v.empty()) parts.push_back(absl::StrCat(Q(k), ":", v));
  }
  return absl::StrCat("{", absl::StrJoin(parts, ","), "}");
}

std::string Arr(const std::vector<std::string>& items) {
  return absl::StrCat("[", absl::StrJoin(items, ","), "]");
}

std::string Time(absl::Time t) {
  return Q(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone()));
}

std::string DateText(const v1::Date& d) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d", d.year(), d.month(),
                d.day());
  return buf;
}

// RFC 3986 unreserved characters stay; the rest is percent-encoded (GS1
// Digital Link: lot numbers may hold any of the 82 GS1 characters).
std::string Escape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

bool IsGtin14(std::string_view item) {
  if (item.size() != 14) return false;
  for (char c : item) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::string LocationUri(const std::string& location_id) {
  return absl::StrCat("urn:lotledger:location:", Escape(location_id));
}

std::string PartyUri(const std::string& customer_id) {
  return absl::StrCat("urn:lotledger:customer:", Escape(customer_id));
}

std::string Uom(const std::string& uom) {
  // UN/ECE Rec 20: two or three upper-case letters or digits.
  const std::string u = absl::AsciiStrToUpper(uom);
  if (u.size() < 2 || u.size() > 3) return "";
  for (char c : u) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) return "";
  }
  return Q(u);
}

std::string QuantityElement(const std::string& lot_id, int64_t amount,
                            const std::string& uom) {
  return Obj({{"epcClass", Q(LotClassUriOf(lot_id))},
              {"quantity", absl::StrCat(amount)},
              {"uom", Uom(uom)}});
}

std::string ClassOnly(const std::string& lot_id) {
  return Obj({{"epcClass", Q(LotClassUriOf(lot_id))}});
}

// The EPCs (SerialUri) of the serials of `ranges` of the lot.
std::vector<std::string> Epcs(const std::string& lot_id,
                              const domain::SerialRanges& ranges) {
  std::vector<std::string> out;
  const std::vector<std::string> serials = domain::SerialsOf(ranges);
  const size_t colon = lot_id.find(':');
  const std::string item = lot_id.substr(0, colon);
  out.reserve(serials.size());
  for (const std::string& serial : serials) {
    out.push_back(Q(SerialUri(item, serial)));
  }
  return out;
}

// What a movement moves: the units (epcList) of a serialised product,
// else the lot's class and quantity (quantityList).
std::pair<std::string, std::string> What(const std::string& lot_id,
                                         const domain::SerialRanges& serials,
                                         int64_t amount,
                                         const std::string& uom) {
  if (!serials.empty()) return {"epcList", Arr(Epcs(lot_id, serials))};
  return {"quantityList", Arr({QuantityElement(lot_id, amount, uom)})};
}

struct Base {
  std::string type = "ObjectEvent";
  std::string action;  // ObjectEvent only
  std::string biz_step;
  std::string disposition;
  std::string read_point;
  std::vector<std::pair<std::string, std::string>> extra;
};

std::string Render(const v1::Event& e, const Base& b) {
  std::vector<std::pair<std::string, std::string>> kv = {
      {"type", Q(b.type)},
      {"eventID", Q(absl::StrCat("urn:uuid:", e.event_id()))},
      {"eventTime", Time(BusinessTime(e))},
      {"recordTime", Time(RecordTime(e))},
      {"eventTimeZoneOffset", Q("+00:00")},
  };
  if (!b.action.empty()) kv.push_back({"action", Q(b.action)});
  for (const auto& x : b.extra) kv.push_back(x);
  if (!b.biz_step.empty()) kv.push_back({"bizStep", Q(b.biz_step)});
  if (!b.disposition.empty()) kv.push_back({"disposition", Q(b.disposition)});
  if (!b.read_point.empty()) {
    kv.push_back({"readPoint", Obj({{"id", Q(LocationUri(b.read_point))}})});
    kv.push_back({"bizLocation", Obj({{"id", Q(LocationUri(b.read_point))}})});
  }
  return Obj(kv);
}

std::string Ilmd(const v1::LotCreated& c) {
  std::vector<std::pair<std::string, std::string>> kv = {
      {"cbvmda:lotNumber", Q(c.lot_number())}};
  if (c.has_expires_on()) {
    kv.push_back({"cbvmda:itemExpirationDate", Q(DateText(c.expires_on()))});
  }
  if (c.has_manufactured_on()) {
    kv.push_back({"cbvmda:productionDate", Q(DateText(c.manufactured_on()))});
  }
  return Obj(kv);
}

// The EPCIS events for one lotledger event (none, one, or one per lot).
std::vector<std::string> Map(const v1::Event& e,
                             const std::set<std::string>& lots) {
  auto in_scope = [&](const std::string& lot) {
    return lots.empty() || lots.contains(lot);
  };
  switch (e.payload_case()) {
    case v1::Event::kLotCreated: {
      const v1::LotCreated& c = e.lot_created();
      const std::string out = QuantityElement(c.lot_id(), c.quantity().amount(),
                                              c.quantity().uom());
      Base b;
      b.biz_step = "commissioning";
      b.disposition = "active";
      b.read_point = c.site();
      if (c.inputs_size() > 0) {
        b.type = "TransformationEvent";
        std::vector<std::string> in;
        for (const v1::LotInput& i : c.inputs()) {
          in.push_back(QuantityElement(i.lot_id(), i.quantity().amount(),
                                       i.quantity().uom()));
        }
        b.extra = {{"inputQuantityList", Arr(in)},
                   {"outputQuantityList", Arr({out})},
                   {"ilmd", Ilmd(c)}};
      } else {
        b.action = "ADD";
        b.extra = {{"quantityList", Arr({out})}, {"ilmd", Ilmd(c)}};
      }
      return {Render(e, b)};
    }
    case v1::Event::kInspectionRecorded: {
      const v1::InspectionRecorded& i = e.inspection_recorded();
      Base b;
      b.action = "OBSERVE";
      b.biz_step = "inspecting";
      b.disposition = i.passed() ? "conformant" : "non_conformant";
      b.extra = {{"quantityList", Arr({ClassOnly(i.lot_id())})}};
      return {Render(e, b)};
    }
    case v1::Event::kDispositionChanged: {
      const v1::DispositionChanged& d = e.disposition_changed();
      Base b;
      b.action = "OBSERVE";
      b.extra = {{"quantityList", Arr({ClassOnly(d.lot_id())})}};
      switch (d.to()) {
        case v1::DISPOSITION_RELEASED:
          b.biz_step = "inspecting";
          b.disposition = "sellable_not_accessible";
          break;
        case v1::DISPOSITION_ON_HOLD:
          b.biz_step = "holding";
          b.disposition = "non_sellable_other";
          break;
        case v1::DISPOSITION_REJECTED:
          b.biz_step = "inspecting";
          b.disposition = "non_conformant";
          break;
        default:
          return {};
      }
      return {Render(e, b)};
    }
    case v1::Event::kStockReceived: {
      const v1::StockReceived& r = e.stock_received();
      Base b;
      b.action = "OBSERVE";
      b.biz_step = "receiving";
      b.disposition = "sellable_not_accessible";
      b.read_point = r.location_id();
      b.extra = {What(r.lot_id(), r.serials(), r.quantity().amount(),
                      r.quantity().uom())};
      return {Render(e, b)};
    }
    case v1::Event::kStockTransferred: {
      const v1::StockTransferred& t = e.stock_transferred();
      Base b;
      b.action = "OBSERVE";
      b.biz_step = "storing";
      b.read_point = t.to_location_id();
      b.extra = {
          What(t.lot_id(), t.serials(), t.quantity().amount(),
               t.quantity().uom()),
          {"sourceList",
           Arr({Obj({{"type", Q("location")},
                     {"source", Q(LocationUri(t.from_location_id()))}})})},
          {"destinationList",
           Arr({Obj({{"type", Q("location")},
                     {"destination", Q(LocationUri(t.to_location_id()))}})})}};
      return {Render(e, b)};
    }
    case v1::Event::kStockShipped: {
      const v1::StockShipped& s = e.stock_shipped();
      Base b;
      b.action = "OBSERVE";
      b.biz_step = "shipping";
      b.disposition = "in_transit";
      b.read_point = s.from_location_id();
      b.extra = {What(s.lot_id(), s.serials(), s.quantity().amount(),
                      s.quantity().uom()),
                 {"destinationList",
                  Arr({Obj({{"type", Q("owning_party")},
                            {"destination",
                             Q(PartyUri(s.customer().customer_id()))}})})}};
      return {Render(e, b)};
    }
    case v1::Event::kStockReturned: {
      const v1::StockReturned& r = e.stock_returned();
      Base b;
      b.action = "OBSERVE";
      b.biz_step = "receiving";
      b.disposition =
          r.condition() == v1::RETURN_CONDITION_RECALLED
              ? "recalled"
              : (r.condition() == v1::RETURN_CONDITION_DAMAGED ? "damaged"
                                                               : "returned");
      b.read_point = r.to_location_id();
      b.extra = {What(r.lot_id(), r.serials(), r.quantity().amount(),
                      r.quantity().uom()),
                 {"sourceList",
                  Arr({Obj({{"type", Q("owning_party")},
                            {"source", Q(PartyUri(r.customer_id()))}})})}};
      return {Render(e, b)};
    }
    case v1::Event::kStockScrapped: {
      const v1::StockScrapped& s = e.stock_scrapped();
      Base b;
      b.action = "DELETE";
      b.biz_step = "destroying";
      b.disposition = "destroyed";
      b.read_point = s.location_id();
      b.extra = {What(s.lot_id(), s.serials(), s.quantity().amount(),
                      s.quantity().uom())};
      return {Render(e, b)};
    }
    case v1::Event::kStockAdjusted: {
      const v1::StockAdjusted& a = e.stock_adjusted();
      Base b;
      b.action = "OBSERVE";
      b.biz_step = "cycle_counting";
      b.read_point = a.location_id();
      b.extra = {{"quantityList",
                  Arr({QuantityElement(a.lot_id(), a.counted().amount(),
                                       a.counted().uom())})}};
      // The units the count found (those it missed are not observed).
      if (!a.serials_found().empty()) {
        b.extra.push_back(
            {"epcList", Arr(Epcs(a.lot_id(), a.serials_found()))});
      }
      return {Render(e, b)};
    }
    case v1::Event::kLotExpired: {
      const v1::LotExpired& x = e.lot_expired();
      Base b;
      b.action = "OBSERVE";
      b.biz_step = "holding";
      b.disposition = "expired";
      b.extra = {{"quantityList", Arr({ClassOnly(x.lot_id())})}};
      return {Render(e, b)};
    }
    case v1::Event::kRecallInitiated: {
      const v1::RecallInitiated& r = e.recall_initiated();
      std::vector<std::string> classes, epcs;
      for (const v1::ScopedLot& l : r.lots()) {
        if (!in_scope(l.lot_id())) continue;
        if (l.serials().empty()) {
          classes.push_back(ClassOnly(l.lot_id()));
        } else {
          // In scope by serial: those units, not the lot.
          for (std::string& epc : Epcs(l.lot_id(), l.serials())) {
            epcs.push_back(std::move(epc));
          }
        }
      }
      if (classes.empty() && epcs.empty()) return {};
      Base b;
      b.action = "OBSERVE";
      b.biz_step = "holding";
      b.disposition = "recalled";
      if (!epcs.empty()) b.extra.push_back({"epcList", Arr(epcs)});
      if (!classes.empty()) b.extra.push_back({"quantityList", Arr(classes)});
      return {Render(e, b)};
    }
    case v1::Event::kSerialsAssigned: {
      // The units are commissioned: their serials join the lot (whose
      // number the ILMD carries).
      const v1::SerialsAssigned& a = e.serials_assigned();
      Base b;
      b.action = "ADD";
      b.biz_step = "commissioning";
      b.disposition = "active";
      const size_t colon = a.lot_id().find(':');
      b.extra = {
          {"epcList", Arr(Epcs(a.lot_id(), a.serials()))},
          {"ilmd",
           Obj({{"cbvmda:lotNumber", Q(colon == std::string::npos
                                           ? a.lot_id()
                                           : a.lot_id().substr(colon + 1))}})}};
      return {Render(e, b)};
    }
    case v1::Event::kDeviceUsageReported: {
      // Units used at a customer (e.g. implanted): the device, the day and
      // the customer; no patient data, and not the site's free text.
      const v1::DeviceUsageReported& u = e.device_usage_reported();
      Base b;
      b.action = "OBSERVE";
      b.biz_step = "dispensing";
      b.disposition = "dispensed";
      b.extra = {{"epcList", Arr(Epcs(u.lot_id(), u.serials()))},
                 {"sourceList",
                  Arr({Obj({{"type", Q("owning_party")},
                            {"source", Q(PartyUri(u.customer_id()))}})})}};
      return {Render(e, b)};
    }
    default:
      return {};
  }
}

}  // namespace

std::string LotClassUri(const std::string& item, const std::string& lot) {
  if (IsGtin14(item)) {
    return absl::StrCat("https://id.gs1.org/01/", item, "/10/", Escape(lot));
  }
  return absl::StrCat("urn:lotledger:class:", Escape(item), ":", Escape(lot));
}

std::string SerialUri(const std::string& item, const std::string& serial) {
  if (IsGtin14(item)) {
    return absl::StrCat("https://id.gs1.org/01/", item, "/21/", Escape(serial));
  }
  return absl::StrCat("urn:lotledger:unit:", Escape(item), ":", Escape(serial));
}

std::string LotClassUriOf(const std::string& lot_id) {
  const size_t colon = lot_id.find(':');
  if (colon == std::string::npos) return LotClassUri(lot_id, "");
  return LotClassUri(lot_id.substr(0, colon), lot_id.substr(colon + 1));
}

EpcisExport ToEpcisDocument(const std::vector<v1::Event>& events,
                            const std::set<std::string>& lots,
                            absl::Time created) {
  std::vector<std::string> list;
  for (const v1::Event& e : events) {
    for (std::string& s : Map(e, lots)) list.push_back(std::move(s));
  }
  EpcisExport out;
  out.events = static_cast<int>(list.size());
  out.document = Obj({
      {"@context", Arr({Q("https://ref.gs1.org/standards/epcis/2.0.0/"
                          "epcis-context.jsonld")})},
      {"type", Q("EPCISDocument")},
      {"schemaVersion", Q("2.0")},
      {"creationDate", Time(created)},
      {"epcisBody", Obj({{"eventList", Arr(list)}})},
  });
  return out;
}

}  // namespace lotledger::audit
