// The transcoding end to end, over real HTTP (libcurl) and a real gRPC server: the annotated
// test service Bookshelf is served with no transcoding code of its own.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "choreo/testing/v1/bookshelf.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/util/time_util.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/alarm.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/server_interceptor.h"
#include "gtest/gtest.h"
#include "saga/service/grpc_server.h"
#include "testing/http_client.h"
#include "testing/wait.h"
#include "edges/http/status_body.h"
#include "transcoding/core/json_mapping.h"
#include "platform/json/json_text.h"
#include "transcoding/transcoder.h"

namespace choreo::transcoding {
namespace {

namespace v1 = choreo::testing::v1;
using choreo::testing::HttpCall;
using choreo::testing::HttpCallOptions;
using choreo::testing::HttpResult;
using ::testing::HasSubstr;

// The test service: answers from its request, fails as asked, streams, waits.
class Bookshelf final : public v1::Bookshelf::CallbackService {
 public:
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context, const v1::Kitchen* request,
                                 v1::Kitchen* response) override {
    *response = *request;
    return Done(context);
  }
  grpc::ServerUnaryReactor* GetBook(grpc::CallbackServerContext* context,
                                    const v1::GetBookRequest* request, v1::Book* response) override {
    if (absl::StrContains(request->name(), "missing")) {
      return Done(context, grpc::Status(grpc::StatusCode::NOT_FOUND, "no book " + request->name()));
    }
    response->set_name(request->name());
    response->set_title("T-" + request->name());
    response->set_pages(request->with_pages() ? 123 : 0);
    return Done(context);
  }
  grpc::ServerUnaryReactor* UpdateBook(grpc::CallbackServerContext* context,
                                       const v1::UpdateBookRequest* request, v1::Book* response) override {
    *response = request->book();
    return Done(context);
  }
  grpc::ServerUnaryReactor* ListBooks(grpc::CallbackServerContext* context,
                                      const v1::ListBooksRequest* request,
                                      v1::ListBooksResponse* response) override {
    for (int i = 1; i <= 2; ++i) response->add_books()->set_name(absl::StrCat(request->shelf(), "/", i));
    response->set_next_page_token("next");
    return Done(context);
  }
  grpc::ServerUnaryReactor* ListMyBooks(grpc::CallbackServerContext* context,
                                        const v1::ListBooksRequest* request,
                                        v1::ListBooksResponse* response) override {
    response->add_books()->set_name("mine");
    return ListBooks(context, request, response);
  }
  grpc::ServerUnaryReactor* GetFile(grpc::CallbackServerContext* context,
                                    const v1::GetFileRequest* request, v1::File* response) override {
    response->set_path(request->path());
    response->set_content("\x01\x02");
    return Done(context);
  }
  grpc::ServerUnaryReactor* DeleteBook(grpc::CallbackServerContext* context, const v1::GetBookRequest*,
                                       google::protobuf::Empty*) override {
    return Done(context);
  }
  grpc::ServerUnaryReactor* Fail(grpc::CallbackServerContext* context, const v1::FailRequest* request,
                                 google::protobuf::Empty*) override {
    context->AddTrailingMetadata("x-failed", "yes");
    std::string details;
    if (request->with_detail()) {
      google::rpc::Status status;
      status.set_code(request->code());
      status.set_message(request->message());
      google::protobuf::Duration retry;
      retry.set_seconds(1);
      status.add_details()->PackFrom(retry);
      details = status.SerializeAsString();
    }
    return Done(context, grpc::Status(static_cast<grpc::StatusCode>(request->code()), request->message(), details));
  }
  grpc::ServerWriteReactor<v1::Tick>* Count(grpc::CallbackServerContext* context,
                                            const v1::CountRequest* request) override {
    class Counter : public grpc::ServerWriteReactor<v1::Tick> {
     public:
      Counter(const v1::CountRequest& request, std::string correlation)
          : request_(request), correlation_(std::move(correlation)) {
        Next();
      }
      void OnWriteDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status::CANCELLED);
          return;
        }
        Next();
      }
      void OnDone() override { delete this; }

