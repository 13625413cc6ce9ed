// lotledgerd: every lotledger service in one process on the embedded log.
//
// Besides the flags of every server (services/host), lotledgerd restores
// a backup (docs/backup.md) before it starts:
//   --restore-from=DIR          a backup directory (lotctl admin backup
//                               --out=DIR); its latest backup becomes
//                               <data dir>/log, which must not exist yet
//   --restore-backup-id=N       that backup instead of the latest
//   --require-checkpoint=FILE   signed checkpoints the restored log must
//                               still hold (a later backup's
//                               checkpoints-<id>.txt, or lotctl audit verify
//                               --save-checkpoints); repeatable
//   --restore-public-key=FILE   check the checkpoints' signatures with it
//                               (repeatable)
// The restored log's chains and checkpoints are verified (libs/audit); a
// break, or a log that ends before a required checkpoint, is refused
// naming the topic, partition and offset (exit 2, nothing restored). The
// projections are then rebuilt from the restored log as the services open.
// Once restored, start lotledgerd without these flags.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/audit/checkpoint.h"
#include "libs/audit/log_verify.h"
#include "libs/common/json_log.h"
#include "libs/server/process.h"
#include "services/admin/backup.h"
#include "services/host/host.h"

namespace {

constexpr char kProgram[] = "lotledgerd";

struct RestoreFlags {
  std::string from;
  std::string backup_id;
  std::vector<std::string> checkpoints;
  std::vector<std::string> public_keys;
};

// Takes the restore flags out of argv (--name=value or --name value); the
// rest goes to the server's own flag parser.
std::vector<char*> TakeRestoreFlags(int argc, char** argv, RestoreFlags& f) {
  const std::vector<std::pair<std::string, std::vector<std::string>*>> multi = {
      {"--require-checkpoint", &f.checkpoints},
      {"--restore-public-key", &f.public_keys}};
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&](std::string_view name, std::string& out) {
      if (arg.starts_with(std::string(name) + "=")) {
        out = std::string(arg.substr(name.size() + 1));
        return true;
      }
      if (arg == name && i + 1 < argc) {
        out = argv[++i];
        return true;
      }
      return false;
    };
    std::string v;
    if (value("--restore-from", f.from) ||
        value("--restore-backup-id", f.backup_id)) {
      continue;
    }
    bool taken = false;
    for (const auto& [name, list] : multi) {
      if (value(name, v)) {
        list->push_back(v);
        taken = true;
        break;
      }
    }
    if (!taken) rest.push_back(argv[i]);
  }
  rest.push_back(nullptr);
  return rest;
}

int Fail(const std::string& message) {
  lotledger::LogJson("error", "cannot start",
                     {{"program", kProgram}, {"error", message}});
  return 2;
}

int Restore(const RestoreFlags& f, int argc, char** argv) {
  absl::StatusOr<lotledger::server::ProcessConfig> config =
      lotledger::server::ParseProcessConfig(
          argc, argv, kProgram, lotledger::HostDefaults("embedded"));
  if (!config.ok()) return Fail(std::string(config.status().message()));
  // The restore's threads come first; RunHost's call is then too late.
  lotledger::server::ConfigureMalloc(*config);
  if (config->log != "embedded") {
    return Fail(
        "--restore-from restores the embedded log; a Kafka deployment "
        "recovers from its mirror (docs/backup.md)");
  }
  lotledger::admin::RestoreRequest req;
  req.backup_dir = f.from;
  req.data_dir = config->data_dir;
  req.topic_prefix = config->topic_prefix;
  if (!f.backup_id.empty() && !absl::SimpleAtoi(f.backup_id, &req.backup_id)) {
    return Fail(
        absl::StrCat("--restore-backup-id: not a number: ", f.backup_id));
  }
  for (const std::string& path : f.checkpoints) {
    std::ifstream in(path);
    if (!in)
      return Fail(absl::StrCat("--require-checkpoint: cannot read ", path));
    std::stringstream text;
    text << in.rdbuf();
    absl::StatusOr<std::vector<lotledger::audit::Anchor>> anchors =
        lotledger::audit::ParseAnchors(text.str());
    if (!anchors.ok()) {
      return Fail(absl::StrCat("--require-checkpoint ", path, ": ",
                               anchors.status().message()));
    }
    req.required.insert(req.required.end(), anchors->begin(), anchors->end());
  }
  std::unique_ptr<lotledger::audit::PublicKeys> keys;
  if (!f.public_keys.empty()) {
    absl::StatusOr<std::unique_ptr<lotledger::audit::PublicKeys>> k =
        lotledger::audit::PublicKeys::FromPemFiles(f.public_keys);
    if (!k.ok()) {
      return Fail(absl::StrCat("--restore-public-key: ", k.status().message()));
    }
    keys = *std::move(k);
    req.keys = keys.get();
  }
  absl::StatusOr<lotledger::admin::RestoreResult> r =
      lotledger::admin::RestoreEmbeddedLog(req);
  if (!r.ok()) {
    return Fail(
        absl::StrCat("restore from ", f.from, ": ", r.status().message()));
  }
  lotledger::LogJsonRaw(
      "info", "restored",
      {{"backup", absl::StrCat(r->backup_id)},
       {"records", absl::StrCat(r->records)},
       {"checkpoints", absl::StrCat(r->checkpoints)},
       {"required", absl::StrCat(req.required.size())},
       {"restore_ms", absl::StrCat(absl::ToInt64Milliseconds(r->elapsed))}});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  RestoreFlags restore;
  std::vector<char*> rest = TakeRestoreFlags(argc, argv, restore);
  const int rest_argc = static_cast<int>(rest.size()) - 1;
  if (restore.from.empty() &&
      (!restore.checkpoints.empty() || !restore.backup_id.empty() ||
       !restore.public_keys.empty())) {
    return Fail(
        "--restore-backup-id, --require-checkpoint and --restore-public-key "
        "go with --restore-from=DIR");
  }
  if (!restore.from.empty()) {
    if (const int rc = Restore(restore, rest_argc, rest.data()); rc != 0) {
      return rc;
    }
  }
  const int rc = lotledger::RunHost(
      rest_argc, rest.data(), kProgram,
      {"lots", "quality", "inventory", "recall", "audit"}, "embedded");
  for (int i = 1; i < rest_argc; ++i) {
    if (std::string_view(rest[i]) == "--help") {
      std::fputs(
          "\nRestore (docs/backup.md), before serving:\n"
          "  --restore-from=DIR         restore the latest backup in DIR "
          "into an empty --data-dir\n"
          "  --restore-backup-id=N      that backup instead of the latest\n"
          "  --require-checkpoint=FILE  signed checkpoints the restored log "
          "must hold (repeatable)\n"
          "  --restore-public-key=FILE  check their signatures (repeatable)\n",
          stdout);
    }
  }
  return rc;
}
