// MD5 and SHA-256 as lowercase hex, with the digest fetched once and contexts reused per thread
// (OpenSSL 3 one-shot calls re-fetch the algorithm on every call, which costs more than the hash).
#ifndef COURIER_DETAIL_DIGEST_H_
#define COURIER_DETAIL_DIGEST_H_

#include <string>
#include <string_view>

#include "courier/message.h"

namespace courier::detail {

std::string Md5Hex(std::string_view data);
std::string Sha256Hex(std::string_view data);

// MD5OfMessageAttributes as SQS computes it: attributes sorted by name, each as
// u32be(len) name, u32be(len) type, transport byte (1 String/Number, 2 Binary), u32be(len) value.
// Empty string for no attributes. The same algorithm gives MD5OfMessageSystemAttributes.
std::string Md5OfMessageAttributes(const MessageAttributes& attributes);

}  // namespace courier::detail

#endif  // COURIER_DETAIL_DIGEST_H_
