#include "platform/process/files.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace choreo::process {

absl::Status WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << text;
    if (!out.flush()) return absl::UnavailableError(absl::StrCat("cannot write ", temporary));
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    return absl::UnavailableError(absl::StrCat("cannot rename to ", path, ": ", error.message()));
  }
  return absl::OkStatus();
}

}  // namespace choreo::process
