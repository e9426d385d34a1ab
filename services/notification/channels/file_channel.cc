#include "services/notification/channels/file_channel.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace choreo::notification {
namespace {

std::string ErrnoText(absl::string_view what, const std::string& path, int error) {
  return absl::StrCat(what, " ", path, ": ", std::strerror(error));
}

}  // namespace

FileChannel::FileChannel(std::string path) : path_(std::move(path)) {}

DeliveryResult FileChannel::Deliver(const notifications::v1::NotificationRequested& n) {
  DeliveryResult result;
  std::string line = NotificationJson(n);
  if (line.empty()) {
    result.failure_reason = "notification cannot be encoded as JSON";
    return result;
  }
  line.push_back('\n');
  const std::string& path = path_;

  absl::MutexLock lock(&mutex_);
  result.attempts = 1;
  int fd;
  do {
    fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    result.failure_reason = ErrnoText("open", path, errno);
    return result;
  }
  ssize_t written;
  do {
    written = write(fd, line.data(), line.size());
  } while (written < 0 && errno == EINTR);
  if (written < 0) {
    result.failure_reason = ErrnoText("write", path, errno);
  } else if (static_cast<size_t>(written) < line.size()) {
    // Ends the truncated line so the next one starts cleanly; best effort.
    static_cast<void>(write(fd, "\n", 1));
    result.failure_reason =
        absl::StrCat("short write ", path, ": ", written, " of ", line.size(), " bytes");
  }
  // close() can report a delayed write error (e.g. on NFS); with the data already accepted by
  // write() on a local file it does not, but a failure is still a failure.
  if (close(fd) != 0 && result.failure_reason.empty()) {
    result.failure_reason = ErrnoText("close", path, errno);
  }
  result.delivered = result.failure_reason.empty();
  return result;
}

}  // namespace choreo::notification
