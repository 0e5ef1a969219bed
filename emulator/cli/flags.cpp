#include <algorithm>
#include <charconv>

#include "commands.h"

namespace smemu::cli {

std::optional<std::string> parse_flags(Args args, Flags& flags) {
  RepeatedFlags none;
  return parse_flags(args, flags, none);
}

std::optional<std::string> parse_flags(Args args, Flags& flags, RepeatedFlags& repeated) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (!arg.starts_with("--")) return "unexpected argument '" + std::string(arg) + "'";
    arg.remove_prefix(2);
    std::optional<std::string_view> value;
    if (const auto equals = arg.find('='); equals != std::string_view::npos) {
      value = arg.substr(equals + 1);
      arg = arg.substr(0, equals);
    }
    const auto flag = flags.find(arg);
    const auto repeatable = repeated.find(arg);
    if (flag == flags.end() && repeatable == repeated.end()) return "unknown flag --" + std::string(arg);
    if (!value) {
      if (i + 1 == args.size()) return "flag --" + std::string(arg) + " needs a value";
      value = args[++i];
    }
    // Every flag's default stands for "not given", so an empty value would silently be none.
    if (value->empty()) return "flag --" + std::string(arg) + " needs a value";
    if (flag != flags.end()) {
      flag->second = std::string(*value);
    } else {
      repeatable->second.emplace_back(*value);
    }
  }
  return std::nullopt;
}

std::optional<std::uint64_t> parse_unsigned(std::string_view text, std::uint64_t max) {
  std::uint64_t number = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, number);
  if (text.empty() || error != std::errc{} || stop != end || number > max) return std::nullopt;
  return number;
}

bool wants_help(Args args) {
  return std::any_of(args.begin(), args.end(), [](std::string_view arg) { return arg == "--help" || arg == "-h"; });
}

}  // namespace smemu::cli
