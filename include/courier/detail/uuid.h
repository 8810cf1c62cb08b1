// Random (version 4) UUIDs from a per-thread xoshiro256** generator seeded once from the OS:
// message ids need uniqueness, not cryptographic strength, and /dev/urandom per id is too slow.
#ifndef COURIER_DETAIL_UUID_H_
#define COURIER_DETAIL_UUID_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "courier/inline_string.h"

namespace courier::detail {

// A UUID's 128 bits (hi holds the first 8 bytes of the text form).
struct Uuid {
  uint64_t hi = 0, lo = 0;
  friend bool operator==(const Uuid&, const Uuid&) = default;
};

// A random version 4 UUID. Thread-safe. Lock-free.
Uuid NewRandomUuid();
// "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", lowercase.
InlineString<36> FormatUuid(Uuid uuid);
// The same 36 characters written to `out` (into a field in place, say).
void WriteUuid(Uuid uuid, char* out);
// The inverse of FormatUuid (any version); nullopt for anything else.
std::optional<Uuid> ParseUuid(std::string_view text);
// FormatUuid(NewRandomUuid()) as a std::string.
std::string NewUuid();

// 64 random bits from the same per-thread generator.
unsigned long long RandomBits();

}  // namespace courier::detail

#endif  // COURIER_DETAIL_UUID_H_
