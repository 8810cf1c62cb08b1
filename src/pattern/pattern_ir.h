// The compiled form of one pattern: a disjunction of conjunctions of field constraints.
#ifndef COURIER_SRC_PATTERN_PATTERN_IR_H_
#define COURIER_SRC_PATTERN_PATTERN_IR_H_

#include <absl/status/statusor.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pattern/json_lex.h"

namespace courier::pattern_internal {

// A 128-bit address; IPv4 addresses are kept apart from IPv6 (an IPv4-mapped IPv6 address does
// not match an IPv4 CIDR).
struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};
};
struct IpRange {
  IpAddress base;  // host bits cleared
  int prefix_bits = 0;
};
// Parses a dotted-quad IPv4 or an IPv6 address (compressed, any case). False if it is neither.
bool ParseIp(std::string_view text, IpAddress* out);
IpAddress MaskIp(const IpAddress& ip, int bits);

enum class MatchKind : uint8_t {
  kExactString,
  kExactNumber,  // text + value (compared by value when comparable)
  kTrue,
  kFalse,
  kNull,
  kPrefix,
  kSuffix,
  kEqualsIgnoreCase,
  kPrefixIgnoreCase,
  kSuffixIgnoreCase,
  kWildcard,
  kNumeric,  // range
  kExists,   // exists: true
  kAbsent,   // exists: false
  kCidr,
  kAnythingBut,
};

enum class AnythingButKind : uint8_t { kValues, kPrefix, kSuffix, kEqualsIgnoreCase, kWildcard };

struct NumericRange {
  bool has_low = false, low_open = false, has_high = false, high_open = false;
  double low = 0, high = 0;
};

struct Matcher {
  MatchKind kind = MatchKind::kExactString;
  std::string text;    // string operand; number text for kExactNumber
  NumberValue number;  // kExactNumber
  NumericRange range;  // kNumeric
  IpRange ip;          // kCidr
  // kAnythingBut
  AnythingButKind ab_kind = AnythingButKind::kValues;
  std::vector<std::string> ab_strings;
  std::vector<double> ab_numbers;
  bool ab_any_element = true;  // EventBridge semantics; SNS default is "no element excluded"
  // SNS: numbers compare to five decimal places (ToFiveDecimals), the operands' already rounded.
  bool five_decimals = false;
};

struct FieldConstraint {
  std::string path;  // segments joined with '.'
  std::vector<Matcher> matchers;
};

struct Conjunction {
  std::vector<FieldConstraint> fields;
};

struct PatternData {
  std::string source;
  std::vector<Conjunction> conjunctions;
};

enum class Dialect { kEventBridge, kSnsAttributes, kSnsBody };
struct CompileOptions {
  Dialect dialect = Dialect::kEventBridge;
  size_t max_length = 2048;
  bool sns_any_element = false;
  bool sns_subscribe_call = false;
};

// Parses and validates a pattern; the status carries the AWS error for the dialect.
absl::StatusOr<PatternData> CompilePattern(std::string_view json, const CompileOptions& options);

// Wildcard text split at unescaped stars: "a\\*b*c" -> {"a*b", "c"}; "*x" -> {"", "x"}.
struct WildcardParts {
  std::vector<std::string> literals;  // around the stars: one more than there are stars
};
WildcardParts SplitWildcard(std::string_view pattern);
bool WildcardMatches(const WildcardParts& w, std::string_view s);

// Equals-ignore-case as event-ruler does it: each code point of the pattern accepts its Java
// lower-case or upper-case form (so "straße" matches "STRASSE" but not "strasse").
struct CaseAlternatives {
  std::vector<std::vector<std::string>> positions;  // alternatives (UTF-8) per code point
};
CaseAlternatives BuildCaseAlternatives(std::string_view pattern);
bool IsAscii(std::string_view s);
void AsciiLower(std::string_view s, std::string* out);
enum class Anchor { kWhole, kPrefix, kSuffix };
bool CaseAlternativesMatch(const CaseAlternatives& alts, std::string_view s, Anchor anchor);

}  // namespace courier::pattern_internal

#endif  // COURIER_SRC_PATTERN_PATTERN_IR_H_
