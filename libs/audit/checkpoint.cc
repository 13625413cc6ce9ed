#include "libs/audit/checkpoint.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "libs/common/hash.h"
#include "libs/common/ids.h"
#include "libs/common/json_log.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"

namespace lotledger::audit {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
  }
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

absl::StatusOr<std::string> KeyId(EVP_PKEY* pkey) {
  unsigned char raw[32];
  size_t len = sizeof(raw);
  if (EVP_PKEY_get_raw_public_key(pkey, raw, &len) != 1 || len != 32) {
    return absl::InvalidArgumentError("the key is not an Ed25519 key");
  }
  return HexEncode(
      Sha256(std::string_view(reinterpret_cast<char*>(raw), len)).substr(0, 8));
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

}  // namespace

absl::StatusOr<std::pair<std::string, std::string>> GenerateEd25519Pem() {
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (pkey == nullptr) return absl::InternalError("Ed25519 keygen failed");
  BIO* priv = BIO_new(BIO_s_mem());
  BIO* pub = BIO_new(BIO_s_mem());
  const bool ok = PEM_write_bio_PrivateKey(priv, pkey, nullptr, nullptr, 0,
                                           nullptr, nullptr) == 1 &&
                  PEM_write_bio_PUBKEY(pub, pkey) == 1;
  std::pair<std::string, std::string> out{BioText(priv), BioText(pub)};
  BIO_free(priv);
  BIO_free(pub);
  EVP_PKEY_free(pkey);
  if (!ok) return absl::InternalError("cannot write the Ed25519 key as PEM");
  return out;
}

absl::StatusOr<std::unique_ptr<Signer>> Signer::FromPemFile(
    const std::string& path) {
  ASSIGN_OR_RETURN(std::string pem, ReadFile(path));
  return FromPem(pem);
}

absl::StatusOr<std::unique_ptr<Signer>> Signer::FromPem(
    const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (pkey == nullptr || EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
    if (pkey != nullptr) EVP_PKEY_free(pkey);
    return absl::InvalidArgumentError(
        "checkpoint key: not a PEM Ed25519 private key (openssl genpkey "
        "-algorithm ed25519)");
  }
  std::unique_ptr<Signer> s(new Signer());
  s->pkey_ = pkey;
  ASSIGN_OR_RETURN(s->key_id_, KeyId(pkey));
  return s;
}

Signer::~Signer() { EVP_PKEY_free(static_cast<EVP_PKEY*>(pkey_)); }

absl::StatusOr<std::string> Signer::Sign(std::string_view message) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string sig(64, '\0');
  size_t len = sig.size();
  const bool ok =
      EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr,
                         static_cast<EVP_PKEY*>(pkey_)) == 1 &&
      EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return absl::InternalError("Ed25519 signing failed");
  sig.resize(len);
  return sig;
}

absl::StatusOr<std::unique_ptr<PublicKeys>> PublicKeys::FromPemFiles(
    const std::vector<std::string>& paths) {
  std::vector<std::string> pems;
  for (const std::string& p : paths) {
    ASSIGN_OR_RETURN(std::string pem, ReadFile(p));
    pems.push_back(std::move(pem));
  }
  return FromPems(pems);
}

absl::StatusOr<std::unique_ptr<PublicKeys>> PublicKeys::FromPems(
    const std::vector<std::string>& pems) {
  std::unique_ptr<PublicKeys> keys(new PublicKeys());
  for (const std::string& pem : pems) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (pkey == nullptr || EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
      if (pkey != nullptr) EVP_PKEY_free(pkey);
      return absl::InvalidArgumentError(
          "public key: not a PEM Ed25519 public key (openssl pkey -pubout)");
    }
    absl::StatusOr<std::string> id = KeyId(pkey);
    if (!id.ok()) {
      EVP_PKEY_free(pkey);
      return id.status();
    }
    auto [it, fresh] = keys->keys_.emplace(*id, pkey);
    if (!fresh) EVP_PKEY_free(pkey);
  }
  return keys;
}

