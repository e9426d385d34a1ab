#include "services/notification/channels/webhook_channel.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/http_receiver.h"
#include "testing/temp_dir.h"
#include "tests/services/notification/channels/test_notifications.h"

namespace choreo::notification {
namespace {

using notifications::v1::NotificationRequested;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr absl::Duration kWait = absl::Seconds(10);

// Records the pauses the channel asks for instead of pausing.
class RecordedSleeps {
 public:
  std::function<void(absl::Duration)> Sleeper() {
    return [this](absl::Duration d) {
      absl::MutexLock lock(&mutex_);
      sleeps_.push_back(d);
    };
  }
  std::vector<absl::Duration> sleeps() const {
    absl::MutexLock lock(&mutex_);
    return sleeps_;
  }

 private:
  mutable absl::Mutex mutex_;
  std::vector<absl::Duration> sleeps_ ABSL_GUARDED_BY(mutex_);
};

class WebhookChannelTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(receiver_.Start().ok()); }

  WebhookOptions Options() {
    WebhookOptions options;
    options.sleep = sleeps_.Sleeper();
    options.allow_private_destinations = true;  // the receiver is on 127.0.0.1
    return options;
  }

  NotificationRequested ToReceiver(const std::string& id) {
    NotificationRequested n = SampleNotification(id);
    n.set_channel(notifications::v1::CHANNEL_WEBHOOK);
    n.set_destination(receiver_.url("/hooks/alice"));
    return n;
  }

  testing::HttpReceiver receiver_;
  RecordedSleeps sleeps_;
};

TEST_F(WebhookChannelTest, PostsTheJsonWithIdempotencyKeyAndTraceHeaders) {
  WebhookChannel channel(Options());
  const NotificationRequested n = ToReceiver("1");

  const DeliveryResult result = channel.Deliver(n);

  EXPECT_TRUE(result.delivered);
  EXPECT_EQ(result.attempts, 1);
  EXPECT_THAT(result.failure_reason, IsEmpty());
  ASSERT_TRUE(receiver_.WaitForRequests(1, kWait));
  const std::vector<testing::HttpReceiver::Request> requests = receiver_.requests();
  ASSERT_THAT(requests, SizeIs(1));
  const testing::HttpReceiver::Request& request = requests[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.path, "/hooks/alice");
  EXPECT_EQ(request.body, NotificationJson(n));
  EXPECT_EQ(request.headers.at("content-type"), "application/json");
  EXPECT_EQ(request.headers.at("idempotency-key"), "notification-1");
  EXPECT_EQ(request.headers.at("x-correlation-id"), "saga-1");
  EXPECT_EQ(request.headers.at("traceparent"), n.meta().traceparent());
  EXPECT_TRUE(sleeps_.sleeps().empty());
}

TEST_F(WebhookChannelTest, LeavesOutEmptyCorrelationAndTraceHeaders) {
  WebhookChannel channel(Options());
  NotificationRequested n = ToReceiver("1");
  n.mutable_meta()->clear_correlation_id();
  n.mutable_meta()->clear_traceparent();

  EXPECT_TRUE(channel.Deliver(n).delivered);

  ASSERT_TRUE(receiver_.WaitForRequests(1, kWait));
  const testing::HttpReceiver::Request request = receiver_.requests().at(0);
  EXPECT_FALSE(request.headers.contains("x-correlation-id"));
  EXPECT_FALSE(request.headers.contains("traceparent"));
  EXPECT_EQ(request.headers.at("idempotency-key"), "notification-1");
}

TEST_F(WebhookChannelTest, RetriesServiceUnavailableWithDoublingBackoff) {
  receiver_.RespondWith({503, 503});
  WebhookChannel channel(Options());

  const DeliveryResult result = channel.Deliver(ToReceiver("1"));

  EXPECT_TRUE(result.delivered);
  EXPECT_EQ(result.attempts, 3);
  EXPECT_THAT(result.failure_reason, IsEmpty());
  EXPECT_THAT(sleeps_.sleeps(), ElementsAre(absl::Milliseconds(100), absl::Milliseconds(200)));
  const std::vector<testing::HttpReceiver::Request> requests = receiver_.requests();
  ASSERT_THAT(requests, SizeIs(3));
  for (const testing::HttpReceiver::Request& request : requests) {
    EXPECT_EQ(request.headers.at("idempotency-key"), "notification-1");
  }
}