     private:
      void Next() {
        if (request_.has_fail_after() && sent_ == request_.fail_after()) {
          const int code = request_.fail_code() == 0 ? grpc::StatusCode::INTERNAL : request_.fail_code();
          Finish(grpc::Status(static_cast<grpc::StatusCode>(code), "failed after " + std::to_string(sent_)));
          return;
        }
        if (sent_ == request_.to()) {
          Finish(grpc::Status::OK);
          return;
        }
        tick_.set_n(++sent_);
        tick_.set_correlation(correlation_);
        StartWrite(&tick_);
      }
      const v1::CountRequest request_;
      const std::string correlation_;
      v1::Tick tick_;
      int sent_ = 0;
    };
    std::string correlation;
    auto found = context->client_metadata().find("x-request-id");
    if (found != context->client_metadata().end()) correlation.assign(found->second.data(), found->second.size());
    return new Counter(*request, correlation);
  }
  grpc::ServerUnaryReactor* Wait(grpc::CallbackServerContext* context, const v1::WaitRequest* request,
                                 v1::WaitResponse* response) override {
    // Answers after `wait`, or when cancelled (deadline, client, shutdown); holds no thread.
    class Waiter : public grpc::ServerUnaryReactor {
     public:
      Waiter(absl::Duration wait, v1::WaitResponse* response) : response_(response), start_(absl::Now()) {
        if (wait > absl::ZeroDuration()) {
          alarm_.Set(absl::ToChronoTime(start_ + wait), [this](bool fired) {
            if (fired) FinishOnce(grpc::Status::OK);
          });
        }
      }
      void OnCancel() override { FinishOnce(grpc::Status::CANCELLED); }
      void OnDone() override {
        alarm_.Cancel();
        delete this;
      }

     private:
      void FinishOnce(const grpc::Status& status) {
        absl::MutexLock lock(&mu_);
        if (finished_) return;
        finished_ = true;
        *response_->mutable_waited() = google::protobuf::util::TimeUtil::MillisecondsToDuration(
            absl::ToInt64Milliseconds(absl::Now() - start_));
        Finish(status);
      }
      v1::WaitResponse* response_;
      const absl::Time start_;
      grpc::Alarm alarm_;
      absl::Mutex mu_;
      bool finished_ = false;
    };
    waiting_.fetch_add(1);
    static_cast<void>(context);
    return new Waiter(absl::Milliseconds(google::protobuf::util::TimeUtil::DurationToMilliseconds(request->wait())),
                      response);
  }
  grpc::ServerUnaryReactor* Inspect(grpc::CallbackServerContext* context, const google::protobuf::Empty*,
                                    v1::CallEcho* response) override {
    for (const auto& [key, value] : context->client_metadata()) {
      (*response->mutable_metadata())[std::string(key.data(), key.size())] = std::string(value.data(), value.size());
    }
    const auto deadline = context->deadline();
    if (deadline != std::chrono::system_clock::time_point::max()) {
      response->set_has_deadline(true);
      *response->mutable_time_left() = google::protobuf::util::TimeUtil::MillisecondsToDuration(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::system_clock::now()).count());
    }
    return Done(context);
  }
  grpc::ServerUnaryReactor* Hidden(grpc::CallbackServerContext* context, const google::protobuf::Empty*,
                                   google::protobuf::Empty*) override {
    return Done(context);
  }

  std::atomic<int> waiting_{0};

 private:
  static grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* context,
                                        const grpc::Status& status = grpc::Status::OK) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(status);
    return reactor;
  }
};

// Counts calls and marks their answers, to show transcoded calls pass the server's interceptors.
std::atomic<int> intercepted_calls{0};
class MarkingInterceptor : public grpc::experimental::Interceptor {
 public:
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      intercepted_calls.fetch_add(1);
    }
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->emplace("x-intercepted", "yes");
    }
    methods->Proceed();
  }
};
class MarkingInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo*) override {
    return new MarkingInterceptor();
  }
};

