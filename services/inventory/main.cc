// inventory-service: the inventory service alone, normally on Kafka.
#include "services/host/host.h"

int main(int argc, char** argv) {
  return lotledger::RunHost(argc, argv, "inventory-service", {"inventory"},
                            "kafka");
}
