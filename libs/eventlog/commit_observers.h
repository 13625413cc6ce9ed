// CommitObservers: the observers an EventLog backend keeps for
// EventLog::ObserveCommits, one per topic, and the call that hands them a
// commit's records. Shared by the embedded and the Kafka backends.
//
// Thread-safety: Set and Notify may be called from any thread. Set waits
// for a Notify in progress, so once Set(topic, nullptr) returns the old
// observer is never called again (its owner may go away). The backend
// calls Notify from one committing thread at a time, in commit order.
#ifndef LOTLEDGER_LIBS_EVENTLOG_COMMIT_OBSERVERS_H_
#define LOTLEDGER_LIBS_EVENTLOG_COMMIT_OBSERVERS_H_

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "libs/eventlog/event_log.h"

namespace lotledger::eventlog {

class CommitObservers {
 public:
  void Set(const std::string& topic, CommitObserver observer) {
    absl::WriterMutexLock l(&mu_);
    if (observer == nullptr) {
      observers_.erase(topic);
    } else {
      observers_[topic] = std::move(observer);
    }
  }

  // Whether `topic` has an observer: a backend builds the records of a
  // commit only for the topics that do.
  bool Observed(const std::string& topic) const {
    absl::ReaderMutexLock l(&mu_);
    return observers_.contains(topic);
  }

  // Tells the observer of `topic` that records of a commit could not be
  // handed to it (their positions are unknown): a call with no records.
  void NotifyUnseen(const std::string& topic) const {
    absl::ReaderMutexLock l(&mu_);
    auto it = observers_.find(topic);
    if (it != observers_.end()) it->second({});
  }

  // Hands each observer the records of its topic, in the order given
  // (records of unobserved topics are left out).
  void Notify(std::vector<Record> records) const {
    absl::ReaderMutexLock l(&mu_);
    if (observers_.empty() || records.empty()) return;
    const std::string first = records.front().topic;
    if (std::all_of(records.begin(), records.end(),
                    [&](const Record& r) { return r.topic == first; })) {
      auto it = observers_.find(first);
      if (it != observers_.end()) it->second(std::move(records));
      return;
    }
    std::map<std::string, std::vector<Record>> by_topic;
    for (Record& r : records) {
      if (observers_.contains(r.topic))
        by_topic[r.topic].push_back(std::move(r));
    }
    for (auto& [topic, of_topic] : by_topic) {
      observers_.at(topic)(std::move(of_topic));
    }
  }

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, CommitObserver> observers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace lotledger::eventlog

#endif  // LOTLEDGER_LIBS_EVENTLOG_COMMIT_OBSERVERS_H_
