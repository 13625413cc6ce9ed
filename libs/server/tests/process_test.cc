// Process configuration: what a server refuses to start with (dev tokens
// outside a developer's machine, plaintext off loopback), and that
// start-up errors never echo a Kafka property's value (a password), and
// the malloc arena limit (--malloc-arenas) parsed and applied, and freed
// pages given back by the MallocTrimmer.
#include "libs/server/process.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

#include <fstream>
#include <latch>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace lotledger::server {
namespace {

absl::StatusOr<ProcessConfig> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "lots-service");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return ParseProcessConfig(static_cast<int>(argv.size()), argv.data(),
                            "lots-service");
}

TEST(ProcessConfig, DevTokensOnlyWithInsecureDev) {
  // TLS on a public address with dev tokens: refused, naming the flag.
  absl::StatusOr<ProcessConfig> c =
      Parse({"--listen=0.0.0.0:7070", "--tls-cert=/x/tls.crt",
             "--tls-key=/x/tls.key", "--dev-tokens=/x/tokens"});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(c.status().message(),
                               "--dev-tokens: only with --insecure-dev=true"))
      << c.status();
  // TLS on loopback too: dev tokens need the developer's switch.
  c = Parse({"--listen=127.0.0.1:7070", "--tls-cert=/x/tls.crt",
             "--tls-key=/x/tls.key", "--dev-tokens=/x/tokens"});
  EXPECT_FALSE(c.ok());
  // JWTs with TLS on a public address: fine.
  c = Parse({"--listen=0.0.0.0:7070", "--tls-cert=/x/tls.crt",
             "--tls-key=/x/tls.key", "--jwks-file=/x/jwks.json",
             "--jwt-issuer=https://idp", "--jwt-audience=lotledger"});
  EXPECT_TRUE(c.ok()) << c.status();
}

TEST(ProcessConfig, InsecureDevOnlyOnLoopback) {
  for (const std::string listen :
       {"0.0.0.0:7070", "10.1.2.3:7070", "[::]:7070", "lotledger:7070",
        "192.168.0.127:7070", ":7070"}) {
    absl::StatusOr<ProcessConfig> c =
        Parse({"--listen=" + listen, "--insecure-dev=true"});
    ASSERT_FALSE(c.ok()) << listen;
    EXPECT_TRUE(
        absl::StartsWith(c.status().message(),
                         "--insecure-dev=true: only with a loopback --listen"))
        << c.status();
    EXPECT_NE(c.status().message().find(listen), std::string::npos)
        << c.status();
  }
  for (const std::string listen :
       {"127.0.0.1:7070", "127.9.8.7:0", "[::1]:7070", "localhost:7070",
        "LocalHost:1"}) {
    absl::StatusOr<ProcessConfig> c =
        Parse({"--listen=" + listen, "--insecure-dev=true",
               "--dev-tokens=/x/tokens"});
    EXPECT_TRUE(c.ok()) << listen << ": " << c.status();
  }
  // The default listen address is loopback: ./tools/run's command line.
  EXPECT_TRUE(Parse({"--data-dir=./data", "--dev-tokens=./data/dev-tokens",
                     "--insecure-dev=true"})
                  .ok());
}

TEST(ProcessConfig, ConfigBuiltInCodeIsCheckedToo) {
  ProcessConfig c;
  c.listen = "0.0.0.0:0";
  c.tls.insecure_dev = true;
  c.dev_tokens = "/x/tokens";
  EXPECT_EQ(ValidateProcessConfig(c).code(),
            absl::StatusCode::kInvalidArgument);
  c.listen = "127.0.0.1:0";
  EXPECT_TRUE(ValidateProcessConfig(c).ok());
}

TEST(ProcessConfig, ArgumentErrorsNeverEchoAValue) {
  // A mistyped flag (one dash) whose value is a Kafka password.
  absl::StatusOr<ProcessConfig> c =
      Parse({"-kafka-properties=sasl.password=hunter2-secret",
             "--insecure-dev=true"});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message().find("hunter2"), std::string::npos)
      << c.status();
  EXPECT_NE(c.status().message().find("-kafka-properties=..."),
            std::string::npos)
      << c.status();
}

