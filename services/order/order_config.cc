#include "services/order/order_config.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace choreo::order {

void OrderConfig::AddFlags(config::FlagSet& flags) {
  ServiceConfig::AddFlags(flags);
  flags
      .Add("catalog-file", &catalog_file,
           "catalog CSV (SKU,name,price[,currency]); built-in if empty")
      .Add("order-expiry", &order_expiry,
           "how long an order may wait for its payment before EXPIRED")
      .Add("deadline-scan-interval", &deadline_scan_interval,
           "how often overdue orders are looked for");
}

absl::Status OrderConfig::Validate() const {
  if (order_expiry <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--order-expiry must be > 0");
  }
  return ServiceConfig::Validate();
}

absl::StatusOr<Catalog> OrderConfig::LoadCatalog() const {
  if (catalog_file.empty()) return Catalog::Default();
  std::stringstream text;
  text << std::ifstream(catalog_file).rdbuf();
  absl::StatusOr<Catalog> parsed = Catalog::Parse(text.str());
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(catalog_file, ": ", parsed.status().message()));
  }
  return parsed;
}

OrderConfig OrderConfig::FromFlags(int argc, char** argv) {
  return config::ParseConfigOrExit<OrderConfig>(
      "choreo-order", "The order service of the choreo saga.", argc, argv);
}

}  // namespace choreo::order