TEST_F(WebhookChannelTest, BackoffIsCappedAtMaxBackoff) {
  receiver_.RespondWith({500, 502, 504, 408});
  WebhookOptions options = Options();
  options.max_attempts = 5;
  options.initial_backoff = absl::Milliseconds(100);
  options.max_backoff = absl::Milliseconds(250);
  WebhookChannel channel(options);

  const DeliveryResult result = channel.Deliver(ToReceiver("1"));

  EXPECT_TRUE(result.delivered);
  EXPECT_EQ(result.attempts, 5);
  EXPECT_THAT(sleeps_.sleeps(),
              ElementsAre(absl::Milliseconds(100), absl::Milliseconds(200),
                          absl::Milliseconds(250), absl::Milliseconds(250)));
}

TEST_F(WebhookChannelTest, HonoursRetryAfterSecondsCappedAtMaxBackoff) {
  receiver_.RespondWithResponses({{.status = 429, .headers = {{"Retry-After", "1"}}},
                                  {.status = 503, .headers = {{"Retry-After", "60"}}}});
  WebhookChannel channel(Options());

  const DeliveryResult result = channel.Deliver(ToReceiver("1"));

  EXPECT_TRUE(result.delivered);
  EXPECT_EQ(result.attempts, 3);
  EXPECT_THAT(sleeps_.sleeps(), ElementsAre(absl::Seconds(1), absl::Seconds(2)));
}

TEST_F(WebhookChannelTest, AClientErrorIsPermanent) {
  receiver_.RespondWith({400});
  WebhookChannel channel(Options());

  const DeliveryResult result = channel.Deliver(ToReceiver("1"));

  EXPECT_FALSE(result.delivered);
  EXPECT_EQ(result.attempts, 1);
  EXPECT_THAT(result.failure_reason, HasSubstr("400"));
  EXPECT_TRUE(sleeps_.sleeps().empty());
  EXPECT_THAT(receiver_.requests(), SizeIs(1));
}

TEST_F(WebhookChannelTest, ARedirectIsNotFollowed) {
  receiver_.RespondWithResponses({{.status = 302, .headers = {{"Location", "/elsewhere"}}}});
  WebhookChannel channel(Options());

  const DeliveryResult result = channel.Deliver(ToReceiver("1"));

  EXPECT_FALSE(result.delivered);
  EXPECT_EQ(result.attempts, 1);
  EXPECT_EQ(result.failure_reason, "HTTP 302");
  EXPECT_THAT(receiver_.requests(), SizeIs(1));
}

TEST_F(WebhookChannelTest, GivesUpAfterMaxAttemptsWithTheLastStatus) {
  receiver_.RespondWith({500, 500, 500});
  WebhookOptions options = Options();
  options.max_attempts = 3;
  WebhookChannel channel(options);

  const DeliveryResult result = channel.Deliver(ToReceiver("1"));

  EXPECT_FALSE(result.delivered);
  EXPECT_EQ(result.attempts, 3);
  EXPECT_EQ(result.failure_reason, "HTTP 500");
  EXPECT_THAT(sleeps_.sleeps(), SizeIs(2));
  EXPECT_THAT(receiver_.requests(), SizeIs(3));
}

TEST(WebhookChannelNoReceiverTest, NothingListeningIsARetriedConnectionError) {
  absl::StatusOr<int> port = testing::PickFreeTcpPort();  // bound, read back, closed
  ASSERT_TRUE(port.ok()) << port.status();
  RecordedSleeps sleeps;
  WebhookOptions options;
  options.sleep = sleeps.Sleeper();
  options.allow_private_destinations = true;
  WebhookChannel channel(options);
  NotificationRequested n = SampleNotification("1");
  n.set_destination(absl::StrCat("http://127.0.0.1:", *port, "/hook"));

  const DeliveryResult result = channel.Deliver(n);

  EXPECT_FALSE(result.delivered);
  EXPECT_EQ(result.attempts, 3);
  EXPECT_EQ(result.failure_reason, "no HTTP answer from the destination");
  EXPECT_THAT(result.detail, HasSubstr("connect")) << "for the operators' log";
  EXPECT_THAT(sleeps.sleeps(), SizeIs(2));
}

