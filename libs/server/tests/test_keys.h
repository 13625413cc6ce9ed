// Keys, JWTs and X.509 certificates made fresh inside a test with
// OpenSSL 3, so no secret lives in the repository and every run uses new
// keys.
//
// Thread-safety: plain functions over value types.
#ifndef LOTLEDGER_LIBS_SERVER_TESTS_TEST_KEYS_H_
#define LOTLEDGER_LIBS_SERVER_TESTS_TEST_KEYS_H_

#include <string>
#include <string_view>
#include <vector>

namespace lotledger::server::testkeys {

struct SigningKey {
  std::string alg;  // "RS256" or "ES256"
  std::string kid;
  std::string private_pem;  // PKCS#8
  std::string public_jwk;   // one JWK object (JSON), with kid and alg
};

SigningKey NewRsaKey(const std::string& kid, int bits = 2048);
SigningKey NewEcKey(const std::string& kid);

// {"keys":[...]} of the keys' public halves.
std::string Jwks(const std::vector<SigningKey>& keys);

std::string B64Url(std::string_view bytes);

// A compact JWS: base64url(header).base64url(claims).signature, signed
// with `key` (RS256: PKCS#1 v1.5; ES256: r||s).
std::string SignJwt(const SigningKey& key, const std::string& header_json,
                    const std::string& claims_json);
// The usual header {"alg":key.alg,"kid":key.kid,"typ":"JWT"}.
std::string SignJwt(const SigningKey& key, const std::string& claims_json);

struct Certificate {
  std::string cert_pem;
  std::string key_pem;
};
// A self-signed CA.
Certificate NewCa(const std::string& cn);
// A leaf certificate signed by `ca`: CN `cn`, SAN DNS:localhost and
// IP:127.0.0.1, EC P-256 key.
Certificate NewLeaf(const Certificate& ca, const std::string& cn);

// Writes `text` to `path` (replacing it atomically via a rename).
void WriteFile(const std::string& path, const std::string& text);

}  // namespace lotledger::server::testkeys

#endif  // LOTLEDGER_LIBS_SERVER_TESTS_TEST_KEYS_H_
