// The word-at-a-time FIFO id check against the plain definition, byte by byte.
#include "queue/message_checks.h"

#include <catch2/catch.hpp>
#include <string>

#include "courier/status.h"

namespace courier::queue_internal {
namespace {

bool Reference(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (c < 33 || c > 126) return false;  // alphanumeric and punctuation only
  }
  return true;
}

TEST_CASE("ValidFifoId: every byte value at every position of ids of every length") {
  for (size_t n : {1, 2, 7, 8, 9, 15, 16, 17, 23, 64, 127, 128}) {
    const std::string good(n, 'a');
    REQUIRE(ValidFifoId(good));
    for (size_t pos = 0; pos < n; ++pos) {
      for (int b = 0; b < 256; ++b) {
        std::string id = good;
        id[pos] = static_cast<char>(b);
        if (ValidFifoId(id) != Reference(id))
          FAIL("length " << n << " position " << pos << " byte " << b);
      }
    }
  }
  CHECK_FALSE(ValidFifoId(""));
  CHECK_FALSE(ValidFifoId(std::string(129, 'a')));
  CHECK(ValidFifoId("!~"));
  CHECK(ErrorName(CheckFifoId("MessageGroupId", "a b")) == "InvalidParameterValue");
  CHECK(CheckFifoId("MessageGroupId", "group-1").ok());
}

}  // namespace
}  // namespace courier::queue_internal
