#include "libs/command/writer_role.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace lotledger::command {

WriterRole::WriterRole(std::string service, bool writing)
    : service_(std::move(service)), writing_(writing) {}

absl::Status WriterRole::CheckWriting() const {
  if (writing_.load()) return absl::OkStatus();
  const std::string writer = writer_address();
  return absl::UnavailableError(absl::StrCat(
      "this replica of ", service_, " is a standby and takes no commands; ",
      writer.empty()
          ? "no writer is known yet (one is taking over): retry shortly"
          : absl::StrCat("the writer is at ", writer, " (trailing metadata ",
                         kWriterMetadata, "): retry there"),
      " with the same request id"));
}

void WriterRole::Promote() { writing_.store(true); }

void WriterRole::Demote(const std::string& why) {
  writing_.store(false);
  std::function<void(const std::string&)> call;
  {
    absl::MutexLock l(&mu_);
    if (demoted_) return;
    demoted_ = true;
    call = on_demoted_;
  }
  if (call) call(why);
}

void WriterRole::OnDemoted(std::function<void(const std::string&)> on_demoted) {
  absl::MutexLock l(&mu_);
  on_demoted_ = std::move(on_demoted);
}

void WriterRole::SetWriterAddress(std::string address) {
  absl::MutexLock l(&mu_);
  writer_address_ = std::move(address);
}

std::string WriterRole::writer_address() const {
  absl::MutexLock l(&mu_);
  return writer_address_;
}

}  // namespace lotledger::command
