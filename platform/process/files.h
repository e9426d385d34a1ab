#pragma once

// Files a process hands to others (its bound port, its broker's address): written whole or not
// at all, so a reader polling for the file never sees half of it.

#include <string>

#include "absl/status/status.h"

namespace choreo::process {

// Writes `text` to `path` through `path`.tmp and a rename.
absl::Status WriteFileAtomically(const std::string& path, const std::string& text);

}  // namespace choreo::process
