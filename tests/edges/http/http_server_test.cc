// The HTTP server's own refusals: requests whose body framing is ambiguous never reach the
// handler (request smuggling through a proxy that frames them otherwise); one client cannot hold
// more than its share of connections. The client's address comes from the connection, and the
// server speaks TLS when given a certificate.

#include "edges/http/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/http_client.h"
#include "testing/local_pki.h"
#include "testing/temp_dir.h"
#include "testing/wait.h"

namespace choreo::http {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(FramingProblemTest, AmbiguousFramingIsNamed) {
  EXPECT_EQ(FramingProblem({}), std::nullopt);
  EXPECT_EQ(FramingProblem({{"content-length", "5"}}), std::nullopt);
  EXPECT_EQ(FramingProblem({{"content-length", "5"}, {"content-length", "5"}}), std::nullopt);
  EXPECT_EQ(FramingProblem({{"transfer-encoding", "chunked"}}), std::nullopt);
  EXPECT_EQ(FramingProblem({{"content-length", "5"}, {"content-length", "6"}}),
            "two different Content-Length values");
  EXPECT_EQ(FramingProblem({{"content-length", "5, 6"}}), "two different Content-Length values");
  EXPECT_EQ(FramingProblem({{"content-length", "-1"}}), "Content-Length is not a number");
  EXPECT_EQ(FramingProblem({{"content-length", "5"}, {"transfer-encoding", "chunked"}}),
            "Content-Length together with Transfer-Encoding");
  EXPECT_EQ(FramingProblem({{"transfer-encoding", "gzip, chunked"}}),
            "Transfer-Encoding other than chunked");
}

// A TCP connection to 127.0.0.1:`port` (-1 if refused), reads timing out after 5 s.
int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{.tv_sec = 5, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) return fd;
  ::close(fd);
  return -1;
}

// Sends `raw` to 127.0.0.1:`port` and returns everything it answers until it closes (or 5 s).
std::string Exchange(int port, const std::string& raw) {
  const int fd = Connect(port);
  std::string answer;
  if (fd >= 0 && ::send(fd, raw.data(), raw.size(), 0) == static_cast<ssize_t>(raw.size())) {
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) answer.append(buffer, n);
  }
  if (fd >= 0) ::close(fd);
  return answer;
}

const std::string kGet = "GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";

// A server answering 200 with the request's client address as its body.
absl::StatusOr<std::unique_ptr<HttpServer>> EchoClientAddress(const HttpServerOptions& options) {
  return HttpServer::Start(options, [](std::shared_ptr<HttpExchange> exchange) {
    exchange->Respond({.status = 200, .body = "client=" + exchange->request().client_address});
  });
}

TEST(HttpServerTest, OneClientCannotHoldMoreThanItsShareOfConnections) {
  auto server = EchoClientAddress({.max_connections_per_client = 3});
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  std::vector<int> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(Connect(port));
    ASSERT_GE(idle.back(), 0);
  }
  // The fourth is closed at accept, without an answer, while the three idle ones stay open.
  EXPECT_EQ(Exchange(port, kGet), "");
  // Once one of the three goes, the client gets its connection again.
  ::close(idle.back());
  idle.pop_back();
  EXPECT_TRUE(testing::WaitUntil(
      [&] { return absl::StartsWith(Exchange(port, kGet), "HTTP/1.1 200"); }, absl::Seconds(10)));
  for (int fd : idle) ::close(fd);
}

TEST(HttpServerTest, TheClientAddressIsTheConnectionsNotAHeaders) {
  auto server = EchoClientAddress({});
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_THAT(Exchange((*server)->port(),
                       "GET /x HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 203.0.113.7\r\n"
                       "Connection: close\r\n\r\n"),
              HasSubstr("client=127.0.0.1"));
}

TEST(HttpServerTest, ServesHttpsWithTheCertificateGiven) {
  absl::StatusOr<testing::TempDir> dir = testing::TempDir::Create("http-tls-");
  ASSERT_TRUE(dir.ok()) << dir.status();
  absl::StatusOr<testing::LocalPki> pki = testing::LocalPki::Create(dir->path(), {"gateway"});
  ASSERT_TRUE(pki.ok()) << pki.status();
  auto read = [](const std::string& path) {
    std::ostringstream text;
    text << std::ifstream(path).rdbuf();
    return text.str();
  };
  auto server =
      EchoClientAddress({.tls = HttpTls{.certificate_chain_pem = read(pki->cert("gateway")),
                                        .private_key_pem = read(pki->key("gateway"))}});
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string port = std::to_string((*server)->port());
  const testing::HttpResult https =
      testing::HttpCall("GET", "https://gateway:" + port + "/x", "",
                        {.ca_file = pki->ca(), .resolve = {"gateway:" + port + ":127.0.0.1"}});
  EXPECT_EQ(https.status, 200) << https.error;
  EXPECT_EQ(https.body, "client=127.0.0.1");
  // Plain HTTP to the TLS port gets no answer; a client not trusting the CA refuses the server.
  EXPECT_THAT(Exchange((*server)->port(), kGet), ::testing::Not(HasSubstr("client=")));
  const testing::HttpResult untrusted = testing::HttpCall(
      "GET", "https://gateway:" + port + "/x", "", {.resolve = {"gateway:" + port + ":127.0.0.1"}});
  EXPECT_EQ(untrusted.status, 0);
  EXPECT_THAT(untrusted.error, HasSubstr("certificate"));
}

TEST(HttpServerTest, AmbiguousFramingIsRefusedBeforeTheHandlerAndTheConnectionCloses) {
  std::atomic<int> handled{0};
  auto server = HttpServer::Start({}, [&handled](std::shared_ptr<HttpExchange> exchange) {
    ++handled;
    exchange->Respond({.status = 200, .body = "ok"});
  });
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  for (const std::string& framing :
       {std::string("Content-Length: 4\r\nContent-Length: 40\r\n"),
        std::string("Content-Length: 4\r\nTransfer-Encoding: chunked\r\n")}) {
    const std::string answer =
        Exchange(port, "POST /x HTTP/1.1\r\nHost: a\r\n" + framing + "\r\nbody" +
                           "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_THAT(answer, StartsWith("HTTP/1.1 400")) << framing;
    EXPECT_THAT(answer, HasSubstr("malformed request")) << framing;
    // Nothing after the refusal is read as a request of its own.
    EXPECT_THAT(answer, ::testing::Not(HasSubstr("HTTP/1.1 200"))) << framing;
  }
  EXPECT_EQ(handled.load(), 0);
  // The positive control: a well-framed request reaches the handler.
  EXPECT_THAT(Exchange(port,
                       "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
                       "Connection: close\r\n\r\nbody"),
              StartsWith("HTTP/1.1 200"));
  EXPECT_EQ(handled.load(), 1);
}

}  // namespace
}  // namespace choreo::http
