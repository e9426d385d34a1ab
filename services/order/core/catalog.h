#pragma once

// Catalog: the products the order service sells and their prices. The service owns it; clients
// read it through the gateway (ListCatalog). Immutable after construction; thread-safe.

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "choreo/orders/v1/order.pb.h"

namespace choreo::order {

class Catalog {
 public:
  // The built-in demo catalog (prices in USD cents).
  static Catalog Default();
  // Lines of "SKU,name,price in minor units[,currency]"; '#' starts a comment.
  static absl::StatusOr<Catalog> Parse(absl::string_view text);

  explicit Catalog(std::vector<orders::v1::CatalogItem> items);

  const orders::v1::CatalogItem* Find(absl::string_view sku) const;
  const std::vector<orders::v1::CatalogItem>& items() const { return items_; }

 private:
  std::vector<orders::v1::CatalogItem> items_;
  absl::flat_hash_map<std::string, size_t> by_sku_;
};

}  // namespace choreo::order
