// The pre-scan of scenario text, before toml++ parses it.

#include <string>
#include <string_view>

#include "capexsim/scenario.hpp"
#include "scenario_internal.hpp"

namespace capexsim {

/// Refuses text toml++ 3.3 cannot parse safely: its parser recurses once per dotted-key
/// segment and per nested array or inline table, so a key like `a.a.a...` with tens of
/// thousands of parts overflows the stack. A small lexer follows strings, comments,
/// brackets and whether it is reading a key or a value; it does not validate the TOML.
void detail::prescan(std::string_view text, const std::string& file) {
  if (text.size() > max_scenario_bytes)
    throw ScenarioError(file, 0, 0, "",
                        "the scenario is " + std::to_string(text.size()) +
                            " bytes; expected at most " + std::to_string(max_scenario_bytes));
  int line = 1, column = 1;
  auto fail = [&](const std::string& msg) { throw ScenarioError(file, line, column, "", msg); };
  std::string stack;   // open '[' (array) and '{' (inline table) of values
  bool in_key = true;  // reading a key (or a [table] header) rather than a value
  int segments = 1;    // dotted parts of the key being read
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n; ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      column = 1;
      if (stack.empty()) in_key = true, segments = 1;
      continue;
    }
    ++column;
    if (c == '#') {  // comment to the end of the line
      while (i + 1 < n && text[i + 1] != '\n') ++i;
      continue;
    }
    if (c == '"' || c == '\'') {  // a string: skip it, counting its newlines
      const bool multi = i + 2 < n && text[i + 1] == c && text[i + 2] == c;
      const std::string_view close =
          multi ? std::string_view(&text[i], 3) : std::string_view(&text[i], 1);
      i += close.size();
      while (i < n) {
        if (c == '"' && text[i] == '\\') {
          i += 2;
          continue;
        }
        if (text[i] == '\n') {
          if (!multi) break;  // an unterminated string: toml++ reports it
          ++line;
          column = 1;
        }
        if (text.compare(i, close.size(), close) == 0) break;
        ++i;
      }
      if (i < n) i += close.size() - 1;
      continue;
    }
    if (in_key) {
      if (c == '.' && ++segments > max_key_segments)
        fail("a key with more than " + std::to_string(max_key_segments) +
             " dotted parts; scenario keys have at most 3");
      if (c == '=') in_key = false;
      if (c == '}' && !stack.empty()) stack.pop_back(), in_key = false;  // `{}`
      continue;
    }
    if (c == '[' || c == '{') {
      stack.push_back(c);
      if (static_cast<int>(stack.size()) > max_nesting)
        fail("arrays or inline tables nested more than " + std::to_string(max_nesting) +
             " deep; a scenario needs at most 3");
      if (c == '{') in_key = true, segments = 1;
    } else if ((c == ']' || c == '}') && !stack.empty()) {
      stack.pop_back();
    } else if (c == ',' && !stack.empty() && stack.back() == '{') {
      in_key = true, segments = 1;
    }
  }
}

}  // namespace capexsim
