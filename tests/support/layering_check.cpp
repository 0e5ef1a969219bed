// smemu_layering_check: keeps the model layer pure (issue 2 item 1). It scans every C++ source
// file under the directories given and fails when one of them
//
//   includes  Boost.Asio or Beast (boost/asio*, boost/beast*, standalone asio*), nlohmann/*,
//             <random>, <thread>, <fstream> or <iostream>;
//   reads     a clock: `now` followed by `(` and preceded by `::`, `.` or `->`, e.g.
//             std::chrono::system_clock::now(), steady_clock::now(), clock.now(), clock_->now().
//
// Both rules look at code only: comments are removed first, so prose may mention anything, and
// the clock rule also ignores string and character literals. A bare `now()` or `now` is not
// flagged: the model takes the time as a parameter, usually named `now`. <chrono> itself and
// its types are fine.
//
// Usage: smemu_layering_check DIR...            lists the violations; exit status 1 if any
//        smemu_layering_check --fixture DIR...  checks the checker: the lines it flags must be
//                                               exactly the lines marked LAYERING-VIOLATION
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kFixtureMarker = "LAYERING-VIOLATION";

// The source with comments blanked (`code`), and additionally with the contents of string and
// character literals blanked (`bare`). Both keep every newline, so line numbers still match.
struct Views {
  std::string code;
  std::string bare;
};

bool identifier_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

Views strip(const std::string& source) {
  enum class State { kCode, kLineComment, kBlockComment, kString, kChar, kRawString };
  Views out{source, source};
  State state = State::kCode;
  bool in_number = false;        // a digit separator ' inside a number is not a character literal
  std::string raw_terminator;    // )delimiter" of the raw string being read
  const auto blank = [&](std::size_t i, bool in_code_view) {
    if (source[i] == '\n') return;
    if (in_code_view) out.code[i] = ' ';
    out.bare[i] = ' ';
  };
  for (std::size_t i = 0; i < source.size(); ++i) {
    const char c = source[i];
    const char next = i + 1 < source.size() ? source[i + 1] : '\0';
    switch (state) {
      case State::kCode:
        if (in_number && !(identifier_char(c) || c == '.' || c == '\'')) in_number = false;
        if (!in_number && std::isdigit(static_cast<unsigned char>(c)) != 0 &&
            (i == 0 || !identifier_char(source[i - 1]))) {
          in_number = true;
        }
        if (c == '/' && next == '/') {
          state = State::kLineComment;
          blank(i, true);
        } else if (c == '/' && next == '*') {
          state = State::kBlockComment;
          blank(i, true);
          blank(++i, true);
        } else if (c == '"' && i > 0 && source[i - 1] == 'R') {
          const auto open = source.find('(', i);
          if (open == std::string::npos) return out;
          raw_terminator = ")" + source.substr(i + 1, open - i - 1) + "\"";
          state = State::kRawString;
          i = open;
        } else if (c == '"') {
          state = State::kString;
        } else if (c == '\'' && !in_number) {
          state = State::kChar;
        }
        break;
      case State::kLineComment:
        if (c == '\n') {
          state = State::kCode;
        } else {
          blank(i, true);
        }
        break;
      case State::kBlockComment:
        if (c == '*' && next == '/') {
          blank(i, true);
          blank(++i, true);
          state = State::kCode;
        } else {
          blank(i, true);
        }
        break;
      case State::kString:
      case State::kChar: {
        const char quote = state == State::kString ? '"' : '\'';
        if (c == '\\' && next != '\n') {
          blank(i, false);
          blank(++i, false);
        } else if (c == quote || c == '\n') {
          state = State::kCode;
        } else {
          blank(i, false);
        }
        break;
      }
      case State::kRawString:
        if (source.compare(i, raw_terminator.size(), raw_terminator) == 0) {
          i += raw_terminator.size() - 1;
          state = State::kCode;
        } else {
          blank(i, false);
        }
        break;
    }
  }
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  return lines;
}

struct Violation {
  std::string file;
  std::size_t line = 0;
  std::string what;
};

