#pragma once

// FileChannel: delivers a notification by appending its JSON (NotificationJson) as one line to
// the one file given at construction (--notification-file), whatever the notification names as
// its destination: a file path from an event is never opened (a forged NotificationRequested
// could otherwise append to any file the service may write). The file is created mode 0600 (it
// holds users' addresses and orders) if missing; its directory must exist.
//
// Promises:
// - One attempt per Deliver(): the whole line ("<json>\n") goes to the kernel in one write() on
//   a descriptor opened with O_APPEND, so on a local Linux file system lines never interleave,
//   even with other processes appending. Deliveries through one channel are also serialized by
//   a mutex.
// - No fsync: a line is reported delivered once the kernel has it. It survives a crash of this
//   process, not of the machine. The file is a development and audit sink, not a durable store.
// - A failure gives delivered=false, attempts=1 and the strerror text of the failed open, write
//   or close (or the byte counts of a short write). A short write (e.g. disk full) is ended
//   with a newline, so a reader may meet one truncated line, which it skips; the next line
//   starts cleanly.
// - Deliver() blocks only for the open, write and close of a local file (plus waiting for the
//   mutex behind other deliveries).

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "services/notification/channels/notification_channel.h"

namespace choreo::notification {

class FileChannel : public NotificationChannel {
 public:
  explicit FileChannel(std::string path);

  DeliveryResult Deliver(const notifications::v1::NotificationRequested& n) override;

 private:
  const std::string path_;
  absl::Mutex mutex_;  // serializes Deliver()
};

}  // namespace choreo::notification
