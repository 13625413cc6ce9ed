// EPCIS at serial level: a serialised implant (GTIN 09506000134352) whose
// lot L7 gets serials SN/01..SN/03 (a '/' to show the escaping), receives
// them, ships two to a hospital that reports one implanted, and is recalled
// by one serial. The export names the units as GS1 Digital Link SGTINs in
// epcList (not the lot's class), commissions them with an ADD carrying the
// lot number, reports the use as dispensing/dispensed without the site's
// text, and validates against the EPCIS 2.0 JSON schema in the repository
// (tools/audit/validate-epcis, the same check as e2e_audit_test).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "libs/audit/epcis.h"
#include "lotledger/v1/events.pb.h"

namespace lotledger::audit {
namespace {

constexpr char kGtin[] = "09506000134352";

void AddRange(google::protobuf::RepeatedPtrField<v1::SerialRange>* to,
              const std::string& first, const std::string& last = "") {
  v1::SerialRange* r = to->Add();
  r->set_first(first);
  r->set_last(last);
}

v1::Event At(int n) {
  v1::Event e;
  e.set_event_id(absl::StrCat("00000000-0000-4000-8000-00000000000", n));
  e.mutable_recorded_at()->set_seconds(1790000000 + n);
  return e;
}

std::vector<v1::Event> History() {
  const std::string lot = absl::StrCat(kGtin, ":L7");
  std::vector<v1::Event> out;
  {
    v1::Event e = At(1);
    v1::SerialsAssigned* a = e.mutable_serials_assigned();
    a->set_lot_id(lot);
    a->set_item(kGtin);
    AddRange(a->mutable_serials(), "SN/01", "SN/03");
    a->set_count(3);
    out.push_back(e);
  }
  {
    v1::Event e = At(2);
    v1::StockReceived* r = e.mutable_stock_received();
    r->set_lot_id(lot);
    r->set_location_id("WH1");
    r->mutable_quantity()->set_amount(3);
    r->mutable_quantity()->set_uom("EA");
    AddRange(r->mutable_serials(), "SN/01", "SN/03");
    out.push_back(e);
  }
  {
    v1::Event e = At(3);
    v1::StockShipped* s = e.mutable_stock_shipped();
    s->set_shipment_id("SHP-1");
    s->set_lot_id(lot);
    s->set_from_location_id("WH1");
    s->mutable_quantity()->set_amount(2);
    s->mutable_quantity()->set_uom("EA");
    s->mutable_customer()->set_customer_id("H-12");
    AddRange(s->mutable_serials(), "SN/01", "SN/02");
    out.push_back(e);
  }
  {
    v1::Event e = At(4);
    v1::DeviceUsageReported* u = e.mutable_device_usage_reported();
    u->set_lot_id(lot);
    u->set_customer_id("H-12");
    AddRange(u->mutable_serials(), "SN/02");
    u->set_count(1);
    u->set_site("OR 3, St. Mary");
    out.push_back(e);
  }
  {
    v1::Event e = At(5);
    v1::RecallInitiated* r = e.mutable_recall_initiated();
    r->set_recall_id("R-1");
    v1::ScopedLot* s = r->add_lots();
    s->set_lot_id(lot);
    s->set_reason(v1::SCOPE_REASON_SERIAL_LISTED);
    AddRange(s->mutable_serials(), "SN/02");
    out.push_back(e);
  }
  return out;
}

TEST(EpcisSerialTest, UnitsAreSgtinsAndTheDocumentValidates) {
  const EpcisExport doc =
      ToEpcisDocument(History(), {}, absl::FromUnixSeconds(1790000100));
  EXPECT_EQ(doc.events, 5);
  const std::string& d = doc.document;
  const std::string sn1 = "\"https://id.gs1.org/01/09506000134352/21/SN%2F01\"";
  const std::string sn2 = "\"https://id.gs1.org/01/09506000134352/21/SN%2F02\"";
  const std::string sn3 = "\"https://id.gs1.org/01/09506000134352/21/SN%2F03\"";
  EXPECT_EQ(SerialUri(kGtin, "SN/01"), sn1.substr(1, sn1.size() - 2));
  // Commissioning: all three, with the lot number.
  EXPECT_NE(d.find(absl::StrCat("\"action\":\"ADD\",\"epcList\":[", sn1, ",",
                                sn2, ",", sn3,
                                "],\"ilmd\":{\"cbvmda:"
                                "lotNumber\":\"L7\"}")),
            std::string::npos)
      << d;
  EXPECT_NE(d.find("\"bizStep\":\"commissioning\""), std::string::npos);
  // The shipment names its two units and no class of the lot.
  EXPECT_NE(d.find(absl::StrCat("\"epcList\":[", sn1, ",", sn2,
                                "],\"destinationList\"")),
            std::string::npos)
      << d;
  EXPECT_EQ(d.find("\"quantityList\""), std::string::npos) << d;
  // The use: dispensing / dispensed, no site text.
  EXPECT_NE(d.find(absl::StrCat("\"epcList\":[", sn2, "],\"sourceList\"")),
            std::string::npos);
  EXPECT_NE(d.find("\"bizStep\":\"dispensing\",\"disposition\":\"dispensed\""),
            std::string::npos)
      << d;
  EXPECT_EQ(d.find("St. Mary"), std::string::npos);
  // The recall: the unit in scope.
  EXPECT_NE(d.find(absl::StrCat("\"epcList\":[", sn2,
                                "],\"bizStep\":\"holding\","
                                "\"disposition\":\"recalled\"")),
            std::string::npos)
      << d;

  // Valid EPCIS 2.0 (the repository's schema and validator).
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    absl::StrCat("epcis-serial-", ::getpid());
  std::filesystem::create_directories(dir);
  std::ofstream((dir / "serial.jsonld").string()) << d;
  const std::string validate = EPCIS_VALIDATE;
  EXPECT_EQ(std::system((validate + " " + (dir / "serial.jsonld").string() +
                         " >" + (dir / "out.txt").string() + " 2>&1")
                            .c_str()),
            0)
      << std::ifstream((dir / "out.txt").string()).rdbuf();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lotledger::audit
