#include "launcher/spec/protect.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/fs_util.h"
#include "base/host_path.h"
#include "base/status_macros.h"
#include "base/test_faults.h"
#include "launcher/spec/git_config.h"

namespace cell {
namespace {

MountOp Pin(std::string dst) {
  MountOp op;
  op.kind = MountOpKind::kPin;
  op.dst = std::move(dst);
  return op;
}

// Pins for each directory between `root` (a mount point already) and the
// protected path `path` beneath it, outermost first, added to `pins` once.
void AddPins(const std::string& root, const std::string& path,
             std::vector<MountOp>* pins) {
  size_t slash = root.size();
  while ((slash = path.find('/', slash + 1)) != std::string::npos) {
    MountOp pin = Pin(path.substr(0, slash));
    if (std::find(pins->begin(), pins->end(), pin) == pins->end()) {
      pins->push_back(std::move(pin));
    }
  }
}

MountOp ReadOnlyBind(std::string src, std::string dst) {
  MountOp op;
  op.kind = MountOpKind::kRoBind;
  op.src = std::move(src);
  op.dst = std::move(dst);
  return op;
}

// A protected file with a second name, which a cell may have made to change
// it where it is not protected.
absl::Status HardLinked(const std::string& field, const std::string& path,
                        nlink_t links) {
  return absl::FailedPreconditionError(absl::StrCat(
      "field `", field, "`: '", path, "' has ", links,
      " hard links; a cell may have made one to change it where it is "
      "not protected; remove the other links"));
}

// What a placeholder file holds: nothing, but for git's `commondir`,
// which git reads as a path and dies on when empty (attacker round 6: git
// inside the cell failed); "." names the git directory itself, which is
// what its absence means.
std::string PlaceholderContent(const std::string& name) {
  return name == "commondir" ? "." : "";
}

// A placeholder `name` in `dir`: an empty directory or a read-only file.
absl::StatusOr<Placeholders::Entry> CreatePlaceholder(int dir,
                                                      const std::string& name,
                                                      bool is_dir) {
  const std::string content = is_dir ? "" : PlaceholderContent(name);
  if (is_dir) {
    if (mkdirat(dir, name.c_str(), 0555) != 0) {
      return ErrnoStatus(errno, absl::StrCat("cannot create '", name, "'"));
    }
  } else {
    const int fd =
        openat(dir, name.c_str(),
               O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
    if (fd < 0) {
      return ErrnoStatus(errno, absl::StrCat("cannot create '", name, "'"));
    }
    const bool written = write(fd, content.data(), content.size()) ==
                         static_cast<ssize_t>(content.size());
    close(fd);
    if (!written) {
      unlinkat(dir, name.c_str(), 0);
      return ErrnoStatus(errno, absl::StrCat("cannot write '", name, "'"));
    }
  }
  struct stat info;
  if (fstatat(dir, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoStatus(errno, absl::StrCat("cannot look at '", name, "'"));
  }
  Placeholders::Entry entry;
  entry.dir.Reset(fcntl(dir, F_DUPFD_CLOEXEC, 0));
  entry.name = name;
  entry.inode = info.st_ino;
  entry.is_dir = is_dir;
  entry.size = content.size();
  return entry;
}

// The read-only bind that protects worktree path `entry` (field `field`).
absl::StatusOr<std::optional<MountOp>> ProtectInWorktree(
    const std::string& worktree, const std::string& entry,
    const std::string& field, Placeholders* placeholders) {
  const bool want_dir = absl::EndsWith(entry, "/");
  const std::vector<std::string> parts =
      absl::StrSplit(absl::StripSuffix(entry, "/"), '/');
  CELL_ASSIGN_OR_RETURN(UniqueFd dir,
                        OpenWithoutSymlinks(worktree, O_PATH | O_DIRECTORY));
  std::string host = worktree;
  std::string cell(kCellWorktree);
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    const bool last = i + 1 == parts.size();
    host = absl::StrCat(host, "/", part);
    cell = absl::StrCat(cell, "/", part);
    struct stat info;
    if (fstatat(dir.get(), part.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT) {
        return ErrnoStatus(
            errno,
            absl::StrCat("field `", field, "`: cannot look at '", host, "'"));
      }
      // Missing: a placeholder where the path first stops existing, so
      // that nothing on the way can be created either.
      absl::StatusOr<Placeholders::Entry> created =
          CreatePlaceholder(dir.get(), part, !last || want_dir);
      // What the launcher's user may not create, the cell (the same user,
      // or one with fewer rights) cannot either.
      if (absl::IsPermissionDenied(created.status())) return std::nullopt;
      if (!created.ok()) {
        return absl::Status(
            created.status().code(),
            absl::StrCat("field `", field, "`: ", created.status().message()));
      }
      placeholders->Add(*std::move(created));
      return ReadOnlyBind(host, cell);
    }
    if (S_ISLNK(info.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "field `", field, "`: '", host,
          "' is a symlink in the worktree, which the cell could have made to "
          "point anywhere; remove it (a protected path must be a real file "
          "or directory)"));
    }
    // A file where a directory was expected (a `.git` file of a git
    // worktree, naming the real git dir): that file is what to protect.
    if (last || !S_ISDIR(info.st_mode)) {
      // A second name for it, made by a cell earlier, would stay writable.
      if (!S_ISDIR(info.st_mode) && info.st_nlink != 1) {
        return HardLinked(field, host, info.st_nlink);
      }
      return ReadOnlyBind(host, cell);
    }
    const int next = openat(dir.get(), part.c_str(),
                            O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) {
      return ErrnoStatus(
          errno, absl::StrCat("field `", field, "`: cannot open '", host, "'"));
    }
    dir.Reset(next);
  }
  return ReadOnlyBind(host, cell);  // Not reached: parts is never empty.
}

// Git config files that apply to the worktree: the repository's (in .git,
// or where a .git file points) and the launching user's global ones
// (`home`: theirs, "" when unknown).
std::vector<std::string> GitConfigFiles(const std::string& worktree,
                                        const std::string& home) {
  std::vector<std::string> files;
  const std::string dot_git = worktree + "/.git";
  struct stat info;
  if (lstat(dot_git.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
    files.push_back(dot_git + "/config");
  } else if (absl::StatusOr<std::string> link = ReadConfigFile(dot_git, 4096);
             link.ok()) {
    absl::string_view dir = absl::StripAsciiWhitespace(*link);
    if (absl::ConsumePrefix(&dir, "gitdir:")) {
      dir = absl::StripAsciiWhitespace(dir);
      files.push_back(absl::StrCat(
          dir.substr(0, 1) == "/" ? "" : worktree + "/", dir, "/config"));
    }
  }
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (!home.empty()) files.push_back(home + "/.gitconfig");
  if (xdg != nullptr && *xdg == '/') {
    files.push_back(absl::StrCat(xdg, "/git/config"));
  } else if (!home.empty()) {
    files.push_back(home + "/.config/git/config");
  }
  files.push_back("/etc/gitconfig");
  return files;
}

// What a git directory holds that runs code or decides what runs (as in
// DefaultProtectedPaths for .git itself).
constexpr const char* kGitDirControl[] = {"config",     "hooks/",
                                          "commondir",  "config.worktree",
                                          "worktrees/", "modules/"};

// Attacker round 6: git directories in the worktree that .git does not
// hold. A `.git` file naming one (`git init --separate-git-dir=.gitstore`)
// left its config writable; a submodule's `.git` file, rewritten to name a
// git directory the cell made, had the superproject's `git status` run
// that directory's config. Each such git directory's control files, and
// each submodule's `.git` (a placeholder directory where it is missing,
// which git reads as "not checked out"), are protected.
void AddGitDirectoryEntries(const std::string& worktree,
                            std::vector<ProtectEntry>* entries) {
  const std::string dot_git = worktree + "/.git";
  if (absl::StatusOr<std::string> link = ReadConfigFile(dot_git, 4096);
      link.ok()) {
    absl::string_view dir = absl::StripAsciiWhitespace(*link);
    if (absl::ConsumePrefix(&dir, "gitdir:")) {
      const std::string rel = WorktreeRelative(
          ResolveGitPath(absl::StripAsciiWhitespace(dir), worktree, ""),
          worktree);
      for (const char* control : kGitDirControl) {
        if (rel.empty()) break;
        entries->push_back(
            {absl::StrCat(rel, "/", control),
             absl::StrCat("protect (the git directory '.git' names, ", rel,
                          ")")});
      }
    }
  }
  // Attacker round 7: the user's own linked worktrees (`git worktree add`)
  // inside this one; each one's `.git` file, rewritten, named a git
  // directory the cell made. `.git/worktrees/NAME/gitdir` says where each
  // `.git` file is.
  const std::string linked = worktree + "/.git/worktrees";
  struct stat info;
  if (lstat(linked.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
    if (DIR* stream = opendir(linked.c_str()); stream != nullptr) {
      while (const dirent* item = readdir(stream)) {
        const std::string name = item->d_name;
        if (name == "." || name == "..") continue;
        absl::StatusOr<std::string> gitdir =
            ReadConfigFile(absl::StrCat(linked, "/", name, "/gitdir"), 4096);
        if (!gitdir.ok()) continue;
        const std::string rel = WorktreeRelative(
            ResolveGitPath(absl::StripAsciiWhitespace(*gitdir), worktree, ""),
            worktree);
        if (rel.empty()) continue;
        entries->push_back({rel, absl::StrCat("protect (the linked worktree '",
                                              name, "' in .git/worktrees)")});
      }
      closedir(stream);
    }
  }
  absl::StatusOr<std::string> modules =
      ReadConfigFile(worktree + "/.gitmodules", 1 << 20);
  if (!modules.ok()) return;
  for (const GitPathSetting& setting : GitPathSettings(*modules)) {
    if (!absl::StartsWith(setting.key, "submodule.")) continue;
    const std::string rel =
        WorktreeRelative(ResolveGitPath(setting.value, worktree, ""), worktree);
    if (rel.empty()) continue;
    entries->push_back(
        {absl::StrCat(rel, "/.git/"),
         absl::StrCat("protect (", setting.key, " in .gitmodules)")});
  }
}

// What git's config files name in the worktree (following includes a few
// levels, as git does).
void AddGitEntries(const std::string& worktree,
                   std::vector<ProtectEntry>* entries) {
  AddGitDirectoryEntries(worktree, entries);
  const char* home_env = std::getenv("HOME");
  const std::string home =
      home_env != nullptr && *home_env == '/' ? home_env : "";
  std::vector<std::pair<std::string, int>> queue;
  for (std::string& file : GitConfigFiles(worktree, home)) {
    queue.emplace_back(std::move(file), 0);
  }
  for (size_t i = 0; i < queue.size() && i < 64; ++i) {
    const auto [file, depth] = queue[i];
    absl::StatusOr<std::string> text = ReadConfigFile(file, 1 << 20);
    if (!text.ok()) continue;  // Missing, or not a plain file: git's issue.
    const std::string dir = file.substr(0, file.rfind('/'));
    for (const GitPathSetting& setting : GitPathSettings(*text)) {
      if (absl::StartsWith(setting.key, "submodule.")) continue;
      const std::string entry =
          GitPathProtectEntry(setting, worktree, dir, home);
      if (!entry.empty()) {
        entries->push_back(
            {entry, absl::StrCat("protect (", setting.key, " in ", file, ")")});
      }
      if (setting.key != "core.hookspath" && depth < 4) {
        std::string path = GitSettingPath(setting, worktree, dir, home);
        if (!path.empty()) queue.emplace_back(std::move(path), depth + 1);
      }
    }
  }
}

// Looks through protected directory `relative` (in `worktree`) for
// symlinks whose targets lie in the worktree, which it adds, and for files
// with a second hard link, which are an error. At most `*budget` entries.
absl::Status ScanProtectedDirectory(const std::string& worktree,
                                    const std::string& real_worktree,
                                    const std::string& relative,
                                    const std::string& field, int depth,
                                    size_t* budget,
                                    std::vector<ProtectEntry>* found) {
  absl::StatusOr<UniqueFd> dir = OpenWithoutSymlinks(
      absl::StrCat(worktree, "/", relative), O_RDONLY | O_DIRECTORY);
  if (!dir.ok()) return absl::OkStatus();  // Missing, or refused later.
  DIR* stream = fdopendir(dir->Release());
  if (stream == nullptr) return ErrnoStatus(errno, "fdopendir");
  absl::Status status;
  std::vector<std::string> subdirectories;
  while (const dirent* item = readdir(stream)) {
    const std::string name = item->d_name;
    if (name == "." || name == "..") continue;
    if (*budget == 0) {
      status = absl::ResourceExhaustedError(absl::StrCat(
          "field `", field, "`: too many entries under '", worktree, "/",
          relative, "' to check for links out of it"));
      break;
    }
    --*budget;
    const std::string path = absl::StrCat(relative, "/", name);
    struct stat info;
    if (fstatat(dirfd(stream), name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
      continue;
    }
    if (S_ISLNK(info.st_mode)) {
      char real[PATH_MAX];
      const std::string host = absl::StrCat(worktree, "/", path);
      if (realpath(host.c_str(), real) == nullptr) continue;  // Dangling.
      const std::string target = real;
      if (!absl::StartsWith(target, real_worktree + "/")) continue;
      struct stat target_info;
      const bool is_dir =
          stat(real, &target_info) == 0 && S_ISDIR(target_info.st_mode);
      found->push_back({absl::StrCat(target.substr(real_worktree.size() + 1),
                                     is_dir ? "/" : ""),
                        absl::StrCat("protect (target of '", host, "', from `",
                                     field, "`)")});
    } else if (S_ISDIR(info.st_mode)) {
      if (name != "objects") subdirectories.push_back(path);
    } else if (info.st_nlink != 1) {
      status =
          HardLinked(field, absl::StrCat(worktree, "/", path), info.st_nlink);
      break;
    }
  }
  closedir(stream);
  if (!status.ok()) return status;
  if (depth >= 16) return absl::OkStatus();
  for (const std::string& sub : subdirectories) {
    CELL_RETURN_IF_ERROR(ScanProtectedDirectory(
        worktree, real_worktree, sub, field, depth + 1, budget, found));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<ProtectEntry>> ProtectedEntries(
    const CellSpec& spec) {
  std::vector<ProtectEntry> entries;
  for (size_t i = 0; i < spec.protect.size(); ++i) {
    entries.push_back({spec.protect[i], absl::StrCat("protect[", i, "]")});
  }
  if (std::find(spec.protect.begin(), spec.protect.end(), ".git/config") !=
      spec.protect.end()) {
    AddGitEntries(spec.worktree_path, &entries);
  }
  char real[PATH_MAX];
  if (realpath(spec.worktree_path.c_str(), real) == nullptr) return entries;
  std::vector<ProtectEntry> targets;
  size_t budget = 100000;
  for (const ProtectEntry& entry : entries) {
    CELL_RETURN_IF_ERROR(
        ScanProtectedDirectory(spec.worktree_path, real,
                               std::string(absl::StripSuffix(entry.entry, "/")),
                               entry.field, 0, &budget, &targets));
  }
  entries.insert(entries.end(), targets.begin(), targets.end());
  // Once each: the first reason wins.
  std::vector<ProtectEntry> unique;
  for (ProtectEntry& entry : entries) {
    if (std::none_of(unique.begin(), unique.end(),
                     [&entry](const ProtectEntry& seen) {
                       return seen.entry == entry.entry;
                     })) {
      unique.push_back(std::move(entry));
    }
  }
  return unique;
}

std::vector<MountOp> ProtectViews(const std::string& host_path,
                                  const std::vector<MountOp>& mounts) {
  std::vector<MountOp> ops;
  for (const MountOp& mount : mounts) {
    if (mount.kind != MountOpKind::kBind) continue;
    // By identity, not spelling: a host bind mount of the worktree under
    // another name, or a bind of exactly this file or directory, is a view
    // of it as much as a bind of its parent.
    std::optional<std::string> rest = PathUnderByIdentity(host_path, mount.src);
    if (TestFault(fault::kViewsBySpelling)) {
      rest =
          mount.src != host_path && PathIsSameOrUnder(host_path, mount.src)
              ? std::optional<std::string>(host_path.substr(mount.src.size()))
              : std::nullopt;
    }
    if (!rest.has_value()) continue;
    ops.push_back(ReadOnlyBind(host_path, absl::StrCat(mount.dst, *rest)));
  }
  return ops;
}

Placeholders::~Placeholders() { RemoveAll(); }

void Placeholders::RemoveAll() {
  // Innermost first: a placeholder may have been made inside another.
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    const Entry& entry = *it;
    struct stat info;
    if (fstatat(entry.dir.get(), entry.name.c_str(), &info,
                AT_SYMLINK_NOFOLLOW) != 0 ||
        info.st_ino != entry.inode) {
      continue;  // Replaced meanwhile (by the host user): not ours.
    }
    if (entry.is_dir) {
      unlinkat(entry.dir.get(), entry.name.c_str(), AT_REMOVEDIR);
    } else if (S_ISREG(info.st_mode) &&
               static_cast<size_t>(info.st_size) == entry.size) {
      unlinkat(entry.dir.get(), entry.name.c_str(), 0);
    }
  }
  entries_.clear();
}

absl::StatusOr<std::vector<MountOp>> ProtectOps(
    const CellSpec& spec, const std::vector<MountOp>& mounts,
    const std::vector<std::string>& control_files, Placeholders* placeholders) {
  std::vector<MountOp> ops;
  if (TestFault(fault::kWritableControlFiles)) return ops;
  CELL_ASSIGN_OR_RETURN(std::vector<ProtectEntry> entries,
                        ProtectedEntries(spec));
  for (const ProtectEntry& entry : entries) {
    CELL_ASSIGN_OR_RETURN(std::optional<MountOp> op,
                          ProtectInWorktree(spec.worktree_path, entry.entry,
                                            entry.field, placeholders));
    if (!op.has_value()) continue;
    // Over every read-write view of it: the worktree's, and any bind of a
    // directory holding the worktree.
    std::vector<MountOp> views = ProtectViews(op->src, mounts);
    if (views.empty()) views.push_back(*std::move(op));
    for (MountOp& view : views) ops.push_back(std::move(view));
  }
  for (const std::string& file : control_files) {
    for (MountOp& op : ProtectViews(file, mounts)) ops.push_back(std::move(op));
  }
  // The directories on the way are pinned first, so that none can be
  // renamed away with what it protects and replaced (pins are recursive
  // binds: they would also carry binds made before them).
  std::vector<MountOp> pinned;
  for (const MountOp& op : ops) {
    for (const MountOp& mount : mounts) {
      if (mount.kind == MountOpKind::kBind && mount.dst != op.dst &&
          PathIsSameOrUnder(op.dst, mount.dst)) {
        AddPins(mount.dst, op.dst, &pinned);
      }
    }
  }
  pinned.insert(pinned.end(), ops.begin(), ops.end());
  return pinned;
}

}  // namespace cell
