// The services' trust boundary (ARCHITECTURE.md §7), tried as a caller on the same network would:
// - without a client certificate (plaintext, TLS without one, or one from another CA) a service
//   answers nothing but health: UNAUTHENTICATED, or no connection at all;
// - a user's identity (x-username) is believed only from the gateway's certificate: an operator
//   or another service sending it is UNAUTHENTICATED, and changes nothing;
// - the admin reads are for the gateway and operators only: another service is PERMISSION_DENIED;
// - a client checks which service it reached: a certificate for another name is refused;
// - on Kafka, an event that moves money is taken only from the service allowed to produce it: a
//   DepositRequested from any other principal, or from no login, never reaches billing.deposits.
// - at the gateway, logins and registrations are limited per client address (the connection's,
//   over gRPC and HTTP alike, whatever headers say), never per user, and password hashing is
//   capped for all clients together.
// Each refusal has its positive control: the same call with the right certificate succeeds.

#include <hiredis/hiredis.h>

#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "choreo/billing/v1/admin.grpc.pb.h"
#include "choreo/billing/v1/events.pb.h"
#include "choreo/gateway/v1/gateway.grpc.pb.h"
#include "choreo/notifications/v1/admin.grpc.pb.h"
#include "choreo/orders/v1/admin.grpc.pb.h"
#include "choreo/users/v1/user_service.grpc.pb.h"
#include "contracts/topics/topics.h"
#include "edges/kafka/kafka_client.h"
#include "edges/kafka/kafka_producer.h"
#include "edges/redis/redis_connection.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "saga/codec/event_codec.h"
#include "saga/service/grpc_tls.h"
#include "testing/http_client.h"
#include "testing/local_pki.h"
#include "testing/wait.h"
#include "tests/e2e/system.h"

namespace choreo::e2e {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<grpc::ClientContext> Call(const std::string& asserted_user = "") {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  if (!asserted_user.empty()) context->AddMetadata("x-username", asserted_user);
  return context;
}

std::string LoginBody(const std::string& user, const std::string& password) {
  return absl::StrCat(R"({"username":")", user, R"(","password":")", password, R"("})");
}

class TrustBoundaryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    system_ = new LocalSystem(Binaries::Built(),
                              {.users_flags = {"--login-attempts", "5", "--registrations", "3",
                                               "--password-checks", "1"}});
    const absl::Status started = system_->Start();
    ASSERT_TRUE(started.ok()) << started;
    TestUsers users(system_->gateway());
    ASSERT_TRUE(users.SignUp("ann", "ann@example.com").ok());
  }
  static void TearDownTestSuite() {
    delete system_;
    system_ = nullptr;
  }

  // TLS that checks the service's certificate but presents none of its own.
  static std::shared_ptr<grpc::Channel> WithoutCertificate(const std::string& service) {
    absl::StatusOr<std::string> ca = service::ReadPem(system_->pki().ca(), "ca");
    EXPECT_TRUE(ca.ok());
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride(service);
    return grpc::CreateCustomChannel(
        address(service), grpc::SslCredentials({.pem_root_certs = ca.value_or("")}), args);
  }
  static const std::string& address(const std::string& service) {
    return service == "order"     ? system_->order()
           : service == "billing" ? system_->billing()
           : service == "users"   ? system_->users()
                                  : system_->notification();
  }

  // One read of each service's API that needs a caller, as whoever `channel_to` connects as.
  static std::map<std::string, grpc::Status> AdminReads(
      const std::function<std::shared_ptr<grpc::Channel>(const std::string&)>& channel_to) {
    std::map<std::string, grpc::Status> statuses;
    orders::v1::GetOrderRequest order;
    order.set_order_id("no-such-order");
    orders::v1::Order order_out;
    statuses["order"] = orders::v1::OrderAdmin::NewStub(channel_to("order"))
                            ->GetOrder(Call().get(), order, &order_out);
    billing::v1::GetBalanceRequest balance;
    balance.set_username("ann");
    billing::v1::Balance balance_out;
    statuses["billing"] = billing::v1::BillingAdmin::NewStub(channel_to("billing"))
                              ->GetBalance(Call().get(), balance, &balance_out);
    notifications::v1::ListNotificationsRequest list;
    list.set_username("ann");
    notifications::v1::ListNotificationsResponse list_out;
    statuses["notification"] =
        notifications::v1::NotificationAdmin::NewStub(channel_to("notification"))
            ->ListNotifications(Call().get(), list, &list_out);
    users::v1::GetProfileRequest profile;
    users::v1::Profile profile_out;
    statuses["users"] = users::v1::UserService::NewStub(channel_to("users"))
                            ->GetProfile(Call("ann").get(), profile, &profile_out);
    return statuses;
  }

  // Produces `record` as whoever `login` makes the client (over this process's admin login).
  static absl::Status ProduceAs(const kafka::KafkaConfig& login, const KafkaRecord& record) {
    auto producer = kafka::KafkaProducer::Create(
        kafka::Merged(kafka::Merged(kafka::ProducerDefaults(system_->kafka()), login),
                      {{"message.timeout.ms", "5000"}}));
    if (!producer.ok()) return producer.status();
    return (*producer)->ProduceAndWait(record, absl::Seconds(15)).status();
  }

  // A call to the gateway's HTTP API from `source` (an address in 127/8).
  static testing::HttpResult HttpFrom(const std::string& source, const std::string& target,
                                      const std::string& body,
                                      std::vector<std::string> headers = {}) {
    return testing::HttpCall("POST", system_->gateway_http() + target, body,
                             {.headers = std::move(headers), .source_address = source});
  }

  static LocalSystem* system_;
};