class TranscodingServerTest : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }

  void Start(HttpServerOptions http_options) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &grpc_port_);
    builder.RegisterService(&service_);
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
    interceptors.push_back(std::make_unique<MarkingInterceptorFactory>());
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
    service::RecordServiceNames(builder, &service_names_);
    grpc_ = builder.BuildAndStart();
    ASSERT_NE(grpc_, nullptr);
    http_options.listen = "127.0.0.1:0";
    if (http_options.max_body_bytes == (size_t{1} << 20)) http_options.max_body_bytes = 64 * 1024;
    absl::StatusOr<std::unique_ptr<TranscodingServer>> http = TranscodingServer::Start(
        *grpc_, service_names_, http_options, {.openapi = {.title = "Bookshelf"}});
    ASSERT_TRUE(http.ok()) << http.status();
    http_ = *std::move(http);
    base_ = absl::StrCat("http://127.0.0.1:", http_->port());
  }

  void Restart(HttpServerOptions http_options) {
    http_->Shutdown(absl::ZeroDuration());
    http_.reset();
    grpc_->Shutdown();
    grpc_.reset();
    Start(std::move(http_options));
  }

  void TearDown() override {
    if (http_ != nullptr) http_->Shutdown(absl::Seconds(1));
    if (grpc_ != nullptr) grpc_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  }

  HttpResult Call(const std::string& method, const std::string& target, const std::string& body = "",
                  const HttpCallOptions& options = {}) {
    return HttpCall(method, base_ + target, body, options);
  }

  Bookshelf service_;
  std::vector<std::string> service_names_;
  int grpc_port_ = 0;
  std::unique_ptr<grpc::Server> grpc_;
  std::unique_ptr<TranscodingServer> http_;
  std::string base_;
};

TEST_F(TranscodingServerTest, ServesAnyAnnotatedServiceWithItsRecordedNames) {
  EXPECT_THAT(service_names_, ::testing::Contains("choreo.testing.v1.Bookshelf"));
  EXPECT_EQ(http_->routes().routes().size(), 15u);
  const int before = intercepted_calls.load();
  const HttpResult echo = Call("POST", "/v1/kitchen",
                               R"({"fInt64": "-9007199254740993", "f_string": "x", "rEnum": ["SHADE_DARK"],
                                   "tTimestamp": "2026-11-22T10:00:00Z", "mStringInt64": {"k": "1"}})");
  ASSERT_EQ(echo.status, 200) << echo.body << echo.error;
  EXPECT_EQ(echo.Header("content-type"), "application/json");
  EXPECT_THAT(echo.body, HasSubstr(R"("fInt64":"-9007199254740993")"));
  EXPECT_THAT(echo.body, HasSubstr(R"("fString":"x")"));
  EXPECT_THAT(echo.body, HasSubstr(R"("rEnum":["SHADE_DARK"])"));
  EXPECT_THAT(echo.body, HasSubstr(R"("tTimestamp":"2026-11-22T10:00:00Z")"));
  EXPECT_THAT(echo.body, HasSubstr(R"("fBool":false)"));  // defaults are printed
  // Through the gRPC server itself: its interceptor saw the call and marked the answer.
  EXPECT_EQ(intercepted_calls.load(), before + 1);
  EXPECT_EQ(echo.Header("grpc-metadata-x-intercepted"), "yes");
  EXPECT_EQ(echo.Header("x-request-id").size(), 32u);
}

