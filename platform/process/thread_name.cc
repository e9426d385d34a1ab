#include "platform/process/thread_name.h"

#include <pthread.h>

#include <string>

namespace choreo::process {

void NameThisThread(absl::string_view name) {
  const std::string truncated(name.substr(0, 15));  // the kernel's limit, without the NUL
  static_cast<void>(pthread_setname_np(pthread_self(), truncated.c_str()));
}

}  // namespace choreo::process
