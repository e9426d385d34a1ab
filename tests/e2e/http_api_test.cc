// The gateway's HTTP/JSON API, driven with curl's library against the whole system as
// processes: every public method, every error class, streaming in both formats, and the
// OpenAPI document.

#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "choreo/gateway/v1/gateway.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "testing/http_client.h"
#include "testing/temp_dir.h"
#include "testing/topic_reader.h"
#include "contracts/topics/topics.h"
#include "testing/wait.h"
#include "tests/e2e/system.h"

namespace choreo::e2e {
namespace {

using testing::HttpCallOptions;
using testing::HttpResult;
using ::testing::HasSubstr;

// The body of an answer as its proto message (the JSON must map onto it exactly).
template <typename Message>
Message Parse(const HttpResult& result) {
  Message message;
  const auto parsed = google::protobuf::util::JsonStringToMessage(result.body, &message);
  EXPECT_TRUE(parsed.ok()) << parsed.ToString() << " in " << result.body;
  return message;
}

constexpr char kPassword[] = "a long test passphrase";

class HttpApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    system_ = new LocalSystem(Binaries::Built(), {});
    const absl::Status started = system_->Start();
    ASSERT_TRUE(started.ok()) << started;
  }
  static void TearDownTestSuite() {
    if (std::getenv("CHOREO_DUMP_GATEWAY_LOG") != nullptr) {
      std::ifstream log(system_->LogOf("gateway"));
      std::cerr << log.rdbuf();
    }
    delete system_;
    system_ = nullptr;
  }

  HttpResult Call(const std::string& method, const std::string& target, const std::string& body = "",
                  std::vector<std::string> headers = {}, const std::string& token = "") {
    if (!token.empty()) headers.push_back("Authorization: Bearer " + token);
    return client_.Call(method, system_->gateway_http() + target, body, {.headers = std::move(headers)});
  }

  // Registers `user` over HTTP and returns their token.
  std::string SignUp(const std::string& user) {
    const HttpResult registered = Call("POST", "/v1/accounts",
                                       absl::StrCat(R"({"username":")", user, R"(","password":")", kPassword,
                                                    R"(","email":")", user, R"(@example.com"})"));
    EXPECT_EQ(registered.status, 200) << registered.body;
    const HttpResult login = Call("POST", "/v1/accounts:login",
                                  absl::StrCat(R"({"username":")", user, R"(","password":")", kPassword, R"("})"));
    EXPECT_EQ(login.status, 200) << login.body;
    return Parse<gateway::v1::LoginResponse>(login).access_token();
  }

  static std::string OrderBody(const std::string& request_id, const std::string& sku, int quantity) {
    return absl::StrCat(R"({"requestId":")", request_id, R"(","items":[{"sku":")", sku, R"(","quantity":)", quantity,
                        R"(}],"deliveryAddress":{"recipient":"Ann","line1":"1 Way","city":"Town","country":"US"},)",
                        R"("paymentMethod":"PAYMENT_METHOD_ACCOUNT_BALANCE"})");
  }

  static LocalSystem* system_;
  testing::HttpClient client_;
};

LocalSystem* HttpApiTest::system_ = nullptr;

