// Reading protobuf state out of a projection: absent stays absent, bytes
// that do not parse are DataLoss naming what was read. Header-only;
// thread-safe as the store's Get.
#ifndef LOTLEDGER_LIBS_PROJECTION_STORED_MESSAGE_H_
#define LOTLEDGER_LIBS_PROJECTION_STORED_MESSAGE_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"

namespace lotledger::projection {

// `stored` is what ProjectionStore::Get or Batch::Get returned.
template <typename Message>
absl::StatusOr<std::optional<Message>> ParseStored(
    const absl::StatusOr<std::optional<std::string>>& stored,
    std::string_view what) {
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return std::optional<Message>();
  Message m;
  if (!m.ParseFromString(**stored)) {
    return absl::DataLossError(
        absl::StrCat("stored ", Sv(what), " cannot be decoded"));
  }
  return std::optional<Message>(std::move(m));
}

}  // namespace lotledger::projection

#endif  // LOTLEDGER_LIBS_PROJECTION_STORED_MESSAGE_H_