LocalSystem* TrustBoundaryTest::system_ = nullptr;

TEST_F(TrustBoundaryTest, WithoutAClientCertificateOnlyHealthAnswers) {
  for (const auto& [service, status] : AdminReads(WithoutCertificate)) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << service;
    EXPECT_THAT(status.error_message(), HasSubstr("no client certificate")) << service;
    grpc::health::v1::HealthCheckResponse health;
    EXPECT_TRUE(grpc::health::v1::Health::NewStub(WithoutCertificate(service))
                    ->Check(Call().get(), {}, &health)
                    .ok())
        << service;
  }
  // Plaintext gets no connection.
  for (const auto& [service, status] : AdminReads([](const std::string& service) {
         return grpc::CreateChannel(address(service), grpc::InsecureChannelCredentials());
       })) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << service;
  }
  // The positive control: the gateway's certificate reads them all (ann's profile, as ann).
  for (const auto& [service, status] : AdminReads(
           [](const std::string& service) { return system_->ChannelTo(service, "gateway"); })) {
    // The order asked for does not exist: NOT_FOUND is the order service's answer to a caller
    // it let in.
    const grpc::StatusCode expected =
        service == "order" ? grpc::StatusCode::NOT_FOUND : grpc::StatusCode::OK;
    EXPECT_EQ(status.error_code(), expected) << service << ": " << status.error_message();
  }
}

TEST_F(TrustBoundaryTest, ACertificateFromAnotherAuthorityIsRefused) {
  // An attacker's own CA, with a certificate that calls itself the gateway.
  absl::StatusOr<testing::LocalPki> forged = testing::LocalPki::Create(
      absl::StrCat(::testing::TempDir(), "/forged-pki-", getpid()), {"gateway"});
  ASSERT_TRUE(forged.ok()) << forged.status();
  absl::StatusOr<service::TlsMaterial> forged_gateway = service::TlsMaterial::Load(
      {.ca = forged->ca(), .cert = forged->cert("gateway"), .key = forged->key("gateway")});
  ASSERT_TRUE(forged_gateway.ok());
  // It trusts the real CA, so only its own certificate can fail the handshake.
  forged_gateway->ca_pem = service::ReadPem(system_->pki().ca(), "ca").value();
  for (const auto& [service, status] : AdminReads([&](const std::string& service) {
         return service::ChannelTo(address(service), service, *forged_gateway);
       })) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
        << service << ": " << status.error_message();
  }
}