TEST_F(TranscodingServerTest, BindsPathQueryAndBodyAsAnnotated) {
  const HttpResult book = Call("GET", "/v1/shelves/s1/books/b1?withPages=true");
  ASSERT_EQ(book.status, 200) << book.body;
  EXPECT_EQ(book.body, R"({"name":"shelves/s1/books/b1","title":"T-shelves/s1/books/b1","pages":"123","cover":"SHADE_UNSPECIFIED"})");
  const HttpResult updated = Call("PATCH", "/v1/shelves/s1/books/b1", R"({"name":"ignored","title":"New","cover":"SHADE_LIGHT"})");
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(updated.body, R"({"name":"shelves/s1/books/b1","title":"New","pages":"0","cover":"SHADE_LIGHT"})");
  const HttpResult listed = Call("GET", "/v1/shelves/s2/books?pageSize=2&covers=SHADE_DARK&covers=1&filter.name=x");
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(listed.body, R"([{"name":"s2/1","title":"","pages":"0","cover":"SHADE_UNSPECIFIED"},{"name":"s2/2","title":"","pages":"0","cover":"SHADE_UNSPECIFIED"}])");
  const HttpResult mine = Call("GET", "/v1/shelves/mine/books");
  ASSERT_EQ(mine.status, 200);
  EXPECT_THAT(mine.body, HasSubstr(R"("nextPageToken":"next")"));
  const HttpResult file = Call("GET", "/v1/files/a/b%2Fc/d%20e.txt:download");
  ASSERT_EQ(file.status, 200);
  EXPECT_EQ(file.body, R"({"path":"a/b%2Fc/d e.txt","content":"AQI="})");
  const HttpResult deleted = Call("DELETE", "/v1/shelves/s1/books/b1");
  EXPECT_EQ(deleted.status, 200);
  EXPECT_EQ(deleted.body, "{}");
  const HttpResult head = Call("HEAD", "/v1/shelves/s1/books/b1");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
  const HttpResult nested = Call("GET", "/v1/kitchen/n/7:nested?fInt32=3");
  ASSERT_EQ(nested.status, 200);
  EXPECT_THAT(nested.body, HasSubstr(R"("fMessage":{"name":"n","count":"0","next":{"name":"","count":"7"})"));
  const HttpResult repeated = Call("POST", "/v1/kitchen:repeat", R"(["a","b"])");
  ASSERT_EQ(repeated.status, 200);
  EXPECT_THAT(repeated.body, HasSubstr(R"("rString":["a","b"])"));
}

TEST_F(TranscodingServerTest, MapsEveryGrpcStatusToItsHttpStatusWithAJsonBody) {
  for (int code = 1; code <= 16; ++code) {
    const HttpResult failed = Call("POST", "/v1/fail", absl::StrCat(R"({"code":)", code, R"(,"message":"m)", code, R"("})"));
    EXPECT_EQ(failed.status, http::HttpStatusForGrpcCode(code)) << code;
    EXPECT_EQ(failed.body, absl::StrCat(R"({"code":)", code, R"(,"message":"m)", code, R"(","details":[]})")) << code;
    EXPECT_EQ(failed.Header("content-type"), "application/json");
    EXPECT_EQ(failed.Header("grpc-trailer-x-failed"), "yes");
  }
  const HttpResult detailed = Call("POST", "/v1/fail", R"({"code":14,"message":"later","withDetail":true})");
  EXPECT_EQ(detailed.status, 503);
  EXPECT_EQ(detailed.body, R"({"code":14,"message":"later","details":[{"@type":"type.googleapis.com/google.protobuf.Duration","value":"1s"}]})");
  const HttpResult missing = Call("GET", "/v1/shelves/s/books/missing");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, R"({"code":5,"message":"no book shelves/s/books/missing","details":[]})");
}

