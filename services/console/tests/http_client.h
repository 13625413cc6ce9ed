// A raw HTTP/1.1 exchange over a real socket on 127.0.0.1 for the
// console's tests: sends bytes exactly as given (hostile ones too), closes
// the sending side, and reads the whole answer.
//
// Thread-safety: functions are independent; call from any thread.
#ifndef LOTLEDGER_SERVICES_CONSOLE_TESTS_HTTP_CLIENT_H_
#define LOTLEDGER_SERVICES_CONSOLE_TESTS_HTTP_CLIENT_H_

#include <map>
#include <string>
#include <vector>

namespace lotledger::console::testing {

struct RawResponse {
  int status = 0;  // 0 when no status line came back
  // Lowercased names; repeated headers (Set-Cookie) in order.
  std::multimap<std::string, std::string> headers;
  std::string body;

  std::string Header(const std::string& lowercase_name) const;
};

// Connects to 127.0.0.1:port, writes `request`, shuts down writing, reads
// until the server closes (bounded by a 30 s receive timeout).
RawResponse Exchange(int port, const std::string& request);

// A GET with an optional Cookie header.
RawResponse Get(int port, const std::string& target,
                const std::string& cookie = "");
// A form POST (application/x-www-form-urlencoded).
RawResponse PostForm(int port, const std::string& target,
                     const std::string& body, const std::string& cookie = "");

}  // namespace lotledger::console::testing

#endif  // LOTLEDGER_SERVICES_CONSOLE_TESTS_HTTP_CLIENT_H_
