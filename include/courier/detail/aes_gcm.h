// AES-256-GCM on OpenSSL, and random key material: what encryption at rest is built of (the
// key providers of courier/key_provider.h and the sealing of SQS messages). Not API.
#ifndef COURIER_DETAIL_AES_GCM_H_
#define COURIER_DETAIL_AES_GCM_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace courier::detail {

using Key256 = std::array<uint8_t, 32>;

inline constexpr size_t kGcmNonceSize = 12;
inline constexpr size_t kGcmTagSize = 16;

// Appends nonce | ciphertext | tag of `plaintext` to `out`, under a fresh random 96-bit nonce.
// `aad` is authenticated but not stored: opening needs the same. Thread-safe.
void SealAes256Gcm(const Key256& key, std::string_view aad, std::string_view plaintext,
                   std::string& out);
// The plaintext of what SealAes256Gcm made under the same key and aad; nullopt for anything
// else: another key, another aad, a byte changed, too short. Thread-safe.
std::optional<std::string> OpenAes256Gcm(const Key256& key, std::string_view aad,
                                         std::string_view sealed);
// The same into `out` (replacing what it held, its capacity reused); false, and `out` of no
// meaning, for what does not open.
bool OpenAes256Gcm(const Key256& key, std::string_view aad, std::string_view sealed,
                   std::string& out);

// Bytes from OpenSSL's random generator (aborts if it has none: no key may be guessable).
void RandomBytes(std::span<uint8_t> out);
Key256 RandomKey256();
// SHA-256 of `data`, as a key: for keys derived from fixed labels (the built-in ones).
Key256 Sha256Key(std::string_view data);

}  // namespace courier::detail

#endif  // COURIER_DETAIL_AES_GCM_H_