TEST_F(TrustBoundaryTest, OnlyTheGatewayAssertsAUser) {
  auto users_as = [](const std::string& peer) {
    return users::v1::UserService::NewStub(system_->ChannelTo("users", peer));
  };
  for (const std::string peer : {"operator", "billing", "notification"}) {
    users::v1::Profile profile;
    grpc::Status read = users_as(peer)->GetProfile(Call("ann").get(), {}, &profile);
    EXPECT_EQ(read.error_code(), grpc::StatusCode::UNAUTHENTICATED) << peer;
    EXPECT_THAT(read.error_message(), HasSubstr("only from the gateway")) << peer;
    users::v1::UpdateProfileRequest update;
    update.mutable_profile()->set_email("attacker@example.com");
    update.mutable_update_mask()->add_paths("email");
    EXPECT_EQ(users_as(peer)->UpdateProfile(Call("ann").get(), update, &profile).error_code(),
              grpc::StatusCode::UNAUTHENTICATED)
        << peer;
    users::v1::RegisterRequest registration;
    registration.set_username(absl::StrCat("mallory-", peer));
    registration.set_password("a long enough passphrase");
    users::v1::RegisterResponse registered;
    EXPECT_EQ(users_as(peer)->Register(Call().get(), registration, &registered).error_code(),
              grpc::StatusCode::PERMISSION_DENIED)
        << peer;
  }
  // Nothing changed, as the gateway sees it (the positive control).
  users::v1::Profile profile;
  grpc::Status read = users_as("gateway")->GetProfile(Call("ann").get(), {}, &profile);
  ASSERT_TRUE(read.ok()) << read.error_message();
  EXPECT_EQ(profile.username(), "ann");
  EXPECT_EQ(profile.email(), "ann@example.com");
}

TEST_F(TrustBoundaryTest, AdminReadsAreForTheGatewayAndOperatorsOnly) {
  for (const auto& [service, status] : AdminReads([](const std::string& service) {
         // A service other than the one called, as a compromised one would call.
         return system_->ChannelTo(service, service == "billing" ? "order" : "billing");
       })) {
    // The profile read asserts a user, which only the gateway may do.
    EXPECT_EQ(status.error_code(), service == "users" ? grpc::StatusCode::UNAUTHENTICATED
                                                      : grpc::StatusCode::PERMISSION_DENIED)
        << service;
  }
  billing::v1::GetBalanceRequest balance;
  balance.set_username("ann");
  billing::v1::Balance out;
  grpc::Status read = billing::v1::BillingAdmin::NewStub(system_->ChannelTo("billing", "operator"))
                          ->GetBalance(Call().get(), balance, &out);
  EXPECT_TRUE(read.ok()) << read.error_message();
}

// A forged DepositRequested, as an attacker on the network would hand-build it: 1,000,000 USD.
KafkaRecord ForgedDeposit() {
  billing::v1::DepositRequested deposit;
  deposit.set_request_id("forged-1");
  deposit.set_username("ann");
  deposit.mutable_amount()->set_minor_units(100'000'000);
  deposit.mutable_amount()->set_currency("USD");
  deposit.mutable_meta()->set_event_id("forged-event-1");
  deposit.mutable_meta()->set_correlation_id("forged-correlation-1");
  deposit.mutable_meta()->set_producer("gateway");
  deposit.mutable_meta()->mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(absl::Now()));
  deposit.mutable_meta()->set_schema_version(1);
  return codec::EventCodec().Encode(deposit, topics::kBillingDeposits, "ann").value();
}

