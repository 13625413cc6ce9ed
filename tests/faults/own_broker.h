// OwnBroker: a Kafka broker of the test's own (tools/kafka/start with
// LOTLEDGER_KAFKA_RUN_DIR under the test's temp dir), never the shared one,
// so a test can stop it and start it again on the same data. Stopped and
// deleted on destruction.
//
// Thread-safety: one controlling thread.
#ifndef LOTLEDGER_TESTS_FAULTS_OWN_BROKER_H_
#define LOTLEDGER_TESTS_FAULTS_OWN_BROKER_H_

#include <string>

namespace lotledger::faults {

class OwnBroker {
 public:
  explicit OwnBroker(std::string run_dir);
  ~OwnBroker();

  // Starts a fresh broker; returns "127.0.0.1:PORT", or "" (and the test
  // fails) when it does not come up.
  std::string Start();
  // Stops the broker process, keeping its data and ports.
  bool Stop();
  // Starts the stopped broker again on its data and ports.
  bool Resume();

 private:
  std::string Run(const std::string& script, const std::string& env);
  std::string run_dir_;
  bool started_ = false;
};

}  // namespace lotledger::faults

#endif  // LOTLEDGER_TESTS_FAULTS_OWN_BROKER_H_
