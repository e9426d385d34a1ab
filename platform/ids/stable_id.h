#pragma once

// StableId: a 128-bit id (32 lowercase hex characters) that depends only on its inputs, the same
// in every process and on every run. Used where re-delivery or a client's retry must land on the
// same id: an order id from (username, request id), the event id of a client command.
// Not cryptographic: do not use it where an adversary chooses inputs to collide.

#include <initializer_list>
#include <string>

#include "absl/strings/string_view.h"

namespace choreo::ids {

// Hashes `kind` and each part, length-prefixed so that ("ab","c") and ("a","bc") differ.
std::string StableId(absl::string_view kind, std::initializer_list<absl::string_view> parts);

}  // namespace choreo::ids
