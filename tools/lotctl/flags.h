// Command-line parsing for lotctl. Flags are written `--name=value` or, for
// switches, `--name`; everything else is a positional argument, and `--`
// makes the rest positional. Only the `=` form takes a value so that a
// value can never be mistaken for the next word (a scan or a lot id may
// start with anything) and the verb is found without knowing every flag.
//
// A command declares the flags it accepts (FlagSpec) and RejectUnknown()
// rejects anything else with a message naming the flag, so a typo is a
// usage error instead of a silently ignored option. The helpers at the end
// (ExpectPositional, RequiredFlag, IntFlag, DateFlag, EnumFlag) are the
// checks every command makes, so their messages read the same everywhere.
//
// Thread-safety: value types; no shared state.
#ifndef LOTLEDGER_TOOLS_LOTCTL_FLAGS_H_
#define LOTLEDGER_TOOLS_LOTCTL_FLAGS_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lotledger/v1/common.pb.h"

namespace lotledger::lotctl {

struct RawFlag {
  std::string name;                  // without the leading "--"
  std::optional<std::string> value;  // absent for `--name`
};

struct ParsedArgs {
  std::vector<std::string> positional;
  std::vector<RawFlag> flags;  // in command-line order
};

// Splits `args` (without the program name). InvalidArgument for "-x"
// short options and "--" followed by "=" with no name.
absl::StatusOr<ParsedArgs> SplitArgs(const std::vector<std::string>& args);

enum class FlagKind {
  kSwitch,    // --name, no value
  kValue,     // --name=value, at most once
  kRepeated,  // --name=value, any number of times
};

struct FlagSpec {
  std::string name;
  FlagKind kind;
};

// The flags of one command after checking them against its specs.
class Flags {
 public:
  // Takes the flags of `parsed` named in `specs` and removes them from
  // `parsed.flags`; flags left over are someone else's (see Unknown()).
  // InvalidArgument when a flag is repeated, lacks a value or a switch has
  // one.
  static absl::StatusOr<Flags> Take(ParsedArgs& parsed,
                                    const std::vector<FlagSpec>& specs);

  bool Has(const std::string& name) const;
  std::optional<std::string> Get(const std::string& name) const;
  std::vector<std::string> GetAll(const std::string& name) const;

 private:
  std::vector<RawFlag> flags_;
};

// InvalidArgument naming the first flag left in `parsed`, if any, for
// `command` (e.g. "lot create").
absl::Status RejectUnknown(const ParsedArgs& parsed,
                           const std::string& command);

// Parses a decimal integer within [min, max]; the error names `what`.
absl::StatusOr<int64_t> ParseInt(const std::string& text,
                                 const std::string& what, int64_t min,
                                 int64_t max);

// ---- The checks every command makes, in one wording ------------------------
// Whichever command reports it, a usage error reads the same:
//   usage: lotctl inventory transfer LOT_ID --from=ID ...   (positionals)
//   --item is required for 'inventory fefo'                 (a missing flag)
//   --quantity: "x" is not an integer in 1..9007199254740992
//   --kind: "shelf" is not one of bin, region, site, warehouse
//   --ship-date: "1.2.26" is not a date written YYYY-MM-DD
// (values.h says what a date, a kind or a lot input is; these add the flag).

// Exactly `n` positional arguments; else InvalidArgument "usage: lotctl
// <usage>" (`usage` starts with the command, e.g. "lot get LOT_ID").
absl::Status ExpectPositional(const ParsedArgs& args, size_t n,
                              const std::string& usage);

// The checks every command starts with: takes its flags (`specs`, as
// Flags::Take), rejects any other (RejectUnknown, naming `command`) and
// wants `positional` positional arguments (ExpectPositional with `usage`).
absl::StatusOr<Flags> TakeCommandFlags(ParsedArgs& args,
                                       const std::vector<FlagSpec>& specs,
                                       const std::string& command,
                                       size_t positional,
                                       const std::string& usage);

// The value of a required flag; InvalidArgument "--NAME is required for
// '<command>'" when it is absent or empty.
absl::StatusOr<std::string> RequiredFlag(const Flags& flags,
                                         const std::string& name,
                                         const std::string& command);

// `why` (a value's error from values.h) as the error of flag --NAME:
// "--NAME: <why's message>", InvalidArgument.
absl::Status FlagValueError(const std::string& name, const absl::Status& why);

// --NAME=N within [min, max] (ParseInt's wording); `absent` when not given.
absl::StatusOr<int64_t> IntFlag(const Flags& flags, const std::string& name,
                                int64_t min, int64_t max, int64_t absent = 0);

// --NAME=YYYY-MM-DD; an unset Date (all zero) when not given.
absl::StatusOr<v1::Date> DateFlag(const Flags& flags, const std::string& name);

// A required --NAME naming one of `values` (any case; '_' reads as '-').
template <typename Enum>
absl::StatusOr<Enum> EnumFlag(const Flags& flags, const std::string& name,
                              const std::map<std::string, Enum>& values,
                              const std::string& command) {
  absl::StatusOr<std::string> text = RequiredFlag(flags, name, command);
  if (!text.ok()) return text.status();
  std::string key = absl::AsciiStrToLower(*text);
  std::replace(key.begin(), key.end(), '_', '-');
  if (auto it = values.find(key); it != values.end()) return it->second;
  std::vector<std::string> names;
  for (const auto& [n, e] : values) names.push_back(n);
  return absl::InvalidArgumentError(absl::StrCat("--", name, ": \"", *text,
                                                 "\" is not one of ",
                                                 absl::StrJoin(names, ", ")));
}

}  // namespace lotledger::lotctl

#endif  // LOTLEDGER_TOOLS_LOTCTL_FLAGS_H_
