#include "libs/server/tls.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"

namespace lotledger::server {
namespace {

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
    if (o.insecure_dev) return grpc::InsecureServerCredentials();
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
