#include "tools/lotctl/flags.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tools/lotctl/values.h"

namespace lotledger::lotctl {

absl::StatusOr<ParsedArgs> SplitArgs(const std::vector<std::string>& args) {
  ParsedArgs parsed;
  bool only_positional = false;
  for (const std::string& arg : args) {
    if (only_positional || arg == "-" || arg.empty() || arg[0] != '-') {
      parsed.positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    if (arg.size() < 3 || arg[1] != '-') {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown option ", arg, ": lotctl options are long, e.g. --json"));
    }
    const size_t eq = arg.find('=');
    RawFlag flag;
    flag.name =
        arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    if (flag.name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("option ", arg, " has no name"));
    }
    if (eq != std::string::npos) flag.value = arg.substr(eq + 1);
    parsed.flags.push_back(std::move(flag));
  }
  return parsed;
}

absl::StatusOr<Flags> Flags::Take(ParsedArgs& parsed,
                                  const std::vector<FlagSpec>& specs) {
  Flags out;
  std::vector<RawFlag> rest;
  for (RawFlag& flag : parsed.flags) {
    auto spec = std::find_if(specs.begin(), specs.end(), [&](const auto& s) {
      return s.name == flag.name;
    });
    if (spec == specs.end()) {
      rest.push_back(std::move(flag));
      continue;
    }
    switch (spec->kind) {
      case FlagKind::kSwitch:
        if (flag.value.has_value()) {
          return absl::InvalidArgumentError(
              absl::StrCat("--", flag.name, " is a switch and takes no value"));
        }
        break;
      case FlagKind::kValue:
        if (out.Has(flag.name)) {
          return absl::InvalidArgumentError(
              absl::StrCat("--", flag.name, " is given more than once"));
        }
        [[fallthrough]];
      case FlagKind::kRepeated:
        if (!flag.value.has_value()) {
          return absl::InvalidArgumentError(
              absl::StrCat("--", flag.name, " needs a value: write --",
                           flag.name, "=VALUE"));
        }
        break;
    }
    out.flags_.push_back(std::move(flag));
  }
  parsed.flags = std::move(rest);
  return out;
}

bool Flags::Has(const std::string& name) const {
  return std::any_of(flags_.begin(), flags_.end(),
                     [&](const RawFlag& f) { return f.name == name; });
}

std::optional<std::string> Flags::Get(const std::string& name) const {
  for (const RawFlag& f : flags_) {
    if (f.name == name) return f.value;
  }
  return std::nullopt;
}

std::vector<std::string> Flags::GetAll(const std::string& name) const {
  std::vector<std::string> values;
  for (const RawFlag& f : flags_) {
    if (f.name == name && f.value.has_value()) values.push_back(*f.value);
  }
  return values;
}

absl::Status RejectUnknown(const ParsedArgs& parsed,
                           const std::string& command) {
  if (parsed.flags.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("unknown option --", parsed.flags.front().name, " for '",
                   command, "' (see: lotctl help ", command, ")"));
}

absl::StatusOr<int64_t> ParseInt(const std::string& text,
                                 const std::string& what, int64_t min,
                                 int64_t max) {
  int64_t value = 0;
  // SimpleAtoi accepts surrounding whitespace and a '+'; a ledger value
  // should be written plainly, so check the digits first.
  const bool plain =
      !text.empty() &&
      std::all_of(text.begin() + (text[0] == '-' ? 1 : 0), text.end(),
                  [](char c) { return c >= '0' && c <= '9'; }) &&
      text != "-";
  if (!plain || !absl::SimpleAtoi(text, &value) || value < min || value > max) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": \"", text, "\" is not an integer in ", min, "..", max));
  }
  return value;
}

absl::Status ExpectPositional(const ParsedArgs& args, size_t n,
                              const std::string& usage) {
  if (args.positional.size() == n) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("usage: lotctl ", usage));
}

absl::StatusOr<Flags> TakeCommandFlags(ParsedArgs& args,
                                       const std::vector<FlagSpec>& specs,
                                       const std::string& command,
                                       size_t positional,
                                       const std::string& usage) {
  absl::StatusOr<Flags> flags = Flags::Take(args, specs);
  if (!flags.ok()) return flags.status();
  if (absl::Status s = RejectUnknown(args, command); !s.ok()) return s;
  if (absl::Status s = ExpectPositional(args, positional, usage); !s.ok()) {
    return s;
  }
  return flags;
}

absl::StatusOr<std::string> RequiredFlag(const Flags& flags,
                                         const std::string& name,
                                         const std::string& command) {
  std::optional<std::string> v = flags.Get(name);
  if (!v.has_value() || v->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " is required for '", command, "'"));
  }
  return *v;
}

absl::Status FlagValueError(const std::string& name, const absl::Status& why) {
  return absl::InvalidArgumentError(
      absl::StrCat("--", name, ": ", why.message()));
}

absl::StatusOr<int64_t> IntFlag(const Flags& flags, const std::string& name,
                                int64_t min, int64_t max, int64_t absent) {
  std::optional<std::string> v = flags.Get(name);
  if (!v.has_value()) return absent;
  return ParseInt(*v, "--" + name, min, max);
}

absl::StatusOr<v1::Date> DateFlag(const Flags& flags, const std::string& name) {
  std::optional<std::string> v = flags.Get(name);
  if (!v.has_value()) return v1::Date();
  absl::StatusOr<v1::Date> date = ParseDateText(*v);
  if (!date.ok()) return FlagValueError(name, date.status());
  return date;
}

}  // namespace lotledger::lotctl
