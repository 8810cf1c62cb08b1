// InlineString<N>: text of at most N bytes kept inside the object.
//
// Every message carries a MessageId (36 characters) and MD5 digests (32): too long for
// std::string's small buffer, so as std::string each would cost a heap allocation per message,
// which is most of the cost of a send or a receive. These fields use InlineString instead.
//
// Example:
//   courier::InlineString<36> id("9a1f...");
//   std::string_view text = id;        // or id.view()
//   if (id == "9a1f...") std::string copy = id.str();
#ifndef COURIER_INLINE_STRING_H_
#define COURIER_INLINE_STRING_H_

#include <algorithm>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <string>
#include <string_view>

namespace courier {

template <size_t N>
class InlineString {
  static_assert(N < 256, "the size is kept in one byte");

 public:
  constexpr InlineString() = default;
  // Text longer than N is cut to N: callers store ids and digests of known length.
  explicit InlineString(std::string_view text) { assign(text); }

  void assign(std::string_view text) {
    size_ = static_cast<uint8_t>(std::min(text.size(), N));
    std::memcpy(data_, text.data(), size_);
  }
  // Sets the size to `n` (at most N) and returns the buffer, for writing the text in place.
  char* resize(size_t n) {
    size_ = static_cast<uint8_t>(std::min(n, N));
    return reinterpret_cast<char*>(data_);
  }
  void clear() { size_ = 0; }

  std::string_view view() const { return {data(), size_}; }
  operator std::string_view() const { return view(); }  // NOLINT: a string is what it is
  std::string str() const { return std::string(view()); }
  const char* data() const { return reinterpret_cast<const char*>(data_); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  static constexpr size_t capacity() { return N; }

  friend bool operator==(const InlineString& a, const InlineString& b) {
    return a.view() == b.view();
  }
  friend bool operator==(const InlineString& a, std::string_view b) { return a.view() == b; }
  friend std::strong_ordering operator<=>(const InlineString& a, const InlineString& b) {
    return a.view() <=> b.view();
  }
  friend std::ostream& operator<<(std::ostream& os, const InlineString& s) {
    return os << s.view();
  }

 private:
  // Left uninitialized: only the first size_ bytes are ever read (zeroing every id and digest
  // of every result and message showed in profiles). unsigned char, so copying the unused tail
  // is well defined.
  unsigned char data_[N];
  uint8_t size_ = 0;
};

}  // namespace courier

#endif  // COURIER_INLINE_STRING_H_
