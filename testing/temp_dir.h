#pragma once

// TempDir: a fresh directory under $TMPDIR (or /tmp), removed with everything in it when the
// object is destroyed. Movable, not copyable.

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace choreo::testing {

class TempDir {
 public:
  // A new directory named "<prefix>XXXXXX".
  static absl::StatusOr<TempDir> Create(absl::string_view prefix = "choreo-");
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  ~TempDir();

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string File(absl::string_view name) const;

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// The last `lines` lines of a file ("" if it cannot be read): a process's log, kept in an error
// message because the directory holding it goes with a failed start.
std::string LastLines(const std::string& path, size_t lines);

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, read back, released).
// Another process may take it before the caller binds it: callers retry on a bind failure.
absl::StatusOr<int> PickFreeTcpPort();

}  // namespace choreo::testing