TEST_F(HttpApiTest, AccountsEndToEnd) {
  const std::string token = SignUp("ann");
  ASSERT_FALSE(token.empty());
  const HttpResult again = Call("POST", "/v1/accounts", absl::StrCat(R"({"username":"ann","password":")", kPassword, R"("})"));
  EXPECT_EQ(again.status, 409);
  EXPECT_THAT(again.body, HasSubstr(R"("code":6)"));
  const HttpResult weak = Call("POST", "/v1/accounts", R"({"username":"weak","password":"short"})");
  EXPECT_EQ(weak.status, 400);
  EXPECT_THAT(weak.body, HasSubstr("password"));
  const HttpResult wrong = Call("POST", "/v1/accounts:login", R"({"username":"ann","password":"not the passphrase"})");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_THAT(wrong.body, HasSubstr(R"("code":16)"));

  EXPECT_EQ(Call("GET", "/v1/account/balance").status, 401);
  EXPECT_EQ(Call("GET", "/v1/account/balance", "", {}, token + "x").status, 401);
  const HttpResult balance = Call("GET", "/v1/account/balance", "", {}, token);
  ASSERT_EQ(balance.status, 200) << balance.body;
  EXPECT_EQ(balance.body, R"({"username":"ann","balance":{"minorUnits":"0","currency":"USD"}})");
  const std::string deposit = R"({"requestId":"dep-1","amount":{"minorUnits":"5000","currency":"USD"}})";
  const HttpResult deposited = Call("POST", "/v1/account/deposits", deposit, {}, token);
  ASSERT_EQ(deposited.status, 200) << deposited.body;
  EXPECT_EQ(Parse<gateway::v1::DepositResponse>(deposited).balance().minor_units(), 5000);
  EXPECT_EQ(Call("POST", "/v1/account/deposits", deposit, {}, token).body, deposited.body);  // once only
  const HttpResult negative = Call("POST", "/v1/account/deposits",
                                   R"({"requestId":"dep-2","amount":{"minorUnits":"-1","currency":"USD"}})", {}, token);
  EXPECT_EQ(negative.status, 400);

  const HttpResult profile = Call("GET", "/v1/account/profile", "", {}, token);
  ASSERT_EQ(profile.status, 200);
  EXPECT_EQ(Parse<users::v1::Profile>(profile).email(), "ann@example.com");
  const HttpResult renamed = Call("PATCH", "/v1/account/profile?updateMask=displayName", R"({"displayName":"Ann A."})", {}, token);
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(Parse<users::v1::Profile>(renamed).display_name(), "Ann A.");
  EXPECT_EQ(Parse<users::v1::Profile>(renamed).email(), "ann@example.com");
  const HttpResult other = Call("PATCH", "/v1/account/profile", R"({"username":"bob","displayName":"B"})", {}, token);
  EXPECT_EQ(other.status, 403);
  EXPECT_THAT(other.body, HasSubstr(R"("code":7)"));
  const HttpResult notifications = Call("GET", "/v1/account/notifications?pageSize=5", "", {}, token);
  EXPECT_EQ(notifications.status, 200);
}