TEST_F(TranscodingServerTest, RefusesBadRequestsWithClearErrors) {
  const HttpResult unknown = Call("GET", "/v1/nowhere");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.body, R"({"code":5,"message":"no route for GET /v1/nowhere","details":[]})");
  const HttpResult hidden = Call("POST", "/choreo.testing.v1.Bookshelf/Hidden");
  EXPECT_EQ(hidden.status, 404);
  const HttpResult method = Call("PUT", "/v1/shelves/s/books/b");
  EXPECT_EQ(method.status, 405);
  EXPECT_EQ(method.Header("allow"), "DELETE, GET, PATCH");
  EXPECT_THAT(method.body, HasSubstr("PUT is not allowed"));
  const HttpResult malformed = Call("POST", "/v1/kitchen", "{\n  \"fInt32\": 1,\n}");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_THAT(malformed.body, HasSubstr("malformed JSON at line 3, column 1 (byte 17)"));
  const HttpResult field = Call("POST", "/v1/kitchen", R"({"fInt32": 1, "colour": "red"})");
  EXPECT_EQ(field.status, 400);
  EXPECT_THAT(field.body, HasSubstr(R"(unknown field \"colour\")"));
  const HttpResult query = Call("GET", "/v1/shelves/s/books/b?pages=3");
  EXPECT_EQ(query.status, 400);
  EXPECT_THAT(query.body, HasSubstr(R"(query parameter \"pages\")"));
  // Any Content-Type is read as JSON (curl -d sends a form type).
  const HttpResult form = Call("POST", "/v1/kitchen", "a=b", {.headers = {"Content-Type: application/x-www-form-urlencoded"}});
  EXPECT_EQ(form.status, 400);
  EXPECT_THAT(form.body, HasSubstr("malformed JSON at line 1, column 1 (byte 0)"));
  EXPECT_EQ(Call("POST", "/v1/kitchen", R"({"fInt32":1})", {.headers = {"Content-Type: application/x-www-form-urlencoded"}}).status, 200);
  const HttpResult large = Call("POST", "/v1/kitchen", absl::StrCat(R"({"fString":")", std::string(70 * 1024, 'x'), R"("})"));
  EXPECT_EQ(large.status, 413);
  EXPECT_THAT(large.body, HasSubstr("larger than 65536 bytes"));
  const HttpResult timeout = Call("GET", "/v1/inspect", "", {.headers = {"Grpc-Timeout: soon"}});
  EXPECT_EQ(timeout.status, 400);
  EXPECT_THAT(timeout.body, HasSubstr("Grpc-Timeout"));
  const HttpResult header = Call("GET", "/v1/inspect", "", {.headers = {"Grpc-Metadata-Bad-bin: %%%"}});
  EXPECT_EQ(header.status, 400);
  // Still serving after all of that.
  EXPECT_EQ(Call("GET", "/v1/shelves/s/books/b").status, 200);
}

