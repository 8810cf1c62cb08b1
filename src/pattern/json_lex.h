// Low-level JSON lexing shared by the pattern parser and the event scanner: bounds-checked,
// never allocating unless a string holds escapes.
#ifndef COURIER_SRC_PATTERN_JSON_LEX_H_
#define COURIER_SRC_PATTERN_JSON_LEX_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace courier::pattern_internal {

inline bool IsJsonSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

inline const char* SkipSpace(const char* p, const char* end) {
  while (p < end && IsJsonSpace(*p)) ++p;
  return p;
}

// Scans a string whose opening quote is at p[-1]. On success returns the position after the
// closing quote and sets raw to the bytes between the quotes and has_escape; nullptr on error.
const char* ScanString(const char* p, const char* end, std::string_view* raw, bool* has_escape);

// Decodes the escapes of a raw string body into out (UTF-8). Returns false on a bad escape.
bool Unescape(std::string_view raw, std::string* out);

// Scans a JSON number starting at p. Returns the position after it, or nullptr if malformed.
// significant_digits counts mantissa digits without leading zeros.
const char* ScanNumber(const char* p, const char* end, int* significant_digits);

// Skips one JSON value starting at p (no leading space). Returns the position after it or nullptr.
const char* SkipValue(const char* p, const char* end, int depth = 0);

// Skips to just after the closing bracket of the `levels`-th enclosing container, from a
// position inside it (between members). Returns nullptr if the text ends first.
const char* SkipRest(const char* p, const char* end, int levels);

// A number as EventBridge compares it: by value when its text is exactly the shortest text of
// its double (so that 300, 300.0 and 3e2 are one value), otherwise only by its text.
struct NumberValue {
  double value = 0;
  bool comparable = false;
};
NumberValue ParseNumber(std::string_view text, int significant_digits);
// SNS compares numbers to five decimal places: `value` rounded to the nearest 1e-5, so that
// two numbers that differ only further right compare equal. Numbers too large for that to
// mean anything (beyond 1e13) are left as they are.
double ToFiveDecimals(double value);
// The two halves of ParseNumber, for callers that can often skip the second.
bool ParseDouble(std::string_view text, double* value);
bool IsShortestText(std::string_view text, int significant_digits, double value);

// Appends s to out as a JSON string literal (with quotes).
void AppendJsonString(std::string_view s, std::string* out);

// Maximum nesting the scanners accept (deeper input is rejected, not recursed into): above
// EventBridge's 1,000 levels of detail under the envelope.
inline constexpr int kMaxJsonDepth = 1024;

}  // namespace courier::pattern_internal

#endif  // COURIER_SRC_PATTERN_JSON_LEX_H_
