#pragma once

// The order service's configuration: the flags every service shares and its own, validated at
// start-up (a bad flag exits 2 naming it). Each flag is also CHOREO_<NAME> in the environment.

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "platform/config/flag_set.h"
#include "saga/service/service_host.h"
#include "services/order/core/catalog.h"

namespace choreo::order {

struct OrderConfig : service::ServiceConfig {
  std::string catalog_file;  // empty: the built-in catalog
  absl::Duration order_expiry = absl::Seconds(30);
  absl::Duration deadline_scan_interval = absl::Milliseconds(250);

  void AddFlags(config::FlagSet& flags);
  absl::Status Validate() const;
  // The catalog: --catalog-file parsed, or the built-in one. INVALID_ARGUMENT naming the file.
  absl::StatusOr<Catalog> LoadCatalog() const;
  // Parses argv (exits on --help or a bad flag).
  static OrderConfig FromFlags(int argc, char** argv);
};

}  // namespace choreo::order
