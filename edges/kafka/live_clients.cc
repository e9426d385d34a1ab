#include "edges/kafka/live_clients.h"

#include <algorithm>

namespace choreo::kafka {

LiveClients& LiveClients::Process() {
  static LiveClients* const clients = new LiveClients();
  return *clients;
}

LiveClients::Registration::Registration(Registration&& other) noexcept
    : clients_(std::exchange(other.clients_, nullptr)), id_(other.id_) {}

LiveClients::Registration& LiveClients::Registration::operator=(Registration&& other) noexcept {
  if (this != &other) {
    if (clients_ != nullptr) clients_->Remove(id_);
    clients_ = std::exchange(other.clients_, nullptr);
    id_ = other.id_;
  }
  return *this;
}

LiveClients::Registration::~Registration() {
  if (clients_ != nullptr) clients_->Remove(id_);
}

LiveClients::Registration LiveClients::Add(std::string label,
                                           std::function<std::string()> statistics) {
  absl::MutexLock lock(&mu_);
  const int id = next_id_++;
  clients_.push_back({id, std::move(label), std::move(statistics)});
  return Registration(this, id);
}

std::vector<LiveClients::Reading> LiveClients::Read() const {
  // Under the lock, so that a client being destroyed waits until its statistics were read.
  absl::MutexLock lock(&mu_);
  std::vector<Reading> readings;
  readings.reserve(clients_.size());
  for (const Client& client : clients_) readings.push_back({client.label, client.statistics()});
  return readings;
}

void LiveClients::Remove(int id) {
  absl::MutexLock lock(&mu_);
  clients_.erase(std::remove_if(clients_.begin(), clients_.end(),
                                [id](const Client& client) { return client.id == id; }),
                 clients_.end());
}

}  // namespace choreo::kafka
