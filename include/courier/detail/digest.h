// MD5 and SHA-256, raw and as lowercase hex. SHA-256 fetches its digest once and reuses a context
// per thread (OpenSSL 3 one-shot calls re-fetch the algorithm, which costs more than the hash).
#ifndef COURIER_DETAIL_DIGEST_H_
#define COURIER_DETAIL_DIGEST_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "courier/message.h"

namespace courier::detail {

using Md5Digest = std::array<uint8_t, 16>;

Md5Digest Md5(std::string_view data);
Md5Hex ToMd5Hex(const Md5Digest& digest);
Md5Hex Md5Of(std::string_view data);  // ToMd5Hex(Md5(data))
std::string Sha256Hex(std::string_view data);

// MD5OfMessageAttributes as SQS computes it: attributes sorted by name, each as
// u32be(len) name, u32be(len) type, transport byte (1 String/Number, 2 Binary), u32be(len) value.
// Empty string for no attributes. The same algorithm gives MD5OfMessageSystemAttributes.
Md5Hex Md5OfMessageAttributes(const MessageAttributes& attributes);

}  // namespace courier::detail

#endif  // COURIER_DETAIL_DIGEST_H_
