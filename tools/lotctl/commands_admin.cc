// lotctl admin: operator actions on a running server (admin.proto), for
// the role admin.
//
//   lotctl admin rebuild SERVICE [--request-id=ID]
//   lotctl admin backup --out=DIR [--request-id=ID]
//
// A rebuild streams its progress: on a terminal, a bar on the error stream
// with records/s and the ETA; otherwise one line per phase there. The
// summary (digests, pause, speed) goes to the output; with --json, every
// progress message is one JSON line on the output instead. --timeout does
// not bound a rebuild (it runs as long as the replay takes); interrupting
// lotctl before the switch cancels it and the live projection stays as it
// was.
//
// A backup (lotledgerd only) writes into DIR on the server's filesystem,
// not lotctl's; it streams its phases and copy progress the same way and
// prints the backup's number, size, what it added to DIR, the records
// and checkpoints it holds and how long it took (docs/backup.md).
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lotledger/v1/admin.grpc.pb.h"
#include "tools/lotctl/context.h"

namespace lotledger::lotctl {
namespace {

std::string PhaseName(v1::RebuildProgress::Phase phase) {
  switch (phase) {
    case v1::RebuildProgress::PHASE_REPLAYING:
      return "replaying";
    case v1::RebuildProgress::PHASE_CATCHING_UP:
      return "catching up";
    case v1::RebuildProgress::PHASE_VERIFYING:
      return "verifying";
    case v1::RebuildProgress::PHASE_SWITCHED:
      return "switched";
    default:
      return "?";
  }
}

std::string Duration(double seconds) {
  if (seconds < 60) return absl::StrFormat("%.0fs", seconds);
  if (seconds < 3600) {
    return absl::StrFormat("%dm%02ds", static_cast<int>(seconds) / 60,
                           static_cast<int>(seconds) % 60);
  }
  return absl::StrFormat("%dh%02dm", static_cast<int>(seconds) / 3600,
                         static_cast<int>(seconds) / 60 % 60);
}

// "[#####.....] lots replaying 1200/5000 records  800 records/s  ETA 5s"
std::string Bar(const v1::RebuildProgress& p) {
  constexpr int kWidth = 30;
  const int64_t total = std::max<int64_t>(p.records_total(), 0);
  const int filled = total == 0
                         ? kWidth
                         : static_cast<int>(std::min<int64_t>(
                               kWidth, p.records_applied() * kWidth / total));
  std::string eta = p.eta_seconds() > 0
                        ? absl::StrCat("  ETA ", Duration(p.eta_seconds()))
                        : "";
  return absl::StrCat(
      "[", std::string(filled, '#'), std::string(kWidth - filled, '.'), "] ",
      p.service(), " ", PhaseName(p.phase()), " ", p.records_applied(), "/",
      total, " records  ", absl::StrFormat("%.0f", p.records_per_second()),
      " records/s", eta);
}

int Rebuild(Context& ctx, ParsedArgs& args) {
  absl::StatusOr<Flags> flags =
      Flags::Take(args, {{"request-id", FlagKind::kValue}});
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, "admin rebuild"); !s.ok()) {
    return ctx.Usage(s);
  }
  if (args.positional.size() != 1) {
    return ctx.Usage(absl::InvalidArgumentError(
        "usage: lotctl admin rebuild SERVICE (lots, quality, inventory, "
        "recall or audit)"));
  }
  v1::RebuildProjectionRequest req;
  req.set_request_id(ctx.RequestId(*flags));
  req.set_service(args.positional[0]);
  auto stub = v1::AdminService::NewStub(ctx.channel());
  auto call = ctx.Call();
  call->set_deadline(std::chrono::system_clock::now() + std::chrono::hours(24));
  std::unique_ptr<grpc::ClientReader<v1::RebuildProgress>> reader =
      stub->RebuildProjection(call.get(), req);
  v1::RebuildProgress p;
  v1::RebuildProgress last;
  bool drawn = false;
  bool any = false;
  absl::Time last_drawn = absl::InfinitePast();
  while (reader->Read(&p)) {
    const bool phase_changed = !any || p.phase() != last.phase();
    any = true;
    if (ctx.json()) {
      ctx.PrintJson(p);
    } else if (ctx.env().err_is_tty) {
      const absl::Time now = ctx.env().now();
      if (phase_changed || now - last_drawn >= absl::Milliseconds(100)) {
        last_drawn = now;
        ctx.err() << "\r\033[K" << Bar(p) << std::flush;
        drawn = true;
      }
    } else if (phase_changed) {
      ctx.err() << Bar(p) << "\n";
    }
    last = p;
  }
  if (drawn) ctx.err() << "\n";
  grpc::Status s = reader->Finish();
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) return kExitOk;
  const bool match = last.digests_match();
  PrintFields(
      ctx.out(),
      {{"service", last.service()},
       {"phase", PhaseName(last.phase())},
       {"records", absl::StrCat(last.records_applied())},
       {"seconds", absl::StrFormat("%.2f", last.elapsed_seconds())},
       {"records/s", absl::StrFormat("%.0f", last.records_per_second())},
       {"paused", absl::StrFormat("%.3f s", last.pause_seconds())},
       {"directory", last.directory()},
       {"old digest", last.old_digest()},
       {"new digest", last.new_digest()},
       {"digests match",
        match ? "yes"
              : (last.old_healthy()
                     ? "NO: the old projection had drifted from the log"
                     : "no (the old projector had stopped on an error)")}});
  return kExitOk;
}