TEST_F(TranscodingServerTest, ForwardsHeadersAsMetadataAndHonoursGrpcTimeout) {
  const HttpResult inspected = Call("GET", "/v1/inspect", "",
                                    {.headers = {"Authorization: Bearer abc", "Grpc-Metadata-Tenant: acme",
                                                 "X-Request-Id: req-42",
                                                 "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                                                 "Cookie: not-forwarded", "Grpc-Timeout: 5S"}});
  ASSERT_EQ(inspected.status, 200) << inspected.body;
  EXPECT_THAT(inspected.body, HasSubstr(R"("authorization":"Bearer abc")"));
  EXPECT_THAT(inspected.body, HasSubstr(R"("tenant":"acme")"));
  EXPECT_THAT(inspected.body, HasSubstr(R"("x-request-id":"req-42")"));
  EXPECT_THAT(inspected.body, HasSubstr(R"("traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")"));
  EXPECT_THAT(inspected.body, ::testing::Not(HasSubstr("cookie")));
  EXPECT_THAT(inspected.body, HasSubstr(R"("hasDeadline":true)"));
  EXPECT_EQ(inspected.Header("x-request-id"), "req-42");
  // Without Grpc-Timeout a unary call still gets the default deadline (60 s).
  const HttpResult plain = Call("GET", "/v1/inspect");
  EXPECT_THAT(plain.body, HasSubstr(R"("hasDeadline":true)"));

  const absl::Time start = absl::Now();
  const HttpResult late = Call("GET", "/v1/wait", "", {.headers = {"Grpc-Timeout: 200m"}});
  EXPECT_EQ(late.status, 504);
  EXPECT_THAT(late.body, HasSubstr(R"("code":4)"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  const HttpResult waited = Call("GET", "/v1/wait?wait=0.05s");
  EXPECT_EQ(waited.status, 200);
}

std::vector<std::string> Lines(const std::string& body) {
  return absl::StrSplit(body, '\n', absl::SkipEmpty());
}

TEST_F(TranscodingServerTest, StreamsNewlineDelimitedJsonAndServerSentEvents) {
  const HttpResult ndjson = Call("GET", "/v1/count/3", "", {.headers = {"X-Request-Id: c-1"}});
  ASSERT_EQ(ndjson.status, 200) << ndjson.body;
  EXPECT_EQ(ndjson.Header("content-type"), "application/x-ndjson");
  EXPECT_EQ(ndjson.Header("transfer-encoding"), "chunked");
  EXPECT_THAT(Lines(ndjson.body), ::testing::ElementsAre(R"({"result":{"n":1,"correlation":"c-1"}})",
                                                         R"({"result":{"n":2,"correlation":"c-1"}})",
                                                         R"({"result":{"n":3,"correlation":"c-1"}})"));
  const HttpResult sse = Call("GET", "/v1/count/2", "", {.headers = {"Accept: text/event-stream", "X-Request-Id: c-2"}});
  ASSERT_EQ(sse.status, 200);
  EXPECT_EQ(sse.Header("content-type"), "text/event-stream");
  EXPECT_EQ(sse.body, "data: {\"n\":1,\"correlation\":\"c-2\"}\n\ndata: {\"n\":2,\"correlation\":\"c-2\"}\n\n");
  // An error midway is the stream's last line / event.
  const HttpResult broken = Call("GET", "/v1/count/5?failAfter=2&failCode=14");
  ASSERT_EQ(broken.status, 200);
  const std::vector<std::string> lines = Lines(broken.body);
  ASSERT_EQ(lines.size(), 3u) << broken.body;
  EXPECT_EQ(lines[2], R"({"error":{"code":14,"message":"failed after 2","details":[]}})");
  const HttpResult broken_sse = Call("GET", "/v1/count/5?failAfter=1", "", {.headers = {"Accept: text/event-stream"}});
  EXPECT_THAT(broken_sse.body, ::testing::EndsWith(
                                   "event: error\ndata: {\"code\":13,\"message\":\"failed after 1\",\"details\":[]}\n\n"));
  // An error before the first message gets its own HTTP status.
  const HttpResult early = Call("GET", "/v1/count/5?failAfter=0&failCode=5");
  EXPECT_EQ(early.status, 404);
  EXPECT_EQ(early.body, R"({"code":5,"message":"failed after 0","details":[]})");
  const HttpResult empty = Call("GET", "/v1/count/0");
  EXPECT_EQ(empty.status, 200);
  EXPECT_EQ(empty.body, "");
}

TEST_F(TranscodingServerTest, ServesItsOpenApiDocument) {
  const HttpResult document = Call("GET", "/openapi.json");
  ASSERT_EQ(document.status, 200);
  EXPECT_TRUE(json::CheckJsonSyntax(document.body).ok());
  EXPECT_THAT(document.body, HasSubstr(R"("title":"Bookshelf")"));
  EXPECT_THAT(document.body, HasSubstr(R"("/v1/count/{to}":{"get":{"operationId":"Bookshelf_Count")"));
}

TEST_F(TranscodingServerTest, KeepsConnectionsAlive) {
  choreo::testing::HttpClient client;
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(client.Call("GET", base_ + "/v1/shelves/s/books/b").status, 200);
  }
  EXPECT_EQ(client.connections_opened(), 1);
}

int ConnectTo(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return -1;
  }
  timeval timeout{.tv_sec = 10, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return fd;
}

// True when the server closed `fd` (read gives end of stream) within the socket's timeout.
bool ClosedByServer(int fd) {
  char buffer[256];
  return recv(fd, buffer, sizeof buffer, 0) == 0;
}

TEST_F(TranscodingServerTest, BoundsConnectionsAndDropsSlowClients) {
  Restart({.max_connections = 2, .idle_timeout = absl::Seconds(1)});
  const int port = http_->port();
  const int first = ConnectTo(port);
  const int second = ConnectTo(port);
  ASSERT_GE(first, 0);
  ASSERT_GE(second, 0);
  // Half a request, then nothing: the server gives up on the slow client.
  const std::string partial = "GET /v1/shelves/s/books/b HTTP/1.1\r\nHost: x\r\n";
  ASSERT_EQ(send(first, partial.data(), partial.size(), 0), static_cast<ssize_t>(partial.size()));
  // A third connection is over the limit: accepted by the kernel, closed by the server.
  const int third = ConnectTo(port);
  ASSERT_GE(third, 0);
  EXPECT_TRUE(ClosedByServer(third));
  EXPECT_TRUE(ClosedByServer(first));   // the idle timeout
  EXPECT_TRUE(ClosedByServer(second));  // idle too
  close(first);
  close(second);
  close(third);
  // Room again.
  EXPECT_EQ(Call("GET", "/v1/shelves/s/books/b").status, 200);
}

int ThreadCount() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "Threads:")) return std::stoi(line.substr(8));
  }
  return -1;
}