// A TCP socket listening on a free loopback port, which nothing accepts from yet.
void ListenOnLoopback(int& fd, int& port) {
  fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(fd, 8), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  port = ntohs(address.sin_port);
}

TEST(WebhookChannelNoReceiverTest, AServerSpeakingAnotherProtocolLooksLikeAClosedPort) {
  // A listener that answers every connection with an SSH banner and hangs up: an open port
  // that is no webhook. The user learns no more than from a closed port: same reason, same
  // attempts; curl's own words go to the detail (the operators' log).
  int fd = -1, port = 0;
  ASSERT_NO_FATAL_FAILURE(ListenOnLoopback(fd, port));
  std::thread banner([fd] {
    for (int i = 0; i < 3; ++i) {
      const int client = accept(fd, nullptr, nullptr);
      if (client < 0) return;
      constexpr char kBanner[] = "SSH-2.0-OpenSSH_9.2\r\n";
      static_cast<void>(write(client, kBanner, sizeof kBanner - 1));
      close(client);
    }
  });
  RecordedSleeps sleeps;
  WebhookOptions options;
  options.sleep = sleeps.Sleeper();
  options.allow_private_destinations = true;
  WebhookChannel channel(options);
  NotificationRequested n = SampleNotification("1");
  n.set_destination(absl::StrCat("http://127.0.0.1:", port, "/hook"));

  const DeliveryResult result = channel.Deliver(n);
  banner.join();
  close(fd);

  EXPECT_FALSE(result.delivered);
  EXPECT_EQ(result.attempts, 3) << "as many as for a closed port";
  EXPECT_EQ(result.failure_reason, "no HTTP answer from the destination");
  EXPECT_FALSE(result.detail.empty());
}

TEST(WebhookChannelNoReceiverTest, ASilentReceiverTimesOutAndIsRetried) {
  // A listener that never accepts: the kernel completes the handshake, nobody answers.
  int fd = -1, port = 0;
  ASSERT_NO_FATAL_FAILURE(ListenOnLoopback(fd, port));
  RecordedSleeps sleeps;
  WebhookOptions options;
  options.timeout = absl::Milliseconds(200);
  options.max_attempts = 2;
  options.sleep = sleeps.Sleeper();
  options.allow_private_destinations = true;
  WebhookChannel channel(options);
  NotificationRequested n = SampleNotification("1");
  n.set_destination(absl::StrCat("http://127.0.0.1:", port, "/hook"));

  const absl::Time start = absl::Now();
  const DeliveryResult result = channel.Deliver(n);
  const absl::Duration took = absl::Now() - start;
  close(fd);

  EXPECT_FALSE(result.delivered);
  EXPECT_EQ(result.attempts, 2);
  // The user reads the same reason as for a refused connection (no port-scan oracle).
  EXPECT_EQ(result.failure_reason, "no HTTP answer from the destination");
  EXPECT_THAT(result.detail, HasSubstr("timed out"));
  EXPECT_THAT(sleeps.sleeps(), SizeIs(1));
  EXPECT_LT(took, absl::Seconds(5));
}

TEST_F(WebhookChannelTest, NonPublicDestinationsAreRefusedByDefaultAndNotRetried) {
  WebhookOptions options = Options();
  options.allow_private_destinations = false;
  WebhookChannel channel(options);
  // "localhost" resolves to a loopback address: the check is on the address, after DNS.
  for (const char* host : {"127.0.0.1", "localhost"}) {
    NotificationRequested n = ToReceiver("1");
    n.set_destination(absl::StrCat("http://", host, ":", receiver_.port(), "/hook"));
    const DeliveryResult result = channel.Deliver(n);
    EXPECT_FALSE(result.delivered) << host;
    EXPECT_EQ(result.attempts, 1) << host;
    EXPECT_THAT(result.failure_reason, HasSubstr("not allowed")) << host;
  }
  EXPECT_THAT(receiver_.requests(), IsEmpty());
  EXPECT_THAT(sleeps_.sleeps(), IsEmpty()) << "not retried";
}

