#include "base/outer_runtime.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/fs_util.h"
#include "base/mountinfo.h"

namespace cell {
namespace {

constexpr size_t kMaxFacts = 4 << 20;

std::string ReadOr(const char* path) {
  return ReadFileToString(path, kMaxFacts).value_or("");
}

std::optional<int64_t> ReadNumber(const char* path) {
  absl::StatusOr<std::string> text = ReadFileToString(path, 64);
  int64_t value = 0;
  if (!text.ok() ||
      !absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &value)) {
    return std::nullopt;
  }
  return value;
}

// The runtime a /proc/1/cgroup path names, or "".
std::string RuntimeFromCgroup(const std::string& text) {
  if (absl::StrContains(text, "/kubepods")) return "kubernetes";
  if (absl::StrContains(text, "libpod")) return "podman";
  if (absl::StrContains(text, "/docker/") ||
      absl::StrContains(text, "docker-")) {
    return "docker";
  }
  if (absl::StrContains(text, "/lxc/") ||
      absl::StrContains(text, "lxc.payload")) {
    return "lxc";
  }
  if (absl::StrContains(text, "containerd")) return "containerd";
  return "";
}

std::string List(const std::vector<std::string>& paths, size_t most) {
  std::vector<std::string> shown(paths.begin(),
                                 paths.begin() + std::min(most, paths.size()));
  std::string text = absl::StrJoin(shown, ", ");
  if (paths.size() > most) absl::StrAppend(&text, ", ...");
  return text;
}

}  // namespace

