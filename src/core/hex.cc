#include "courier/detail/hex.h"

#include <array>

namespace courier::detail {

void ToHex(const uint8_t* bytes, size_t n, char* out) {
  static constexpr auto kPairs = [] {  // two digits per lookup
    std::array<std::array<char, 2>, 256> t{};
    constexpr char kHex[] = "0123456789abcdef";
    for (int i = 0; i < 256; ++i) t[i] = {kHex[i >> 4], kHex[i & 15]};
    return t;
  }();
  for (size_t i = 0; i < n; ++i) std::memcpy(out + 2 * i, kPairs[bytes[i]].data(), 2);
}

}  // namespace courier::detail
