#include "queue/message_checks.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <string>
#include <vector>

#include "courier/status.h"

namespace courier::queue_internal {

// ASCII only, whatever the C locale says: AWS names are [A-Za-z0-9_-].
namespace {

bool AttributeNameChar(char c) { return NameChar(c) || c == '.'; }

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

// Whether a Number attribute's value (syntax already checked) lies within AWS's range: zero,
// or a magnitude from 10^-128 to 10^126.
bool NumberInRange(std::string_view value) {
  size_t i = 0;
  if (i < value.size() && (value[i] == '-' || value[i] == '+')) ++i;
  // The power of ten of the first non-zero digit: counted from the point, fixed up once the
  // number of integer digits is known.
  int64_t integer_digits = 0, fraction_digits = 0, first = 0;
  bool found = false, in_fraction = false, exactly_one = false;
  for (; i < value.size() && value[i] != 'e' && value[i] != 'E'; ++i) {
    const char c = value[i];
    if (c == '.') {
      in_fraction = true;
      continue;
    }
    in_fraction ? ++fraction_digits : ++integer_digits;
    if (found) {
      exactly_one &= c == '0';
    } else if (c != '0') {
      found = true;
      exactly_one = c == '1';
      first = in_fraction ? -fraction_digits : integer_digits;
    }
  }
  if (!found) return true;  // zero
  int64_t order = first < 0 ? first : integer_digits - first;
  if (i < value.size()) {  // the exponent, saturated far beyond the range
    ++i;
    const bool negative = i < value.size() && value[i] == '-';
    if (i < value.size() && (value[i] == '-' || value[i] == '+')) ++i;
    int64_t exponent = 0;
    for (; i < value.size(); ++i)
      exponent = std::min<int64_t>(exponent * 10 + value[i] - '0', 1 << 20);
    order += negative ? -exponent : exponent;
  }
  return order >= -128 && (order < 126 || (order == 126 && exactly_one));
}

absl::Status CheckNumber(std::string_view name, std::string_view value) {
  // Digits with an optional sign, point and exponent; at most 38 significant digits.
  size_t i = 0;
  if (i < value.size() && (value[i] == '-' || value[i] == '+')) ++i;
  int digits = 0;
  bool any = false, point = false;
  for (; i < value.size(); ++i) {
    const char c = value[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      any = true;
      if (digits > 0 || c != '0') ++digits;
    } else if (c == '.' && !point) {
      point = true;
    } else {
      break;
    }
  }
  bool ok = any && digits <= 38;
  if (ok && i < value.size()) {
    if (value[i] != 'e' && value[i] != 'E') {
      ok = false;
    } else {
      ++i;
      if (i < value.size() && (value[i] == '-' || value[i] == '+')) ++i;
      const size_t start = i;
      while (i < value.size() && std::isdigit(static_cast<unsigned char>(value[i]))) ++i;
      ok = i > start && i == value.size();
    }
  }
  if (!ok) {
    return InvalidParameterValue(fmt::format(
        "Value {} for parameter MessageAttributes.{} is invalid. Reason: Can't parse Number.",
        value, name));
  }
  if (!NumberInRange(value)) {
    return InvalidParameterValue(fmt::format(
        "Value {} for parameter MessageAttributes.{} is invalid. Reason: Number is out of "
        "range: its magnitude must be between 10^-128 and 10^+126.",
        value, name));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckFifoQueueName(std::string_view name) {
  constexpr std::string_view kSuffix = ".fifo";
  const bool ok = name.size() > kSuffix.size() && name.size() <= 80 && name.ends_with(kSuffix);
  bool chars = ok;
  for (char c : name.substr(0, ok ? name.size() - kSuffix.size() : 0)) chars &= NameChar(c);
  if (!chars) {
    return InvalidParameterValue(
        "The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
        "underscores, must end with .fifo suffix and be 1 to 80 in length.");
  }
  return absl::OkStatus();
}

absl::Status CheckBody(std::string_view body) {
  if (body.empty()) {
    return AwsError("MissingParameter", "The request must contain the parameter MessageBody.");
  }
  const auto* p = reinterpret_cast<const unsigned char*>(body.data());
  const auto* end = p + body.size();
  // Skip the leading run of printable ASCII (0x20-0x7F), the common case, many bytes at a time.
#if defined(__SSE2__)
  // As signed bytes, both control characters and every byte of 0x80 or more are below 0x20:
  // one compare finds either.
  const __m128i space = _mm_set1_epi8(0x20);
  auto all_printable = [&](const unsigned char* at) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
    return _mm_movemask_epi8(_mm_cmplt_epi8(v, space)) == 0;
  };
  while (end - p >= 16 && all_printable(p)) p += 16;
  // The last partial block: one more load, ending at the end (it overlaps checked bytes).
  if (end - p < 16 && body.size() >= 16 && all_printable(end - 16)) return absl::OkStatus();
#endif
  // Eight at a time: no byte has its top bit set, and none is below 0x20 (the classic "has a
  // byte less than n" test, exact for n <= 128).
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  while (end - p >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    if (((w & kHigh) | ((w - 0x20 * kOnes) & ~w & kHigh)) != 0) break;
    p += 8;
  }
  while (p < end) {
    if (*p >= 0x20 && *p < 0x80) {  // printable ASCII: the common case
      ++p;
      continue;
    }
    uint32_t cp;
    int len;
    if (*p < 0x80) {
      cp = *p;
      len = 1;
    } else if ((*p & 0xE0) == 0xC0) {
      cp = *p & 0x1F;
      len = 2;
    } else if ((*p & 0xF0) == 0xE0) {
      cp = *p & 0x0F;
      len = 3;
    } else if ((*p & 0xF8) == 0xF0) {
      cp = *p & 0x07;
      len = 4;
    } else {
      len = 0;
      cp = 0;
    }
    bool ok = len > 0 && end - p >= len;
    for (int k = 1; ok && k < len; ++k) {
      ok = (p[k] & 0xC0) == 0x80;
      cp = (cp << 6) | (p[k] & 0x3F);
    }
    // Overlong encodings are invalid UTF-8.
    if (ok && ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)))
      ok = false;
    ok = ok && (cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
                (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF));
    if (!ok) {
      return AwsError("InvalidMessageContents",
                      "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | "
                      "#x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF");
    }
    p += len;
  }
  return absl::OkStatus();
}

absl::Status CheckAttributes(const MessageAttributes& attributes, size_t max_attributes) {
  if (attributes.size() > max_attributes) {
    return InvalidParameterValue(
        fmt::format("Number of message attributes [{}] exceeds the allowed maximum [{}].",
                    attributes.size(), max_attributes));
  }
  for (const auto& [name, attribute] : attributes) {
    bool ok = !name.empty() && name.size() <= 256 && name.front() != '.' && name.back() != '.' &&
              name.find("..") == std::string::npos && !StartsWithIgnoreCase(name, "AWS.") &&
              !StartsWithIgnoreCase(name, "Amazon.");
    for (char c : name) ok &= AttributeNameChar(c);
    if (!ok) {
      return InvalidParameterValue(fmt::format(
          "Message (user) attribute name '{}' is invalid. Attribute names can contain "
          "alphanumeric characters, hyphens (-), underscores (_), and periods (.), must not start "
          "or end with a period, must not contain successive periods, and must not start with "
          "AWS. or Amazon.",
          name));
    }
    const std::string_view base = attribute.base_type();
    const std::string_view type = attribute.data_type;
    const bool type_ok =
        (base == "String" || base == "Number" || base == "Binary") && type.size() <= 256 &&
        (type.size() == base.size() || (type[base.size()] == '.' && type.size() > base.size() + 1));
    if (!type_ok) {
      return InvalidParameterValue(fmt::format(
          "The type of message (user) attribute '{}' is invalid. You must use only the following "
          "supported type prefixes: Binary, Number, String.",
          name));
    }
    if (attribute.value().empty()) {
      return InvalidParameterValue(
          fmt::format("Message (user) attribute '{}' must contain a non-empty value of type '{}'.",
                      name, base));
    }
    if (base == "Number") COURIER_RETURN_IF_ERROR(CheckNumber(name, attribute.string_value));
    if (base == "String") COURIER_RETURN_IF_ERROR(CheckBody(attribute.string_value));
  }
  return absl::OkStatus();
}

absl::Status CheckSize(const SendMessageRequest& request, size_t max_size) {
  size_t size = request.body.size();
  for (const auto& [name, attribute] : request.attributes) {
    size += name.size() + attribute.data_type.size() + attribute.value().size();
  }
  if (size > max_size) {
    return InvalidParameterValue(fmt::format(
        "One or more parameters are invalid. Reason: Message must be shorter than {} bytes.",
        max_size));
  }
  return absl::OkStatus();
}

absl::Status CheckFifoId(std::string_view parameter, std::string_view value) {
  if (!ValidFifoId(value)) {
    return InvalidParameterValue(fmt::format(
        "Value {} for parameter {} is invalid. Reason: {} can only include alphanumeric and "
        "punctuation characters. 1 to 128 in length.",
        value, parameter, parameter));
  }
  return absl::OkStatus();
}

bool ValidBatchEntryId(std::string_view id) {
  static constexpr auto kAllowed = [] {  // every batch call checks every id: a table
    std::array<bool, 256> t{};
    for (int c = 0; c < 256; ++c) t[c] = NameChar(static_cast<char>(c));
    return t;
  }();
  bool ok = !id.empty() && id.size() <= 80;
  for (char c : id) ok &= kAllowed[static_cast<unsigned char>(c)];
  return ok;
}

}  // namespace courier::queue_internal
