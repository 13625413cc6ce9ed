#include "libs/server/tls.h"

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/common/trace_context.h"
#include "libs/server/early_auth.h"

namespace lotledger::server {
namespace {

// Plaintext server credentials that, unlike gRPC's
// InsecureServerCredentials (which aborts on SetAuthMetadataProcessor),
// carry an EarlyAuthProcessor: gRPC core's insecure credentials with a
// core metadata processor that calls its Check.
class PlaintextServerCredentials final : public grpc::ServerCredentials {
 public:
  // Only an EarlyAuthProcessor is supported (there is no AuthContext to
  // give another processor); any other is refused at AddPortToServer.
  void SetAuthMetadataProcessor(
      const std::shared_ptr<grpc::AuthMetadataProcessor>& processor) override {
    processor_ = processor;
  }

 private:
  int AddPortToServer(const std::string& addr, grpc_server* server) override {
    grpc_server_credentials* creds = grpc_insecure_server_credentials_create();
    if (processor_ != nullptr) {
      auto* early = dynamic_cast<EarlyAuthProcessor*>(processor_.get());
      if (early == nullptr) {
        grpc_server_credentials_release(creds);
        return 0;
      }
      // The state keeps the processor alive as long as the credentials.
      auto* state =
          new std::shared_ptr<grpc::AuthMetadataProcessor>(processor_);
      grpc_server_credentials_set_auth_metadata_processor(
          creds, {.process = &Process, .destroy = &Destroy, .state = state});
    }
    const int port = grpc_server_add_http2_port(server, addr.c_str(), creds);
    grpc_server_credentials_release(creds);
    return port;
  }

  static void Process(void* state, grpc_auth_context*, const grpc_metadata* md,
                      size_t num_md, grpc_process_auth_metadata_done_cb cb,
                      void* user_data) {
    auto* early = static_cast<EarlyAuthProcessor*>(
        static_cast<std::shared_ptr<grpc::AuthMetadataProcessor>*>(state)
            ->get());
    std::string_view path;
    std::optional<std::string_view> authorization;
    std::string_view traceparent;
    for (size_t i = 0; i < num_md; ++i) {
      const std::string_view key(
          reinterpret_cast<const char*>(GRPC_SLICE_START_PTR(md[i].key)),
          GRPC_SLICE_LENGTH(md[i].key));
      const std::string_view value(
          reinterpret_cast<const char*>(GRPC_SLICE_START_PTR(md[i].value)),
          GRPC_SLICE_LENGTH(md[i].value));
      if (key == ":path") path = value;
      if (key == "authorization") authorization = value;
      if (key == kTraceparentMetadata) traceparent = value;
    }
    // Plaintext: no client certificate.
    const absl::Status s =
        early->Check(path, authorization, false, traceparent);
    const std::string message(s.message());
    cb(user_data, nullptr, 0, nullptr, 0,
       static_cast<grpc_status_code>(s.code()),
       s.ok() ? nullptr : message.c_str());
  }

  static void Destroy(void* state) {
    delete static_cast<std::shared_ptr<grpc::AuthMetadataProcessor>*>(state);
  }

  std::shared_ptr<grpc::AuthMetadataProcessor> processor_;
};

absl::StatusOr<std::string> ReadPem(const std::string& flag,
                                    const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": cannot read ", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Checks now, at start, what the file watcher would only find out at the
// first handshake: the files hold a certificate and the key that fits it.
absl::Status CheckPair(const std::string& cert_pem, const std::string& key_pem,
                       const TlsOptions& o) {
  BIO* cb = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  BIO_free(cb);
  BIO* kb = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  BIO_free(kb);
  absl::Status s;
  if (cert == nullptr) {
    s = absl::InvalidArgumentError(
        absl::StrCat("--tls-cert: ", o.cert_file, " holds no PEM certificate"));
  } else if (key == nullptr) {
    s = absl::InvalidArgumentError(
        absl::StrCat("--tls-key: ", o.key_file, " holds no PEM private key"));
  } else if (X509_check_private_key(cert, key) != 1) {
    s = absl::InvalidArgumentError(
        absl::StrCat("--tls-key: ", o.key_file,
                     " does not fit the certificate in ", o.cert_file));
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  return s;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsOptions& o) {
  if (o.cert_file.empty() && o.key_file.empty()) {
    if (o.insecure_dev) return std::make_shared<PlaintextServerCredentials>();
    return absl::InvalidArgumentError(
        "--tls-cert and --tls-key: required (or --insecure-dev=true for "
        "plaintext on a developer's machine)");
  }
  if (o.cert_file.empty() || o.key_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls-cert and --tls-key: give both or neither");
  }
  ASSIGN_OR_RETURN(std::string cert, ReadPem("tls-cert", o.cert_file));
  ASSIGN_OR_RETURN(std::string key, ReadPem("tls-key", o.key_file));
  RETURN_IF_ERROR(CheckPair(cert, key, o));
  if (!o.client_ca_file.empty()) {
    ASSIGN_OR_RETURN(std::string ca,
                     ReadPem("tls-client-ca", o.client_ca_file));
    if (ca.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--tls-client-ca: ", o.client_ca_file, " holds no PEM certificate"));
    }
  }
  const unsigned int refresh = static_cast<unsigned int>(
      std::max<int64_t>(1, absl::ToInt64Seconds(o.refresh)));
  auto provider =
      std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
          o.key_file, o.cert_file, o.client_ca_file, refresh);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (!o.client_ca_file.empty()) {
    options.watch_root_certs();
    // Clients may present a certificate (services) or not (people with a
    // bearer token); one that is presented must verify against the CA.
    options.set_cert_request_type(
        GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MakeChannelCredentials(const ClientTlsOptions& o) {
  if (o.insecure) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  if (!o.ca_file.empty()) {
    ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadPem("tls-ca", o.ca_file));
  }
  if (!o.cert_file.empty() || !o.key_file.empty()) {
    if (o.cert_file.empty() || o.key_file.empty()) {
      return absl::InvalidArgumentError(
          "--tls-cert and --tls-key: give both or neither");
    }
    ASSIGN_OR_RETURN(ssl.pem_cert_chain, ReadPem("tls-cert", o.cert_file));
    ASSIGN_OR_RETURN(ssl.pem_private_key, ReadPem("tls-key", o.key_file));
  }
  return grpc::SslCredentials(ssl);
}

grpc::ChannelArguments ChannelArgumentsFor(const ClientTlsOptions& o) {
  grpc::ChannelArguments args;
  if (!o.insecure && !o.server_name.empty()) {
    args.SetSslTargetNameOverride(o.server_name);
  }
  return args;
}

}  // namespace lotledger::server
