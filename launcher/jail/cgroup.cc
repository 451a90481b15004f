#include "launcher/jail/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/fs_util.h"
#include "base/status_macros.h"

namespace cell {
namespace {

constexpr absl::string_view kNamePrefix = "cell-";

// The spec field that asks for `controller`, for errors.
std::string FieldFor(absl::string_view controller) {
  return controller == "memory" ? "limits.memoryMax" : "limits.pidsMax";
}

bool Contains(const std::vector<std::string>& list, absl::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// The names listed in a v2 cgroup.controllers or cgroup.subtree_control.
std::vector<std::string> ReadControllerList(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path, 4096);
  if (!text.ok()) return {};
  return absl::StrSplit(*text, absl::ByAnyChar(" \n"), absl::SkipEmpty());
}

std::vector<pid_t> ProcsIn(const std::string& dir) {
  std::vector<pid_t> pids;
  absl::StatusOr<std::string> text =
      ReadFileToString(absl::StrCat(dir, "/cgroup.procs"), 16 << 20);
  if (!text.ok()) return pids;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    pid_t pid = 0;
    if (absl::SimpleAtoi(line, &pid) && pid > 0) pids.push_back(pid);
  }
  return pids;
}

uint64_t PidNamespaceInode() {
  struct stat info;
  if (stat("/proc/self/ns/pid", &info) != 0) return 0;
  return info.st_ino;
}

uint64_t UniqueNumber() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000000000u +
         static_cast<uint64_t>(now.tv_nsec);
}

// Removes the cgroups in `parent` that launchers of this PID namespace
// left when they died (a SIGKILLed launcher cannot clean up), with the
// processes still in them. Another namespace's are not ours to judge.
void SweepStale(const std::string& parent, uint64_t pid_namespace) {
  DIR* dir = opendir(parent.c_str());
  if (dir == nullptr) return;
  std::vector<std::string> stale;
  while (const dirent* entry = readdir(dir)) {
    uint64_t namespace_inode = 0;
    pid_t launcher = 0;
    if (!ParseCgroupName(entry->d_name, &namespace_inode, &launcher) ||
        namespace_inode != pid_namespace) {
      continue;
    }
    if (kill(launcher, 0) != 0 && errno == ESRCH) {
      stale.push_back(absl::StrCat(parent, "/", entry->d_name));
    }
  }
  closedir(dir);
  for (const std::string& path : stale) (void)KillCgroup(path);
}

// Where the cell's cgroup for `controller` goes: the parent directory and
// the hierarchy's version, or an error saying why there is none.
struct Placement {
  int version = 2;
  std::string parent;
};

absl::StatusOr<Placement> PlaceController(
    const std::vector<CgroupHierarchy>& hierarchies,
    absl::string_view controller) {
  for (const CgroupHierarchy& hierarchy : hierarchies) {
    if (hierarchy.version == 2 &&
        Contains(ReadControllerList(
                     absl::StrCat(hierarchy.own_dir, "/cgroup.controllers")),
                 controller)) {
      return Placement{2, hierarchy.own_dir};
    }
  }
  for (const CgroupHierarchy& hierarchy : hierarchies) {
    if (hierarchy.version == 1 && Contains(hierarchy.controllers, controller)) {
      return Placement{1, hierarchy.own_dir};
    }
  }
  std::string where = "no cgroup hierarchy is mounted";
  for (const CgroupHierarchy& hierarchy : hierarchies) {
    if (hierarchy.version == 2) {
      where = absl::StrCat("it is not enabled for this process's cgroup ",
                           hierarchy.own_dir, " (cgroup.controllers)");
    }
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "field `", FieldFor(controller), "` needs the ", controller,
      " cgroup controller, but ", where,
      "; run cell where it is delegated (e.g. systemd-run --user --scope -p "
      "Delegate=yes cell run ...) or drop the field"));
}

// v2: the parent must hand `controller` to its children. The kernel allows
// that only while the parent holds no processes itself; when the launcher
// is alone in it (systemd-run --scope), it moves into a leaf of its own.
absl::Status EnableInSubtree(const std::string& parent,
                             absl::string_view controller,
                             const std::string& launcher_leaf) {
  const std::string control = absl::StrCat(parent, "/cgroup.subtree_control");
  if (Contains(ReadControllerList(control), controller)) {
    return absl::OkStatus();
  }
  absl::Status enabled =
      WriteControlFile(control, absl::StrCat("+", controller));
  if (enabled.ok()) return absl::OkStatus();
  const std::vector<pid_t> procs = ProcsIn(parent);
  if (procs.size() == 1 && procs[0] == getpid()) {
    if (mkdir(launcher_leaf.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoStatus(errno, absl::StrCat("mkdir ", launcher_leaf));
    }
    CELL_RETURN_IF_ERROR(
        WriteControlFile(absl::StrCat(launcher_leaf, "/cgroup.procs"), "0"));
    enabled = WriteControlFile(control, absl::StrCat("+", controller));
    if (enabled.ok()) return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "field `", FieldFor(controller), "`: cannot enable the ", controller,
      " controller for the children of ", parent, " (", enabled.message(), ")",
      procs.size() > 1 ? "; other processes share the launcher's cgroup, "
                         "and a cgroup with processes cannot hand out "
                         "controllers: start cell in a cgroup of its own, "
                         "e.g. systemd-run --user --scope -p Delegate=yes "
                         "cell run ..."
                       : "; the cgroup is not delegated to this user"));
}

}  // namespace