TEST_F(TrustBoundaryTest, OnlyTheGatewayMayProduceADeposit) {
  testing::KafkaCluster& kafka = *system_->kafka_cluster();
  auto balance = [] {
    billing::v1::GetBalanceRequest request;
    request.set_username("ann");
    billing::v1::Balance out;
    grpc::Status read = billing::v1::BillingAdmin::NewStub(system_->ChannelTo("billing"))
                            ->GetBalance(Call().get(), request, &out);
    EXPECT_TRUE(read.ok()) << read.error_message();
    return out.balance().minor_units();
  };
  const int64_t before = balance();
  for (const std::string principal : {"notification", "order", "users", "billing"}) {
    const absl::Status refused = ProduceAs(kafka.ClientProperties(principal), ForgedDeposit());
    EXPECT_FALSE(refused.ok()) << principal;
    EXPECT_THAT(refused.message(), HasSubstr("authorization failed")) << principal;
  }
  // No login at all: the broker talks to nobody who has not authenticated.
  EXPECT_FALSE(ProduceAs({{"security.protocol", "plaintext"}}, ForgedDeposit()).ok());
  // A wrong password.
  kafka::KafkaConfig wrong = kafka.ClientProperties("gateway");
  wrong.push_back({"sasl.password", "guessed"});
  EXPECT_FALSE(ProduceAs(wrong, ForgedDeposit()).ok());
  // The positive control: the gateway's login may produce there (an empty record, which billing
  // dead-letters as undecodable, so no money moves here either).
  KafkaRecord harmless{.topic = std::string(topics::kBillingDeposits), .key = "ann", .value = ""};
  const absl::Status accepted = ProduceAs(kafka.ClientProperties("gateway"), harmless);
  EXPECT_TRUE(accepted.ok()) << accepted;
  // Had any forged deposit got through, billing would have applied it by now: the harmless
  // record after it on the same partition (key ann) is dead-lettered once it is handled.
  EXPECT_TRUE(testing::WaitUntil(
      [] {
        return absl::StrContains(
            testing::HttpCall("GET", system_->admin("billing") + "/metrics").body,
            R"(choreo_events_dead_lettered_total{reason="undecodable",topic="billing.deposits")");
      },
      absl::Seconds(30)));
  EXPECT_EQ(balance(), before);
}

TEST_F(TrustBoundaryTest, AClientRefusesAServerWithAnotherServicesCertificate) {
  absl::StatusOr<service::TlsMaterial> gateway =
      service::TlsMaterial::Load({.ca = system_->pki().ca(),
                                  .cert = system_->pki().cert("gateway"),
                                  .key = system_->pki().key("gateway")});
  ASSERT_TRUE(gateway.ok());
  // The users service's address, expecting the order service (a misrouted or spoofed address).
  users::v1::Profile profile;
  grpc::Status misrouted =
      users::v1::UserService::NewStub(service::ChannelTo(system_->users(), "order", *gateway))
          ->GetProfile(Call("ann").get(), {}, &profile);
  EXPECT_EQ(misrouted.error_code(), grpc::StatusCode::UNAVAILABLE) << misrouted.error_message();
  grpc::Status right =
      users::v1::UserService::NewStub(service::ChannelTo(system_->users(), "users", *gateway))
          ->GetProfile(Call("ann").get(), {}, &profile);
  EXPECT_TRUE(right.ok()) << right.error_message();
}

TEST_F(TrustBoundaryTest, LoginsAreLimitedPerClientAddressNeverPerUser) {
  // Five wrong passwords for ann from one address, then that address is refused: 429 with the
  // reason, whatever forwarding headers it sends.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(
        HttpFrom("127.0.0.2", "/v1/accounts:login", LoginBody("ann", "not her password")).status,
        401);
  }
  const testing::HttpResult limited =
      HttpFrom("127.0.0.2", "/v1/accounts:login", LoginBody("ann", TestUsers::kPassword),
               {"X-Forwarded-For: 10.9.9.9", "Grpc-Metadata-X-Forwarded-For: 10.9.9.9",
                "Grpc-Metadata-X-Client-Address: 10.9.9.9"});
  EXPECT_EQ(limited.status, 429) << limited.body;
  EXPECT_THAT(limited.body, HasSubstr("too many login attempts from 127.0.0.2"));
  // Ann is not locked out: from her own address, over HTTP and over gRPC, she logs in.
  EXPECT_EQ(
      HttpFrom("127.0.0.3", "/v1/accounts:login", LoginBody("ann", TestUsers::kPassword)).status,
      200);
  TestUsers users(system_->gateway());
  EXPECT_TRUE(users.SignUp("ann").ok()) << "a sign-up of an existing user logs in";
}

