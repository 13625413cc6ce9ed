#include "libs/domain/inventory/customers.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "libs/common/status_macros.h"
#include "libs/domain/common/refusals.h"

namespace lotledger::inventory {
namespace {

using domain::Invalid;
using domain::IsBlank;
using domain::Refuse;
using google::protobuf::Timestamp;
using google::protobuf::util::MessageDifferencer;

bool IsCustomerId(absl::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' ||
           c == '_' || c == '-';
  });
}

// One '@' with text on both sides and no white space.
bool IsEmail(absl::string_view email) {
  const size_t at = email.find('@');
  if (at == absl::string_view::npos || at == 0 || at + 1 >= email.size()) {
    return false;
  }
  if (email.find('@', at + 1) != absl::string_view::npos) return false;
  return std::none_of(email.begin(), email.end(), [](char c) {
    return absl::ascii_isspace(static_cast<unsigned char>(c));
  });
}

absl::Status CheckDays(int32_t days, absl::string_view field) {
  if (days < 0) return Invalid(field, ": must not be negative, got ", days);
  return absl::OkStatus();
}

// "customer H-12 (St. Mary)".
std::string CustomerName(const v1::CustomerRecord& c) {
  return c.name().empty()
             ? absl::StrCat("customer ", c.customer_id())
             : absl::StrCat("customer ", c.customer_id(), " (", c.name(), ")");
}

const v1::CustomerVersion* FindCustomer(const v1::InventoryDecisionState& state,
                                        const std::string& id) {
  auto it = state.customers().find(id);
  return it == state.customers().end() ? nullptr : &it->second;
}

v1::Event CustomerEvent(const std::string& customer_id,
                        const Timestamp* occurred_at) {
  v1::Event event;
  event.set_aggregate_id(CustomerAggregateId(customer_id));
  if (occurred_at != nullptr) *event.mutable_occurred_at() = *occurred_at;
  return event;
}

bool NotAfter(const Timestamp& a, const Timestamp& b) {
  return a.seconds() < b.seconds() ||
         (a.seconds() == b.seconds() && a.nanos() <= b.nanos());
}

}  // namespace

std::string CustomerAggregateId(absl::string_view customer_id) {
  return absl::StrCat("customer/", customer_id);
}

