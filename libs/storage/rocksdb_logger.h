// StderrRocksLogger: RocksDB's own diagnostics (warnings and errors only)
// on stderr instead of the LOG file RocksDB keeps in the database
// directory. Why: when the disk is full, RocksDB 7.8 as Debian builds it
// (assertions on) aborts the process inside its file logger, writing about
// the error to a LOG file on that same full disk, instead of returning
// NoSpace (found by tests/faults/disk_full_test.cc). Every RocksDB database
// of lotledger (embedded log, projections) sets Options::info_log to one.
// Header-only: include it only from code that links RocksDB.
//
// Thread-safety: Logv may be called from RocksDB's threads at once; each
// line is one fwrite.
#ifndef LOTLEDGER_LIBS_STORAGE_ROCKSDB_LOGGER_H_
#define LOTLEDGER_LIBS_STORAGE_ROCKSDB_LOGGER_H_

#include <rocksdb/env.h>

#include <cstdarg>
#include <cstdio>
#include <memory>
#include <string>

namespace lotledger {

class StderrRocksLogger final : public rocksdb::Logger {
 public:
  // `db` names the database in each line ("embedded log", "projection").
  explicit StderrRocksLogger(std::string db)
      : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL),
        db_(std::move(db)) {}

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    char text[1024];
    std::vsnprintf(text, sizeof text, format, ap);
    const std::string line =
        "{\"level\":\"warn\",\"msg\":\"rocksdb\",\"db\":\"" + db_ +
        "\",\"detail\":\"" + Escape(text) + "\"}\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
  }

 private:
  static std::string Escape(const char* s) {
    std::string out;
    for (; *s != '\0'; ++s) {
      if (*s == '"' || *s == '\\') out += '\\';
      out += (static_cast<unsigned char>(*s) < 0x20) ? ' ' : *s;
    }
    return out;
  }
  std::string db_;
};

// The logger to set as rocksdb::Options::info_log.
inline std::shared_ptr<rocksdb::Logger> RocksLogger(std::string db) {
  return std::make_shared<StderrRocksLogger>(std::move(db));
}

}  // namespace lotledger

#endif  // LOTLEDGER_LIBS_STORAGE_ROCKSDB_LOGGER_H_