// The headers the model may not include, as they appear between <> or "".
bool forbidden_header(const std::string& header) {
  static const std::regex kForbidden(
      R"(^(boost/(asio|beast)([./].*)?|asio([./].*)?|nlohmann/.*|random|thread|fstream|iostream)$)");
  return std::regex_match(header, kForbidden);
}

std::vector<Violation> scan(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  const auto views = strip(text.str());
  const auto code = lines_of(views.code);
  const auto bare = lines_of(views.bare);

  static const std::regex kInclude(R"(^\s*#\s*include\s*[<"]([^>"]+)[>"])");
  static const std::regex kClockRead(R"((::|\.|->)\s*now\s*\()");
  std::vector<Violation> found;
  for (std::size_t i = 0; i < code.size(); ++i) {
    std::smatch match;
    if (std::regex_search(code[i], match, kInclude) && forbidden_header(match[1].str())) {
      found.push_back({file.string(), i + 1, "includes <" + match[1].str() + ">"});
    }
    if (i < bare.size() && std::regex_search(bare[i], kClockRead)) {
      const auto end = code[i].find_last_not_of(" \t");
      found.push_back({file.string(), i + 1, "reads a clock: " + code[i].substr(0, end + 1)});
    }
  }
  return found;
}

bool source_file(const fs::path& path) {
  static const std::set<std::string> kExtensions = {".h",   ".hh", ".hpp", ".hxx", ".c",   ".cc",  ".cpp",
                                                    ".cxx", ".def", ".inc", ".inl", ".ipp", ".tpp"};
  return kExtensions.count(path.extension().string()) != 0;
}

std::vector<fs::path> sources_under(const std::vector<std::string>& roots) {
  std::vector<fs::path> files;
  for (const auto& root : roots) {
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      if (entry.is_regular_file() && source_file(entry.path())) files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Fixture mode: the checker must flag exactly the marked lines, and there must be some.
int check_fixture(const std::vector<fs::path>& files) {
  std::set<std::pair<std::string, std::size_t>> expected;
  std::set<std::pair<std::string, std::size_t>> flagged;
  for (const auto& file : files) {
    std::ifstream in(file);
    std::size_t number = 0;
    for (std::string line; std::getline(in, line);) {
      ++number;
      if (line.find(kFixtureMarker) != std::string::npos) expected.emplace(file.string(), number);
    }
    for (const auto& violation : scan(file)) flagged.emplace(violation.file, violation.line);
  }
  int status = expected.empty() ? 1 : 0;
  if (expected.empty()) std::cerr << "the fixture marks no line " << kFixtureMarker << "\n";
  for (const auto& [file, line] : expected) {
    if (!flagged.count({file, line})) {
      std::cerr << file << ":" << line << ": marked but not flagged\n";
      status = 1;
    }
  }
  for (const auto& [file, line] : flagged) {
    if (!expected.count({file, line})) {
      std::cerr << file << ":" << line << ": flagged but not marked\n";
      status = 1;
    }
  }
  if (status == 0) std::cout << "all " << expected.size() << " marked lines flagged, nothing else\n";
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const bool fixture = !args.empty() && args.front() == "--fixture";
  if (fixture) args.erase(args.begin());
  if (args.empty()) {
    std::cerr << "usage: smemu_layering_check [--fixture] DIR...\n";
    return 2;
  }
  std::vector<fs::path> files;
  try {
    files = sources_under(args);
  } catch (const fs::filesystem_error& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  if (files.empty()) {
    std::cerr << "no source files under the directories given\n";
    return 2;
  }
  if (fixture) return check_fixture(files);

  std::size_t count = 0;
  for (const auto& file : files) {
    for (const auto& violation : scan(file)) {
      std::cerr << violation.file << ":" << violation.line << ": " << violation.what << "\n";
      ++count;
    }
  }
  if (count > 0) {
    std::cerr << count << " layering violation(s): the model must not do I/O, use threads, draw random numbers, "
              << "read JSON or read a clock (it takes the time as an argument)\n";
    return 1;
  }
  std::cout << files.size() << " model files checked, no layering violation\n";
  return 0;
}
