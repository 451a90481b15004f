// argv as one line for `sh -c` or a terminal to type: each word single
// quoted. For tests that drive a shell (a pty, tmux).
#ifndef CELL_TESTING_SHELL_LINE_H_
#define CELL_TESTING_SHELL_LINE_H_

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace cell::testing {

inline std::string ShellQuote(const std::string& word) {
  return absl::StrCat("'", absl::StrReplaceAll(word, {{"'", "'\\''"}}), "'");
}

inline std::string ShellLine(const std::vector<std::string>& argv) {
  std::vector<std::string> quoted;
  for (const std::string& word : argv) quoted.push_back(ShellQuote(word));
  return absl::StrJoin(quoted, " ");
}

}  // namespace cell::testing

#endif  // CELL_TESTING_SHELL_LINE_H_
