// audit-service: the read-only audit service alone, normally on Kafka.
#include "services/host/host.h"

int main(int argc, char** argv) {
  return lotledger::RunHost(argc, argv, "audit-service", {"audit"}, "kafka");
}
