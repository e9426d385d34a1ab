#include "platform/ids/stable_id.h"

#include <cstdint>

#include "absl/strings/escaping.h"

namespace choreo::ids {
namespace {

// FNV-1a over the bytes, finished with splitmix64's mixer for avalanche.
class Hasher {
 public:
  explicit Hasher(uint64_t seed) : state_(0xcbf29ce484222325ULL ^ seed) {}
  void Add(absl::string_view bytes) {
    for (unsigned char c : bytes) {
      state_ ^= c;
      state_ *= 0x100000001b3ULL;
    }
  }
  void AddLength(size_t length) {
    for (int i = 0; i < 8; ++i) Add(absl::string_view(reinterpret_cast<const char*>(&length) + i, 1));
  }
  uint64_t Finish() const {
    uint64_t z = state_ + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

}  // namespace

std::string StableId(absl::string_view kind, std::initializer_list<absl::string_view> parts) {
  Hasher high(0x5bd1e9955bd1e995ULL), low(0x27d4eb2f165667c5ULL);
  for (Hasher* h : {&high, &low}) {
    h->AddLength(kind.size());
    h->Add(kind);
    for (absl::string_view part : parts) {
      h->AddLength(part.size());
      h->Add(part);
    }
  }
  std::string bytes(16, '\0');
  const uint64_t words[2] = {high.Finish(), low.Finish()};
  for (int w = 0; w < 2; ++w) {
    for (int i = 0; i < 8; ++i) bytes[w * 8 + i] = static_cast<char>(words[w] >> (56 - 8 * i));
  }
  return absl::BytesToHexString(bytes);
}

}  // namespace choreo::ids
