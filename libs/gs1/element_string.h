// Parsing and validation of GS1 element strings: the AI-tagged data that
// GS1-128, GS1 DataMatrix, GS1 QR Code, GS1 DotCode and GS1 DataBar carry,
// e.g. the UDI on a medical device:
//
//   ]d201095060001343521726123110A17   as a scanner delivers it,
//   (01)09506000134352(17)261231(10)A17   as printed under the barcode.
//
// Accepted input (the form is chosen by the first character):
//  * Scanner data: an optional AIM symbology identifier announcing GS1 data
//    (]C1 GS1-128, ]e0 GS1 DataBar, ]d2 GS1 DataMatrix, ]Q3 GS1 QR Code,
//    ]J1 GS1 DotCode), then element strings with FNC1 transmitted as ASCII
//    GS (0x1D) after each variable-length field. Tolerated because readers
//    emit them and they are unambiguous: any run of GS (one or more) before
//    the first AI, between two fields (also after a predefined-length field,
//    which needs none) and at the very end. Still refused: a GS inside a
//    predefined-length field's data, an empty variable-length field (an AI
//    directly followed by GS), and a scan of nothing but separators.
//    Other identifiers (]d1, ]C0, ]Q1, ...) announce non-GS1 data: refused.
//  * Bracketed ("human readable") form starting with '(': each AI in
//    parentheses. A literal '(' inside a value is written "\(", as in GS1's
//    Syntax Engine. GS separators cannot appear in this form.
//
// Validation: AI known, field lengths, character sets, the content checks
// listed in ai_table.h (check digits, dates, times, ...), and the Syntax
// Dictionary's association rules over all AIs of the scan (see
// CheckAssociations): every AI's requisite AIs (req=, e.g. a SERIAL (21)
// needs a GTIN (01)) are present and no two mutually exclusive AIs (ex=,
// e.g. GTIN (01) and CONTENT (02)) appear together. An AI that occurs twice
// must carry the same value. Not checked: the linters an AiSpec lists as
// unchecked_linters (GCP position, ISO 3166/4217 codes, ...).
//
// Errors are absl::InvalidArgumentError naming the AI and the rule, e.g.
// "AI (01): check digit is 3, expected 2" or "AI (250): SECONDARY SERIAL
// needs SERIAL (21) in the same element string". Positions in messages are
// 0-based byte offsets into the input as given.
//
// Thread-safety: all functions are pure (no clock, no I/O, no shared mutable
// state) and may be called concurrently.
#ifndef LOTLEDGER_LIBS_GS1_ELEMENT_STRING_H_
#define LOTLEDGER_LIBS_GS1_ELEMENT_STRING_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace lotledger::gs1 {

// ASCII group separator, how scanners transmit FNC1 in a data field.
inline constexpr char kGroupSeparator = '\x1D';

// One AI and its data, e.g. {"17", "USE BY or EXPIRY", "261231"}.
struct Element {
  std::string ai;
  std::string title;  // The GS1 data title from the AI table.
  std::string value;  // Raw data field; "\(" escapes are already removed.

  friend bool operator==(const Element&, const Element&) = default;
};

// A calendar date. Kept free of protobuf: callers convert to
// lotledger::v1::Date themselves.
struct Date {
  int year = 0;
  int month = 0;  // 1-12.
  int day = 0;    // 1-31, valid for the month.

  friend bool operator==(const Date&, const Date&) = default;
};

