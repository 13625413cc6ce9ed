// recall-service: the recall service alone, normally on Kafka.
#include "services/host/host.h"

int main(int argc, char** argv) {
  return lotledger::RunHost(argc, argv, "recall-service", {"recall"}, "kafka");
}
