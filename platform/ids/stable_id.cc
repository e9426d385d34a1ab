#include "platform/ids/stable_id.h"

#include <sodium.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/escaping.h"

namespace choreo::ids {
namespace {

constexpr size_t kIdBytes = 16;

void EnsureSodium() {
  static const bool ready = sodium_init() >= 0;
  if (!ready) {
    std::fputs("choreo ids: sodium_init() failed\n", stderr);
    std::abort();
  }
}

// Adds `bytes` after its length (8 bytes, little-endian), so that parts cannot run together.
void AddPart(crypto_generichash_state& state, absl::string_view bytes) {
  unsigned char length[8];
  for (int i = 0; i < 8; ++i)
    length[i] = static_cast<unsigned char>(uint64_t{bytes.size()} >> (8 * i));
  crypto_generichash_update(&state, length, sizeof length);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(bytes.data()),
                            bytes.size());
}

}  // namespace

std::string StableId(absl::string_view kind, std::initializer_list<absl::string_view> parts) {
  EnsureSodium();
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, kIdBytes);
  AddPart(state, kind);
  for (absl::string_view part : parts) AddPart(state, part);
  unsigned char id[kIdBytes];
  crypto_generichash_final(&state, id, sizeof id);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(id), sizeof id));
}

}  // namespace choreo::ids