RuntimeFacts GatherRuntimeFacts() {
  RuntimeFacts facts;
  struct stat info;
  if (stat("/run/.containerenv", &info) == 0) {
    facts.containerenv = ReadOr("/run/.containerenv");
  }
  facts.dockerenv = stat("/.dockerenv", &info) == 0;
  if (const char* value = getenv("container"); value != nullptr) {
    facts.container_variable = value;
  }
  facts.kubernetes_variable = getenv("KUBERNETES_SERVICE_HOST") != nullptr;
  facts.proc1_cgroup = ReadOr("/proc/1/cgroup");
  facts.mountinfo = ReadOr("/proc/self/mountinfo");
  facts.status = ReadOr("/proc/self/status");
  facts.max_user_namespaces = ReadNumber("/proc/sys/user/max_user_namespaces");
  facts.unprivileged_userns_clone =
      ReadNumber("/proc/sys/kernel/unprivileged_userns_clone");
  facts.apparmor_restrict_userns =
      ReadNumber("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
  return facts;
}

OuterRuntime DetectOuterRuntime(const RuntimeFacts& facts) {
  OuterRuntime runtime;
  // Most specific first: a pod's containers are also containerd's or
  // cri-o's, a podman container also says container=podman.
  const std::string from_cgroup = RuntimeFromCgroup(facts.proc1_cgroup);
  if (facts.kubernetes_variable || from_cgroup == "kubernetes") {
    runtime.runtime = "kubernetes";
    runtime.evidence = facts.kubernetes_variable ? "$KUBERNETES_SERVICE_HOST"
                                                 : "/proc/1/cgroup";
  } else if (facts.containerenv.has_value() ||
             facts.container_variable == "podman") {
    runtime.runtime = "podman";
    runtime.evidence =
        facts.containerenv.has_value() ? "/run/.containerenv" : "$container";
  } else if (facts.dockerenv || from_cgroup == "docker") {
    runtime.runtime = "docker";
    runtime.evidence = facts.dockerenv ? "/.dockerenv" : "/proc/1/cgroup";
  } else if (!facts.container_variable.empty()) {
    runtime.runtime = facts.container_variable;
    runtime.evidence = "$container";
  } else if (!from_cgroup.empty()) {
    runtime.runtime = from_cgroup;
    runtime.evidence = "/proc/1/cgroup";
  }
  for (const MountEntry& mount : ParseMountInfo(facts.mountinfo)) {
    if (PathIsSameOrUnder(mount.mount_point, "/proc") &&
        mount.mount_point != "/proc" &&
        !PathIsSameOrUnder(mount.mount_point, "/proc/sys/fs/binfmt_misc")) {
      runtime.proc_overmounts.push_back(mount.mount_point);
    }
    if (PathIsSameOrUnder(mount.mount_point, "/sys/fs/cgroup") &&
        mount.read_only) {
      runtime.cgroup_read_only = true;
    }
  }
  // A masked /proc (the OCI runtimes' default set) says container even
  // when nothing else does.
  if (runtime.runtime.empty() && !runtime.proc_overmounts.empty()) {
    runtime.runtime = "a container";
    runtime.evidence = "masked /proc paths";
  }
  for (absl::string_view line : absl::StrSplit(facts.status, '\n')) {
    if (absl::ConsumePrefix(&line, "Seccomp:")) {
      runtime.seccomp_filter = absl::StripAsciiWhitespace(line) == "2";
    }
  }
  runtime.max_user_namespaces = facts.max_user_namespaces;
  runtime.unprivileged_userns_clone = facts.unprivileged_userns_clone;
  runtime.apparmor_restrict_userns = facts.apparmor_restrict_userns;
  return runtime;
}

std::string ProcMountAdvice(const OuterRuntime& runtime) {
  if (runtime.proc_overmounts.empty()) {
    return "; the kernel refuses a fresh /proc where this one is not fully "
           "visible; drop --pid-namespace (isolation.pidNamespace) if it "
           "cannot be changed";
  }
  return absl::StrCat(
      "; ",
      runtime.in_container()
          ? absl::StrCat(
                "this launcher runs in ",
                runtime.runtime == "a container"
                    ? "a container"
                    : absl::StrCat("a ", runtime.runtime, " container"),
                ", whose runtime")
          : "something on this host",
      " masks parts of /proc (", List(runtime.proc_overmounts, 4),
      "), and the kernel refuses a fresh /proc mount while the one it has "
      "is partly hidden: unmask it (podman run --security-opt "
      "unmask=/proc/*; docker run --security-opt systempaths=unconfined; "
      "Kubernetes securityContext procMount: Unmasked, with hostUsers: "
      "false), or drop --pid-namespace (isolation.pidNamespace)");
}

std::string UserNamespaceAdvice(const OuterRuntime& runtime, int error) {
  std::vector<std::string> causes;
  if (runtime.max_user_namespaces.has_value() &&
      *runtime.max_user_namespaces == 0) {
    causes.push_back(
        "user.max_user_namespaces is 0 here: raise it on the host (sysctl "
        "-w user.max_user_namespaces=15000; a container cannot)");
  } else if (error == ENOSPC) {
    causes.push_back(
        "the limit on user namespaces is reached (user.max_user_namespaces, "
        "also per container): raise it on the host");
  }
  if (runtime.unprivileged_userns_clone.has_value() &&
      *runtime.unprivileged_userns_clone == 0 && geteuid() != 0) {
    causes.push_back(
        "kernel.unprivileged_userns_clone is 0: sysctl -w "
        "kernel.unprivileged_userns_clone=1");
  }
  if (runtime.apparmor_restrict_userns.has_value() &&
      *runtime.apparmor_restrict_userns == 1) {
    causes.push_back(
        "AppArmor restricts unprivileged user namespaces "
        "(kernel.apparmor_restrict_unprivileged_userns=1): give cell an "
        "AppArmor profile with `userns,` or set the sysctl to 0");
  }
  if (runtime.seccomp_filter && error == EPERM) {
    causes.push_back(absl::StrCat(
        "a seccomp filter may deny new user namespaces",
        runtime.in_container()
            ? absl::StrCat(" (the ", runtime.runtime,
                           " container's profile, its default or one given "
                           "to it)")
            : "",
        ": allow clone and unshare with CLONE_NEWUSER (podman or docker run "
        "--security-opt seccomp=PROFILE.json, or seccomp=unconfined; "
        "docker's default allows them only with CAP_SYS_ADMIN; Kubernetes "
        "securityContext seccompProfile: {type: Localhost, "
        "localhostProfile: ...} or Unconfined)"));
  }
  if (causes.empty()) {
    causes.push_back(
        "are user namespaces allowed here? (sysctl user.max_user_namespaces, "
        "kernel.unprivileged_userns_clone, or an AppArmor or seccomp policy "
        "may forbid them)");
  }
  return absl::StrCat("; ", absl::StrJoin(causes, "; "));
}

std::string IdMapAdvice(const OuterRuntime& runtime) {
  return absl::StrCat(
      "; mapping the cell's ids needs CAP_SETUID and CAP_SETGID (and, as "
      "root, CAP_SETFCAP) in the launcher's own user namespace",
      runtime.in_container()
          ? absl::StrCat(", which the ", runtime.runtime,
                         " container dropped: podman or docker run "
                         "--cap-add=SETUID,SETGID,SETFCAP, Kubernetes "
                         "securityContext capabilities.add, or run the "
                         "launcher as a non-root user there")
          : "");
}

std::string TmpAdvice(const OuterRuntime& runtime) {
  return absl::StrCat(
      "; set TMPDIR to a writable directory",
      runtime.in_container()
          ? absl::StrCat(", or give the ", runtime.runtime,
                         " container a writable /tmp (podman or docker run "
                         "--tmpfs /tmp; Kubernetes an emptyDir volume at "
                         "/tmp)")
          : "");
}

std::string CgroupAdvice(const OuterRuntime& runtime) {
  if (!runtime.in_container()) return "";
  return absl::StrCat(
      "; in a ", runtime.runtime, " container the cgroup is the runtime's",
      runtime.cgroup_read_only ? " (mounted read-only here)" : "",
      " and not delegated: limit the container instead (podman or docker "
      "run --memory, --pids-limit; Kubernetes resources.limits) and drop "
      "limits.memoryMax and limits.pidsMax");
}

std::vector<std::pair<std::string, std::string>> DescribeOuterRuntime(
    const OuterRuntime& runtime) {
  std::vector<std::pair<std::string, std::string>> lines;
  lines.emplace_back("container", runtime.in_container()
                                      ? absl::StrCat(runtime.runtime, " (",
                                                     runtime.evidence, ")")
                                      : "none detected");
  lines.emplace_back("masked /proc", runtime.proc_overmounts.empty()
                                         ? "none"
                                         : List(runtime.proc_overmounts, 12));
  lines.emplace_back("seccomp",
                     runtime.seccomp_filter
                         ? "a filter applies to the launcher (mode 2)"
                         : "none on the launcher");
  std::vector<std::string> userns;
  if (runtime.max_user_namespaces.has_value()) {
    userns.push_back(absl::StrCat("user.max_user_namespaces=",
                                  *runtime.max_user_namespaces));
  }
  if (runtime.unprivileged_userns_clone.has_value()) {
    userns.push_back(absl::StrCat("kernel.unprivileged_userns_clone=",
                                  *runtime.unprivileged_userns_clone));
  }
  if (runtime.apparmor_restrict_userns.has_value()) {
    userns.push_back(
        absl::StrCat("kernel.apparmor_restrict_unprivileged_userns=",
                     *runtime.apparmor_restrict_userns));
  }
  lines.emplace_back("user namespaces", userns.empty()
                                            ? "no limits readable"
                                            : absl::StrJoin(userns, ", "));
  lines.emplace_back("cgroups", runtime.cgroup_read_only
                                    ? "/sys/fs/cgroup read-only"
                                    : "/sys/fs/cgroup writable or absent");
  return lines;
}

}  // namespace cell
