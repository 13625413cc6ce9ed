// The scaffolding of the given/when/then decider tables, shared by the
// lots, quality, inventory and recall tests: a row (DecideCase), text-format
// parsing of its events and commands, and the check of Decide's answer
// against the row. The tables themselves stay in each area's
// tests/decider_test.cc, where a quality manager can review them; how each
// area folds `given` into its decision state stays there too.
//
// Every refusal row must name the reason it expects (`message_has`, a part
// of the message that names the field or the rule): a row that expects an
// error with an empty `message_has` fails, so a refusal for the wrong
// reason cannot pass.
//
// Header-only, for tests (links GoogleTest); link lotledger_decider_testing.
#ifndef LOTLEDGER_LIBS_DOMAIN_TESTING_DECIDER_TABLE_H_
#define LOTLEDGER_LIBS_DOMAIN_TESTING_DECIDER_TABLE_H_

#include <cstddef>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "lotledger/v1/events.pb.h"

namespace lotledger::domain::testing {

// A message from protobuf text format; a test failure naming the text when
// it does not parse.
template <typename M>
M Parse(const std::string& text) {
  M message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message))
      << text;
  return message;
}

inline v1::Event Ev(const std::string& text) { return Parse<v1::Event>(text); }

inline constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;
inline constexpr absl::StatusCode kRefused =
    absl::StatusCode::kFailedPrecondition;

// One row: given prior events, when a command (text format), then the
// events Decide returns, in order, or the error `code` whose message
// contains `message_has`. `Given` is how an area writes its prior events
// (a list of event texts, or an optional list where "none given" means a
// shared world).
template <typename Given = std::vector<std::string>>
struct DecideCase {
  DecideCase(std::string name, Given given, std::string when,
             std::vector<std::string> then,
             absl::StatusCode code = absl::StatusCode::kOk,
             std::string message_has = "")
      : name(std::move(name)),
        given(std::move(given)),
        when(std::move(when)),
        then(std::move(then)),
        code(code),
        message_has(std::move(message_has)) {}

  std::string name;
  Given given;                    // prior events
  std::string when;               // the command
  std::vector<std::string> then;  // expected events, in order
  absl::StatusCode code;          // or the expected error
  std::string message_has;        // and the part of its message naming why
};

// Names the row instead of dumping its bytes when a test fails.
template <typename Given>
void PrintTo(const DecideCase<Given>& c, std::ostream* os) {
  *os << c.name;
}

// For INSTANTIATE_TEST_SUITE_P: the row's name is the test's.
struct CaseName {
  template <typename Case>
  std::string operator()(const ::testing::TestParamInfo<Case>& info) const {
    return info.param.name;
  }
};

// `status` is the error `code` and its message contains `message_has`,
// which must not be empty: a refusal is checked by its reason.
inline void ExpectRefused(const absl::Status& status, absl::StatusCode code,
                          const std::string& message_has) {
  ASSERT_FALSE(status.ok()) << "expected " << absl::StatusCodeToString(code)
                            << " naming \"" << message_has << "\"";
  EXPECT_EQ(status.code(), code) << status;
  EXPECT_FALSE(message_has.empty())
      << "a refusal must be checked by its reason; got: " << status;
  EXPECT_NE(status.message().find(message_has), std::string::npos)
      << "message: " << status.message()
      << "\nexpected to contain: " << message_has;
}

// `got` are the events `then` (compared field by field, in order).
inline void ExpectEvents(const std::vector<std::string>& then,
                         const absl::StatusOr<std::vector<v1::Event>>& got) {
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), then.size());
  for (size_t i = 0; i < then.size(); ++i) {
    std::string diff;
    google::protobuf::util::MessageDifferencer differencer;
    differencer.ReportDifferencesToString(&diff);
    EXPECT_TRUE(differencer.Compare(Ev(then[i]), (*got)[i]))
        << "event " << i << ":\n"
        << diff;
  }
}

// Decide's answer `got` is what row `c` says.
template <typename Given>
void ExpectDecision(const DecideCase<Given>& c,
                    const absl::StatusOr<std::vector<v1::Event>>& got) {
  if (c.code != absl::StatusCode::kOk) {
    ExpectRefused(got.status(), c.code, c.message_has);
  } else {
    ExpectEvents(c.then, got);
  }
}

}  // namespace lotledger::domain::testing

#endif  // LOTLEDGER_LIBS_DOMAIN_TESTING_DECIDER_TABLE_H_
