// Random (version 4) UUIDs from a per-thread xoshiro256** generator seeded once from the OS:
// message ids need uniqueness, not cryptographic strength, and /dev/urandom per id is too slow.
#ifndef COURIER_DETAIL_UUID_H_
#define COURIER_DETAIL_UUID_H_

#include <string>

namespace courier::detail {

// "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", lowercase. Thread-safe. Lock-free.
std::string NewUuid();

// 64 random bits from the same per-thread generator.
unsigned long long RandomBits();

}  // namespace courier::detail

#endif  // COURIER_DETAIL_UUID_H_
