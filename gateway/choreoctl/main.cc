// choreoctl: a command-line client of the choreo gateway, for people and scripts.
//
//   choreoctl COMMAND [flags]
//     register                     open an account (--user, --password; --email, --display-name)
//     login                        print a bearer token for --user/--password
//     deposit --amount CENTS       add money (--request-id makes a retry safe)
//     balance                      the account's balance
//     order --items SKU:QTY,...    place an order and wait for its outcome
//     cancel --order-id ID         cancel an order and wait: CANCELLED, or REFUNDED if it was
//                                  paid (--reason; --request-id makes a retry safe)
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
#include "contracts/orders/orders.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "platform/config/flag_set.h"
#include "platform/ids/trace_context.h"

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
  std::string reason;
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

using contracts::StatusName;

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

// One invocation: the parsed flags, the stubs and the call's context (deadline, token).
struct Session {
  CtlConfig config;
  std::unique_ptr<gateway::v1::OrderService::Stub> orders;
  std::unique_ptr<gateway::v1::AccountService::Stub> accounts;
  grpc::ClientContext context;
  bool usage_error = false;  // the flags were wrong: nothing was called (exit status 2)

  grpc::Status UsageError(std::string message) {
    usage_error = true;
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::move(message));
  }

  // The response as proto3 JSON with --json, else as `text` prints it.
  void Print(const google::protobuf::Message& message, const std::function<void()>& text) const {
    if (config.json) {
      std::printf("%s\n", Json(message).c_str());
    } else {
      text();
    }
  }
};

grpc::Status Register(Session& s) {
  gateway::v1::RegisterRequest request;
  request.set_username(s.config.user);
  request.set_password(s.config.password);
  request.set_email(s.config.email);
  request.set_display_name(s.config.display_name);
  users::v1::Profile profile;
  grpc::Status status = s.accounts->Register(&s.context, request, &profile);
  if (status.ok()) {
    s.Print(profile, [&] { std::printf("account %s is open\n", profile.username().c_str()); });
  }
  return status;
}

grpc::Status Login(Session& s) {
  gateway::v1::LoginRequest request;
  request.set_username(s.config.user);
  request.set_password(s.config.password);
  gateway::v1::LoginResponse response;
  grpc::Status status = s.accounts->Login(&s.context, request, &response);
  if (status.ok()) s.Print(response, [&] { std::printf("%s\n", response.access_token().c_str()); });
  return status;
}

grpc::Status Profile(Session& s) {
  users::v1::Profile profile;
  grpc::Status status = s.accounts->GetProfile(&s.context, {}, &profile);
  if (status.ok()) s.Print(profile, [&] { std::printf("%s\n", Json(profile).c_str()); });
  return status;
}

grpc::Status SetProfile(Session& s) {
  gateway::v1::UpdateProfileRequest request;
  if (!s.config.email.empty()) {
    request.mutable_profile()->set_email(s.config.email);
    request.mutable_update_mask()->add_paths("email");
  }
  if (!s.config.display_name.empty()) {
    request.mutable_profile()->set_display_name(s.config.display_name);
    request.mutable_update_mask()->add_paths("display_name");
  }
  if (s.config.webhook_url != "-") {
    auto* preferences = request.mutable_profile()->mutable_notification_preferences();
    preferences->set_webhook_url(s.config.webhook_url);
    preferences->set_webhook_enabled(!s.config.webhook_url.empty());
    request.mutable_update_mask()->add_paths("notification_preferences.webhook_url");
    request.mutable_update_mask()->add_paths("notification_preferences.webhook_enabled");
  }
  if (request.update_mask().paths().empty()) {
    return s.UsageError("set-profile: give --email, --display-name or --webhook-url");
  }
  users::v1::Profile profile;
  grpc::Status status = s.accounts->UpdateProfile(&s.context, request, &profile);
  if (status.ok()) s.Print(profile, [&] { std::printf("%s\n", Json(profile).c_str()); });
  return status;
}

grpc::Status Notifications(Session& s) {
  gateway::v1::ListNotificationsRequest request;
  request.set_page_size(s.config.page_size);
  request.set_page_token(s.config.page_token);
  gateway::v1::ListNotificationsResponse response;
  grpc::Status status = s.accounts->ListNotifications(&s.context, request, &response);
  if (!status.ok()) return status;
  s.Print(response, [&] {
    for (const auto& n : response.notifications()) {
      std::printf("%s  %s  %s  %s\n", n.order_id().c_str(),
                  notifications::v1::Channel_Name(n.channel()).c_str(),
                  n.delivered() ? "delivered" : ("FAILED: " + n.failure_reason()).c_str(),
                  n.subject().c_str());
    }
  });
  return status;
}

