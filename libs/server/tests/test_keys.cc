#include "libs/server/tests/test_keys.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace lotledger::server::testkeys {
namespace {

void Must(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(absl::StrCat("OpenSSL: ", what));
}

std::string PrivatePem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  Must(PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr,
                                nullptr) == 1,
       "write key");
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, len);
  BIO_free(bio);
  return out;
}

EVP_PKEY* ReadPrivate(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  Must(key != nullptr, "read key");
  return key;
}

std::string Bn(EVP_PKEY* key, const char* name, int pad = 0) {
  BIGNUM* bn = nullptr;
  Must(EVP_PKEY_get_bn_param(key, name, &bn) == 1, name);
  std::string out(std::max(BN_num_bytes(bn), pad), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()),
               static_cast<int>(out.size()));
  BN_free(bn);
  return out;
}

std::string CertPem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, len);
  BIO_free(bio);
  return out;
}

X509* ReadCert(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  Must(cert != nullptr, "read cert");
  return cert;
}

void AddExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  Must(ext != nullptr, "extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

Certificate MakeCert(const std::string& cn, const Certificate* ca) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  Must(key != nullptr, "keygen");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  static long serial = 1;
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()),
                             -1, -1, 0);
  X509* issuer = ca == nullptr ? cert : ReadCert(ca->cert_pem);
  EVP_PKEY* signer = ca == nullptr ? key : ReadPrivate(ca->key_pem);
  X509_set_issuer_name(cert, X509_get_subject_name(issuer));
  if (ca == nullptr) {
    AddExt(cert, issuer, NID_basic_constraints, "critical,CA:TRUE");
    AddExt(cert, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    AddExt(cert, issuer, NID_basic_constraints, "critical,CA:FALSE");
    AddExt(cert, issuer, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
    AddExt(cert, issuer, NID_ext_key_usage, "serverAuth,clientAuth");
  }
  AddExt(cert, issuer, NID_subject_key_identifier, "hash");
  Must(X509_sign(cert, signer, EVP_sha256()) > 0, "sign cert");
  Certificate out{CertPem(cert), PrivatePem(key)};
  if (ca != nullptr) {
    X509_free(issuer);
    EVP_PKEY_free(signer);
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

}  // namespace

std::string B64Url(std::string_view bytes) {
  std::string out;
  absl::WebSafeBase64Escape(absl::string_view(bytes.data(), bytes.size()),
                            &out);
  return out;
}

SigningKey NewRsaKey(const std::string& kid, int bits) {
  EVP_PKEY* key =
      EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits));
  Must(key != nullptr, "rsa keygen");
  SigningKey k;
  k.alg = "RS256";
  k.kid = kid;
  k.private_pem = PrivatePem(key);
  k.public_jwk = absl::StrCat(
      R"({"kty":"RSA","use":"sig","alg":"RS256","kid":")", kid, R"(","n":")",
      B64Url(Bn(key, OSSL_PKEY_PARAM_RSA_N)), R"(","e":")",
      B64Url(Bn(key, OSSL_PKEY_PARAM_RSA_E)), R"("})");
  EVP_PKEY_free(key);
  return k;
}

SigningKey NewEcKey(const std::string& kid) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  Must(key != nullptr, "ec keygen");
  SigningKey k;
  k.alg = "ES256";
  k.kid = kid;
  k.private_pem = PrivatePem(key);
  k.public_jwk = absl::StrCat(
      R"({"kty":"EC","use":"sig","alg":"ES256","crv":"P-256","kid":")", kid,
      R"(","x":")", B64Url(Bn(key, OSSL_PKEY_PARAM_EC_PUB_X, 32)), R"(","y":")",
      B64Url(Bn(key, OSSL_PKEY_PARAM_EC_PUB_Y, 32)), R"("})");
  EVP_PKEY_free(key);
  return k;
}

std::string Jwks(const std::vector<SigningKey>& keys) {
  std::vector<std::string> jwks;
  for (const SigningKey& k : keys) jwks.push_back(k.public_jwk);
  return absl::StrCat(R"({"keys":[)", absl::StrJoin(jwks, ","), "]}");
}

std::string SignJwt(const SigningKey& key, const std::string& header_json,
                    const std::string& claims_json) {
  const std::string input =
      absl::StrCat(B64Url(header_json), ".", B64Url(claims_json));
  EVP_PKEY* pkey = ReadPrivate(key.private_pem);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  Must(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, pkey) == 1,
       "sign init");
  Must(EVP_DigestSign(ctx, nullptr, &len,
                      reinterpret_cast<const unsigned char*>(input.data()),
                      input.size()) == 1,
       "sign size");
  std::string sig(len, '\0');
  Must(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                      reinterpret_cast<const unsigned char*>(input.data()),
                      input.size()) == 1,
       "sign");
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pkey);
  if (key.alg == "ES256") {  // DER -> r || s
    const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    Must(es != nullptr, "ecdsa der");
    std::string rs(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(es),
                 reinterpret_cast<unsigned char*>(rs.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(es),
                 reinterpret_cast<unsigned char*>(rs.data()) + 32, 32);
    ECDSA_SIG_free(es);
    sig = rs;
  }
  return absl::StrCat(input, ".", B64Url(sig));
}

std::string SignJwt(const SigningKey& key, const std::string& claims_json) {
  return SignJwt(key,
                 absl::StrCat(R"({"alg":")", key.alg, R"(","kid":")", key.kid,
                              R"(","typ":"JWT"})"),
                 claims_json);
}

Certificate NewCa(const std::string& cn) { return MakeCert(cn, nullptr); }

Certificate NewLeaf(const Certificate& ca, const std::string& cn) {
  return MakeCert(cn, &ca);
}

void WriteFile(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  std::ofstream(tmp, std::ios::binary | std::ios::trunc) << text;
  std::rename(tmp.c_str(), path.c_str());
}

}  // namespace lotledger::server::testkeys
