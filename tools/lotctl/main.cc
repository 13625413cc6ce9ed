// lotctl: see tools/lotctl/cli.h (exit codes) and `lotctl --help`.
#include <iostream>
#include <string>
#include <vector>

#include "tools/lotctl/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return lotledger::lotctl::RunLotctl(std::move(args), std::cout, std::cerr);
}
