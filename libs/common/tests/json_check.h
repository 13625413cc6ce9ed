// For tests of log output: a strict JSON validator (RFC 8259: one value,
// strings of valid UTF-8 without raw control characters, no trailing
// text) and a capture of what the process writes to stderr meanwhile.
#ifndef LOTLEDGER_LIBS_COMMON_TESTS_JSON_CHECK_H_
#define LOTLEDGER_LIBS_COMMON_TESTS_JSON_CHECK_H_

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace lotledger::testing {

// Parses `text` as exactly one JSON object; on success returns "" and
// fills `strings` with its top-level string members (decoded only as far
// as needed: escapes kept as written). Otherwise returns what is wrong.
class StrictJson {
 public:
  static std::string CheckObject(std::string_view text,
                                 std::map<std::string, std::string>* strings) {
    StrictJson p(text);
    if (p.Peek() != '{') return "not an object";
    std::string error = p.Value(strings, /*depth=*/0);
    if (!error.empty()) return error;
    p.SkipSpace();
    if (p.pos_ != text.size()) return "trailing text";
    return "";
  }

 private:
  explicit StrictJson(std::string_view s) : s_(s) {}
  char Peek() {
    SkipSpace();
    return pos_ < s_.size() ? s_[pos_] : '\0';
  }
  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' ||
                                s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  std::string Value(std::map<std::string, std::string>* strings, int depth) {
    if (depth > 64) return "too deep";
    const char c = Peek();
    if (c == '{') {
      ++pos_;
      if (Peek() == '}') return ++pos_, "";
      while (true) {
        if (Peek() != '"') return "member name is not a string";
        std::string key;
        if (std::string e = String(&key); !e.empty()) return e;
        if (Peek() != ':') return "no ':' after a member name";
        ++pos_;
        if (Peek() == '"' && depth == 0 && strings != nullptr) {
          std::string v;
          if (std::string e = String(&v); !e.empty()) return e;
          (*strings)[key] = v;
        } else if (std::string e = Value(nullptr, depth + 1); !e.empty()) {
          return e;
        }
        const char n = Peek();
        ++pos_;
        if (n == '}') return "";
        if (n != ',') return "no ',' or '}' after a member";
      }
    }
    if (c == '[') {
      ++pos_;
      if (Peek() == ']') return ++pos_, "";
      while (true) {
        if (std::string e = Value(nullptr, depth + 1); !e.empty()) return e;
        const char n = Peek();
        ++pos_;
        if (n == ']') return "";
        if (n != ',') return "no ',' or ']' in an array";
      }
    }
    if (c == '"') {
      std::string unused;
      return String(&unused);
    }
    for (std::string_view lit : {"true", "false", "null"}) {
      if (s_.substr(pos_, lit.size()) == lit) {
        pos_ += lit.size();
        return "";
      }
    }
    return Number();
  }
  std::string Number() {
    const size_t start = pos_;
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    auto digits = [&] {
      const size_t d = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      return pos_ - d;
    };
    if (pos_ < s_.size() && s_[pos_] == '0') {
      ++pos_;
    } else if (digits() == 0) {
      return "not a value at " + std::to_string(start);
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (digits() == 0) return "no digits after '.'";
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (digits() == 0) return "no digits in the exponent";
    }
    return "";
  }
  // A string starting at pos_ (at the quote).
  std::string String(std::string* out) {
    ++pos_;
    while (pos_ < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return "";
      }
      if (c < 0x20) return "raw control character in a string";
      if (c == '\\') {
        if (pos_ + 1 >= s_.size()) return "dangling escape";
        const char e = s_[pos_ + 1];
        if (e == 'u') {
          if (pos_ + 6 > s_.size()) return "short \\u escape";
          for (size_t i = pos_ + 2; i < pos_ + 6; ++i) {
            if (!std::isxdigit(static_cast<unsigned char>(s_[i]))) {
              return "bad \\u escape";
            }
          }
          out->append(s_.substr(pos_, 6));
          pos_ += 6;
          continue;
        }
        if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
          return "bad escape";
        }
        out->append(s_.substr(pos_, 2));
        pos_ += 2;
        continue;
      }
      size_t n = 1;
      if (c >= 0x80) {
        // Valid UTF-8 only (RFC 3629).
        const auto b = [&](size_t i) {
          return pos_ + i < s_.size() ? static_cast<unsigned char>(s_[pos_ + i])
                                      : 0;
        };
        const auto cont = [&](size_t i) { return (b(i) & 0xC0) == 0x80; };
        if (c >= 0xC2 && c <= 0xDF && cont(1)) {
          n = 2;
        } else if (c >= 0xE0 && c <= 0xEF && cont(1) && cont(2) &&
                   !(c == 0xE0 && b(1) < 0xA0) && !(c == 0xED && b(1) > 0x9F)) {
          n = 3;
        } else if (c >= 0xF0 && c <= 0xF4 && cont(1) && cont(2) && cont(3) &&
                   !(c == 0xF0 && b(1) < 0x90) && !(c == 0xF4 && b(1) > 0x8F)) {
          n = 4;
        } else {
          return "invalid UTF-8 in a string";
        }
      }
      out->append(s_.substr(pos_, n));
      pos_ += n;
    }
    return "unterminated string";
  }

  std::string_view s_;
  size_t pos_ = 0;
};

// Sends what this process writes to stderr (fd 2) into a file while it
// lives; Lines() returns what was written so far, one entry per line.
class CaptureStderr {
 public:
  explicit CaptureStderr(const std::string& path) : path_(path) {
    std::fflush(stderr);
    saved_ = dup(2);
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    close(fd);
  }
  ~CaptureStderr() { Restore(); }
  void Restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    dup2(saved_, 2);
    close(saved_);
    saved_ = -1;
  }
  std::vector<std::string> Lines() {
    std::fflush(stderr);
    std::ifstream in(path_);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

 private:
  std::string path_;
  int saved_ = -1;
};

// Messages a log line must survive: quotes, backslashes, newlines, every
// control character, DEL, invalid UTF-8 (a lone continuation byte, a
// truncated sequence, an overlong form, a surrogate) and valid UTF-8.
inline std::vector<std::string> HostileMessages() {
  std::string controls;
  for (int c = 1; c < 0x20; ++c) controls.push_back(static_cast<char>(c));
  return {
      "lot \"Q\"->\"FAKE:LOT\" \\ end",
      "line1\nline2\r\n\ttabbed",
      controls + std::string("\0nul", 4) + "\x7f",
      "bad \x80 byte, truncated \xE2\x82, overlong \xC0\xAF, "
      "surrogate \xED\xA0\x80, above \xF4\x90\x80\x80, end \xF0",
      "valid: Lösung 温度 \xF0\x9F\x92\x89",
      "{\"looks\":\"like json\"}",
  };
}

}  // namespace lotledger::testing

#endif  // LOTLEDGER_LIBS_COMMON_TESTS_JSON_CHECK_H_
