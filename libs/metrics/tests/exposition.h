// Test helpers for the Prometheus text format: a strict parser of the
// exposition format 0.0.4 written here (not the library's), histogram
// checks, and a minimal HTTP/1.1 GET over a real socket. Used by the
// metrics unit test and the process tests that scrape real binaries.
#ifndef LOTLEDGER_LIBS_METRICS_TESTS_EXPOSITION_H_
#define LOTLEDGER_LIBS_METRICS_TESTS_EXPOSITION_H_

#include <map>
#include <string>
#include <vector>

#include "libs/metrics/metrics.h"

namespace lotledger::metrics::testing {

struct ParsedSample {
  std::string name;
  Labels labels;
  double value = 0;
};

struct ParsedFamily {
  std::string help;  // " " when the HELP line had no text
  std::string type;
  std::vector<ParsedSample> samples;
};

// Any deviation from the format is an entry in `errors` naming the line:
// HELP/TYPE at most once per family and before its samples, valid names,
// quoted and correctly escaped label values, parseable values.
struct Exposition {
  std::map<std::string, ParsedFamily> families;
  std::vector<std::string> errors;
};
Exposition ParseExposition(const std::string& text);

// Adds a test failure for each histogram whose series lack a _sum, a
// _count or a +Inf bucket, whose buckets are not cumulative in `le` order,
// or whose +Inf bucket differs from _count.
void CheckHistograms(const Exposition& exposition);

// Sum of the samples named `sample` (a family name, or a histogram's
// "<family>_count" ...) whose labels include all of `match`.
double SumOf(const Exposition& exposition, const std::string& sample,
             const Labels& match = {});

struct HttpResponse {
  std::string status_line;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;                            // de-chunked
};
// GET `path` from 127.0.0.1:`port` over a fresh TCP connection
// (Connection: close).
HttpResponse HttpGet(int port, const std::string& path);

}  // namespace lotledger::metrics::testing

#endif  // LOTLEDGER_LIBS_METRICS_TESTS_EXPOSITION_H_
