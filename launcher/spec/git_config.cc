#include "launcher/spec/git_config.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace cell {
namespace {

// A value as git reads it: comments after an unquoted '#' or ';' dropped,
// double quotes removed, the usual backslash escapes applied.
std::string Unquote(absl::string_view raw) {
  std::string out;
  bool quoted = false;
  for (size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '"') {
      quoted = !quoted;
    } else if (c == '\\' && i + 1 < raw.size()) {
      const char next = raw[++i];
      out.push_back(next == 'n' ? '\n' : next == 't' ? '\t' : next);
    } else if (!quoted && (c == '#' || c == ';')) {
      break;
    } else {
      out.push_back(c);
    }
  }
  return std::string(absl::StripAsciiWhitespace(out));
}

// "[section]" or "[section \"sub\"]" (or the old "[section.sub]"): the
// section lower-cased, and the subsection as written.
bool ParseSection(absl::string_view line, std::string* section,
                  std::string* subsection) {
  if (!absl::ConsumePrefix(&line, "[")) return false;
  const size_t close = line.rfind(']');
  if (close == absl::string_view::npos) return false;
  line = line.substr(0, close);
  const size_t quote = line.find('"');
  if (quote != absl::string_view::npos) {
    *section = absl::AsciiStrToLower(
        absl::StripAsciiWhitespace(line.substr(0, quote)));
    *subsection = Unquote(line.substr(quote));
    return true;
  }
  const size_t dot = line.find('.');
  *section =
      absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, dot)));
  *subsection =
      dot == absl::string_view::npos ? "" : std::string(line.substr(dot + 1));
  return true;
}

// `path` with "." and ".." resolved lexically ("" when ".." climbs above
// the root).
std::string Normalize(absl::string_view path) {
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == "..") {
      if (parts.empty()) return "";
      parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  return absl::StrCat("/", absl::StrJoin(parts, "/"));
}

}  // namespace

std::vector<GitPathSetting> GitPathSettings(absl::string_view text) {
  std::vector<GitPathSetting> settings;
  std::string section, subsection;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      const size_t close = line.find(']');
      if (!ParseSection(
              line.substr(0, close == absl::string_view::npos ? line.size()
                                                              : close + 1),
              &section, &subsection)) {
        section.clear();
        continue;
      }
      // "[core] hooksPath = x" on one line.
      line = close == absl::string_view::npos
                 ? absl::string_view()
                 : absl::StripAsciiWhitespace(line.substr(close + 1));
      if (line.empty()) continue;
    }
    const size_t equals = line.find('=');
    if (equals == absl::string_view::npos) continue;  // A boolean key.
    const std::string key = absl::AsciiStrToLower(
        absl::StripAsciiWhitespace(line.substr(0, equals)));
    const std::string value = Unquote(line.substr(equals + 1));
    std::string full;
    if (section == "core" && key == "hookspath") full = "core.hookspath";
    if (section == "include" && key == "path") full = "include.path";
    if (section == "includeif" && key == "path") {
      full = absl::StrCat("includeif.", subsection, ".path");
    }
    if (section == "submodule" && key == "path") {
      full = absl::StrCat("submodule.", subsection, ".path");
    }
    if (!full.empty() && !value.empty()) settings.push_back({full, value});
  }
  return settings;
}

std::string ResolveGitPath(absl::string_view path, absl::string_view base,
                           absl::string_view home) {
  std::string full(path);
  if (absl::StartsWith(path, "~/")) {
    if (home.empty()) return "";
    full = absl::StrCat(home, path.substr(1));
  } else if (!absl::StartsWith(path, "/")) {
    full = absl::StrCat(base, "/", path);
  }
  return Normalize(full);
}

std::string WorktreeRelative(absl::string_view path,
                             absl::string_view worktree) {
  const std::string root = Normalize(worktree);
  if (path.empty() || root.empty() || path == root ||
      !absl::StartsWith(path, root == "/" ? "/" : absl::StrCat(root, "/"))) {
    return "";
  }
  return std::string(path.substr(root == "/" ? 1 : root.size() + 1));
}

std::string GitSettingPath(const GitPathSetting& setting,
                           absl::string_view worktree,
                           absl::string_view config_dir,
                           absl::string_view home) {
  return ResolveGitPath(setting.value,
                        setting.key == "core.hookspath" ? worktree : config_dir,
                        home);
}

std::string GitPathProtectEntry(const GitPathSetting& setting,
                                absl::string_view worktree,
                                absl::string_view config_dir,
                                absl::string_view home) {
  std::string entry = WorktreeRelative(
      GitSettingPath(setting, worktree, config_dir, home), worktree);
  if (!entry.empty() && setting.key == "core.hookspath") entry.push_back('/');
  return entry;
}

}  // namespace cell
