#include "smemu/emulator/random.h"

#include <string_view>

#include <boost/uuid/uuid.hpp>

namespace smemu {
namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// FNV-1a: a stable hash of a stream name, the same on every platform.
std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t h = 0xCBF29CE484222325ULL;
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001B3ULL;
  }
  return h;
}

}  // namespace

SeededRandom::SeededRandom(std::uint64_t seed) : seed_(seed) {
  std::uint64_t x = seed;
  for (auto& word : state_) word = splitmix64(x);
}

std::uint64_t SeededRandom::next() {
  const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
  const std::uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return result;
}

std::uint64_t SeededRandom::below(std::uint64_t bound) {
  // Rejection sampling: draws in the incomplete last block would favour small results.
  const std::uint64_t limit = -bound % bound;  // (2^64 - bound) % bound
  for (;;) {
    const std::uint64_t r = next();
    if (r >= limit) return r % bound;
  }
}

std::int64_t SeededRandom::pick(std::int64_t min, std::int64_t max_plus_one) {
  const auto span = static_cast<std::uint64_t>(max_plus_one - min);
  return min + static_cast<std::int64_t>(below(span));
}

SeededRandom SeededRandom::split(std::string_view name) const {
  std::uint64_t x = seed_ ^ fnv1a(name);
  return SeededRandom(splitmix64(x));
}

std::string SeededRandom::uuid() {
  boost::uuids::uuid id{};
  for (int half = 0; half < 2; ++half) {
    const std::uint64_t bits = next();
    for (int i = 0; i < 8; ++i) id.data[half * 8 + i] = static_cast<std::uint8_t>(bits >> (8 * i));
  }
  id.data[6] = static_cast<std::uint8_t>((id.data[6] & 0x0F) | 0x40);  // version 4
  id.data[8] = static_cast<std::uint8_t>((id.data[8] & 0x3F) | 0x80);  // RFC 4122 variant
  // 8-4-4-4-12 lowercase hex digits, as boost::uuids::to_string writes them, but filled in place
  // (it appends character by character, and a token is drawn for every rotation step).
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string text(36, '-');
  std::size_t at = 0;
  for (std::size_t byte = 0; byte < id.size(); ++byte) {
    if (byte == 4 || byte == 6 || byte == 8 || byte == 10) ++at;
    text[at++] = kHex[id.data[byte] >> 4];
    text[at++] = kHex[id.data[byte] & 0x0F];
  }
  return text;
}

}  // namespace smemu