TEST_F(HttpApiTest, OrdersEndToEndWithStreaming) {
  const std::string token = SignUp("olga");
  ASSERT_EQ(Call("POST", "/v1/account/deposits", R"({"requestId":"d","amount":{"minorUnits":"10000","currency":"USD"}})", {}, token).status, 200);
  const HttpResult catalog = Call("GET", "/v1/catalog", "", {}, token);
  ASSERT_EQ(catalog.status, 200);
  EXPECT_GT(Parse<gateway::v1::ListCatalogResponse>(catalog).items_size(), 0);

  constexpr char kTraceId[] = "4bf92f3577b34da6a3ce929d0e0e4736";
  const HttpResult created = Call("POST", "/v1/orders", OrderBody("http-o1", "PEN-004", 1),
                                  {"X-Request-Id: trace-me", absl::StrCat("traceparent: 00-", kTraceId, "-00f067aa0ba902b7-01")},
                                  token);
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_EQ(created.Header("x-request-id"), "trace-me");
  // The client's trace continues on the saga's first event.
  absl::StatusOr<std::vector<KafkaRecord>> requests =
      testing::ReadTopicToEnd(system_->kafka(), std::string(topics::kOrdersRequests));
  ASSERT_TRUE(requests.ok()) << requests.status();
  int traced = 0;
  for (const KafkaRecord& record : *requests) {
    if (record.key == "http-o1") {
      ASSERT_TRUE(record.Header("traceparent").has_value());
      EXPECT_THAT(std::string(*record.Header("traceparent")), HasSubstr(kTraceId));
      ++traced;
    }
  }
  EXPECT_EQ(traced, 1);
  const gateway::v1::Order order = Parse<gateway::v1::Order>(created);
  EXPECT_EQ(order.status(), orders::v1::ORDER_STATUS_PAID);
  EXPECT_THAT(created.body, HasSubstr(R"("status":"ORDER_STATUS_PAID")"));
  EXPECT_THAT(created.body, HasSubstr(R"("minorUnits":")"));  // int64 as a string
  // The same request id: the same order, no second saga.
  EXPECT_EQ(Parse<gateway::v1::Order>(Call("POST", "/v1/orders", OrderBody("http-o1", "PEN-004", 1), {}, token)).order_id(),
            order.order_id());
  const HttpResult poor = Call("POST", "/v1/orders", OrderBody("http-o2", "TEE-003", 50), {}, token);
  ASSERT_EQ(poor.status, 200) << poor.body;
  EXPECT_EQ(Parse<gateway::v1::Order>(poor).status(), orders::v1::ORDER_STATUS_INSUFFICIENT_FUNDS);

  const HttpResult got = Call("GET", "/v1/orders/" + order.order_id(), "", {}, token);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(Parse<gateway::v1::Order>(got).correlation_id(), order.correlation_id());
  const std::string stranger = SignUp("sam");
  EXPECT_EQ(Call("GET", "/v1/orders/" + order.order_id(), "", {}, stranger).status, 404);
  const HttpResult page = Call("GET", "/v1/orders?pageSize=1", "", {}, token);
  ASSERT_EQ(page.status, 200);
  const auto listed = Parse<gateway::v1::ListOrdersResponse>(page);
  EXPECT_EQ(listed.orders_size(), 1);
  EXPECT_FALSE(listed.next_page_token().empty());
  const auto paid = Parse<gateway::v1::ListOrdersResponse>(Call("GET", "/v1/orders?status=ORDER_STATUS_PAID", "", {}, token));
  ASSERT_EQ(paid.orders_size(), 1);
  EXPECT_EQ(paid.orders(0).order_id(), order.order_id());

  // WatchOrder of a finished order: its current (terminal) status, as NDJSON and as SSE.
  const HttpResult watched = Call("GET", "/v1/orders/" + order.order_id() + ":watch", "", {}, token);
  ASSERT_EQ(watched.status, 200) << watched.body;
  EXPECT_EQ(watched.Header("content-type"), "application/x-ndjson");
  const std::vector<std::string> lines = absl::StrSplit(watched.body, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 1u) << watched.body;
  EXPECT_THAT(lines[0], HasSubstr(R"({"result":{"orderId":")"));
  EXPECT_THAT(lines[0], HasSubstr(R"("status":"ORDER_STATUS_PAID")"));
  EXPECT_THAT(lines[0], HasSubstr(R"("terminal":true)"));
  const HttpResult events = Call("GET", "/v1/orders/" + order.order_id() + ":watch", "", {"Accept: text/event-stream"}, token);
  ASSERT_EQ(events.status, 200);
  EXPECT_EQ(events.Header("content-type"), "text/event-stream");
  EXPECT_TRUE(absl::StartsWith(events.body, "data: {\"orderId\":\"")) << events.body;
  EXPECT_EQ(Call("GET", "/v1/orders/ord-nope:watch", "", {}, token).status, 404);

  // The order's notification reaches the account's list.
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        return Parse<gateway::v1::ListNotificationsResponse>(Call("GET", "/v1/account/notifications", "", {}, token))
                   .notifications_size() >= 1;
      },
      absl::Seconds(30)));
}

TEST_F(HttpApiTest, CancelOrderIsAPostToTheOrdersCancelMethod) {
  const std::string token = SignUp("cleo");
  ASSERT_EQ(Call("POST", "/v1/account/deposits", R"({"requestId":"d","amount":{"minorUnits":"10000","currency":"USD"}})", {}, token).status, 200);
  const HttpResult created = Call("POST", "/v1/orders", OrderBody("http-c1", "PEN-004", 1), {}, token);
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string id = Parse<gateway::v1::Order>(created).order_id();
  const HttpResult cancelled =
      Call("POST", "/v1/orders/" + id + ":cancel", R"({"requestId":"c1","reason":"wrong size"})", {}, token);
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(Parse<gateway::v1::Order>(cancelled).status(), orders::v1::ORDER_STATUS_REFUNDED);
  EXPECT_THAT(cancelled.body, HasSubstr("wrong size"));
  EXPECT_THAT(Call("GET", "/v1/account/balance", "", {}, token).body, HasSubstr(R"("minorUnits":"10000")"));
  const HttpResult twice = Call("POST", "/v1/orders/" + id + ":cancel", R"({"requestId":"c2"})", {}, token);
  EXPECT_EQ(twice.status, 400) << twice.body;  // FAILED_PRECONDITION
  EXPECT_THAT(twice.body, HasSubstr("already cancelled"));
  EXPECT_EQ(Call("POST", "/v1/orders/" + id + ":cancel", R"({"requestId":"c3"})", {}, SignUp("cato")).status, 404);
}