TEST(ProcessConfig, KafkaPropertyErrorsNeverEchoTheValue) {
  // librdkafka refuses these at configuration time, before any broker is
  // contacted; the errors name the property, never its value.
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{
           {"sasl.secret.token", "hunter2-secret"},
           {"ssl.key.password.typo", "hunter2-secret"},
           {"security.protocol", "hunter2-secret"}}) {
    ProcessConfig c;
    c.log = "kafka";
    c.kafka_bootstrap = "127.0.0.1:1";
    c.kafka_properties[name] = value;
    absl::Status s = OpenEventLog(c, "lots-service").status();
    ASSERT_FALSE(s.ok()) << name;
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_NE(s.message().find(name), std::string::npos) << s;
    EXPECT_EQ(s.message().find("hunter2"), std::string::npos) << s;
  }
}

TEST(ProcessConfig, MallocArenasFlag) {
  absl::StatusOr<ProcessConfig> c = Parse({"--insecure-dev=true"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->malloc_arenas, 4);
  c = Parse({"--insecure-dev=true", "--malloc-arenas=2"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->malloc_arenas, 2);
  // 0: glibc's own limit.
  c = Parse({"--insecure-dev=true", "--malloc-arenas=0"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->malloc_arenas, 0);
  // The env twin, under the flag.
  setenv("LOTLEDGER_MALLOC_ARENAS", "3", 1);
  c = Parse({"--insecure-dev=true"});
  EXPECT_TRUE(c.ok() && c->malloc_arenas == 3) << c.status();
  c = Parse({"--insecure-dev=true", "--malloc-arenas=1"});
  EXPECT_TRUE(c.ok() && c->malloc_arenas == 1) << c.status();
  unsetenv("LOTLEDGER_MALLOC_ARENAS");
  for (const std::string bad : {"-1", "two", ""}) {
    c = Parse({"--insecure-dev=true", "--malloc-arenas=" + bad});
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(c.status().message(),
              "--malloc-arenas: expected an integer >= 0, got \"" + bad + "\"");
  }
  EXPECT_NE(Usage("lots-service")
                .find("--malloc-arenas  (env "
                      "LOTLEDGER_MALLOC_ARENAS, default 4)"),
            std::string::npos)
      << Usage("lots-service");
}

TEST(ProcessConfig, MallocTrimSecondsFlag) {
  absl::StatusOr<ProcessConfig> c = Parse({"--insecure-dev=true"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->malloc_trim_seconds, 10);
  c = Parse({"--insecure-dev=true", "--malloc-trim-seconds=0"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->malloc_trim_seconds, 0);
  c = Parse({"--insecure-dev=true", "--malloc-trim-seconds=-1"});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "--malloc-trim-seconds: expected an integer >= 0, got \"-1\"");
  EXPECT_NE(Usage("lots-service")
                .find("--malloc-trim-seconds  (env "
                      "LOTLEDGER_MALLOC_TRIM_SECONDS, default 10)"),
            std::string::npos)
      << Usage("lots-service");
}

// AddressSanitizer replaces malloc: glibc's arenas do not exist in the
// sanitizer build, so the arena test is built only without it (the plain
// build runs it).
#if defined(__SANITIZE_ADDRESS__)
#define LOTLEDGER_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LOTLEDGER_TEST_ASAN 1
#endif
#endif

#ifndef LOTLEDGER_TEST_ASAN
// The arenas glibc malloc has now (malloc_info lists one <heap> each).
int MallocArenas() {
  char* text = nullptr;
  size_t size = 0;
  FILE* out = open_memstream(&text, &size);
  malloc_info(0, out);
  fclose(out);
  int heaps = 0;
  for (std::string_view rest(text, size);;) {
    const size_t at = rest.find("<heap nr=");
    if (at == std::string_view::npos) break;
    ++heaps;
    rest.remove_prefix(at + 1);
  }
  free(text);
  return heaps;
}

// Threads that each allocate while all are alive: glibc gives every new
// thread an arena of its own while it is under its limit (a thread that
// ended would hand its arena to the next).
int ArenasAfterThreads(int threads) {
  std::latch allocated(threads);
  std::vector<std::thread> running;
  for (int i = 0; i < threads; ++i) {
    running.emplace_back([&allocated] {
      std::vector<std::string> held;
      for (int j = 0; j < 64; ++j) held.emplace_back(4096, 'x');
      allocated.arrive_and_wait();
    });
  }
  for (std::thread& t : running) t.join();
  return MallocArenas();
}

TEST(ProcessConfig, MallocArenasBoundsGlibcsArenas) {
  if (getenv("MALLOC_ARENA_MAX") != nullptr) {
    GTEST_SKIP() << "MALLOC_ARENA_MAX is set: it wins over the flag";
  }
  // In a fresh child process (threadsafe: re-executed, not forked from
  // this one): the limit is per process, fixed once a thread first needs
  // an arena.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        ProcessConfig config;
        config.malloc_arenas = 2;
        ConfigureMalloc(config);
        const int arenas = ArenasAfterThreads(8);
        fprintf(stderr, "arenas: %d\n", arenas);
        _exit(arenas == 2 ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "arenas: 2");
  // Without it (0: glibc's limit, 8 per core), eight threads get more.
  EXPECT_EXIT(
      {
        ProcessConfig config;
        config.malloc_arenas = 0;
        ConfigureMalloc(config);
        const int arenas = ArenasAfterThreads(8);
        fprintf(stderr, "arenas: %d\n", arenas);
        _exit(arenas > 2 ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "arenas: ");
}

// The process's own memory (the Anonymous line of /proc/self/smaps_rollup,
// which counts the page tables now; /proc/self/status lags behind by what
// each thread has not yet reported), in KiB.
int64_t AnonymousKib() {
  std::ifstream rollup("/proc/self/smaps_rollup");
  std::string line;
  while (std::getline(rollup, line)) {
    int64_t kib = 0;
    if (line.starts_with("Anonymous:") &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(
                             absl::StripSuffix(line.substr(10), "kB")),
                         &kib)) {
      return kib;
    }
  }
  return -1;
}

// Frees most of 96 MiB held in 4 KiB blocks, keeping every eighth (and the
// last), so the free pages lie between blocks in use where free() alone
// never gives them back; then waits up to 30 s (polling, not timing) for
// the process's own memory to fall by half of what was freed. A trimmer
// runs when `trim` (no floor) or with a floor `above_bytes`. The child
// prints "given back" or "kept" and exits 0 if it was what `trim` expects.
void FragmentThenWait(bool trim, size_t above_bytes = 0) {
  std::vector<std::string*> blocks;
  for (int i = 0; i < 96 * 256; ++i)
    blocks.push_back(new std::string(4096, 'x'));
  for (size_t i = 0; i + 1 < blocks.size(); ++i) {
    if (i % 8 != 0) {
      delete blocks[i];
      blocks[i] = nullptr;
    }
  }
  const int64_t held = AnonymousKib();
  std::unique_ptr<MallocTrimmer> trimmer;
  if (trim || above_bytes > 0) {
    trimmer =
        std::make_unique<MallocTrimmer>(absl::Milliseconds(10), above_bytes);
  }
  bool fell = false;
  // When nothing is to fall, a trimmer every 10 ms that would give the
  // pages back does so well within a short look.
  const absl::Time deadline = absl::Now() + absl::Seconds(trim ? 30 : 1);
  while (!fell && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
    fell = held - AnonymousKib() > 40 * 1024;
  }
  trimmer.reset();
  fprintf(stderr, "%s\n", fell ? "given back" : "kept");
  for (std::string* b : blocks) delete b;
  _exit(fell == trim ? 0 : 1);
}

TEST(ProcessConfig, MallocTrimmerGivesFreePagesBack) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(FragmentThenWait(/*trim=*/true), ::testing::ExitedWithCode(0),
              "given back");
  // The premise: without it those pages stay resident.
  EXPECT_EXIT(FragmentThenWait(/*trim=*/false), ::testing::ExitedWithCode(0),
              "kept");
  // Nor does a trimmer give them back below its floor.
  EXPECT_EXIT(FragmentThenWait(/*trim=*/false, /*above_bytes=*/size_t{1} << 40),
              ::testing::ExitedWithCode(0), "kept");
}
#endif  // LOTLEDGER_TEST_ASAN

TEST(ProcessConfig, MallocTrimSecondsZeroStartsNoTrimmer) {
  ProcessConfig config;
  config.malloc_trim_seconds = 0;
  EXPECT_EQ(StartMallocTrimmer(config), nullptr);
  config.malloc_trim_seconds = 1;
  EXPECT_NE(StartMallocTrimmer(config), nullptr);
}

TEST(ProcessConfig, ResidentBytesCountsTouchedPages) {
  const size_t before = ResidentBytes();
  ASSERT_GT(before, 0u);
  std::vector<char> touched(64 << 20, 'x');
  EXPECT_GE(ResidentBytes(), before + (48 << 20));
  EXPECT_EQ(touched[touched.size() / 2], 'x');
}

}  // namespace
}  // namespace lotledger::server