struct ParseOptions {
  // GS1 allows DD=00 in YYMMDD dates of AIs 11-17 (and 4324/4325), meaning
  // the last day of the month. Regulated healthcare refuses it since 2025;
  // set false there.
  bool allow_day_zero = true;
  // Required. The current year, from which two-digit years are resolved by
  // the GS1 sliding window (General Specifications 7.12): YY becomes the
  // year in [reference_year - 49, reference_year + 50] that ends in YY.
  // The library reads no clock, so the caller passes it (e.g. from its
  // injected clock); 0, the default, makes Parse fail. Must be 1900-9949.
  int reference_year = 0;
  // Set true when the scan is only part of the data on one item: GS1
  // evaluates the association rules (req=/ex=) over the combined data of
  // all symbols marking the item, and a label may split it, e.g. a primary
  // GS1-128 with (01)(17) and a secondary one with (10)(21). With true,
  // Parse and ParseUdi skip those rules (every other check still applies);
  // the caller checks the combined elements with CheckAssociations. Off by
  // default: every lotledger caller (ResolveUdi, inventory receive by scan,
  // the console's scan search, lotctl gs1 parse) takes the whole UDI as one
  // scan and checks the rules.
  bool fragment = false;
};

// Splits and validates `scan` (see the top of this file for the forms).
// Returns the elements in input order, or InvalidArgument for empty or
// malformed input, for any element that fails validation and (unless
// options.fragment) for a broken association rule.
absl::StatusOr<std::vector<Element>> Parse(std::string_view scan,
                                           const ParseOptions& options);

// The Syntax Dictionary's association rules over `elements`, the AIs of one
// item (see AiSpec::requisites and exclusions). Exclusions are checked
// first, then requisites, each in element order; the first broken rule is
// returned as InvalidArgument naming the AI, its data title and what it
// needs or cannot appear with, e.g.
//   "AI (02): CONTENT cannot appear with GTIN (01) in the same element
//    string"
//   "AI (10): BATCH/LOT needs one of GTIN (01), CONTENT (02), MTO GTIN (03),
//    ITIP (8006) or ITIP CONTENT (8026) in the same element string".
// An AI missing from the table is refused. Parse runs this unless
// options.fragment; call it on the combined elements of several fragments.
absl::Status CheckAssociations(const std::vector<Element>& elements);

// The fields of a medical device UDI (EU MDR / FDA UDI with GS1 as issuing
// entity) found in a scan.
struct Udi {
  std::string gtin;               // AI (01), the UDI-DI. Always present.
  std::string lot;                // AI (10); empty when absent.
  std::string serial;             // AI (21); empty when absent.
  std::optional<Date> expiry;     // AI (17), DD=00 resolved to month end.
  std::optional<Date> produced;   // AI (11), DD=00 resolved to month end.
  std::vector<Element> elements;  // All elements, in scan order.
};

// Parse() plus extraction of the UDI fields; InvalidArgument if the scan is
// invalid or has no AI (01). A scan without (01) is refused as such ("AI
// (01): missing; ...") before the association rules are checked.
absl::StatusOr<Udi> ParseUdi(std::string_view scan,
                             const ParseOptions& options);

// Resolves a YYMMDD date field as AIs 11-17 carry it (DD=00 as permitted by
// options.allow_day_zero, meaning the month's last day); InvalidArgument for
// anything that is not a real date.
absl::StatusOr<Date> ParseYymmdd(std::string_view yymmdd,
                                 const ParseOptions& options);

// The GS1 mod-10 check digit (0-9) for `digits_without_check`. Precondition:
// non-empty and all ASCII digits (CHECK-fails otherwise; validate user input
// first or use IsValidGtin14).
int CheckDigit(std::string_view digits_without_check);

// True if `gtin` is 14 digits whose last digit is the correct check digit.
bool IsValidGtin14(std::string_view gtin);

// True if `c` is one of the 82 characters GS1 allows in alphanumeric data
// such as a lot (10) or a serial (21): General Specifications figure 7.11-1.
bool IsCset82(char c);

// "(01)09506000134352(17)261231(10)A17": the bracketed form, with '(' in
// values escaped as "\(" so that Parse() reads it back.
std::string ToBracketed(const std::vector<Element>& elements);

// The unbracketed form as a scanner without symbology identifier delivers
// it: a GS after every field except predefined-length ones and the last.
// An AI missing from the table is treated as variable-length.
std::string ToElementString(const std::vector<Element>& elements);

}  // namespace lotledger::gs1

#endif  // LOTLEDGER_LIBS_GS1_ELEMENT_STRING_H_
