#include "libs/common/clock.h"

namespace lotledger {

SystemClock* SystemClock::Get() {
  static SystemClock* clock = new SystemClock();
  return clock;
}

}  // namespace lotledger
