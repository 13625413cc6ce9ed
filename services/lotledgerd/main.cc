// lotledgerd: every lotledger service in one process on the embedded log.
#include "services/host/host.h"

int main(int argc, char** argv) {
  return lotledger::RunHost(argc, argv, "lotledgerd",
                            {"lots", "quality", "inventory", "recall", "audit"},
                            "embedded");
}
