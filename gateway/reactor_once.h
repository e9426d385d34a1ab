#pragma once

// Once: finishes a unary callback reactor exactly once, whichever of several racing paths (the
// answer, a deadline, a delivery error) gets there first; the others become no-ops. Shared by
// the paths through a shared_ptr. Thread-safe.

#include <atomic>

#include "grpcpp/grpcpp.h"

namespace choreo::gateway {

class Once {
 public:
  explicit Once(grpc::ServerUnaryReactor* reactor) : reactor_(reactor) {}
  void Finish(const grpc::Status& status) {
    if (!done_.exchange(true)) reactor_->Finish(status);
  }
  // Fills the response (only when this path wins) and finishes OK.
  template <typename Fill>
  void FinishWith(Fill fill) {
    if (done_.exchange(true)) return;
    fill();
    reactor_->Finish(grpc::Status::OK);
  }

 private:
  grpc::ServerUnaryReactor* reactor_;
  std::atomic<bool> done_{false};
};

}  // namespace choreo::gateway