TEST_F(TrustBoundaryTest, RegistrationsAreLimitedPerClientAddress) {
  auto register_from = [](const std::string& source, const std::string& user) {
    return HttpFrom(
        source, "/v1/accounts",
        absl::StrCat(R"({"username":")", user, R"(","password":")", TestUsers::kPassword,
                     R"(","email":")", user, R"(@example.com"})"));
  };
  for (const char* user : {"reg1", "reg2", "reg3"}) {
    const testing::HttpResult registered = register_from("127.0.0.4", user);
    EXPECT_EQ(registered.status, 200) << user << ": " << registered.body;
  }
  const testing::HttpResult limited = register_from("127.0.0.4", "reg4");
  EXPECT_EQ(limited.status, 429) << limited.body;
  EXPECT_THAT(limited.body, HasSubstr("too many registration attempts"));
  EXPECT_EQ(register_from("127.0.0.5", "reg4").status, 200) << "another address is not limited";
}

TEST_F(TrustBoundaryTest, PasswordHashingIsCappedForAllClientsTogether) {
  // One password check at a time (--password-checks 1): logins from many addresses at once find
  // it busy, RESOURCE_EXHAUSTED, instead of queueing behind each other. Rounds of concurrent
  // logins until one does (each from fresh addresses, under their own per-address limits).
  bool busy_seen = false;
  int answered = 0;
  for (int round = 0; round < 20 && !busy_seen; ++round) {
    std::vector<std::thread> clients;
    std::vector<testing::HttpResult> results(8);
    for (int i = 0; i < 8; ++i) {
      clients.emplace_back([&results, round, i] {
        results[i] = HttpFrom(absl::StrCat("127.0.1.", round * 8 + i + 1), "/v1/accounts:login",
                              LoginBody("ann", TestUsers::kPassword));
      });
    }
    for (std::thread& client : clients) client.join();
    for (const testing::HttpResult& result : results) {
      if (result.status == 429) {
        EXPECT_THAT(result.body, HasSubstr("too many password checks in progress"));
        busy_seen = true;
      } else {
        EXPECT_EQ(result.status, 200) << result.body << result.error;
        ++answered;
      }
    }
  }
  EXPECT_TRUE(busy_seen) << "concurrent logins never found the one password check busy";
  EXPECT_GT(answered, 0);
}

// Not in the fixture: a system of its own, its gateway's public ports on TLS.
TEST(PublicTlsTest, TheGatewaysPublicPortsSpeakTlsWhenGivenACertificate) {
  LocalSystem system(Binaries::Built(), {.public_tls = true});
  ASSERT_TRUE(system.Start().ok());
  absl::StatusOr<std::string> ca = service::ReadPem(system.pki().ca(), "ca");
  ASSERT_TRUE(ca.ok());
  gateway::v1::LoginRequest login;
  login.set_username("nobody");
  login.set_password("not a password");
  gateway::v1::LoginResponse token;
  // gRPC: a TLS client that trusts the CA reaches the API (an unknown user's answer)...
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("gateway");
  auto tls = gateway::v1::AccountService::NewStub(grpc::CreateCustomChannel(
      system.gateway(), grpc::SslCredentials({.pem_root_certs = *ca}), args));
  grpc::Status answered = tls->Login(Call().get(), login, &token);
  EXPECT_EQ(answered.error_code(), grpc::StatusCode::UNAUTHENTICATED) << answered.error_message();
  // ... and a plaintext one gets no connection.
  auto plain = gateway::v1::AccountService::NewStub(
      grpc::CreateChannel(system.gateway(), grpc::InsecureChannelCredentials()));
  EXPECT_EQ(plain->Login(Call().get(), login, &token).error_code(), grpc::StatusCode::UNAVAILABLE);
  // HTTP/JSON likewise.
  const std::string port = system.gateway_http().substr(system.gateway_http().rfind(':') + 1);
  const testing::HttpResult https = testing::HttpCall(
      "POST", system.gateway_http() + "/v1/accounts:login", LoginBody("nobody", "not a password"),
      {.ca_file = system.pki().ca(), .resolve = {"gateway:" + port + ":127.0.0.1"}});
  EXPECT_EQ(https.status, 401) << https.error << https.body;
  const testing::HttpResult plaintext = testing::HttpCall(
      "POST", "http://127.0.0.1:" + port + "/v1/accounts:login", LoginBody("nobody", "x"));
  EXPECT_EQ(plaintext.status, 0) << plaintext.body;
}

