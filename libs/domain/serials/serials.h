// Serial numbers of serialised products (GS1 AI 21) as requests and events
// carry them: lists of SerialRange (proto/lotledger/v1/common.proto), each
// one serial or an inclusive range "SN0001".."SN0100".
//
// Every service that reads serials (lots: the serial register; inventory:
// where each serial is; recall: scope and impact by serial) validates and
// expands them here, so a range means the same everywhere:
//   * a serial is 1-20 characters of the GS1 CSET 82 (General
//     Specifications figure 7.11-1);
//   * a range's first and last have the same length, are equal up to the
//     first position where they differ, and from there on are digits with
//     first <= last; its serials are that prefix followed by every number
//     in between, zero-padded to the same width ("A09".."A11" is A09, A10,
//     A11);
//   * a list names each serial once.
// Events carry serials in canonical form (CompressSerials of the sorted
// serials), so equal sets are equal bytes.
//
// Pure functions; thread-safe.
#ifndef LOTLEDGER_LIBS_DOMAIN_SERIALS_SERIALS_H_
#define LOTLEDGER_LIBS_DOMAIN_SERIALS_SERIALS_H_

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "lotledger/v1/common.pb.h"

namespace lotledger::domain {

using SerialRanges = google::protobuf::RepeatedPtrField<v1::SerialRange>;

inline constexpr size_t kMaxSerialLength = 20;
// The most serials one request may name (a pallet of labels, not a year).
inline constexpr int64_t kMaxSerialsPerRequest = 100'000;

// InvalidArgument naming `field` ("serials[2].last") and the rule when
// `serial` is not 1-20 characters of CSET 82.
absl::Status ValidateSerial(absl::string_view serial, absl::string_view field);

// The serials of `ranges`, sorted, each once. InvalidArgument naming the
// field ("<field>[i].first", "<field>[i].last", "<field>") and the rule when
// a range is malformed, a serial is named twice, the list is empty (when
// `required`), or it has more than `max_count` serials.
absl::StatusOr<std::vector<std::string>> ExpandSerials(
    const SerialRanges& ranges, absl::string_view field,
    int64_t max_count = kMaxSerialsPerRequest, bool required = true);

// The serials of ranges an event carries (Decide validated them): sorted,
// each once; none when they do not expand (a corrupt event), so a fold over
// events stays total. `max_count` bounds a request's ranges read the same
// way before Decide names what is wrong with them.
std::vector<std::string> SerialsOf(
    const SerialRanges& ranges,
    int64_t max_count = std::numeric_limits<int64_t>::max());

// Sorted, distinct serials as the fewest ranges: runs of consecutive
// numbers (same length and prefix, trailing digits counting up by one)
// become one range; a run of one is a single serial (last empty).
SerialRanges CompressSerials(const std::vector<std::string>& sorted);

// How many serials valid `ranges` name (ExpandSerials accepted them).
int64_t CountSerials(const SerialRanges& ranges);

// For messages: "SN0001..SN0010, SN0042", at most `max_ranges` ranges and
// then "and N more".
std::string FormatSerials(const SerialRanges& ranges, int max_ranges = 5);

// Reads "SN0001..SN0100" or "SN0042" (command lines, import files).
// InvalidArgument naming `field` when the text has more than one "..".
absl::StatusOr<v1::SerialRange> ParseSerialRangeText(absl::string_view text,
                                                     absl::string_view field);

// "<item> <serial>": the key of one unit in maps keyed by serial (a space
// is in neither a GS1 item code nor a serial).
std::string SerialKey(absl::string_view item, absl::string_view serial);

}  // namespace lotledger::domain

#endif  // LOTLEDGER_LIBS_DOMAIN_SERIALS_SERIALS_H_