PublicKeys::~PublicKeys() {
  for (auto& [id, k] : keys_) EVP_PKEY_free(static_cast<EVP_PKEY*>(k));
}

absl::Status PublicKeys::Verify(const std::string& key_id,
                                std::string_view message,
                                std::string_view signature) const {
  auto it = keys_.find(key_id);
  if (it == keys_.end()) {
    return absl::NotFoundError(
        absl::StrCat("signed with key ", key_id, ", which is not trusted"));
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok =
      EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr,
                           static_cast<EVP_PKEY*>(it->second)) == 1 &&
      EVP_DigestVerify(ctx,
                       reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(),
                       reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) {
    return absl::PermissionDeniedError(
        absl::StrCat("the signature does not verify with key ", key_id));
  }
  return absl::OkStatus();
}

std::string AdvanceDigest(const std::string& digest,
                          const std::string& record_hash) {
  return Sha256(digest + record_hash);
}

std::string CheckpointKey(int32_t partition, int32_t partitions) {
  for (int n = 0;; ++n) {
    std::string key = absl::StrCat("~checkpoint.", partition, ".", n);
    if (PartitionForKey(key, partitions) == partition) return key;
  }
}

CheckpointPublisher::CheckpointPublisher(eventlog::EventLog* log,
                                         const Signer* signer,
                                         CheckpointOptions options)
    : log_(log), signer_(signer), options_(std::move(options)) {
  full_topic_ = options_.topic_prefix + options_.topic;
}

CheckpointPublisher::~CheckpointPublisher() { Stop(); }

absl::Status CheckpointPublisher::Open() {
  ASSIGN_OR_RETURN(partitions_, log_->PartitionCount(full_topic_));
  eventlog::Offsets start;
  for (int32_t p = 0; p < partitions_; ++p) {
    start[{full_topic_, p}] = 0;
    parts_[p].key = CheckpointKey(p, partitions_);
  }
  ASSIGN_OR_RETURN(reader_, log_->OpenReader(start));
  return absl::OkStatus();
}

absl::Status CheckpointPublisher::Start() {
  RETURN_IF_ERROR(Open());
  stop_ = false;
  thread_ = std::thread([this] {
    while (!stop_) {
      absl::StatusOr<int> s = Step(absl::Milliseconds(200), absl::Now());
      if (!s.ok()) {
        LogJson("error", "checkpoint publisher",
                {{"topic", full_topic_},
                 {"error", std::string(s.status().message())}});
        if (s.status().code() != absl::StatusCode::kUnavailable) return;
        absl::SleepFor(absl::Seconds(1));
      }
    }
  });
  return absl::OkStatus();
}

void CheckpointPublisher::Stop() {
  stop_ = true;
  if (reader_ != nullptr) reader_->Wakeup();
  if (thread_.joinable()) thread_.join();
}

absl::Status CheckpointPublisher::Read(absl::Duration timeout) {
  ASSIGN_OR_RETURN(eventlog::PollResult polled, reader_->Poll(1024, timeout));
  for (const eventlog::Record& r : polled.records) {
    Partition& part = parts_[r.partition];
    absl::StatusOr<v1::EventRecord> rec = eventlog::DecodeRecord(r.value);
    absl::StatusOr<v1::Event> event =
        rec.ok() ? eventlog::DecodeEvent(*rec) : rec.status();
    if (!event.ok()) {
      // Never sign over a log that does not verify.
      return absl::DataLossError(absl::StrCat(full_topic_, "/", r.partition,
                                              " offset ", r.offset, ": ",
                                              event.status().message()));
    }
    if (event->has_chain_checkpoint()) {
      v1::CheckpointStatement st;
      st.ParseFromString(event->chain_checkpoint().statement());
      if (r.key == part.key) {
        part.checkpoint_chain = {rec->seq(), rec->hash()};
      }
      part.last_checkpoint_offset = r.offset;
      if (part.records >= st.records()) {
        part.uncovered = part.records - st.records();
      }
      part.last_checkpoint_at = FromTimestamp(st.signed_at());
      continue;
    }
    part.digest = AdvanceDigest(part.digest, rec->hash());
    ++part.records;
    ++part.uncovered;
    v1::CheckpointHead& head = part.heads[r.key];
    head.set_aggregate_id(r.key);
    head.set_seq(rec->seq());
    head.set_hash(rec->hash());
    head.set_offset(r.offset);
  }
  for (const auto& [tp, next] : polled.next_offsets) {
    parts_[tp.partition].next_offset = next;
  }
  return absl::OkStatus();
}