// Commands sent as `user` (AUTH first when `password` is not empty) over a fresh connection to
// the system's Redis; each reply as text, errors included ("NOPERM ...").
std::vector<std::string> RedisAs(const LocalSystem& system, const std::string& user,
                                 const std::string& password,
                                 const std::vector<std::vector<std::string>>& commands) {
  absl::StatusOr<redis::RedisAddress> address = redis::ParseRedisAddress(system.redis());
  redisContext* context = redisConnect(address->host.c_str(), address->port);
  std::vector<std::string> replies;
  auto run = [&](const std::vector<std::string>& argv) {
    std::vector<const char*> args;
    std::vector<size_t> lengths;
    for (const std::string& arg : argv) {
      args.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    auto* reply = static_cast<redisReply*>(
        redisCommandArgv(context, static_cast<int>(args.size()), args.data(), lengths.data()));
    std::string text = reply == nullptr        ? "no reply"
                       : reply->str != nullptr ? std::string(reply->str, reply->len)
                                               : absl::StrCat("type ", reply->type);
    if (reply != nullptr) freeReplyObject(reply);
    return text;
  };
  if (!password.empty()) replies.push_back(run({"AUTH", user, password}));
  for (const std::vector<std::string>& command : commands) replies.push_back(run(command));
  redisFree(context);
  return replies;
}

TEST_F(TrustBoundaryTest, EachProcessReachesOnlyItsOwnRedisKeys) {
  const std::string balance = "state:{billing.account:ann}";
  // The notification service's login can neither read nor change a balance, nor flush Redis,
  // nor list key names; its own keys it can use.
  const std::vector<std::string> notification =
      RedisAs(*system_, "notification", LocalSystem::RedisPassword("notification"),
              {{"HGET", balance, "s"},
               {"HSET", balance, "s", "forged"},
               {"FLUSHALL"},
               {"KEYS", "*"},
               {"SCAN", "0"},
               {"GET", "done:{notification.inbox:ann}:e1"},
               {"LRANGE", "notification:inbox:{ann}", "0", "0"}});
  ASSERT_EQ(notification.size(), 8u);
  EXPECT_EQ(notification[0], "OK");
  for (int i : {1, 2, 3, 4, 5}) EXPECT_THAT(notification[i], HasSubstr("NOPERM")) << i;
  EXPECT_EQ(notification[6], "type 4") << "nil: allowed, and absent";
  EXPECT_EQ(notification[7], "type 2") << "the inbox: allowed, an (empty) list";
  // Billing's own login reaches the balance: the positive control.
  const std::vector<std::string> billing =
      RedisAs(*system_, "billing", LocalSystem::RedisPassword("billing"), {{"EXISTS", balance}});
  EXPECT_EQ(billing[0], "OK");
  EXPECT_EQ(billing[1], "type 3") << "an integer reply";
  // Without a login, or with a wrong password, nothing.
  EXPECT_THAT(RedisAs(*system_, "", "", {{"GET", "gw:x"}})[0], HasSubstr("NOAUTH"));
  EXPECT_THAT(RedisAs(*system_, "billing", "wrong", {})[0], HasSubstr("WRONGPASS"));
}

}  // namespace
}  // namespace choreo::e2e
