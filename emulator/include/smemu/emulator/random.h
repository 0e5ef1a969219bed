// SeededRandom: the one source of randomness (ids, ARN suffixes, passwords, rotation hours).
// xoshiro256** seeded through SplitMix64, so a seed gives the same numbers with every standard
// library; no std::*_distribution anywhere (their output differs between implementations).
// split(name) derives an independent stream, so that drawing more from one stream does not
// change what another yields.
// Thread-safety: none; the owner serialises access.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace smemu {

class SeededRandom {
 public:
  explicit SeededRandom(std::uint64_t seed);

  std::uint64_t next();
  // Uniform in [0, bound), without modulo bias. REQUIRES: bound > 0.
  std::uint64_t below(std::uint64_t bound);
  // Uniform in [min, max_plus_one). REQUIRES: min < max_plus_one.
  std::int64_t pick(std::int64_t min, std::int64_t max_plus_one);
  bool one_in(std::uint64_t n) { return below(n) == 0; }

  // An independent stream named `name`, derived from this one's seed (not from its position).
  SeededRandom split(std::string_view name) const;

  // A version-4 UUID in its canonical lowercase text form (36 characters).
  std::string uuid();

  std::uint64_t seed() const { return seed_; }

 private:
  std::uint64_t seed_;
  std::array<std::uint64_t, 4> state_;
};

}  // namespace smemu
