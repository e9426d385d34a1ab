#pragma once

// Strong types for the ids that cross module boundaries, so that an order id cannot be passed
// where a username is expected (four std::string parameters in a row invite that). Each is a
// string with a name: explicit to make, `value()` to read, comparable and hashable (Redpanda's
// named_type). Header-only, no behaviour beyond that.

#include <compare>
#include <ostream>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace choreo::ids {

template <typename Tag>
class NamedId {
 public:
  NamedId() = default;
  explicit NamedId(std::string value) : value_(std::move(value)) {}
  explicit NamedId(absl::string_view value) : value_(value) {}
  explicit NamedId(const char* value) : value_(value) {}

  const std::string& value() const { return value_; }
  bool empty() const { return value_.empty(); }

  friend bool operator==(const NamedId&, const NamedId&) = default;
  friend auto operator<=>(const NamedId&, const NamedId&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const NamedId& id) {
    return H::combine(std::move(h), id.value_);
  }
  friend std::ostream& operator<<(std::ostream& out, const NamedId& id) { return out << id.value_; }

 private:
  std::string value_;
};

using OrderId = NamedId<struct OrderIdTag>;              // "ord-<32 hex>" (contracts::OrderIdFor)
using Username = NamedId<struct UsernameTag>;            // a user's login name
using CorrelationId = NamedId<struct CorrelationIdTag>;  // one saga, across every service
using EventId = NamedId<struct EventIdTag>;              // one event (EventMeta.event_id)

}  // namespace choreo::ids
