// Signed checkpoints of the hash chains (docs/audit.md, events.proto
// ChainCheckpoint): Ed25519 keys (OpenSSL 3 EVP), the publisher a writer
// runs beside its topic, and the running partition digest both the
// publisher and the verifier compute.
//
// Thread-safety: Signer and PublicKeys are immutable after creation and
// safe from any thread. A CheckpointPublisher's Start/Stop/Step are called
// from one controlling thread; it runs its own thread once started.
#ifndef LOTLEDGER_LIBS_AUDIT_CHECKPOINT_H_
#define LOTLEDGER_LIBS_AUDIT_CHECKPOINT_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/eventlog/event_log.h"
#include "libs/eventlog/record_codec.h"
#include "lotledger/v1/events.pb.h"

namespace lotledger::audit {

// A fresh Ed25519 key pair as PEM text: (private PKCS#8, public SPKI).
absl::StatusOr<std::pair<std::string, std::string>> GenerateEd25519Pem();

// Signs with one Ed25519 private key.
class Signer {
 public:
  // From a PEM private key file (openssl genpkey -algorithm ed25519).
  static absl::StatusOr<std::unique_ptr<Signer>> FromPemFile(
      const std::string& path);
  static absl::StatusOr<std::unique_ptr<Signer>> FromPem(
      const std::string& pem);
  ~Signer();
  absl::StatusOr<std::string> Sign(std::string_view message) const;
  const std::string& key_id() const { return key_id_; }

 private:
  Signer() = default;
  void* pkey_ = nullptr;  // EVP_PKEY*
  std::string key_id_;
};

// The public keys a verifier trusts, by key id (several during a rotation).
class PublicKeys {
 public:
  // From PEM public key files (openssl pkey -pubout).
  static absl::StatusOr<std::unique_ptr<PublicKeys>> FromPemFiles(
      const std::vector<std::string>& paths);
  static absl::StatusOr<std::unique_ptr<PublicKeys>> FromPems(
      const std::vector<std::string>& pems);
  ~PublicKeys();
  // NotFound for an unknown key id; PermissionDenied for a bad signature.
  absl::Status Verify(const std::string& key_id, std::string_view message,
                      std::string_view signature) const;

 private:
  PublicKeys() = default;
  std::map<std::string, void*> keys_;  // key id -> EVP_PKEY*
};

// The running digest of a partition: d0 = 32 zero bytes,
// d(i) = SHA-256(d(i-1) || record hash).
std::string AdvanceDigest(const std::string& digest,
                          const std::string& record_hash);
inline std::string InitialDigest() { return std::string(32, '\0'); }

// The key a checkpoint of `partition` is written under: it maps to that
// partition (Kafka's default partitioner).
std::string CheckpointKey(int32_t partition, int32_t partitions);

struct CheckpointOptions {
  std::string topic;         // without the prefix
  std::string topic_prefix;  // of this deployment
  std::string source;        // ce_source and actor, e.g. "lotledger/lots"
  uint64_t every_records = 1000;
  absl::Duration every = absl::Minutes(1);
};

// Reads its topic from the start and, per partition, publishes a signed
// checkpoint once `every_records` records are uncovered, or when some are
// and `every` has passed since the last one.
class CheckpointPublisher {
 public:
  CheckpointPublisher(eventlog::EventLog* log, const Signer* signer,
                      CheckpointOptions options);
  ~CheckpointPublisher();  // Stop()

  absl::Status Start();  // Open() and a thread that calls Step()
  void Stop();

  // For tests and Start: opens the reader at offset 0.
  absl::Status Open();
  // Reads what is new (waiting at most `timeout`) and publishes the
  // checkpoints due at `now`. Returns how many it published.
  absl::StatusOr<int> Step(absl::Duration timeout, absl::Time now);
  // Publishes a checkpoint for every partition with uncovered records,
  // after reading the log to its end.
  absl::StatusOr<int> PublishNow(absl::Time now);

 private:
  struct Partition {
    std::string digest = InitialDigest();
    uint64_t records = 0;
    uint64_t uncovered = 0;
    int64_t next_offset = 0;
    int64_t last_checkpoint_offset = -1;
    absl::Time last_checkpoint_at = absl::InfinitePast();
    std::map<std::string, v1::CheckpointHead> heads;  // since the last one
    eventlog::ChainHead checkpoint_chain;
    std::string key;
    // A checkpoint append failed: it may still have landed (a Kafka commit
    // whose answer was lost). Nothing is published on the partition again
    // before CatchUp has read it to its settled end.
    bool uncertain = false;
  };
  absl::Status Read(absl::Duration timeout);
  // Waits until every earlier append of this process has a known outcome,
  // then reads partition `p` to its end offset: a checkpoint that landed
  // after all is then known, with its chain head.
  absl::Status CatchUp(int32_t p);
  absl::Status Publish(int32_t p, absl::Time now);

  eventlog::EventLog* log_;
  const Signer* signer_;
  CheckpointOptions options_;
  std::string full_topic_;
  int32_t partitions_ = 0;
  std::unique_ptr<eventlog::LogReader> reader_;
  std::map<int32_t, Partition> parts_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
};

}  // namespace lotledger::audit

#endif  // LOTLEDGER_LIBS_AUDIT_CHECKPOINT_H_
