// absl::Time <-> google.protobuf.Timestamp, exact to the microsecond (the
// precision of every lotledger clock). Header-only; thread-safe.
#ifndef LOTLEDGER_LIBS_COMMON_PROTO_TIME_H_
#define LOTLEDGER_LIBS_COMMON_PROTO_TIME_H_

#include <google/protobuf/timestamp.pb.h>

#include "absl/time/time.h"

namespace lotledger {

inline void ToTimestamp(absl::Time t, google::protobuf::Timestamp* ts) {
  const int64_t us = absl::ToUnixMicros(t);
  // Floor division, so instants before 1970 keep nanos in [0, 1e9).
  int64_t seconds = us / 1000000;
  int64_t micros = us % 1000000;
  if (micros < 0) {
    micros += 1000000;
    seconds -= 1;
  }
  ts->set_seconds(seconds);
  ts->set_nanos(static_cast<int32_t>(micros) * 1000);
}

inline absl::Time FromTimestamp(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

}  // namespace lotledger

#endif  // LOTLEDGER_LIBS_COMMON_PROTO_TIME_H_
