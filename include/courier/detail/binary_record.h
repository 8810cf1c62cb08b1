// The building blocks of binary mutation records (courier/storage.h): unsigned LEB128 varints,
// zigzag varints for signed values, and length-prefixed byte strings. A service lays out its own
// records with them; what a record holds is that service's business (docs/storage.md, "File
// format"). Not API.
//
// Reading never runs past the end: a record cut short or garbled makes the reader fail once, after
// which every read returns an empty value, so that a decoder reads what it needs and then checks
// ok() once (as RecordReader does for JSON records).
//
// Example:
//   detail::BinaryRecordWriter out(record);
//   out.Byte(kVersion);
//   out.String(arn);
//   out.Varint(shard);
//   ...
//   detail::BinaryRecordReader in(record);
//   const uint8_t version = in.Byte();
//   std::string_view arn = in.String();
//   if (!in.ok()) return DataLoss(...);
#ifndef COURIER_DETAIL_BINARY_RECORD_H_
#define COURIER_DETAIL_BINARY_RECORD_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace courier::detail {

// The most bytes a varint of 64 bits takes.
inline constexpr size_t kMaxVarintBytes = 10;

// How many bytes Varint(v) writes.
inline constexpr size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}
// Signed values small in magnitude (a delta, 0 for unset) stay small.
inline constexpr uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline constexpr int64_t UnZigZag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

// Appends to a string (reserve it first when the size is known).
class BinaryRecordWriter {
 public:
  explicit BinaryRecordWriter(std::string& out) : out_(out) {}
  void Byte(uint8_t b) { out_.push_back(static_cast<char>(b)); }
  void Varint(uint64_t v) {
    char buf[kMaxVarintBytes];
    size_t n = 0;
    while (v >= 0x80) {
      buf[n++] = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    buf[n++] = static_cast<char>(v);
    out_.append(buf, n);
  }
  void SignedVarint(int64_t v) { Varint(ZigZag(v)); }
  void String(std::string_view s) {
    Varint(s.size());
    out_.append(s);
  }
  void Raw(std::string_view s) { out_.append(s); }

 private:
  std::string& out_;
};

// Reads a record from its first byte. The views it returns point into the record.
class BinaryRecordReader {
 public:
  explicit BinaryRecordReader(std::string_view in) : p_(in.data()), end_(in.data() + in.size()) {}
  uint8_t Byte() {
    if (p_ == end_) return Failed<uint8_t>();
    return static_cast<uint8_t>(*p_++);
  }
  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return Failed<uint64_t>();
      const auto b = static_cast<uint8_t>(*p_++);
      v |= uint64_t{b & 0x7fu} << shift;
      if (b < 0x80) return v;
    }
    return Failed<uint64_t>();  // more than ten bytes
  }
  int64_t SignedVarint() { return UnZigZag(Varint()); }
  uint32_t Varint32() {
    const uint64_t v = Varint();
    if (v > UINT32_MAX) return Failed<uint32_t>();
    return static_cast<uint32_t>(v);
  }
  // `n` bytes as they are.
  std::string_view Raw(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) return Failed<std::string_view>();
    std::string_view s(p_, n);
    p_ += n;
    return s;
  }
  // A length-prefixed string.
  std::string_view String() { return Raw(Varint()); }
  bool at_end() const { return p_ == end_; }
  // False once a read has run past the end or met a varint too long.
  bool ok() const { return ok_; }
  void Fail() {
    ok_ = false;
    p_ = end_;
  }

 private:
  template <typename T>
  T Failed() {
    Fail();
    return T();
  }

  const char* p_;
  const char* end_;
  bool ok_ = true;
};

}  // namespace courier::detail

#endif  // COURIER_DETAIL_BINARY_RECORD_H_