absl::Status ValidateCustomerRecord(const v1::CustomerRecord& r,
                                    absl::string_view field) {
  if (!IsCustomerId(r.customer_id())) {
    return Invalid(field, ".customer_id: \"", r.customer_id(),
                   "\" must be 1-64 of letters, digits, '.', '_', '-'");
  }
  if (IsBlank(r.name())) return Invalid(field, ".name: required");
  if (r.addresses().empty()) {
    return Invalid(field, ".addresses: at least one ship-to address");
  }
  for (int i = 0; i < r.addresses_size(); ++i) {
    if (IsBlank(r.addresses(i))) {
      return Invalid(field, ".addresses[", i, "]: blank");
    }
  }
  bool reachable = false;
  for (int i = 0; i < r.contacts_size(); ++i) {
    const v1::CustomerContact& c = r.contacts(i);
    if (IsBlank(c.name())) {
      return Invalid(field, ".contacts[", i, "].name: required");
    }
    if (!c.email().empty() && !IsEmail(c.email())) {
      return Invalid(field, ".contacts[", i, "].email: \"", c.email(),
                     "\" is not an email address (name@domain)");
    }
    if (IsBlank(c.email()) && IsBlank(c.phone())) {
      return Invalid(field, ".contacts[", i,
                     "]: an email or a phone is required, so a recall "
                     "notice can reach ",
                     c.name());
    }
    reachable = true;
  }
  if (!reachable) {
    return Invalid(field,
                   ".contacts: at least one contact with an email or a "
                   "phone, for recall notices");
  }
  const v1::ShelfLifeContract& s = r.shelf_life();
  RETURN_IF_ERROR(CheckDays(s.default_min_remaining_days(),
                            absl::StrCat(field,
                                         ".shelf_life.default_min_remaining_"
                                         "days")));
  std::set<std::string> items;
  for (int i = 0; i < s.products_size(); ++i) {
    const std::string at = absl::StrCat(field, ".shelf_life.products[", i, "]");
    const v1::ProductShelfLife& p = s.products(i);
    if (IsBlank(p.item())) return Invalid(at, ".item: required");
    if (!items.insert(p.item()).second) {
      return Invalid(at, ".item: ", p.item(),
                     " has a product entry already; one entry per product");
    }
    RETURN_IF_ERROR(CheckDays(p.min_remaining_days(),
                              absl::StrCat(at, ".min_remaining_days")));
  }
  std::map<std::string, std::string> group_of;
  std::set<std::string> groups;
  for (int i = 0; i < s.groups_size(); ++i) {
    const std::string at = absl::StrCat(field, ".shelf_life.groups[", i, "]");
    const v1::ProductGroupShelfLife& g = s.groups(i);
    if (IsBlank(g.group())) return Invalid(at, ".group: required");
    if (!groups.insert(g.group()).second) {
      return Invalid(at, ".group: \"", g.group(), "\" appears twice");
    }
    if (g.items().empty()) return Invalid(at, ".items: at least one item");
    for (int j = 0; j < g.items_size(); ++j) {
      if (IsBlank(g.items(j))) return Invalid(at, ".items[", j, "]: blank");
      auto [it, added] = group_of.emplace(g.items(j), g.group());
      if (!added) {
        return Invalid(at, ".items[", j, "]: ", g.items(j), " is in group \"",
                       it->second,
                       "\" already; an item is in at most one group");
      }
    }
    RETURN_IF_ERROR(CheckDays(g.min_remaining_days(),
                              absl::StrCat(at, ".min_remaining_days")));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::Event>> DecideRegisterCustomer(
    const v1::InventoryDecisionState& state,
    const v1::RegisterCustomerRequest& req) {
  RETURN_IF_ERROR(
      ValidateCustomerRecord(req.customer(), "register_customer.customer"));
  const v1::CustomerVersion* existing =
      FindCustomer(state, req.customer().customer_id());
  if (existing != nullptr) {
    if (MessageDifferencer::Equals(existing->customer(), req.customer())) {
      return std::vector<v1::Event>();
    }
    return Refuse(CustomerName(existing->customer()),
                  " is registered already with another record; change it "
                  "with UpdateCustomer, giving a reason");
  }
  v1::Event event =
      CustomerEvent(req.customer().customer_id(),
                    req.has_occurred_at() ? &req.occurred_at() : nullptr);
  v1::CustomerRegistered& registered = *event.mutable_customer_registered();
  *registered.mutable_customer() = req.customer();
  registered.set_reason(req.reason());
  return std::vector<v1::Event>{std::move(event)};
}

absl::StatusOr<std::vector<v1::Event>> DecideUpdateCustomer(
    const v1::InventoryDecisionState& state,
    const v1::UpdateCustomerRequest& req) {
  RETURN_IF_ERROR(
      ValidateCustomerRecord(req.customer(), "update_customer.customer"));
  if (IsBlank(req.reason())) {
    return Invalid(
        "update_customer.reason: required, e.g. \"new contract 2027\"");
  }
  const v1::CustomerVersion* existing =
      FindCustomer(state, req.customer().customer_id());
  if (existing == nullptr) {
    return Refuse("customer ", req.customer().customer_id(),
                  " is not registered; register it first (RegisterCustomer)");
  }
  if (MessageDifferencer::Equals(existing->customer(), req.customer())) {
    return std::vector<v1::Event>();
  }
  v1::Event event =
      CustomerEvent(req.customer().customer_id(),
                    req.has_occurred_at() ? &req.occurred_at() : nullptr);
  v1::CustomerUpdated& updated = *event.mutable_customer_updated();
  *updated.mutable_customer() = req.customer();
  updated.set_reason(req.reason());
  return std::vector<v1::Event>{std::move(event)};
}

void EvolveCustomer(v1::CustomerHistory& history, const v1::Event& event) {
  const v1::CustomerRecord* record = nullptr;
  const std::string* reason = nullptr;
  if (event.has_customer_registered()) {
    record = &event.customer_registered().customer();
    reason = &event.customer_registered().reason();
  } else if (event.has_customer_updated()) {
    record = &event.customer_updated().customer();
    reason = &event.customer_updated().reason();
  } else {
    return;
  }
  v1::CustomerVersion& v = *history.add_versions();
  v.set_version(history.versions_size());
  *v.mutable_customer() = *record;
  v.set_reason(*reason);
  v.set_actor(event.actor());
  *v.mutable_occurred_at() =
      event.has_occurred_at() ? event.occurred_at() : event.recorded_at();
  *v.mutable_recorded_at() = event.recorded_at();
  v.set_event_id(event.event_id());
}

const v1::CustomerVersion* CustomerAsOf(const v1::CustomerHistory& history,
                                        const Timestamp& at, bool record_time) {
  const v1::CustomerVersion* found = nullptr;
  for (const v1::CustomerVersion& v : history.versions()) {
    if (NotAfter(record_time ? v.recorded_at() : v.occurred_at(), at)) {
      found = &v;
    }
  }
  return found;
}

ShelfLifeRequirement ContractedShelfLife(const v1::CustomerRecord& customer,
                                         const std::string& item) {
  const v1::ShelfLifeContract& s = customer.shelf_life();
  auto rule = [&](int32_t days, const std::string& what) {
    ShelfLifeRequirement r;
    r.days = days;
    if (days > 0) {
      r.by = absl::StrCat(CustomerName(customer), " contracted ", what);
    }
    return r;
  };
  for (const v1::ProductShelfLife& p : s.products()) {
    if (p.item() == item) {
      return rule(p.min_remaining_days(),
                  absl::StrCat("minimum for product ", item));
    }
  }
  for (const v1::ProductGroupShelfLife& g : s.groups()) {
    if (std::find(g.items().begin(), g.items().end(), item) !=
        g.items().end()) {
      return rule(g.min_remaining_days(),
                  absl::StrCat("minimum for group ", g.group(), " (product ",
                               item, ")"));
    }
  }
  return rule(s.default_min_remaining_days(), "default minimum");
}

ShelfLifeRequirement CustomerMinimum(const v1::Customer& typed,
                                     const v1::CustomerRecord* registered,
                                     const std::string& item) {
  if (registered != nullptr) return ContractedShelfLife(*registered, item);
  ShelfLifeRequirement r;
  r.days = typed.min_remaining_shelf_life_days();
  if (r.days > 0) r.by = absl::StrCat("customer ", typed.customer_id());
  return r;
}

absl::Status CheckTypedCustomer(const v1::Customer& typed,
                                const v1::CustomerRecord& registered,
                                const std::vector<std::string>& items,
                                absl::string_view field) {
  const std::string who = CustomerName(registered);
  if (!typed.name().empty() && typed.name() != registered.name()) {
    return Refuse(field, ".name: \"", typed.name(), "\" contradicts ", who,
                  " as registered (\"", registered.name(),
                  "\"); leave it empty or correct it");
  }
  if (!typed.region().empty() && typed.region() != registered.region()) {
    return Refuse(field, ".region: \"", typed.region(), "\" contradicts ", who,
                  ", registered in region \"", registered.region(),
                  "\"; leave it empty or correct it");
  }
  if (!typed.address().empty() &&
      std::find(registered.addresses().begin(), registered.addresses().end(),
                typed.address()) == registered.addresses().end()) {
    return Refuse(field, ".address: \"", typed.address(),
                  "\" is not a ship-to address of ", who,
                  "; use a registered address or update the customer");
  }
  if (!typed.contacts().empty()) {
    bool same = typed.contacts_size() == registered.contacts_size();
    for (int i = 0; same && i < typed.contacts_size(); ++i) {
      same =
          MessageDifferencer::Equals(typed.contacts(i), registered.contacts(i));
    }
    if (!same) {
      return Refuse(field, ".contacts: contradict the contacts of ", who,
                    " as registered; leave them empty (the registered ones "
                    "are shipped)");
    }
  }
  const int32_t days = typed.min_remaining_shelf_life_days();
  if (days != 0) {
    for (const std::string& item : items) {
      const ShelfLifeRequirement contracted =
          ContractedShelfLife(registered, item);
      if (contracted.days != days) {
        return Refuse(field, ".min_remaining_shelf_life_days: ", days,
                      " contradicts ", who, "'s contracted minimum of ",
                      contracted.days, " days for product ", item,
                      "; leave it 0, or override with a signature "
                      "(shelf_life_override)");
      }
    }
  }
  return absl::OkStatus();
}

v1::Customer ShipmentCustomer(const v1::Customer& typed,
                              const v1::CustomerVersion& registered,
                              const std::string& item) {
  const v1::CustomerRecord& r = registered.customer();
  v1::Customer out;
  out.set_customer_id(r.customer_id());
  out.set_name(r.name());
  out.set_region(r.region());
  const bool typed_known = !typed.address().empty() &&
                           std::find(r.addresses().begin(), r.addresses().end(),
                                     typed.address()) != r.addresses().end();
  out.set_address(typed_known             ? typed.address()
                  : r.addresses().empty() ? ""
                                          : r.addresses(0));
  out.set_min_remaining_shelf_life_days(ContractedShelfLife(r, item).days);
  *out.mutable_contacts() = r.contacts();
  out.set_registered_version(registered.version());
  return out;
}

}  // namespace lotledger::inventory
