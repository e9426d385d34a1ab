#include "services/order/core/catalog.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace choreo::order {
namespace {

orders::v1::CatalogItem Item(std::string sku, std::string name, int64_t cents,
                             std::string currency = "USD") {
  orders::v1::CatalogItem item;
  item.set_sku(std::move(sku));
  item.set_name(std::move(name));
  item.mutable_unit_price()->set_minor_units(cents);
  item.mutable_unit_price()->set_currency(std::move(currency));
  return item;
}

}  // namespace

Catalog Catalog::Default() {
  return Catalog({Item("BOOK-001", "The Saga Pattern, paperback", 1999),
                  Item("MUG-002", "Choreography mug", 1250),
                  Item("TEE-003", "Event-sourced T-shirt", 2400),
                  Item("PEN-004", "Idempotent pen", 199),
                  Item("LAMP-005", "Eventually consistent lamp", 5900),
                  Item("CHAIR-006", "At-least-once chair", 14900)});
}

absl::StatusOr<Catalog> Catalog::Parse(absl::string_view text) {
  std::vector<orders::v1::CatalogItem> items;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields = absl::StrSplit(line, ',');
    int64_t cents = 0;
    if (fields.size() < 3 || fields.size() > 4 || fields[0].empty() ||
        !absl::SimpleAtoi(fields[2], &cents) || cents < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("catalog line ", line_number, ": want SKU,name,price[,currency]"));
    }
    items.push_back(Item(fields[0], fields[1], cents, fields.size() == 4 ? fields[3] : "USD"));
  }
  if (items.empty()) return absl::InvalidArgumentError("catalog is empty");
  return Catalog(std::move(items));
}

Catalog::Catalog(std::vector<orders::v1::CatalogItem> items) : items_(std::move(items)) {
  for (size_t i = 0; i < items_.size(); ++i) by_sku_[items_[i].sku()] = i;
}

const orders::v1::CatalogItem* Catalog::Find(absl::string_view sku) const {
  auto it = by_sku_.find(sku);
  return it == by_sku_.end() ? nullptr : &items_[it->second];
}

}  // namespace choreo::order