TEST(WebhookAddressTest, OnlyPublicUnicastAddressesArePublic) {
  for (const char* ip :
       {"127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1", "::1",
        "fd00::1", "fec0::1", "::ffff:10.0.0.1", "::ffff:127.0.0.1", "::127.0.0.1", "::10.0.0.1",
        "64:ff9b::10.0.0.1", "64:ff9b::127.0.0.1", "2002:7f00:1::1", "2002:c0a8:101::1",
        "64:ff9b:1::1"}) {
    EXPECT_EQ(KindOfAddress(ip), AddressKind::kPrivate) << ip;
  }
  // Never, not even with allow_private_destinations: the cloud metadata address in every form.
  for (const char* ip :
       {"169.254.169.254", "0.0.0.0", "224.0.0.1", "255.255.255.255", "::", "fe80::1", "ff02::1",
        "::169.254.169.254", "::ffff:169.254.169.254", "64:ff9b::169.254.169.254",
        "2002:a9fe:a9fe::1", "2001:0:4136::1", "2001:db8::1", "not an address"}) {
    EXPECT_EQ(KindOfAddress(ip), AddressKind::kForbidden) << ip;
  }
  for (const char* ip : {"8.8.8.8", "93.184.216.34", "172.32.0.1", "100.128.0.1", "2606:4700::1111",
                         "::ffff:8.8.8.8", "64:ff9b::8.8.8.8", "2002:808:808::1", "::8.8.8.8"}) {
    EXPECT_EQ(KindOfAddress(ip), AddressKind::kPublic) << ip;
  }
}

TEST(WebhookChannelNoReceiverTest, ANonHttpDestinationIsRefusedWithoutAnAttempt) {
  WebhookChannel channel(WebhookOptions{});
  for (const std::string destination : {"", "ftp://example.com/hook", "/tmp/hook", "example.com"}) {
    NotificationRequested n = SampleNotification("1");
    n.set_destination(destination);

    const DeliveryResult result = channel.Deliver(n);

    EXPECT_FALSE(result.delivered) << destination;
    EXPECT_EQ(result.attempts, 0) << destination;
    EXPECT_EQ(result.failure_reason, "destination is not an http(s) URL") << destination;
  }
}

TEST(WebhookChannelNoReceiverTest, AHeaderValueWithALineBreakIsRefusedWithoutAnAttempt) {
  WebhookChannel channel(WebhookOptions{});
  NotificationRequested n = SampleNotification("1");
  n.set_destination("http://127.0.0.1:1/hook");
  n.mutable_meta()->set_correlation_id("saga\r\nX-Evil: 1");

  const DeliveryResult result = channel.Deliver(n);

  EXPECT_FALSE(result.delivered);
  EXPECT_EQ(result.attempts, 0);
  EXPECT_THAT(result.failure_reason, HasSubstr("X-Correlation-Id"));
}

TEST(WebhookOptionsTest, ValidationNamesTheBadField) {
  EXPECT_TRUE(ValidateWebhookOptions(WebhookOptions{}).ok());
  WebhookOptions options;
  options.max_attempts = 0;
  EXPECT_THAT(ValidateWebhookOptions(options).message(), HasSubstr("max_attempts"));
  options = WebhookOptions{};
  options.timeout = absl::ZeroDuration();
  EXPECT_THAT(ValidateWebhookOptions(options).message(), HasSubstr("timeout"));
  options = WebhookOptions{};
  options.initial_backoff = absl::Seconds(3);
  EXPECT_THAT(ValidateWebhookOptions(options).message(), HasSubstr("initial_backoff"));
}

}  // namespace
}  // namespace choreo::notification