absl::Status CheckpointPublisher::Publish(int32_t p, absl::Time now) {
  Partition& part = parts_[p];
  v1::CheckpointStatement st;
  st.set_topic(options_.topic);
  st.set_partition(p);
  st.set_end_offset(part.next_offset);
  st.set_records(part.records);
  st.set_digest(part.digest);
  for (auto& [key, head] : part.heads) *st.add_heads() = head;
  ToTimestamp(now, st.mutable_signed_at());
  st.set_previous_checkpoint_offset(part.last_checkpoint_offset);
  v1::Event event;
  event.set_event_id(NewUuidV7(now));
  event.set_aggregate_id(part.key);
  ToTimestamp(now, event.mutable_occurred_at());
  ToTimestamp(now, event.mutable_recorded_at());
  event.set_actor(options_.source);
  v1::ChainCheckpoint* cp = event.mutable_chain_checkpoint();
  st.SerializeToString(cp->mutable_statement());
  cp->set_key_id(signer_->key_id());
  ASSIGN_OR_RETURN(*cp->mutable_signature(), signer_->Sign(cp->statement()));
  eventlog::ChainHead head = part.checkpoint_chain;
  const v1::EventRecord rec = eventlog::Seal(event, head);
  absl::StatusOr<std::vector<eventlog::Position>> at = log_->Append(
      full_topic_, {eventlog::ToOutgoing(event, rec, options_.source)});
  if (!at.ok()) {
    // Sealing again on the same head could write this seq twice.
    part.uncertain = true;
    return at.status();
  }
  part.checkpoint_chain = head;
  part.last_checkpoint_offset = (*at)[0].offset;
  part.last_checkpoint_at = now;
  part.uncovered = 0;
  part.heads.clear();
  return absl::OkStatus();
}

absl::StatusOr<int> CheckpointPublisher::Step(absl::Duration timeout,
                                              absl::Time now) {
  RETURN_IF_ERROR(Read(timeout));
  int published = 0;
  for (auto& [p, part] : parts_) {
    if (part.last_checkpoint_at == absl::InfinitePast()) {
      part.last_checkpoint_at = now;
    }
    if (part.uncertain) {
      RETURN_IF_ERROR(CatchUp(p));
      part.uncertain = false;
    }
    const bool due =
        part.uncovered >= options_.every_records ||
        (part.uncovered > 0 && now - part.last_checkpoint_at >= options_.every);
    if (!due) continue;
    RETURN_IF_ERROR(Publish(p, now));
    ++published;
  }
  return published;
}

absl::Status CheckpointPublisher::CatchUp(int32_t p) {
  RETURN_IF_ERROR(log_->Settle(absl::Now() + absl::Seconds(30)));
  ASSIGN_OR_RETURN(const int64_t end, log_->EndOffset(full_topic_, p));
  int stalls = 0;
  while (parts_[p].next_offset < end) {
    const int64_t before = parts_[p].next_offset;
    RETURN_IF_ERROR(Read(absl::Milliseconds(500)));
    if (parts_[p].next_offset == before && ++stalls > 40) {
      return absl::UnavailableError("checkpoint: the log makes no progress");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int> CheckpointPublisher::PublishNow(absl::Time now) {
  for (int32_t p = 0; p < partitions_; ++p) {
    RETURN_IF_ERROR(CatchUp(p));
    parts_[p].uncertain = false;
  }
  int published = 0;
  for (auto& [p, part] : parts_) {
    if (part.uncovered == 0) continue;
    RETURN_IF_ERROR(Publish(p, now));
    ++published;
  }
  return published;
}

}  // namespace lotledger::audit
