// The lotledger topics: the one place that names them, says which service
// writes each and which topics each service reads. Services build their
// ServiceSpec from it, the host its checkpoint publishers, the audit its
// list of audited topics, lotctl and the bench their readers and writers.
//
// A topic is "lotledger.<service>.v1"; ".v1" is the major version of the
// event schema it carries (a breaking change to events.proto would start
// ".v2" topics beside the old ones). The names here carry no deployment
// prefix: a deployment's --topic-prefix (tests and shared clusters use
// one, e.g. "k3.") is put in front where a topic is opened
// (command::ServiceCore::Open, audit::CheckpointPublisher, the bench's
// generator), never stored here.
//
// One service writes each topic; the audit service writes none and reads
// them all. No service reads its own topic as an input: its own events
// reach its projection as its own topic (ServiceSpec::own_topic).
//
// Thread-safety: immutable data and pure functions.
#ifndef LOTLEDGER_LIBS_COMMON_TOPICS_H_
#define LOTLEDGER_LIBS_COMMON_TOPICS_H_

#include <string>
#include <string_view>
#include <vector>

namespace lotledger::topics {

inline constexpr char kLots[] = "lotledger.lots.v1";
inline constexpr char kQuality[] = "lotledger.quality.v1";
inline constexpr char kInventory[] = "lotledger.inventory.v1";
inline constexpr char kRecall[] = "lotledger.recall.v1";

// One service and its topics.
struct ServiceTopics {
  // The service's name, as lotledgerd and the host know it ("lots").
  std::string_view service;
  // The topic it writes; empty when it writes none (audit).
  std::string_view writes;
  // The other services' topics it reads, in the order its projector
  // subscribes to them.
  std::vector<std::string_view> reads;
};

// Every service: lots, quality, inventory, recall, audit.
const std::vector<ServiceTopics>& Services();

// The entry of `service`; nullptr for a name that is not a service.
const ServiceTopics* Find(std::string_view service);

// Every topic, in the order a report lists them (lots, quality, inventory,
// recall).
const std::vector<std::string>& All();

// The topic `service` writes; "" when it writes none or is unknown.
std::string WrittenBy(std::string_view service);

// Standby writers (docs/adr/0006-standby-writers.md): the one-partition
// topic whose holder in the consumer group WriterGroup(service) is the
// service's writer; its records name the writer's address. "" for a
// service that writes no topic (or an unknown one).
std::string WriterLease(std::string_view service);
std::string WriterGroup(std::string_view service);

// The topics `service` reads besides its own (empty when unknown).
std::vector<std::string> ReadBy(std::string_view service);

}  // namespace lotledger::topics

#endif  // LOTLEDGER_LIBS_COMMON_TOPICS_H_
