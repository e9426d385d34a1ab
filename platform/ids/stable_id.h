#pragma once

// StableId: a 128-bit id (32 lowercase hex characters) that depends only on its inputs, the same
// in every process and on every run. Used where re-delivery or a client's retry must land on the
// same id: an order id from (username, request id), the event id of a client command.
// BLAKE2b-128 over the length-prefixed inputs: clients choose the inputs (usernames, request
// ids), and nobody can find two that give one id (another user's order) with less than about
// 2^64 work. Not secret: every read of what an id names checks its owner (deploy/security.md).

#include <initializer_list>
#include <string>

#include "absl/strings/string_view.h"

namespace choreo::ids {

// Hashes `kind` and each part, length-prefixed so that ("ab","c") and ("a","bc") differ.
std::string StableId(absl::string_view kind, std::initializer_list<absl::string_view> parts);

}  // namespace choreo::ids