std::string BackupPhaseName(v1::BackupProgress::Phase phase) {
  switch (phase) {
    case v1::BackupProgress::PHASE_CHECKPOINT:
      return "checkpoint";
    case v1::BackupProgress::PHASE_VERIFYING:
      return "verifying";
    case v1::BackupProgress::PHASE_COPYING:
      return "copying";
    case v1::BackupProgress::PHASE_DONE:
      return "done";
    default:
      return "?";
  }
}

std::string Bytes(int64_t n) {
  if (n < (1 << 20)) return absl::StrFormat("%.1f KiB", n / 1024.0);
  if (n < (1LL << 30)) return absl::StrFormat("%.1f MiB", n / 1048576.0);
  return absl::StrFormat("%.2f GiB", n / 1073741824.0);
}

// "backup copying 12.0 MiB of 40.0 MiB  3s"
std::string BackupLine(const v1::BackupProgress& p) {
  std::string line = absl::StrCat("backup ", BackupPhaseName(p.phase()));
  if (p.phase() == v1::BackupProgress::PHASE_COPYING) {
    absl::StrAppend(&line, " ", Bytes(p.bytes_copied()), " of at most ",
                    Bytes(p.bytes_total()));
  }
  absl::StrAppend(&line, "  ", Duration(p.elapsed_seconds()));
  return line;
}

int Backup(Context& ctx, ParsedArgs& args) {
  absl::StatusOr<Flags> flags = Flags::Take(
      args, {{"request-id", FlagKind::kValue}, {"out", FlagKind::kValue}});
  if (!flags.ok()) return ctx.Usage(flags.status());
  if (auto s = RejectUnknown(args, "admin backup"); !s.ok()) {
    return ctx.Usage(s);
  }
  if (!args.positional.empty() || !flags->Has("out")) {
    return ctx.Usage(absl::InvalidArgumentError(
        "usage: lotctl admin backup --out=DIR (an absolute directory on the "
        "server)"));
  }
  v1::BackupRequest req;
  req.set_request_id(ctx.RequestId(*flags));
  req.set_out_dir(*flags->Get("out"));
  auto stub = v1::AdminService::NewStub(ctx.channel());
  auto call = ctx.Call();
  call->set_deadline(std::chrono::system_clock::now() + std::chrono::hours(24));
  std::unique_ptr<grpc::ClientReader<v1::BackupProgress>> reader =
      stub->Backup(call.get(), req);
  v1::BackupProgress p;
  v1::BackupProgress last;
  bool drawn = false;
  bool any = false;
  while (reader->Read(&p)) {
    const bool phase_changed = !any || p.phase() != last.phase();
    any = true;
    if (ctx.json()) {
      ctx.PrintJson(p);
    } else if (p.phase() != v1::BackupProgress::PHASE_DONE) {
      if (ctx.env().err_is_tty) {
        ctx.err() << "\r\033[K" << BackupLine(p) << std::flush;
        drawn = true;
      } else if (phase_changed) {
        ctx.err() << BackupLine(p) << "\n";
      }
    }
    last = p;
  }
  if (drawn) ctx.err() << "\n";
  grpc::Status s = reader->Finish();
  if (!s.ok()) return ctx.Fail(s);
  if (ctx.json()) return kExitOk;
  PrintFields(
      ctx.out(),
      {{"backup", absl::StrCat(last.backup_id())},
       {"directory", req.out_dir()},
       {"size",
        absl::StrCat(Bytes(last.size_bytes()), " in ", last.files(), " files")},
       {"added", absl::StrCat(Bytes(last.added_bytes()),
                              " (the rest is shared with earlier backups)")},
       {"records", absl::StrCat(last.records())},
       {"checkpoints",
        absl::StrCat(last.checkpoints(), " (", last.uncovered_records(),
                     " records after the latest)")},
       {"chains", last.chains_intact()
                      ? std::string("intact")
                      : absl::StrCat("BROKEN at ", last.first_break())},
       {"seconds", absl::StrFormat("%.2f", last.elapsed_seconds())},
       {"manifest", last.manifest_path()},
       {"checkpoints file", last.checkpoints_path()}});
  return kExitOk;
}

}  // namespace

int RunAdmin(Context& ctx, ParsedArgs& args) {
  const std::string sub = args.positional.empty() ? "" : args.positional[0];
  if (!args.positional.empty()) args.positional.erase(args.positional.begin());
  if (sub == "rebuild") return Rebuild(ctx, args);
  if (sub == "backup") return Backup(ctx, args);
  return ctx.Usage(absl::InvalidArgumentError(
      "usage: lotctl admin rebuild SERVICE | lotctl admin backup --out=DIR"));
}

}  // namespace lotledger::lotctl
