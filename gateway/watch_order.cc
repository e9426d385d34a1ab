#include "gateway/watch_order.h"

#include <atomic>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/client_call.h"
#include "gateway/core/gateway_rules.h"
#include "gateway/event_feed.h"
#include "gateway/grpc_status.h"

namespace choreo::gateway {
namespace {

using gateway::v1::Order;

// Streams an order's status changes until a terminal one (or the deadline, or cancellation).
class WatchReactor final : public grpc::ServerWriteReactor<gateway::v1::OrderStatusChange> {
 public:
  WatchReactor(const WatchOrderFlow::Deps& deps, ids::Username user, ids::OrderId order_id,
               absl::Time deadline)
      : deps_(deps), state_(std::make_shared<State>()) {
    state_->reactor = this;
    if (!deps_.pool.Submit([this, state = state_, user = std::move(user),
                             order_id = std::move(order_id), deadline] {
          Begin(state, user, order_id, deadline);
        })) {
      state_->Close(Busy());
    }
  }

  void OnWriteDone(bool ok) override { state_->WriteDone(ok); }
  void OnCancel() override { state_->Close(grpc::Status::CANCELLED); }
  void OnDone() override {
    state_->Detach();
    if (const uint64_t id = state_->waiter.load(); id != 0) deps_.waiters.Remove(id);
    delete this;
  }

 private:
  struct State {
    absl::Mutex mu;
    WatchReactor* reactor ABSL_GUARDED_BY(mu) = nullptr;
    std::deque<gateway::v1::OrderStatusChange> queue ABSL_GUARDED_BY(mu);
    gateway::v1::OrderStatusChange current ABSL_GUARDED_BY(mu);
    bool writing ABSL_GUARDED_BY(mu) = false;
    bool finished ABSL_GUARDED_BY(mu) = false;
    int64_t sent_revision ABSL_GUARDED_BY(mu) = -1;  // of the latest view sent
    std::optional<grpc::Status> finish ABSL_GUARDED_BY(mu);
    std::atomic<uint64_t> waiter{0};

    // Sends the view's change, unless a view as new was sent already (the feed's news and the
    // read after listening may bring the same change, or the read an older one).
    void Send(const Order& view) {
      absl::MutexLock lock(&mu);
      if (reactor == nullptr || finished || finish.has_value()) return;
      if (view.revision() <= sent_revision) return;
      sent_revision = view.revision();
      gateway::v1::OrderStatusChange change = LatestChange(view);
      const bool terminal = change.terminal();
      queue.push_back(std::move(change));
      if (terminal) finish = grpc::Status::OK;
      Pump();
    }
    void Close(grpc::Status status) {
      absl::MutexLock lock(&mu);
      if (!finish.has_value()) finish = std::move(status);
      Pump();
    }
    void WriteDone(bool ok) {
      absl::MutexLock lock(&mu);
      writing = false;
      if (!ok) {
        queue.clear();
        if (!finish.has_value()) finish = grpc::Status::CANCELLED;
      }
      Pump();
    }
    void Detach() {
      absl::MutexLock lock(&mu);
      reactor = nullptr;
    }
    void Pump() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      if (reactor == nullptr || finished || writing) return;
      if (!queue.empty()) {
        current = std::move(queue.front());
        queue.pop_front();
        writing = true;
        reactor->StartWrite(&current);
      } else if (finish.has_value()) {
        finished = true;
        reactor->Finish(*finish);
      }
    }
  };

  void Begin(const std::shared_ptr<State>& state, const ids::Username& user,
             const ids::OrderId& order_id, absl::Time deadline) {
    absl::StatusOr<std::optional<Order>> cached = deps_.cache.Get(user, order_id);
    if (!cached.ok()) return state->Close(Unavailable(cached.status()));
    if (!cached->has_value()) {
      return state->Close(grpc::Status(grpc::StatusCode::NOT_FOUND, "no order " + order_id.value()));
    }
    if (IsTerminal((*cached)->status())) return state->Send(**cached);
    // Listen first, then send the current status: once a client has the first message, no
    // later change can be missed.
    absl::StatusOr<uint64_t> waiter = deps_.waiters.Add(
        WatchWaitKey(order_id), deadline,
        [state](const Order& view) {
          state->Send(view);
          return IsTerminal(view.status());
        },
        [state] {
          state->Close(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "watch deadline reached"));
        });
    if (!waiter.ok()) return state->Close(ToGrpc(waiter.status()));
    state->waiter.store(*waiter);
    // The latest view: a change may have landed between the read above and the waiter.
    absl::StatusOr<std::optional<Order>> latest = deps_.cache.Get(user, order_id);
    const Order& view = latest.ok() && latest->has_value() ? **latest : **cached;
    state->Send(view);
    if (IsTerminal(view.status()) && deps_.waiters.Remove(*waiter)) state->waiter.store(0);
  }

  const WatchOrderFlow::Deps deps_;
  std::shared_ptr<State> state_;
};

}  // namespace

grpc::ServerWriteReactor<gateway::v1::OrderStatusChange>* WatchOrderFlow::WatchOrder(
    grpc::CallbackServerContext* context, const Caller& caller,
    const gateway::v1::WatchOrderRequest& request) {
  if (request.order_id().empty()) {
    return RefuseStream<gateway::v1::OrderStatusChange>(
        grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "order_id: required"));
  }
  // A watch may outlive CreateOrder's limit: it ends at the client's deadline or after an hour.
  const absl::Time deadline = WaitDeadline(*context, absl::Hours(1));
  return new WatchReactor(deps_, caller.username, ids::OrderId(request.order_id()), deadline);
}

}  // namespace choreo::gateway