std::vector<CgroupHierarchy> ParseCgroupHierarchies(
    absl::string_view mountinfo, absl::string_view self_cgroup) {
  // /proc/self/cgroup: "ID:CONTROLLERS:PATH"; v2 is "0::PATH".
  std::map<std::string, std::string> paths;  // Controllers -> path.
  for (absl::string_view line : absl::StrSplit(self_cgroup, '\n')) {
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (fields.size() != 3) continue;
    paths[std::string(fields[1])] = std::string(fields[2]);
  }
  std::vector<CgroupHierarchy> hierarchies;
  std::set<std::string> seen;  // Keys of the hierarchies listed.
  for (absl::string_view line : absl::StrSplit(mountinfo, '\n')) {
    // "ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - TYPE
    // SOURCE SUPER_OPTIONS"
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    const auto dash = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 5 || dash == fields.end() || fields.end() - dash < 4) {
      continue;
    }
    const absl::string_view type = dash[1];
    if (type != "cgroup" && type != "cgroup2") continue;
    CgroupHierarchy hierarchy;
    hierarchy.version = type == "cgroup2" ? 2 : 1;
    hierarchy.mount_point = std::string(fields[4]);
    std::string key;
    if (hierarchy.version == 1) {
      std::vector<std::string> names;
      for (absl::string_view option : absl::StrSplit(dash[3], ',')) {
        if (option == "rw" || option == "ro" || option.empty() ||
            absl::StrContains(option, '=') || option == "clone_children" ||
            option == "noprefix" || option == "xattr" ||
            option == "cpuset_v2_mode") {
          if (absl::StartsWith(option, "name=")) {
            names.push_back(std::string(option));
          }
          continue;
        }
        hierarchy.controllers.push_back(std::string(option));
        names.push_back(std::string(option));
      }
      key = absl::StrJoin(names, ",");
    }
    const auto path = paths.find(key);
    if (path == paths.end()) continue;
    // The mount shows the subtree at ROOT; this process's cgroup must be in
    // it to be reachable through this mount.
    const absl::string_view root = fields[3];
    absl::string_view relative = path->second;
    if (root != "/") {
      if (!PathIsSameOrUnder(relative, root)) continue;
      relative.remove_prefix(root.size());
    }
    hierarchy.own_dir =
        relative == "/" || relative.empty()
            ? hierarchy.mount_point
            : absl::StrCat(
                  hierarchy.mount_point == "/" ? "" : hierarchy.mount_point,
                  relative);
    if (seen.insert(key).second) hierarchies.push_back(std::move(hierarchy));
  }
  return hierarchies;
}

std::vector<std::pair<std::string, std::string>> CgroupLimitFiles(
    int version, absl::string_view controller, uint64_t limit) {
  const std::string value = absl::StrCat(limit);
  if (controller == "pids") return {{"pids.max", value}};
  if (version == 2) return {{"memory.max", value}, {"memory.swap.max", "0"}};
  // v1: memsw (memory + swap) may only be set at or above the memory limit,
  // so after it.
  return {{"memory.limit_in_bytes", value},
          {"memory.memsw.limit_in_bytes", value}};
}

std::string CgroupName(uint64_t pid_namespace, pid_t launcher,
                       uint64_t unique) {
  return absl::StrCat(kNamePrefix, pid_namespace, "-", launcher, "-", unique);
}

bool ParseCgroupName(absl::string_view name, uint64_t* pid_namespace,
                     pid_t* launcher) {
  if (!absl::ConsumePrefix(&name, kNamePrefix)) return false;
  // The launcher's own leaf (see EnableInSubtree) ends in "-launcher".
  absl::ConsumeSuffix(&name, "-launcher");
  std::vector<absl::string_view> parts = absl::StrSplit(name, '-');
  return parts.size() == 3 && absl::SimpleAtoi(parts[0], pid_namespace) &&
         absl::SimpleAtoi(parts[1], launcher) && *launcher > 0 &&
         !parts[2].empty();
}

// `dir` and the cgroups below it (ones the cell made, moving its
// processes there to outlive the cleanup), parents before children; at
// most 10000.
std::vector<std::string> CgroupTree(const std::string& dir) {
  std::vector<std::string> tree = {dir};
  for (size_t i = 0; i < tree.size() && tree.size() < 10000; ++i) {
    std::unique_ptr<DIR, int (*)(DIR*)> listing(opendir(tree[i].c_str()),
                                                closedir);
    if (listing == nullptr) continue;
    while (const dirent* entry = readdir(listing.get())) {
      const std::string name = entry->d_name;
      if (entry->d_type != DT_DIR || name == "." || name == "..") continue;
      tree.push_back(absl::StrCat(tree[i], "/", name));
    }
  }
  return tree;
}

