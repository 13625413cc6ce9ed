// Command-line parsing for lotctl. Flags are written `--name=value` or, for
// switches, `--name`; everything else is a positional argument, and `--`
// makes the rest positional. Only the `=` form takes a value so that a
// value can never be mistaken for the next word (a scan or a lot id may
// start with anything) and the verb is found without knowing every flag.
//
// A command declares the flags it accepts (FlagSpec) and Bind() rejects
// anything else with a message naming the flag, so a typo is a usage error
// instead of a silently ignored option.
//
// Thread-safety: value types; no shared state.
#ifndef LOTLEDGER_TOOLS_LOTCTL_FLAGS_H_
#define LOTLEDGER_TOOLS_LOTCTL_FLAGS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

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

}  // namespace lotledger::lotctl

#endif  // LOTLEDGER_TOOLS_LOTCTL_FLAGS_H_
