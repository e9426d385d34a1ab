// choreoctl: a command-line client of the choreo gateway, for people and scripts.
//
//   choreoctl COMMAND [flags]
//     register                     open an account (--user, --password; --email, --display-name)
//     login                        print a bearer token for --user/--password
//     deposit --amount CENTS       add money (--request-id makes a retry safe)
//     balance                      the account's balance
//     order --items SKU:QTY,...    place an order and wait for its outcome
//     get --order-id ID            one order
//     list                         your orders, newest first (--page-size, --page-token)
//     watch --order-id ID          stream an order's status changes
//     catalog                      what can be ordered
//     profile                      your profile
//     set-profile                  change it (--email, --display-name, --webhook-url: "" turns
//                                  the webhook off; only the flags given change)
//     notifications                your notifications, newest first
//   Common: --gateway HOST:PORT (CHOREO_GATEWAY), --timeout, --json, and who you are: --token
//   (CHOREO_TOKEN), or --user and --password (CHOREO_USER, CHOREO_PASSWORD) to log in first.
// Exit status: 0 on success, 1 on a gRPC error (printed as CODE: message), 2 on bad usage.

#include <cstdio>
#include <memory>
#include <string>

#include "absl/random/random.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "choreo/gateway/v1/gateway.grpc.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "saga/config/flag_set.h"
#include "saga/ids/trace_context.h"

