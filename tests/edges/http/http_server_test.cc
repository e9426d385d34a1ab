// The HTTP server's own refusals: requests whose body framing is ambiguous never reach the
// handler (request smuggling through a proxy that frames them otherwise).

#include "edges/http/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

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

// Sends `raw` to 127.0.0.1:`port` and returns everything it answers until it closes (or 5 s).
std::string Exchange(int port, const std::string& raw) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{.tv_sec = 5, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  std::string answer;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::send(fd, raw.data(), raw.size(), 0) == static_cast<ssize_t>(raw.size())) {
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) answer.append(buffer, n);
  }
  ::close(fd);
  return answer;
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
