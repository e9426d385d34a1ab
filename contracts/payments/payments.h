#pragma once

// Facts about PaymentProcessed that its producer (billing) and its reader (the order service)
// must share: how a revision-1 event is read as revision 2. Pure.

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "choreo/billing/v1/events.pb.h"

namespace choreo::contracts {

// How every insufficient-funds failure_reason starts (billing writes it in every revision).
inline constexpr absl::string_view kInsufficientFundsReason = "insufficient funds: ";

// PaymentProcessed revision 1 -> 2: sets `outcome`, which revision 1 lacks, from what it has:
// success -> CHARGED; a failure whose reason starts with kInsufficientFundsReason ->
// INSUFFICIENT_FUNDS; any other failure (no account, another currency, a negative total: the
// other reasons billing of revision 1 wrote) -> REFUSED. Revision 1 readers treated every failure
// as insufficient funds. INVALID_ARGUMENT for an event that already has an outcome that differs.
absl::Status UpcastPaymentProcessedFromV1(billing::v1::PaymentProcessed& payment);

}  // namespace choreo::contracts