namespace {

using namespace choreo;  // NOLINT: a small program

struct CtlConfig {
  std::string gateway = "127.0.0.1:50050";
  std::string user;
  std::string password;
  std::string token;
  std::string webhook_url = "-";  // "-": not given
  absl::Duration timeout = absl::Seconds(35);
  bool json = false;
  std::string request_id;
  int64_t amount = 0;
  std::string currency = "USD";
  std::string items;
  std::string order_id;
  int page_size = 0;
  std::string page_token;
  std::string email;
  std::string display_name;
  std::string recipient = "Demo User";
  std::string street = "1 Saga Street";
  std::string city = "Kafkaville";
  std::string country = "US";
};

std::string Json(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = false;
  static_cast<void>(google::protobuf::util::MessageToJsonString(message, &out, options));
  return out;
}

std::string StatusName(orders::v1::OrderStatus status) {
  std::string name = orders::v1::OrderStatus_Name(status);
  return name.rfind("ORDER_STATUS_", 0) == 0 ? name.substr(13) : name;
}

std::string Amount(const common::v1::Money& money) {
  return absl::StrFormat("%d.%02d %s", money.minor_units() / 100,
                         std::abs(money.minor_units() % 100), money.currency());
}

void PrintOrder(const gateway::v1::Order& order) {
  std::printf("order %s  %s  total %s  correlation %s%s%s\n", order.order_id().c_str(),
              StatusName(order.status()).c_str(), Amount(order.total()).c_str(),
              order.correlation_id().c_str(), order.reason().empty() ? "" : "  reason: ",
              order.reason().c_str());
}

int Fail(const grpc::Status& status) {
  std::fprintf(stderr, "%s: %s\n", absl::StatusCodeToString(static_cast<absl::StatusCode>(
                                       status.error_code())).c_str(),
               status.error_message().c_str());
  return 1;
}

std::string NewRequestId() {
  absl::BitGen random;
  return "req-" + ids::RandomHex(random, 8);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string usage =
      "commands: register, login, deposit, balance, order, get, list, watch, catalog, profile, "
      "set-profile, notifications (--help for flags)";
  if (argc < 2 || argv[1][0] == '-') {
    if (argc >= 2 && std::string(argv[1]) == "--help") {
      std::printf("usage: choreoctl COMMAND [flags]\n%s\n", usage.c_str());
      return 0;
    }
    std::fprintf(stderr, "choreoctl: %s\n", usage.c_str());
    return 2;
  }
  const std::string command = argv[1];
  CtlConfig config;
  config::FlagSet flags("choreoctl " + command, "A client of the choreo gateway. " + usage);
  flags.Add("gateway", &config.gateway, "the gateway's gRPC address")
      .Add("user", &config.user, "your username (register, login, or to log in first)")
      .Add("password", &config.password, "your password (register, login, or to log in first)")
      .Add("token", &config.token, "a bearer token from `choreoctl login`")
      .Add("webhook-url", &config.webhook_url, "set-profile: notify by POSTing here (\"\": off)")
      .Add("timeout", &config.timeout, "the call's deadline")
      .Add("json", &config.json, "print the response as proto3 JSON")
      .Add("request-id", &config.request_id, "idempotency key (order, deposit); random if empty")
      .Add("amount", &config.amount, "deposit amount in minor units (cents)")
      .Add("currency", &config.currency, "deposit currency")
      .Add("items", &config.items, "order lines, SKU:QTY,SKU:QTY")
      .Add("order-id", &config.order_id, "the order (get, watch)")
      .Add("page-size", &config.page_size, "list: orders per page")
      .Add("page-token", &config.page_token, "list: the next_page_token of the previous page")
      .Add("email", &config.email, "register: email")
      .Add("display-name", &config.display_name, "register: display name")
      .Add("recipient", &config.recipient, "order: delivery recipient")
      .Add("street", &config.street, "order: delivery street")
      .Add("city", &config.city, "order: delivery city")
      .Add("country", &config.country, "order: delivery country");
  config::ParseOrExit(flags, argc - 1, argv + 1);
  if (config.request_id.empty()) config.request_id = NewRequestId();

  auto channel = grpc::CreateChannel(config.gateway, grpc::InsecureChannelCredentials());
  auto orders = gateway::v1::OrderService::NewStub(channel);
  auto accounts = gateway::v1::AccountService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + config.timeout));
  auto deadline = [&config](grpc::ClientContext& call) {
    call.set_deadline(absl::ToChronoTime(absl::Now() + config.timeout));
  };
  if (config.token.empty() && command != "register" && command != "login" &&
      !config.user.empty() && !config.password.empty()) {
    grpc::ClientContext login_context;
    deadline(login_context);
    gateway::v1::LoginRequest login;
    login.set_username(config.user);
    login.set_password(config.password);
    gateway::v1::LoginResponse token;
    if (grpc::Status logged_in = accounts->Login(&login_context, login, &token); !logged_in.ok()) {
      return Fail(logged_in);
    }
    config.token = token.access_token();
  }
  if (!config.token.empty()) context.AddMetadata("authorization", "Bearer " + config.token);

  auto print = [&](const google::protobuf::Message& message, const std::function<void()>& text) {
    if (config.json) {
      std::printf("%s\n", Json(message).c_str());
    } else {
      text();
    }
  };
  grpc::Status status;
  if (command == "register") {
    gateway::v1::RegisterRequest request;
    request.set_username(config.user);
    request.set_password(config.password);
    request.set_email(config.email);
    request.set_display_name(config.display_name);
    users::v1::Profile profile;
    status = accounts->Register(&context, request, &profile);
    if (status.ok()) print(profile, [&] { std::printf("account %s is open\n", profile.username().c_str()); });
  } else if (command == "login") {
    gateway::v1::LoginRequest request;
    request.set_username(config.user);
    request.set_password(config.password);
    gateway::v1::LoginResponse response;
    status = accounts->Login(&context, request, &response);
    if (status.ok()) print(response, [&] { std::printf("%s\n", response.access_token().c_str()); });
  } else if (command == "profile") {
    users::v1::Profile profile;
    status = accounts->GetProfile(&context, {}, &profile);
    if (status.ok()) print(profile, [&] { std::printf("%s\n", Json(profile).c_str()); });
  } else if (command == "set-profile") {
    gateway::v1::UpdateProfileRequest request;
    if (!config.email.empty()) {
      request.mutable_profile()->set_email(config.email);
      request.mutable_update_mask()->add_paths("email");
    }
    if (!config.display_name.empty()) {
      request.mutable_profile()->set_display_name(config.display_name);
      request.mutable_update_mask()->add_paths("display_name");
    }
    if (config.webhook_url != "-") {
      auto* preferences = request.mutable_profile()->mutable_notification_preferences();
      preferences->set_webhook_url(config.webhook_url);
      preferences->set_webhook_enabled(!config.webhook_url.empty());
      request.mutable_update_mask()->add_paths("notification_preferences.webhook_url");
      request.mutable_update_mask()->add_paths("notification_preferences.webhook_enabled");
    }
    if (request.update_mask().paths().empty()) {
      std::fprintf(stderr, "choreoctl: set-profile: give --email, --display-name or --webhook-url\n");
      return 2;
    }
    users::v1::Profile profile;
    status = accounts->UpdateProfile(&context, request, &profile);
    if (status.ok()) print(profile, [&] { std::printf("%s\n", Json(profile).c_str()); });
  } else if (command == "notifications") {
    gateway::v1::ListNotificationsRequest request;
    request.set_page_size(config.page_size);
    request.set_page_token(config.page_token);
    gateway::v1::ListNotificationsResponse response;
    status = accounts->ListNotifications(&context, request, &response);
    if (status.ok()) {
      print(response, [&] {
        for (const auto& n : response.notifications()) {
          std::printf("%s  %s  %s  %s\n", n.order_id().c_str(),
                      notifications::v1::Channel_Name(n.channel()).c_str(),
                      n.delivered() ? "delivered" : ("FAILED: " + n.failure_reason()).c_str(),
                      n.subject().c_str());
        }
      });
    }
  } else if (command == "deposit") {
    gateway::v1::DepositRequest request;
    request.set_request_id(config.request_id);
    request.mutable_amount()->set_minor_units(config.amount);
    request.mutable_amount()->set_currency(config.currency);
    gateway::v1::DepositResponse response;
    status = accounts->Deposit(&context, request, &response);
    if (status.ok()) {
      print(response, [&] { std::printf("deposited; balance %s\n", Amount(response.balance()).c_str()); });
    }
  } else if (command == "balance") {
    gateway::v1::Balance balance;
    status = accounts->GetBalance(&context, {}, &balance);
    if (status.ok()) print(balance, [&] { std::printf("%s: %s\n", balance.username().c_str(), Amount(balance.balance()).c_str()); });
  } else if (command == "order") {
    gateway::v1::CreateOrderRequest request;
    request.set_request_id(config.request_id);
    for (absl::string_view line : absl::StrSplit(config.items, ',', absl::SkipEmpty())) {
      std::pair<std::string, std::string> parts = absl::StrSplit(line, absl::MaxSplits(':', 1));
      int quantity = 1;
      if (!parts.second.empty() && !absl::SimpleAtoi(parts.second, &quantity)) {
        std::fprintf(stderr, "choreoctl: --items: '%s' is not SKU:QTY\n", std::string(line).c_str());
        return 2;
      }
      orders::v1::OrderItem* item = request.add_items();
      item->set_sku(parts.first);
      item->set_quantity(quantity);
    }
    auto* address = request.mutable_delivery_address();
    address->set_recipient(config.recipient);
    address->set_line1(config.street);
    address->set_city(config.city);
    address->set_country(config.country);
    request.set_payment_method(orders::v1::PAYMENT_METHOD_ACCOUNT_BALANCE);
    gateway::v1::Order order;
    status = orders->CreateOrder(&context, request, &order);
    if (status.ok()) print(order, [&] { PrintOrder(order); });
  } else if (command == "get") {
    gateway::v1::GetOrderRequest request;
    request.set_order_id(config.order_id);
    gateway::v1::Order order;
    status = orders->GetOrder(&context, request, &order);
    if (status.ok()) print(order, [&] { PrintOrder(order); });
  } else if (command == "list") {
    gateway::v1::ListOrdersRequest request;
    request.set_page_size(config.page_size);
    request.set_page_token(config.page_token);
    gateway::v1::ListOrdersResponse response;
    status = orders->ListOrders(&context, request, &response);
    if (status.ok()) {
      print(response, [&] {
        for (const auto& order : response.orders()) PrintOrder(order);
        if (!response.next_page_token().empty()) {
          std::printf("next page: --page-token %s\n", response.next_page_token().c_str());
        }
      });
    }
  } else if (command == "watch") {
    gateway::v1::WatchOrderRequest request;
    request.set_order_id(config.order_id);
    auto reader = orders->WatchOrder(&context, request);
    gateway::v1::OrderStatusChange change;
    while (reader->Read(&change)) {
      print(change, [&] {
        std::printf("%s -> %s%s%s\n", StatusName(change.previous_status()).c_str(),
                    StatusName(change.status()).c_str(), change.reason().empty() ? "" : "  ",
                    change.reason().c_str());
      });
      std::fflush(stdout);
    }
    status = reader->Finish();
  } else if (command == "catalog") {
    gateway::v1::ListCatalogResponse response;
    status = orders->ListCatalog(&context, {}, &response);
    if (status.ok()) {
      print(response, [&] {
        for (const auto& item : response.items()) {
          std::printf("%-10s %-32s %s\n", item.sku().c_str(), item.name().c_str(),
                      Amount(item.unit_price()).c_str());
        }
      });
    }
  } else {
    std::fprintf(stderr, "choreoctl: unknown command '%s'; %s\n", command.c_str(), usage.c_str());
    return 2;
  }
  return status.ok() ? 0 : Fail(status);
}
