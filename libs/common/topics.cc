#include "libs/common/topics.h"

#include "absl/strings/str_cat.h"

namespace lotledger::topics {

const std::vector<ServiceTopics>& Services() {
  static const auto* services = new std::vector<ServiceTopics>{
      // Dispositions and recalls: a lot never consumes a component lot
      // that is on hold, rejected or under an open recall.
      {.service = "lots", .writes = kLots, .reads = {kQuality, kRecall}},
      // Lots to inspect and dispose; recalls that block a release.
      {.service = "quality", .writes = kQuality, .reads = {kLots, kRecall}},
      // Lots and their expiry, dispositions that gate shipping, recalls
      // that block every lot in their scope.
      {.service = "inventory",
       .writes = kInventory,
       .reads = {kLots, kQuality, kRecall}},
      // Genealogy and where stock went: a recall's scope and its reach.
      {.service = "recall", .writes = kRecall, .reads = {kLots, kInventory}},
      // The history of everything; writes nothing.
      {.service = "audit",
       .writes = "",
       .reads = {kLots, kQuality, kInventory, kRecall}},
  };
  return *services;
}

const ServiceTopics* Find(std::string_view service) {
  for (const ServiceTopics& s : Services()) {
    if (s.service == service) return &s;
  }
  return nullptr;
}

const std::vector<std::string>& All() {
  static const auto* all = new std::vector<std::string>([] {
    std::vector<std::string> out;
    for (const ServiceTopics& s : Services()) {
      if (!s.writes.empty()) out.emplace_back(s.writes);
    }
    return out;
  }());
  return *all;
}

std::string WrittenBy(std::string_view service) {
  const ServiceTopics* s = Find(service);
  return s == nullptr ? "" : std::string(s->writes);
}

std::string WriterLease(std::string_view service) {
  if (WrittenBy(service).empty()) return "";
  return absl::StrCat("lotledger.", std::string(service), ".writer-lease");
}

std::string WriterGroup(std::string_view service) {
  if (WrittenBy(service).empty()) return "";
  return absl::StrCat("lotledger.", std::string(service), ".writers");
}

std::vector<std::string> ReadBy(std::string_view service) {
  const ServiceTopics* s = Find(service);
  if (s == nullptr) return {};
  return std::vector<std::string>(s->reads.begin(), s->reads.end());
}

}  // namespace lotledger::topics
