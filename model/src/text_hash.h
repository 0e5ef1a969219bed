// text_hash: a 32-bit hash of a short string for the model's in-memory lookups (a secret's name
// in the Store, a VersionId among a secret's versions). Never stored or shown: any good mix will
// do, and this one reads eight bytes at a time (std::hash of a 36-character VersionId took about
// twice as long, and a rotation looks ids up some twenty times).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace smemu::model {

inline std::uint32_t text_hash(std::string_view text) {
  constexpr std::uint64_t kOdd = 0x9E3779B97F4A7C15ULL;  // 2^64 / golden ratio
  std::uint64_t h = (text.size() + 1) * kOdd;
  std::size_t at = 0;
  for (; at + 8 <= text.size(); at += 8) {
    std::uint64_t word;
    std::memcpy(&word, text.data() + at, 8);
    h = (std::rotl(h, 27) ^ word) * kOdd;
  }
  std::uint64_t tail = 0;
  std::memcpy(&tail, text.data() + at, text.size() - at);
  h = (std::rotl(h, 27) ^ tail) * kOdd;
  // MurmurHash3's 64-bit finaliser: every input bit reaches the low bits the tables mask by.
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDULL;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ULL;
  h ^= h >> 33;
  return static_cast<std::uint32_t>(h);
}

}  // namespace smemu::model