TEST_F(HttpApiTest, EveryErrorClassHasItsHttpStatus) {
  const std::string token = SignUp("erin");
  const HttpResult invalid = Call("POST", "/v1/orders", R"({"requestId":"x1"})", {}, token);
  EXPECT_EQ(invalid.status, 400);
  EXPECT_THAT(invalid.body, HasSubstr("items"));
  const HttpResult unknown_field = Call("POST", "/v1/orders", R"({"requestId":"x1","colour":"red"})", {}, token);
  EXPECT_EQ(unknown_field.status, 400);
  EXPECT_THAT(unknown_field.body, HasSubstr(R"(unknown field \"colour\")"));
  const HttpResult malformed = Call("POST", "/v1/orders", R"({"requestId": })", {}, token);
  EXPECT_EQ(malformed.status, 400);
  EXPECT_THAT(malformed.body, HasSubstr("malformed JSON at line 1, column 15"));
  EXPECT_EQ(Call("GET", "/v1/orders/o1").status, 401);
  EXPECT_EQ(Call("GET", "/v1/orders/ord-unknown", "", {}, token).status, 404);
  EXPECT_EQ(Call("GET", "/v1/nowhere").status, 404);
  const HttpResult method = Call("DELETE", "/v1/orders");
  EXPECT_EQ(method.status, 405);
  EXPECT_EQ(method.Header("allow"), "GET, POST");
  EXPECT_EQ(Call("POST", "/v1/orders", std::string(1100 * 1024, ' '), {}, token).status, 413);
  // A deadline that passes while the gateway works on the order (it once freed the request
  // under that work): every call answers 504, and the gateway lives on.
  for (int i = 0; i < 30; ++i) {
    const HttpResult deadline = Call("POST", "/v1/orders", OrderBody(absl::StrCat("late-", i), "PEN-004", 1),
                                     {"Grpc-Timeout: 1m"}, token);
    ASSERT_EQ(deadline.status, 504) << deadline.body << deadline.error;
    EXPECT_THAT(deadline.body, HasSubstr(R"("code":4)"));
  }
  const HttpResult timeline = Call("GET", "/v1/sagas/no-such-saga", "", {}, token);
  EXPECT_EQ(timeline.status, 404);
  EXPECT_THAT(timeline.body, HasSubstr(R"("code":5)"));
  EXPECT_EQ(Call("GET", "/v1/sagas?pageSize=51", "", {}, token).status, 400);
}

TEST_F(HttpApiTest, ServesAValidOpenApiDocumentOfEveryPublicMethod) {
  const HttpResult document = Call("GET", "/openapi.json");
  ASSERT_EQ(document.status, 200);
  for (const char* operation : {"OrderService_CreateOrder", "OrderService_GetOrder", "OrderService_ListOrders",
                                "OrderService_WatchOrder", "OrderService_ListCatalog", "AccountService_Register",
                                "AccountService_Login", "AccountService_GetBalance", "AccountService_Deposit",
                                "AccountService_GetProfile", "AccountService_UpdateProfile",
                                "AccountService_ListNotifications", "TimelineService_GetSagaTimeline"}) {
    EXPECT_THAT(document.body, HasSubstr(absl::StrCat(R"("operationId":")", operation, R"(")")));
  }
  absl::StatusOr<testing::TempDir> dir = testing::TempDir::Create();
  ASSERT_TRUE(dir.ok());
  const std::string path = dir->path() + "/openapi.json";
  std::ofstream(path) << document.body;
  const std::string command = std::string("node ") + CHOREO_OPENAPI_VALIDATOR + " " + path;
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
}

TEST_F(HttpApiTest, ADeadServiceIsUnavailable) {
  ASSERT_TRUE(system_->Kill("users").ok());
  const HttpResult login = Call("POST", "/v1/accounts:login", R"({"username":"ann","password":"whatever it is"})");
  EXPECT_EQ(login.status, 503) << login.body;
  EXPECT_THAT(login.body, HasSubstr(R"("code":14)"));
}

}  // namespace
}  // namespace choreo::e2e