absl::Status KillCgroup(const std::string& dir) {
  // v2 (Linux 5.14+) kills the whole cgroup, its children included,
  // atomically; elsewhere, kill what is listed in it and every cgroup
  // below it until nothing is (a fork may race one round), then remove
  // them deepest first.
  (void)WriteControlFile(absl::StrCat(dir, "/cgroup.kill"), "1");
  const timespec pause = {0, 5 * 1000 * 1000};
  for (int round = 0; round < 400; ++round) {
    const std::vector<std::string> tree = CgroupTree(dir);
    bool empty = true;
    for (const std::string& cgroup : tree) {
      for (const pid_t pid : ProcsIn(cgroup)) {
        kill(pid, SIGKILL);
        empty = false;
      }
    }
    if (empty) {
      for (auto it = tree.rbegin(); it != tree.rend(); ++it) {
        (void)rmdir(it->c_str());
      }
      if (access(dir.c_str(), F_OK) != 0 && errno == ENOENT) {
        return absl::OkStatus();
      }
    }
    nanosleep(&pause, nullptr);
  }
  return ErrnoStatus(EBUSY, absl::StrCat("cannot remove cgroup ", dir));
}

absl::StatusOr<CellCgroup> CellCgroup::Create(const LimitsSpec& limits) {
  CELL_ASSIGN_OR_RETURN(std::string mountinfo,
                        ReadFileToString("/proc/self/mountinfo", 16 << 20));
  CELL_ASSIGN_OR_RETURN(std::string self_cgroup,
                        ReadFileToString("/proc/self/cgroup", 1 << 20));
  const std::vector<CgroupHierarchy> hierarchies =
      ParseCgroupHierarchies(mountinfo, self_cgroup);
  const uint64_t pid_namespace = PidNamespaceInode();
  const std::string name = CgroupName(pid_namespace, getpid(), UniqueNumber());

  std::vector<std::pair<std::string, uint64_t>> wanted;
  if (limits.memory_max.has_value()) {
    wanted.emplace_back("memory", *limits.memory_max);
  }
  if (limits.pids_max.has_value()) {
    wanted.emplace_back("pids", *limits.pids_max);
  }
  CellCgroup cgroup;
  for (const auto& [controller, limit] : wanted) {
    CELL_ASSIGN_OR_RETURN(Placement place,
                          PlaceController(hierarchies, controller));
    SweepStale(place.parent, pid_namespace);
    if (place.version == 2) {
      CELL_RETURN_IF_ERROR(
          EnableInSubtree(place.parent, controller,
                          absl::StrCat(place.parent, "/", name, "-launcher")));
    }
    const std::string dir = absl::StrCat(place.parent, "/", name);
    if (!Contains(cgroup.dirs_, dir)) {
      if (mkdir(dir.c_str(), 0755) != 0) {
        return absl::FailedPreconditionError(absl::StrCat(
            "field `", FieldFor(controller), "`: cannot create cgroup ", dir,
            ": ", ErrnoName(errno),
            errno == EROFS
                ? "; the cgroup file system is mounted read-only here"
            : errno == EACCES || errno == EPERM
                ? "; the launcher's cgroup is not delegated to this user (run "
                  "as root, or under systemd-run --user --scope -p "
                  "Delegate=yes on a cgroup v2 host)"
                : ""));
      }
      cgroup.dirs_.push_back(dir);
    }
    for (const auto& [file, value] :
         CgroupLimitFiles(place.version, controller, limit)) {
      const std::string path = absl::StrCat(dir, "/", file);
      const bool optional =
          absl::StrContains(file, "swap") || absl::StrContains(file, "memsw");
      if (optional && access(path.c_str(), F_OK) != 0) continue;
      absl::Status written = WriteControlFile(path, value);
      if (!written.ok()) {
        return absl::FailedPreconditionError(
            absl::StrCat("field `", FieldFor(controller),
                         "`: cannot set the limit: ", written.message()));
      }
    }
  }
  return cgroup;
}

CellCgroup::CellCgroup(CellCgroup&& other) noexcept
    : dirs_(std::exchange(other.dirs_, {})) {}

CellCgroup::~CellCgroup() { (void)KillAndRemove(); }

absl::Status CellCgroup::AddProcess(pid_t pid) const {
  for (const std::string& dir : dirs_) {
    CELL_RETURN_IF_ERROR(WriteControlFile(absl::StrCat(dir, "/cgroup.procs"),
                                          absl::StrCat(pid)));
  }
  return absl::OkStatus();
}

absl::Status CellCgroup::KillAndRemove() {
  absl::Status result;
  for (const std::string& dir : dirs_) result.Update(KillCgroup(dir));
  dirs_.clear();
  return result;
}

}  // namespace cell
