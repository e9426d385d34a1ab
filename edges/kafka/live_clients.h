#pragma once

// LiveClients: the Kafka clients alive in this process, each with a label and a way to read its
// latest librdkafka statistics, so that metrics read at scrape time can cover every client
// without each component handing its clients over. KafkaConsumer ("consumer <group.id>") and
// KafkaProducer ("producer") register themselves for their lifetime.
//
// Promises: a registration's `statistics` is never called after its Registration is destroyed
// (destruction waits for a read in progress); Read() sees the clients registered at that moment.
// Thread-safe.

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace choreo::kafka {

class LiveClients {
 public:
  // The process's one registry (never destroyed, so clients may outlive static destruction).
  static LiveClients& Process();

  // Keeps a client listed until destroyed. Movable; a moved-from one lists nothing.
  class Registration {
   public:
    Registration() = default;
    Registration(Registration&& other) noexcept;
    Registration& operator=(Registration&& other) noexcept;
    ~Registration();

   private:
    friend class LiveClients;
    Registration(LiveClients* clients, int id) : clients_(clients), id_(id) {}
    LiveClients* clients_ = nullptr;
    int id_ = 0;
  };

  // Lists a client under `label` (several clients may share one) until the result is destroyed.
  [[nodiscard]] Registration Add(std::string label, std::function<std::string()> statistics);

  struct Reading {
    std::string label;
    std::string statistics;  // the client's latest statistics JSON; empty before the first
  };
  // Every listed client's latest statistics.
  std::vector<Reading> Read() const;

 private:
  struct Client {
    int id = 0;
    std::string label;
    std::function<std::string()> statistics;
  };
  void Remove(int id);

  mutable absl::Mutex mu_;
  int next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::vector<Client> clients_ ABSL_GUARDED_BY(mu_);
};

}  // namespace choreo::kafka
