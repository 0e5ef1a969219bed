// Fixture for `smemu_layering_check --fixture`: the checker must flag exactly the lines that end
// in the marker comment (kFixtureMarker). Never compiled; it only has to look like model code.
#include <chrono>
#include <cstdint>
#include <random>  // LAYERING-VIOLATION
#include <thread>  // LAYERING-VIOLATION
#include <fstream>  // LAYERING-VIOLATION
#include <iostream>  // LAYERING-VIOLATION
#include <iosfwd>
#include <nlohmann/json.hpp>  // LAYERING-VIOLATION
#include "nlohmann/json_fwd.hpp"  // LAYERING-VIOLATION
#include <boost/asio.hpp>  // LAYERING-VIOLATION
#include <boost/asio/ip/tcp.hpp>  // LAYERING-VIOLATION
#include <boost/beast/http.hpp>  // LAYERING-VIOLATION
#include <asio.hpp>  // LAYERING-VIOLATION
#include <boost/container/flat_map.hpp>
  #  include <thread>  // LAYERING-VIOLATION
// #include <random> in a comment is prose.
/* #include <fstream> */

namespace fixture {

// Prose may say that the service, not the model, calls clock.now() or
// std::chrono::system_clock::now(); only code is checked.
/* steady_clock::now() in a block comment,
   spanning lines: clock_->now() */
inline auto wall() { return std::chrono::system_clock::now(); }  // LAYERING-VIOLATION
inline auto mono() { return std::chrono::steady_clock::now(); }  // LAYERING-VIOLATION
inline auto spaced() { return high_resolution_clock :: now (); }  // LAYERING-VIOLATION
inline auto member(const Clock& clock) { return clock.now(); }  // LAYERING-VIOLATION
inline auto pointer(const Clock* clock) { return clock->now(); }  // LAYERING-VIOLATION
inline auto after_separator(const Clock& c) { return 1'000'000 + c.now(); }  // LAYERING-VIOLATION
inline auto after_quote_char(const Clock& c) { return '"' + c.now(); }  // LAYERING-VIOLATION

// Not clock reads: literals, and the time passed in as an argument named now.
inline const char* text = "clock.now() inside a string";
inline const char* raw = R"x(steady_clock::now() ")x";
inline constexpr char dot = '.';
inline std::int64_t expires(std::int64_t now) { return now + 86'400'000; }
inline std::int64_t later(std::int64_t now) { return expires(now); }

}  // namespace fixture
