#pragma once

// ExpectSettledInvariants: every saga invariant (tests/chaos/invariants.h) over the orders placed
// on a LocalSystem, once it has settled (notifications and views follow their sagas; up to 90 s).
// Each violation is a test failure: the first 20 listed, then how many more. When there is any,
// each service's last warnings and errors are printed, so a failure in CI says what the services
// saw.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tests/chaos/facts.h"
#include "tests/e2e/system.h"

namespace choreo::e2e {

void ExpectSettledInvariants(const LocalSystem& system, const TestUsers& users,
                             const std::vector<chaos::PlacedOrder>& placed,
                             const std::map<std::string, int64_t>& deposited);

}  // namespace choreo::e2e
