// The console's pages keep hostile values as text: lot numbers, units,
// reasons, names, descriptions and query strings full of markup are fed to
// the render functions as protobuf messages, and the output is checked
// like a DOM: every tag in it is one the console writes, no attribute is
// an event handler or unquoted, there is no <script>, and each hostile
// value is shown escaped. Also the effectiveness series and the ids the
// browser test relies on.
#include "services/console/render.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/common/html.h"
#include "libs/common/proto_time.h"
#include "services/console/http.h"

namespace lotledger::console {
namespace {

namespace v1 = lotledger::v1;
using ::testing::HasSubstr;
using ::testing::Not;

// Markup that would run script or add attributes if it were not escaped.
const std::string kHostile =
    "X\"><script>alert(1)</script><img src=x onerror=alert(2)>"
    "' onmouseover='alert(3)</title><svg onload=alert(4)>&amp;";

std::string Hostile(const std::string& tag) { return tag + kHostile; }

struct Tag {
  std::string name;
  std::vector<std::pair<std::string, std::string>> attributes;
};

// Splits `html` into its tags, failing the test on anything that is not a
// well-formed tag with double-quoted attribute values. Text between tags
// must hold no '<' or '>' (those would be unescaped user text).
std::vector<Tag> Tags(const std::string& html) {
  std::vector<Tag> out;
  size_t i = 0;
  while (true) {
    const size_t lt = html.find('<', i);
    const std::string text =
        html.substr(i, lt == std::string::npos ? std::string::npos : lt - i);
    EXPECT_EQ(text.find('>'), std::string::npos) << "stray '>' in: " << text;
    if (lt == std::string::npos) break;
    size_t p = lt + 1;
    if (html.compare(p, 8, "!DOCTYPE") == 0) {
      i = html.find('>', p) + 1;
      continue;
    }
    if (p < html.size() && html[p] == '/') ++p;
    Tag tag;
    while (
        p < html.size() &&
        (std::isalnum(static_cast<unsigned char>(html[p])) || html[p] == '-')) {
      tag.name.push_back(static_cast<char>(std::tolower(html[p++])));
    }
    EXPECT_FALSE(tag.name.empty()) << "a '<' that opens no tag at " << lt;
    while (p < html.size()) {
      while (p < html.size() &&
             std::isspace(static_cast<unsigned char>(html[p]))) {
        ++p;
      }
      if (html[p] == '>' || html.compare(p, 2, "/>") == 0) break;
      std::string name;
      while (p < html.size() &&
             !std::isspace(static_cast<unsigned char>(html[p])) &&
             html[p] != '=' && html[p] != '>' && html[p] != '/') {
        name.push_back(static_cast<char>(std::tolower(html[p++])));
      }
      std::string value;
      if (html[p] == '=') {
        ++p;
        EXPECT_EQ(html[p], '"') << "unquoted value of " << name;
        const size_t close = html.find('"', p + 1);
        value = html.substr(p + 1, close - p - 1);
        p = close + 1;
      }
      tag.attributes.emplace_back(name, value);
      if (name.empty()) {
        ADD_FAILURE() << "malformed tag at " << lt;
        break;
      }
    }
    out.push_back(tag);
    i = html.find('>', p) + 1;
  }
  return out;
}

const std::set<std::string>& AllowedTags() {
  static const auto* tags = new std::set<std::string>{
      "html",    "head", "meta",   "title",  "link",   "body",   "nav",
      "main",    "a",    "h1",     "h2",     "h3",     "p",      "span",
      "strong",  "dl",   "dt",     "dd",     "table",  "thead",  "tbody",
      "tr",      "th",   "td",     "ol",     "ul",     "li",     "time",
      "br",      "form", "input",  "button", "label",  "select", "option",
      "section", "div",  "svg",    "defs",   "marker", "path",   "text",
      "line",    "rect", "circle", "code"};
  return *tags;
}

// The DOM-like checks every rendered page must pass.
void ExpectSafe(const std::string& html, const std::string& what) {
  SCOPED_TRACE(what);
  std::string lower = html;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  EXPECT_THAT(lower, Not(HasSubstr("<script")));
  EXPECT_THAT(lower, Not(HasSubstr("<img")));
  for (const Tag& tag : Tags(html)) {
    EXPECT_TRUE(AllowedTags().count(tag.name) > 0)
        << "unexpected tag <" << tag.name << ">";
    for (const auto& [name, value] : tag.attributes) {
      EXPECT_NE(name.rfind("on", 0), 0u)
          << "event handler attribute " << name << " on <" << tag.name << ">";
      EXPECT_NE(name, "style") << "inline style on <" << tag.name << ">";
      if (name == "href") {
        EXPECT_EQ(value.rfind("/", 0), 0u) << "non-local link " << value;
        EXPECT_EQ(value.find(':', 0) == std::string::npos ||
                      value.rfind("/lots/", 0) == 0,
                  true)
            << "link with a scheme? " << value;
      }
    }
  }
  // The hostile value is on the page, as text.
  EXPECT_THAT(html, HasSubstr(HtmlEscape(kHostile)));
}

google::protobuf::Timestamp Ts(int64_t seconds) {
  google::protobuf::Timestamp t;
  t.set_seconds(seconds);
  return t;
}

v1::Signature Sig(const std::string& who) {
  v1::Signature s;
  s.set_signer(Hostile(who));
  s.set_meaning(Hostile("meaning"));
  s.set_reason(Hostile("reason"));
  *s.mutable_signed_at() = Ts(1774000000);
  return s;
}

LotPageData HostileLot() {
  LotPageData d;
  d.lot_id = Hostile("ITEM:");
  v1::Lot& lot = d.lot;
  lot.set_lot_id(d.lot_id);
  lot.set_item(Hostile("item"));
  lot.set_lot_number(Hostile("lot"));
  lot.mutable_quantity()->set_amount(5);
  lot.mutable_quantity()->set_uom(Hostile("uom"));
  lot.mutable_expires_on()->set_year(2027);
  lot.mutable_expires_on()->set_month(1);
  lot.mutable_expires_on()->set_day(2);
  lot.set_expiry_source(v1::EXPIRY_SOURCE_COMPONENT_CAP);
  lot.set_expiry_set_by_lot_id(Hostile("cap"));
  lot.set_site(Hostile("site"));
  lot.set_supplier(Hostile("supplier"));
  lot.set_created_by(Hostile("creator"));
  v1::LotCorrection* c = lot.add_corrections();
  c->mutable_correction()->set_field("site");
  c->mutable_correction()->set_old_value(Hostile("old"));
  c->mutable_correction()->set_new_value(Hostile("new"));
  c->mutable_correction()->set_reason(Hostile("why"));
  c->set_actor(Hostile("actor"));
  v1::Product product;
  product.set_name(Hostile("product"));
  d.product = product;
  v1::QualityRecord q;
  q.set_disposition(v1::DISPOSITION_RELEASED);
  v1::SignedDisposition* sd = q.add_signatures();
  sd->mutable_change()->set_to(v1::DISPOSITION_RELEASED);
  *sd->mutable_change()->mutable_signature() = Sig("signer");
  sd->mutable_change()->mutable_deviation()->set_deviation_id(Hostile("dev"));
  sd->mutable_change()->mutable_deviation()->set_justification(Hostile("just"));
  *sd->mutable_change()->mutable_deviation()->mutable_approval() =
      Sig("cosigner");
  d.quality = q;
  v1::LotInventory inv;
  inv.set_recalled(true);
  inv.set_recall_id(Hostile("recall"));
  v1::LocationStock* s = inv.add_stock();
  s->set_location_id(Hostile("loc"));
  s->set_amount(3);
  d.inventory = inv;
  for (const char* topic : {"lotledger.lots.v1", "lotledger.quality.v1"}) {
    v1::HistoryEntry e;
    e.set_topic(topic);
    e.set_event_type(Hostile("lotledger.v1.Type"));
    e.set_description(Hostile("description"));
    e.set_reason(Hostile("reason"));
    e.set_actor(Hostile("actor"));
    *e.mutable_occurred_at() = Ts(1774000000);
    *e.mutable_recorded_at() = Ts(1774000100);
    d.history.push_back(e);
  }
  d.history_error = Hostile("history error");
  v1::TraceNode* self = d.backward.add_nodes();
  self->set_lot_id(d.lot_id);
  self->set_item(lot.item());
  self->set_lot_number(lot.lot_number());
  v1::TraceNode* comp = d.backward.add_nodes();
  comp->set_lot_id(Hostile("COMP:"));
  comp->set_lot_number(Hostile("c"));
  comp->set_depth(1);
  v1::TraceEdge* edge = d.backward.add_edges();
  edge->set_parent_lot_id(d.lot_id);
  edge->set_child_lot_id(comp->lot_id());
  edge->mutable_quantity()->set_uom(Hostile("uom"));
  v1::TraceNode* derived = d.forward.add_nodes();
  derived->set_lot_id(Hostile("DER:"));
  derived->set_depth(1);
  d.trace_error = Hostile("trace");
  v1::VerifyLotResponse v;
  v.set_ok(false);
  v.mutable_first_break()->set_topic(Hostile("topic"));
  v.mutable_first_break()->set_aggregate_id(Hostile("agg"));
  v.mutable_first_break()->set_what(Hostile("what"));
  v.mutable_first_break()->set_expected(Hostile("exp"));
  d.verify = v;
  d.today.set_year(2026);
  d.today.set_month(12);
  d.today.set_day(6);
  return d;
}

TEST(RenderEscaping, LotPageKeepsHostileValuesAsText) {
  const LotPageData d = HostileLot();
  const std::string html = RenderLotPage(d);
  ExpectSafe(html, "lot page");
  for (const std::string& part : std::vector<std::string>{
           "lot", "uom", "reason", "description", "signer", "cosigner", "just",
           "loc", "recall", "why", "product", "what", "exp"}) {
    EXPECT_THAT(html, HasSubstr(HtmlEscape(Hostile(part)))) << part;
  }
  // Links to lots are %-encoded paths: no quote or bracket left to escape.
  EXPECT_THAT(html, HasSubstr("href=\"" + LotPath(d.lot_id) + "\""));
  EXPECT_EQ(LotPath(d.lot_id).find_first_of("\"'<> "), std::string::npos);
}

TEST(RenderEscaping, LotPageAsOfKeepsHostileValuesAsText) {
  LotPageData d = HostileLot();
  v1::LotAsOf as_of;
  as_of.set_exists(true);
  *as_of.mutable_lot() = d.lot;
  as_of.set_disposition(v1::DISPOSITION_ON_HOLD);
  as_of.set_disposition_by(Hostile("by"));
  as_of.set_disposition_reason(Hostile("held"));
  as_of.add_stock()->set_location_id(Hostile("then"));
  *as_of.mutable_at() = Ts(1773999990);  // before both events
  d.as_of = as_of;
  d.as_of_input = Hostile("2026-03-20");
  const std::string html = RenderLotPage(d);
  ExpectSafe(html, "lot page as of");
  EXPECT_THAT(html, HasSubstr("id=\"as-of-banner\""));
  EXPECT_THAT(html, HasSubstr(HtmlEscape(Hostile("held"))));
  EXPECT_THAT(html, HasSubstr(HtmlEscape(Hostile("then"))));
  // The event recorded after the as-of time is marked.
  EXPECT_THAT(html, HasSubstr("class=\"event later\""));
}

TEST(RenderEscaping, RecallPagesKeepHostileValuesAsText) {
  RecallPageData d;
  v1::Recall& r = d.recall;
  r.set_recall_id(Hostile("RC"));
  r.set_title(Hostile("title"));
  r.set_reason(Hostile("reason"));
  r.set_health_hazard(Hostile("hazard"));
  r.set_instructions(Hostile("instr"));
  r.set_initiated_by(Hostile("by"));
  r.set_status(v1::RECALL_STATUS_CLOSED);
  r.set_summary(Hostile("summary"));
  *r.mutable_initiation_signature() = Sig("init");
  *r.mutable_closure_signature() = Sig("close");
  v1::ScopedLot* l = r.add_scope();
  l->set_lot_id(Hostile("L:"));
  l->set_lot_number(Hostile("n"));
  l->set_reason(v1::SCOPE_REASON_DERIVED);
  l->set_via_lot_id(Hostile("via"));
  v1::CustomerResponse* resp = r.add_responses();
  resp->mutable_response()->set_customer_id(Hostile("cust"));
  resp->mutable_response()->set_notes(Hostile("notes"));
  resp->mutable_response()->add_lines()->set_lot_id(Hostile("rl"));
  resp->set_recorded_by(Hostile("rec"));
  v1::RecallImpact impact;
  v1::CustomerImpact* c = impact.add_customers();
  c->mutable_customer()->set_customer_id(Hostile("cid"));
  c->mutable_customer()->set_name(Hostile("name"));
  c->mutable_customer()->set_region(Hostile("region"));
  v1::CustomerLotImpact* cl = c->add_lots();
  cl->set_lot_id(Hostile("cl:"));
  cl->set_uom(Hostile("uom"));
  impact.add_lots()->mutable_lot()->set_lot_id(Hostile("il:"));
  d.impact = impact;
  v1::RecallNotification n;
  n.mutable_notice()->set_subject(Hostile("subject"));
  n.mutable_notice()->mutable_customer()->set_name(Hostile("nn"));
  n.mutable_notice()->add_lines()->set_uom(Hostile("nu"));
  n.set_issued_by(Hostile("issuer"));
  d.notifications.push_back(n);
  v1::Effectiveness e;
  e.add_unanswered_customer_ids(Hostile("silent"));
  *e.mutable_as_of() = Ts(1774000500);
  d.effectiveness = e;
  const std::string html = RenderRecallPage(d);
  ExpectSafe(html, "recall page");
  for (const std::string& part : std::vector<std::string>{
           "title", "hazard", "instr", "summary", "via", "cust", "notes",
           "name", "region", "uom", "subject", "issuer", "silent", "init",
           "close"}) {
    EXPECT_THAT(html, HasSubstr(HtmlEscape(Hostile(part)))) << part;
  }
  EXPECT_THAT(html,
              HasSubstr("href=\"" + RecallPath(r.recall_id()) + "/report.csv"));

  v1::RecallSummary s;
  s.set_recall_id(Hostile("RC"));
  s.set_title(Hostile("title"));
  s.set_initiated_by(Hostile("by"));
  ExpectSafe(RenderRecallList({s}), "recall list");
  // An error in a section, as the service worded it.
  RecallPageData failed;
  failed.recall.set_recall_id("R");
  failed.impact_error = kHostile;
  failed.notifications_error = kHostile;
  failed.effectiveness_error = kHostile;
  ExpectSafe(RenderRecallPage(failed), "recall page with errors");
}

TEST(RenderEscaping, ExpiryPageKeepsHostileValuesAsText) {
  ExpiryPageData d;
  d.location = Hostile("loc");
  v1::NearExpiryRow row;
  row.set_lot_id(Hostile("lot:"));
  row.set_location_id(Hostile("wh"));
  row.set_days_left(10);
  row.mutable_quantity()->set_amount(7);
  row.mutable_quantity()->set_uom(Hostile("uom"));
  d.stock.push_back(row);
  d.alerts.push_back(row);
  d.fefo_item = Hostile("item");
  d.fefo_quantity = Hostile("qty");
  v1::AllocateFefoResponse f;
  v1::ShipmentLine* line = f.add_lines();
  line->set_lot_id(Hostile("pick:"));
  line->set_location_id(Hostile("from"));
  f.set_required_shelf_life_days(90);
  f.set_required_by(Hostile("rule"));
  v1::FefoSkip* skip = f.add_skipped();
  skip->set_lot_id(Hostile("skipped:"));
  skip->set_reason(Hostile("gate"));
  d.fefo = f;
  d.stock_error = kHostile;
  d.alerts_error = kHostile;
  const std::string html = RenderExpiryPage(d);
  ExpectSafe(html, "expiry page");
  for (const std::string& part : std::vector<std::string>{
           "loc", "wh", "uom", "item", "qty", "from", "rule", "gate"}) {
    EXPECT_THAT(html, HasSubstr(HtmlEscape(Hostile(part)))) << part;
  }
  // The heat map cell holds the quantity as data.
  EXPECT_THAT(html, HasSubstr("data-qty=\"7\""));
  ExpiryPageData refused;
  refused.fefo_item = "X";
  refused.fefo_error = kHostile;
  ExpectSafe(RenderExpiryPage(refused), "expiry page with FEFO error");
}

TEST(RenderEscaping, SmallPagesKeepHostileValuesAsText) {
  ExpectSafe(RenderSearch(kHostile, kHostile), "search");
  ExpectSafe(RenderLogin(kHostile, kHostile), "login");
  ExpectSafe(RenderRefusal(403, kHostile), "refusal 403");
  ExpectSafe(RenderRefusal(401, kHostile), "refusal 401");
  ExpectSafe(RenderNotFound(kHostile), "not found");
  ExpectSafe(RenderError(kHostile, kHostile), "error");
  EXPECT_THAT(RenderRefusal(403, kHostile),
              HasSubstr("id=\"refusal\" role=\"alert\">" +
                        HtmlEscape(kHostile) + "</p>"));
}

TEST(RenderLot, TimelineAndGraphCarryTheContractIds) {
  const LotPageData d = HostileLot();
  const std::string html = RenderLotPage(d);
  int events = 0, links = 0;
  for (const Tag& tag : Tags(html)) {
    for (const auto& [name, value] : tag.attributes) {
      if (tag.name == "li" && name == "class" && value == "event") ++events;
      if (tag.name == "a" && name == "class" &&
          value.rfind("lot-link", 0) == 0) {
        ++links;
      }
    }
  }
  EXPECT_EQ(events, 2);
  EXPECT_EQ(links, 3);  // the lot, its component, the derived lot
  EXPECT_THAT(html, HasSubstr("data-service=\"quality\""));
  EXPECT_THAT(html, HasSubstr("data-record-time=\"2026-03-20T09:48:20Z\""));
  for (const char* id :
       {"lot-facts", "disposition", "timeline", "genealogy", "verify-form",
        "verify-button", "verify-result", "as-of-form", "as-of", "as-of-submit",
        "epcis-download"}) {
    EXPECT_THAT(html, HasSubstr(std::string("id=\"") + id + "\"")) << id;
  }
}

TEST(EffectivenessSeriesTest, OnePointAtInitiationPerResponseAndNow) {
  v1::Recall r;
  r.set_distributed_at_initiation(200);
  r.set_outstanding_at_initiation(180);  // 20 already back
  *r.mutable_initiated_at() = Ts(1000);
  v1::CustomerResponse* late = r.add_responses();
  *late->mutable_recorded_at() = Ts(3000);
  late->mutable_response()->add_lines()->set_destroyed(30);
  v1::CustomerResponse* early = r.add_responses();
  *early->mutable_recorded_at() = Ts(2000);
  v1::RecallResponseLine* line = early->mutable_response()->add_lines();
  line->set_returned(40);
  line->set_destroyed(10);
  v1::Effectiveness e;
  e.mutable_overall()->set_distributed(200);
  e.mutable_overall()->set_recovered(90);
  e.mutable_overall()->set_percent(45);
  *e.mutable_as_of() = Ts(4000);
  const std::vector<EffectivenessPoint> points = EffectivenessSeries(r, e);
  ASSERT_EQ(points.size(), 4u);
  EXPECT_EQ(points[0].time, absl::FromUnixSeconds(1000));
  EXPECT_EQ(points[0].recovered, 20);
  EXPECT_DOUBLE_EQ(points[0].percent, 10);
  EXPECT_EQ(points[1].time, absl::FromUnixSeconds(2000));  // sorted by time
  EXPECT_EQ(points[1].recovered, 70);
  EXPECT_DOUBLE_EQ(points[1].percent, 35);
  EXPECT_EQ(points[2].recovered, 100);
  EXPECT_DOUBLE_EQ(points[2].percent, 50);
  EXPECT_EQ(points[3].time, absl::FromUnixSeconds(4000));
  EXPECT_DOUBLE_EQ(points[3].percent, 45);  // the service's own figure

  // Nothing distributed: 100 %, and no more than distributed counted.
  v1::Recall none;
  *none.mutable_initiated_at() = Ts(1000);
  EXPECT_DOUBLE_EQ(EffectivenessSeries(none, std::nullopt)[0].percent, 100);
  RecallPageData page;
  page.recall = r;
  page.effectiveness = e;
  const std::string html = RenderRecallPage(page);
  EXPECT_THAT(html, HasSubstr("data-time=\"1970-01-01T00:33:20Z\" "
                              "data-percent=\"35.0\""));
}

}  // namespace
}  // namespace lotledger::console
