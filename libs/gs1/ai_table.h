// The GS1 Application Identifier (AI) table: for every AI the General
// Specifications define, its data title, whether its length is predefined
// (so no FNC1 separator follows it), the format of its data field, as a
// list of components ("N14", "N6 N4", "N3 X..27", ...) with the content checks
// ("linters") that apply to each, and its association rules: the AIs it
// requires (req=) and those it cannot appear with (ex=).
//
// The table is generated from GS1's Barcode Syntax Dictionary by
// gen_ai_table.py into ai_table.cc; edit the script, not the output.
//
// Thread-safety: the table is immutable static data; every function here may
// be called from any thread without synchronization.
#ifndef LOTLEDGER_LIBS_GS1_AI_TABLE_H_
#define LOTLEDGER_LIBS_GS1_AI_TABLE_H_

#include <array>
#include <cstdint>
#include <string_view>

#include "absl/types/span.h"

namespace lotledger::gs1 {

// Character sets of the General Specifications, section 7.11.
enum class Charset : std::uint8_t {
  kNumeric,  // "N": 0-9.
  kCset82,   // "X": the 82 characters of ISO 646 that GS1 allows.
  kCset39,   // "Y": 0-9, A-Z, '#', '-', '/'.
  kCset64,   // "Z": base64url (A-Z a-z 0-9 '-' '_'), '=' only as padding.
};

// Content checks of a component, as a bit set. Each is named after the
// dictionary linter it implements. Linters not listed here are not enforced;
// AiSpec::unchecked_linters names them.
using CheckMask = std::uint32_t;
inline constexpr CheckMask kNoCheck = 0;
inline constexpr CheckMask kCheckDigit = 1u << 0;     // csum: GS1 mod 10.
inline constexpr CheckMask kDateYymmd0 = 1u << 1;     // YYMMDD, DD=00 allowed.
inline constexpr CheckMask kDateYymmdd = 1u << 2;     // YYMMDD.
inline constexpr CheckMask kDateYyyymmdd = 1u << 3;   // YYYYMMDD.
inline constexpr CheckMask kHourMinute = 1u << 4;     // hhmi.
inline constexpr CheckMask kHour = 1u << 5;           // hh: 00-23.
inline constexpr CheckMask kMinute = 1u << 6;         // mi: 00-59.
inline constexpr CheckMask kSecond = 1u << 7;         // ss: 00-59.
inline constexpr CheckMask kNonZero = 1u << 8;        // not all zeros.
inline constexpr CheckMask kZero = 1u << 9;           // exactly "0".
inline constexpr CheckMask kYesNo = 1u << 10;         // "0" or "1".
inline constexpr CheckMask kHyphen = 1u << 11;        // exactly "-".
inline constexpr CheckMask kPieceOfTotal = 1u << 12;  // PPTT, 0 < PP <= TT.
inline constexpr CheckMask kNoZeroPrefix = 1u << 13;  // no leading '0'.
inline constexpr CheckMask kHasNonDigit = 1u << 14;   // not all digits.

// One component of an AI's data field. A fixed component has
// min_length == max_length; only the last component may vary.
struct Component {
  Charset charset;
  std::uint8_t min_length;
  std::uint8_t max_length;
  // Optional components may be left out once the data is exhausted.
  bool optional;
  CheckMask checks;
};

inline constexpr int kMaxComponents = 5;

// The most req= clauses one AI has in the dictionary ((37), (250), ...).
inline constexpr int kMaxRequisites = 2;

struct AiSpec {
  std::string_view ai;  // 2 to 4 digits.
  std::string_view title;
  // True for the AIs of the General Specifications' predefined-length table
  // (prefixes 00-04, 11-20, 31-36, 41): their field ends after max_length
  // characters and no FNC1 separator follows. Every other AI, even one of
  // fixed length (e.g. 422), is terminated by FNC1 unless it comes last.
  bool predefined_length;
  std::uint8_t min_length;  // Of the whole data field.
  std::uint8_t max_length;
  std::uint8_t num_components;
  std::array<Component, kMaxComponents> components;
  // Comma-separated dictionary linters of this AI that this library does
  // not check (e.g. "gcppos2", "iso3166"); empty when all are checked.
  std::string_view unchecked_linters;
  // Association rules, in the dictionary's notation. A pattern is an AI
  // whose digits may be 'n', meaning any digit: "310n" matches 3100-3109,
  // "31nn" 3100-3199.
  //
  // The req= clauses, unused entries empty. Every clause must hold when this
  // AI is present. A clause is a comma-separated list of alternatives, one
  // of which must be present; an alternative is patterns joined by '+', all
  // of which must be present. E.g. (250) has {"01,8006", "21"}: (01) or
  // (8006), and (21); (8030) has "00,01+21,253,...": (00), or (01) with
  // (21), or (253), ...
  std::array<std::string_view, kMaxRequisites> requisites;
  // The ex= patterns, comma-separated: no other AI matching one of them may
  // be present. An AI does not exclude itself even if it matches: (3103)
  // has "310n", which refuses (3102) beside it but not (3103) repeated.
  std::string_view exclusions;
};

// Every AI, sorted by AI string. No AI is a prefix of another, which is what
// lets an unbracketed element string be split without delimiters.
absl::Span<const AiSpec> AllAis();

// The entry for exactly `ai` (e.g. "01", "3103"), or nullptr if there is none.
const AiSpec* FindAi(std::string_view ai);

}  // namespace lotledger::gs1

#endif  // LOTLEDGER_LIBS_GS1_AI_TABLE_H_
