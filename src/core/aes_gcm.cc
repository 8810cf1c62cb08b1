#include "courier/detail/aes_gcm.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <cstring>

namespace courier::detail {
namespace {

// The cipher is fetched once (OpenSSL 3 fetches it again on every init given the legacy
// EVP_aes_256_gcm()), and each thread keeps its context.
const EVP_CIPHER* Cipher() {
  static EVP_CIPHER* const cipher = [] {
    EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    if (c == nullptr) std::abort();  // OpenSSL without AES-GCM
    return c;
  }();
  return cipher;
}

class CipherContext {
 public:
  CipherContext() : ctx_(EVP_CIPHER_CTX_new()) {
    if (ctx_ == nullptr) std::abort();
  }
  ~CipherContext() { EVP_CIPHER_CTX_free(ctx_); }
  CipherContext(const CipherContext&) = delete;
  CipherContext& operator=(const CipherContext&) = delete;
  EVP_CIPHER_CTX* get() { return ctx_; }

 private:
  EVP_CIPHER_CTX* ctx_;
};

// The calling thread's context, keyed for `key` in the direction asked, at `nonce`. Setting the
// key is the costly part of an init in OpenSSL 3 (it goes through the provider); a context that
// has the key already only takes the new nonce. Nullptr if OpenSSL fails.
EVP_CIPHER_CTX* ThreadContext(const Key256& key, const unsigned char* nonce, bool encrypt) {
  struct Keyed {
    CipherContext context;
    Key256 key{};
    int direction = -1;  // 1 encrypt, 0 decrypt, -1 not keyed
  };
  thread_local Keyed t;
  EVP_CIPHER_CTX* ctx = t.context.get();
  const int direction = encrypt ? 1 : 0;
  const bool keyed = t.direction == direction && t.key == key;
  const EVP_CIPHER* cipher = keyed ? nullptr : Cipher();
  const unsigned char* k = keyed ? nullptr : key.data();
  t.direction = -1;  // until the init succeeds
  const int ok = encrypt ? EVP_EncryptInit_ex2(ctx, cipher, k, nonce, nullptr)
                         : EVP_DecryptInit_ex2(ctx, cipher, k, nonce, nullptr);
  if (ok != 1) return nullptr;
  t.key = key;
  t.direction = direction;
  return ctx;
}

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
int Length(size_t n) { return static_cast<int>(n); }

}  // namespace

void SealAes256Gcm(const Key256& key, std::string_view aad, std::string_view plaintext,
                   std::string& out) {
  const size_t start = out.size();
  out.resize(start + kGcmNonceSize + plaintext.size() + kGcmTagSize);
  auto* nonce = reinterpret_cast<unsigned char*>(out.data() + start);
  RandomBytes({nonce, kGcmNonceSize});
  unsigned char* body = nonce + kGcmNonceSize;
  int n = 0, tail = 0;
  EVP_CIPHER_CTX* ctx = ThreadContext(key, nonce, /*encrypt=*/true);
  // Failures here mean a broken OpenSSL, not bad input: writing unsealed bytes is no option.
  if (ctx == nullptr ||
      (!aad.empty() && EVP_EncryptUpdate(ctx, nullptr, &n, Bytes(aad), Length(aad.size())) != 1) ||
      EVP_EncryptUpdate(ctx, body, &n, Bytes(plaintext), Length(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx, body + n, &tail) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kGcmTagSize, body + plaintext.size()) != 1) {
    std::abort();
  }
}

std::optional<std::string> OpenAes256Gcm(const Key256& key, std::string_view aad,
                                         std::string_view sealed) {
  std::string out;
  if (!OpenAes256Gcm(key, aad, sealed, out)) return std::nullopt;
  return out;
}

bool OpenAes256Gcm(const Key256& key, std::string_view aad, std::string_view sealed,
                   std::string& out) {
  if (sealed.size() < kGcmNonceSize + kGcmTagSize) return false;
  const std::string_view nonce = sealed.substr(0, kGcmNonceSize);
  const std::string_view body =
      sealed.substr(kGcmNonceSize, sealed.size() - kGcmNonceSize - kGcmTagSize);
  unsigned char tag[kGcmTagSize];
  std::memcpy(tag, sealed.data() + sealed.size() - kGcmTagSize, kGcmTagSize);
  out.resize(body.size());
  auto* plain = reinterpret_cast<unsigned char*>(out.data());
  int n = 0, tail = 0;
  EVP_CIPHER_CTX* ctx = ThreadContext(key, Bytes(nonce), /*encrypt=*/false);
  if (ctx == nullptr ||
      (!aad.empty() && EVP_DecryptUpdate(ctx, nullptr, &n, Bytes(aad), Length(aad.size())) != 1) ||
      EVP_DecryptUpdate(ctx, plain, &n, Bytes(body), Length(body.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kGcmTagSize, tag) != 1 ||
      EVP_DecryptFinal_ex(ctx, plain + n, &tail) != 1) {
    return false;
  }
  return true;
}

void RandomBytes(std::span<uint8_t> out) {
  if (RAND_bytes(out.data(), Length(out.size())) != 1) std::abort();
}

Key256 RandomKey256() {
  Key256 key;
  RandomBytes(key);
  return key;
}

Key256 Sha256Key(std::string_view data) {
  Key256 key;
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), key.data(), &size, EVP_sha256(), nullptr) != 1 ||
      size != key.size()) {
    std::abort();
  }
  return key;
}

}  // namespace courier::detail
