// lots-service: the lots service alone, normally on Kafka.
#include "services/host/host.h"

int main(int argc, char** argv) {
  return lotledger::RunHost(argc, argv, "lots-service", {"lots"}, "kafka");
}