TEST_F(TranscodingServerTest, WaitingCallsHoldNoThread) {
  constexpr int kWaiting = 200;
  Restart({.max_connections_per_client = 2 * kWaiting});  // every client is 127.0.0.1
  const int threads_before = ThreadCount();
  std::vector<std::thread> clients;
  std::atomic<int> answered{0};
  const int waiting_before = service_.waiting_.load();
  // Each client thread holds 20 waiting requests (libcurl multi would do the same with one).
  for (int c = 0; c < 10; ++c) {
    clients.emplace_back([&] {
      std::vector<std::thread> calls;
      for (int i = 0; i < kWaiting / 10; ++i) {
        calls.emplace_back([&] {
          if (Call("GET", "/v1/wait?wait=1.5s").status == 200) answered.fetch_add(1);
        });
      }
      for (std::thread& call : calls) call.join();
    });
  }
  ASSERT_TRUE(choreo::testing::WaitUntil([&] { return service_.waiting_.load() - waiting_before == kWaiting; },
                                       absl::Seconds(10)));
  // The server side of 200 waiting calls: the client's 210 threads are ours; the server's own
  // thread count must not have grown with them.
  const int threads_during = ThreadCount() - (kWaiting + 10);
  const HttpResult other = Call("GET", "/v1/shelves/s/books/b");
  EXPECT_EQ(other.status, 200);
  for (std::thread& client : clients) client.join();
  EXPECT_EQ(answered.load(), kWaiting);
  EXPECT_LT(threads_during - threads_before, 16) << "before " << threads_before << ", during " << threads_during;
}

TEST_F(TranscodingServerTest, ShutdownLetsCallsInFlightFinishAndAbortsTheRest) {
  HttpResult finished, aborted;
  std::thread finishing([&] { finished = Call("GET", "/v1/wait?wait=0.3s"); });
  std::thread endless([&] { aborted = Call("GET", "/v1/wait", "", {.headers = {"Grpc-Timeout: 30S"}}); });
  const int waiting_before = service_.waiting_.load();
  ASSERT_TRUE(choreo::testing::WaitUntil([&] { return service_.waiting_.load() >= 2; }, absl::Seconds(10)))
      << waiting_before;
  const absl::Time start = absl::Now();
  http_->Shutdown(absl::Seconds(1));
  finishing.join();
  endless.join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(6));
  EXPECT_EQ(finished.status, 200) << finished.body << finished.error;
  EXPECT_EQ(aborted.status, 499) << aborted.body << aborted.error;
  EXPECT_THAT(aborted.body, HasSubstr(R"("code":1)"));
  EXPECT_EQ(Call("GET", "/v1/shelves/s/books/b").status, 0);  // no longer listening
}

}  // namespace
}  // namespace choreo::transcoding
