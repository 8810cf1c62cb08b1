// PutEvents' check of an entry's Detail and its compact form for the envelope, in one pass.
#ifndef COURIER_EVENTS_COMPACT_DETAIL_H_
#define COURIER_EVENTS_COMPACT_DETAIL_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace courier::events_internal {

// "PutEvents will only process nested JSON up to 1000 levels deep."
inline constexpr size_t kMaxDetailDepth = 1000;

// If `detail` is what PutEvents accepts — one JSON object (RFC 8259, UTF-8), nested at most
// kMaxDetailDepth levels, whose integers fit in int64 — appends it to `out` without the
// whitespace outside its strings and returns true. Otherwise returns false with `out` as it was
// (the entry is MalformedDetail). Strings and numbers keep their text, escapes included.
bool AppendCompactDetail(std::string_view detail, std::string& out);

}  // namespace courier::events_internal

#endif  // COURIER_EVENTS_COMPACT_DETAIL_H_