grpc::Status Deposit(Session& s) {
  gateway::v1::DepositRequest request;
  request.set_request_id(s.config.request_id);
  request.mutable_amount()->set_minor_units(s.config.amount);
  request.mutable_amount()->set_currency(s.config.currency);
  gateway::v1::DepositResponse response;
  grpc::Status status = s.accounts->Deposit(&s.context, request, &response);
  if (status.ok()) {
    s.Print(response, [&] {
      std::printf("deposited; balance %s\n", Amount(response.balance()).c_str());
    });
  }
  return status;
}

grpc::Status Balance(Session& s) {
  gateway::v1::Balance balance;
  grpc::Status status = s.accounts->GetBalance(&s.context, {}, &balance);
  if (status.ok()) {
    s.Print(balance, [&] {
      std::printf("%s: %s\n", balance.username().c_str(), Amount(balance.balance()).c_str());
    });
  }
  return status;
}

grpc::Status Order(Session& s) {
  gateway::v1::CreateOrderRequest request;
  request.set_request_id(s.config.request_id);
  for (absl::string_view line : absl::StrSplit(s.config.items, ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> parts = absl::StrSplit(line, absl::MaxSplits(':', 1));
    int quantity = 1;
    if (!parts.second.empty() && !absl::SimpleAtoi(parts.second, &quantity)) {
      return s.UsageError(absl::StrCat("--items: '", line, "' is not SKU:QTY"));
    }
    orders::v1::OrderItem* item = request.add_items();
    item->set_sku(parts.first);
    item->set_quantity(quantity);
  }
  auto* address = request.mutable_delivery_address();
  address->set_recipient(s.config.recipient);
  address->set_line1(s.config.street);
  address->set_city(s.config.city);
  address->set_country(s.config.country);
  request.set_payment_method(orders::v1::PAYMENT_METHOD_ACCOUNT_BALANCE);
  gateway::v1::Order order;
  grpc::Status status = s.orders->CreateOrder(&s.context, request, &order);
  if (status.ok()) s.Print(order, [&] { PrintOrder(order); });
  return status;
}

grpc::Status Cancel(Session& s) {
  gateway::v1::CancelOrderRequest request;
  request.set_order_id(s.config.order_id);
  request.set_request_id(s.config.request_id);
  request.set_reason(s.config.reason);
  gateway::v1::Order order;
  grpc::Status status = s.orders->CancelOrder(&s.context, request, &order);
  if (status.ok()) s.Print(order, [&] { PrintOrder(order); });
  return status;
}

grpc::Status Get(Session& s) {
  gateway::v1::GetOrderRequest request;
  request.set_order_id(s.config.order_id);
  gateway::v1::Order order;
  grpc::Status status = s.orders->GetOrder(&s.context, request, &order);
  if (status.ok()) s.Print(order, [&] { PrintOrder(order); });
  return status;
}

grpc::Status List(Session& s) {
  gateway::v1::ListOrdersRequest request;
  request.set_page_size(s.config.page_size);
  request.set_page_token(s.config.page_token);
  gateway::v1::ListOrdersResponse response;
  grpc::Status status = s.orders->ListOrders(&s.context, request, &response);
  if (!status.ok()) return status;
  s.Print(response, [&] {
    for (const auto& order : response.orders()) PrintOrder(order);
    if (!response.next_page_token().empty()) {
      std::printf("next page: --page-token %s\n", response.next_page_token().c_str());
    }
  });
  return status;
}

grpc::Status Watch(Session& s) {
  gateway::v1::WatchOrderRequest request;
  request.set_order_id(s.config.order_id);
  auto reader = s.orders->WatchOrder(&s.context, request);
  gateway::v1::OrderStatusChange change;
  while (reader->Read(&change)) {
    s.Print(change, [&] {
      std::printf("%s -> %s%s%s\n", StatusName(change.previous_status()).c_str(),
                  StatusName(change.status()).c_str(), change.reason().empty() ? "" : "  ",
                  change.reason().c_str());
    });
    std::fflush(stdout);
  }
  return reader->Finish();
}

grpc::Status Catalog(Session& s) {
  gateway::v1::ListCatalogResponse response;
  grpc::Status status = s.orders->ListCatalog(&s.context, {}, &response);
  if (!status.ok()) return status;
  s.Print(response, [&] {
    for (const auto& item : response.items()) {
      std::printf("%-10s %-32s %s\n", item.sku().c_str(), item.name().c_str(),
                  Amount(item.unit_price()).c_str());
    }
  });
  return status;
}

struct Command {
  const char* name;
  bool needs_caller;  // logs in first with --user/--password when no --token is given
  grpc::Status (*run)(Session&);
};

constexpr Command kCommands[] = {
    {"register", false, Register}, {"login", false, Login},
    {"deposit", true, Deposit},    {"balance", true, Balance},
    {"order", true, Order},        {"cancel", true, Cancel},
    {"get", true, Get},
    {"list", true, List},          {"watch", true, Watch},
    {"catalog", true, Catalog},    {"profile", true, Profile},
    {"set-profile", true, SetProfile}, {"notifications", true, Notifications},
};

std::string Usage() {
  std::string names;
  for (const Command& command : kCommands) {
    absl::StrAppend(&names, names.empty() ? "" : ", ", command.name);
  }
  return absl::StrCat("commands: ", names, " (--help for flags)");
}

const Command* FindCommand(absl::string_view name) {
  for (const Command& command : kCommands) {
    if (name == command.name) return &command;
  }
  return nullptr;
}

void AddFlags(config::FlagSet& flags, CtlConfig& config) {
  flags.Add("gateway", &config.gateway, "the gateway's gRPC address")
      .Add("user", &config.user, "your username (register, login, or to log in first)")
      .Add("password", &config.password, "your password (register, login, or to log in first)")
      .Add("token", &config.token, "a bearer token from `choreoctl login`")
      .Add("webhook-url", &config.webhook_url, "set-profile: notify by POSTing here (\"\": off)")
      .Add("timeout", &config.timeout, "the call's deadline")
      .Add("json", &config.json, "print the response as proto3 JSON")
      .Add("request-id", &config.request_id, "idempotency key (order, cancel, deposit); random if empty")
      .Add("amount", &config.amount, "deposit amount in minor units (cents)")
      .Add("currency", &config.currency, "deposit currency")
      .Add("items", &config.items, "order lines, SKU:QTY,SKU:QTY")
      .Add("order-id", &config.order_id, "the order (cancel, get, watch)")
      .Add("reason", &config.reason, "cancel: why, in your words (optional)")
      .Add("page-size", &config.page_size, "list: orders per page")
      .Add("page-token", &config.page_token, "list: the next_page_token of the previous page")
      .Add("email", &config.email, "register: email")
      .Add("display-name", &config.display_name, "register: display name")
      .Add("recipient", &config.recipient, "order: delivery recipient")
      .Add("street", &config.street, "order: delivery street")
      .Add("city", &config.city, "order: delivery city")
      .Add("country", &config.country, "order: delivery country");
}

// A bearer token for the session: --token, or a login with --user and --password.
grpc::Status Authenticate(Session& s) {
  if (s.config.token.empty() && !s.config.user.empty() && !s.config.password.empty()) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + s.config.timeout));
    gateway::v1::LoginRequest login;
    login.set_username(s.config.user);
    login.set_password(s.config.password);
    gateway::v1::LoginResponse token;
    if (grpc::Status status = s.accounts->Login(&context, login, &token); !status.ok()) {
      return status;
    }
    s.config.token = token.access_token();
  }
  if (!s.config.token.empty()) s.context.AddMetadata("authorization", "Bearer " + s.config.token);
  return grpc::Status::OK;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string usage = Usage();
  if (argc < 2 || argv[1][0] == '-') {
    if (argc >= 2 && std::string(argv[1]) == "--help") {
      std::printf("usage: choreoctl COMMAND [flags]\n%s\n", usage.c_str());
      return 0;
    }
    std::fprintf(stderr, "choreoctl: %s\n", usage.c_str());
    return 2;
  }
  const Command* command = FindCommand(argv[1]);
  if (command == nullptr) {
    std::fprintf(stderr, "choreoctl: unknown command '%s'; %s\n", argv[1], usage.c_str());
    return 2;
  }
  Session session;
  config::FlagSet flags(absl::StrCat("choreoctl ", command->name),
                        "A client of the choreo gateway. " + usage);
  AddFlags(flags, session.config);
  config::ParseOrExit(flags, argc - 1, argv + 1);
  if (session.config.request_id.empty()) session.config.request_id = NewRequestId();
  auto channel = grpc::CreateChannel(session.config.gateway, grpc::InsecureChannelCredentials());
  session.orders = gateway::v1::OrderService::NewStub(channel);
  session.accounts = gateway::v1::AccountService::NewStub(channel);
  if (command->needs_caller) {
    if (grpc::Status status = Authenticate(session); !status.ok()) return Fail(status);
  }
  session.context.set_deadline(absl::ToChronoTime(absl::Now() + session.config.timeout));
  const grpc::Status status = command->run(session);
  if (session.usage_error) {
    std::fprintf(stderr, "choreoctl: %s\n", status.error_message().c_str());
    return 2;
  }
  return status.ok() ? 0 : Fail(status);
}
