#include "courier/detail/digest.h"

#include <openssl/evp.h>

#include <cstdint>
#include <cstdlib>

namespace courier::detail {
namespace {

class Digester {
 public:
  explicit Digester(const char* algorithm)
      : md_(EVP_MD_fetch(nullptr, algorithm, nullptr)), ctx_(EVP_MD_CTX_new()) {
    if (md_ == nullptr || ctx_ == nullptr) std::abort();  // OpenSSL without MD5/SHA-256
  }
  ~Digester() {
    EVP_MD_CTX_free(ctx_);
    EVP_MD_free(md_);
  }
  Digester(const Digester&) = delete;
  Digester& operator=(const Digester&) = delete;

  std::string Hex(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_DigestInit_ex(ctx_, md_, nullptr);
    EVP_DigestUpdate(ctx_, data.data(), data.size());
    EVP_DigestFinal_ex(ctx_, digest, &size);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(size * 2, '\0');
    for (unsigned int i = 0; i < size; ++i) {
      out[2 * i] = kHex[digest[i] >> 4];
      out[2 * i + 1] = kHex[digest[i] & 15];
    }
    return out;
  }

 private:
  EVP_MD* md_;
  EVP_MD_CTX* ctx_;
};

void AppendLengthPrefixed(std::string& out, std::string_view bytes) {
  uint32_t n = static_cast<uint32_t>(bytes.size());
  char len[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                 static_cast<char>(n)};
  out.append(len, 4).append(bytes);
}

}  // namespace

std::string Md5Hex(std::string_view data) {
  thread_local Digester md5("MD5");
  return md5.Hex(data);
}

std::string Sha256Hex(std::string_view data) {
  thread_local Digester sha256("SHA256");
  return sha256.Hex(data);
}

std::string Md5OfMessageAttributes(const MessageAttributes& attributes) {
  if (attributes.empty()) return {};
  std::string buffer;
  for (const auto& [name, attribute] : attributes) {
    AppendLengthPrefixed(buffer, name);
    AppendLengthPrefixed(buffer, attribute.data_type);
    buffer.push_back(attribute.is_binary() ? 2 : 1);
    AppendLengthPrefixed(buffer, attribute.value());
  }
  return Md5Hex(buffer);
}

}  // namespace courier::detail
