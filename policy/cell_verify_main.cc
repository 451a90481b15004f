// cell-verify: does this cell really have the properties its spec and our
// documentation promise, and does it satisfy my policy? Checks the spec
// statically, then runs cell-probe inside a real cell (through the `cell`
// binary, as a user would) and judges the facts. Flags live only here.
//
// Exit: 0 every property passed (warnings allowed), 1 a property failed,
// 2 usage or setup error. With --threshold=N: 1 when the exposure score
// (policy/score.h) is above N or a property is an error, else 0.
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstddef>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/fs_util.h"
#include "base/json_text.h"
#include "base/outer_runtime.h"
#include "base/printable.h"
#include "base/status_macros.h"
#include "base/subprocess.h"
#include "base/version.h"
#include "launcher/proxy/address_policy.h"
#include "launcher/proxy/filter.h"
#include "launcher/proxy/host_filter.h"
#include "launcher/spec/host_identity.h"
#include "launcher/spec/resolve.h"
#include "launcher/spec/spec.h"
#include "nlohmann/json.hpp"
#include "policy/command_view.h"
#include "policy/evaluate.h"
#include "policy/host_checks.h"
#include "policy/policy.h"
#include "policy/probe_run.h"
#include "policy/properties/facts.h"
#include "policy/report.h"
#include "policy/sandbox.h"
#include "policy/score.h"
#include "policy/static_rules.h"
#include "probes/host.h"

namespace {

using ::cell::policy::Observation;
using ::cell::policy::Policy;
using ::cell::policy::PropertyResult;
using Json = nlohmann::json;

constexpr int kExitPass = 0;
constexpr int kExitFail = 1;
constexpr int kExitError = 2;

// Whether the builtin engine would connect to `host` (the canary, on host
// loopback): one of its addresses is public, or named by a filter line
// that allows the host (launcher/proxy/address_policy.h), as the engine asks.
absl::StatusOr<bool> LoopbackAllowed(
    const std::vector<cell::FilterPattern>& patterns, const std::string& host,
    bool has_filter) {
  if (!has_filter) return false;  // No line names any address.
  CELL_ASSIGN_OR_RETURN(cell::HostFilter filter,
                        cell::HostFilter::Compile(patterns, "filter"));
  const std::vector<std::string> allowing = filter.MatchingPatterns(host);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &result) != 0) return false;
  bool allowed = false;
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    const sockaddr& address = *ai->ai_addr;
    allowed = allowed ||
              cell::ClassifyAddress(address) == cell::AddressKind::kPublic ||
              std::any_of(allowing.begin(), allowing.end(),
                          [&address](const std::string& line) {
                            return cell::LineNamesAddress(line, address);
                          });
  }
  freeaddrinfo(result);
  return allowed;
}

constexpr char kProbesInCell[] = "/run/cell/probes";

constexpr char kUsage[] =
    R"(Usage: cell-verify --spec=FILE [--policy=FILE | --profile=NAME]
                   [--format=text|json|junit] [--output=FILE] [--static-only]
                   [--cell=PATH] [--probe=PATH] [--threshold=N]
       cell-verify --sandbox=COMMAND [--worktree=DIR] [--filter=FILE]
                   [--sandbox-worktree=PATH]
                   [--policy=FILE | --profile=NAME] [--format=...]
                   [--output=FILE] [--probe=PATH] [--threshold=N]

Checks a cell before you deploy an agent into it: the spec against a policy
(mounts, env, isolation, the domain filter), then the cell itself: it runs
cell-probe inside a real cell built from the spec and compares what the probe
observes with what the spec and docs/spec.md promise, property by property.

With --sandbox it checks another sandbox (bubblewrap, firejail, srt, a
script) the same way: it runs cell-probe under COMMAND and judges every
property the probe and the host can see against the policy. The static
properties (they read a spec) are reported `off`, never PASS.

  --spec=FILE        the cell spec (as for `cell run --spec`)
  --policy=FILE      a policy file (JSON), or
  --profile=NAME     a shipped policy: documented (the cell behaves exactly
                     as documented, unsafe defaults included; the default
                     for --spec) or agent-strict (what we recommend for
                     agents; the default for --sandbox)
  --format=FORMAT    text (default), json or junit
  --output=FILE      write the report there instead of stdout
  --static-only      check the spec and policy only; launch nothing
  --cell=PATH        the cell launcher (default: beside cell-verify, its
                     Bazel runfiles, or PATH)
  --probe=PATH       the cell-probe binary (likewise)
  --version          print the version and how it was built
  --threshold=N      exit 1 only when the exposure score (0-10, weighted as
                     README.md says; decimals allowed) is above N, or a
                     property could not be judged (an error)

Foreign sandboxes:
  --sandbox=COMMAND  the sandbox's command line, split into words as sh
                     would (quotes, backslashes; nothing expanded, no
                     pipes: wrap those in sh -c '...'). Placeholders:
                       {probes}   a directory holding cell-probe; show it
                                  at the same path inside (read-only)
                       {worktree} the agent's directory; show it at the
                                  same path, writable. cell-verify starts
                                  COMMAND there.
                       {command}  the probe's command: as one word, its
                                  words; inside a word, quoted for sh (for
                                  a sandbox that takes one string). Without
                                  it the probe's words are appended.
  --worktree=DIR     the worktree to use (default: a scratch git repository)
  --sandbox-worktree=PATH
                     where the sandbox shows the worktree, when not at its
                     host path (e.g. /home/cell/worktree)
  --filter=FILE      the domain filter the sandbox's proxy claims to apply
                     (regexes, one per line): the loopback canary must get
                     what it allows. Without it the proxy, if any, must deny
                     the canary.

  cell-verify --sandbox='bwrap --unshare-all --die-with-parent --new-session
      --ro-bind /usr /usr --symlink usr/lib64 /lib64 --proc /proc --dev /dev
      --ro-bind {probes} {probes} --bind {worktree} {worktree} --'

Exit status: 0 all properties passed (warnings allowed), 1 a property
failed, 2 usage or setup error (also: the sandbox could not run the probe;
the one line says why). With --threshold, 0 or 1 as it says.
)";

struct Flags {
  std::string spec;
  std::string policy_file;
  std::string profile;  // Empty: the mode's default.
  std::string format = "text";
  std::string output;
  bool static_only = false;
  std::string cell;
  std::string probe;
  std::optional<double> threshold;  // --threshold: exit by the score.
  bool version = false;             // --version: print it and exit.
  std::string sandbox;   // --sandbox: a foreign sandbox's command line.
  std::string worktree;  // --worktree: the sandbox's worktree.
  std::string filter;    // --filter: the sandbox's claimed filter.
  // --sandbox-worktree: where the sandbox shows the worktree.
  std::string sandbox_worktree;
};

absl::StatusOr<Flags> ParseFlags(int argc, char** argv, bool* help) {
  Flags flags;
  bool profile_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      *help = true;
      return flags;
    }
    if (arg == "--version") {
      flags.version = true;
      return flags;
    }
    if (arg == "--static-only") {
      flags.static_only = true;
      continue;
    }
    const size_t equals = arg.find('=');
    if (!absl::StartsWith(arg, "--") || equals == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument '", arg, "' (see --help)"));
    }
    const std::string name = arg.substr(2, equals - 2);
    const std::string value = arg.substr(equals + 1);
    if (name == "spec") {
      flags.spec = value;
    } else if (name == "policy") {
      flags.policy_file = value;
    } else if (name == "profile") {
      flags.profile = value;
      profile_given = true;
    } else if (name == "format") {
      if (value != "text" && value != "json" && value != "junit") {
        return absl::InvalidArgumentError(
            absl::StrCat("--format=", value, ": expected text, json or junit"));
      }
      flags.format = value;
    } else if (name == "output") {
      flags.output = value;
    } else if (name == "cell") {
      flags.cell = value;
    } else if (name == "probe") {
      flags.probe = value;
    } else if (name == "sandbox") {
      flags.sandbox = value;
    } else if (name == "worktree") {
      flags.worktree = value;
    } else if (name == "filter") {
      flags.filter = value;
    } else if (name == "sandbox-worktree") {
      if (!absl::StartsWith(value, "/")) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--sandbox-worktree=", value,
            ": give the absolute path the sandbox shows the worktree at"));
      }
      flags.sandbox_worktree = value;
    } else if (name == "threshold") {
      CELL_ASSIGN_OR_RETURN(flags.threshold,
                            cell::policy::ParseThreshold(value));
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", name, " (see --help)"));
    }
  }
  const bool sandbox = !flags.sandbox.empty();
  if (flags.spec.empty() && !sandbox) {
    return absl::InvalidArgumentError(
        "give --spec=FILE (a cell) or --sandbox=COMMAND (another sandbox); "
        "see --help");
  }
  if (!flags.spec.empty() && sandbox) {
    return absl::InvalidArgumentError(
        "give --spec (a cell) or --sandbox (another sandbox), not both");
  }
  for (const auto& [given, name] :
       {std::pair{!flags.worktree.empty(), "--worktree"},
        std::pair{!flags.sandbox_worktree.empty(), "--sandbox-worktree"},
        std::pair{!flags.filter.empty(), "--filter"}}) {
    if (given && !sandbox) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " is for --sandbox; a cell's spec names its own"));
    }
  }
  if (sandbox && (flags.static_only || !flags.cell.empty())) {
    return absl::InvalidArgumentError(
        "--static-only and --cell are for --spec: a foreign sandbox has no "
        "spec to check and runs no cell");
  }
  if (flags.profile.empty()) {
    flags.profile = sandbox ? "agent-strict" : "documented";
  }
  if (!flags.policy_file.empty() && profile_given) {
    return absl::InvalidArgumentError(
        "give either --policy or --profile, not both");
  }
  return flags;
}

std::string SelfPath() {
  char buffer[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "";
}

bool Executable(const std::string& path) {
  return !path.empty() && access(path.c_str(), X_OK) == 0;
}

// Where `name` would be in each directory of PATH, in order.
std::vector<std::string> OnPath(const std::string& name) {
  std::vector<std::string> paths;
  if (const char* path = std::getenv("PATH")) {
    for (absl::string_view entry :
         absl::StrSplit(path, ':', absl::SkipEmpty())) {
      paths.push_back(absl::StrCat(entry, "/", name));
    }
  }
  return paths;
}

// `name` from a flag, Bazel runfiles, beside this binary, or PATH.
absl::StatusOr<std::string> FindTool(const std::string& flag,
                                     const std::string& name,
                                     const std::string& runfile) {
  if (!flag.empty()) {
    if (Executable(flag)) return flag;
    return absl::NotFoundError(absl::StrCat(flag, " is not executable"));
  }
  const std::string self = SelfPath();
  const std::string dir = self.substr(0, self.rfind('/'));
  std::vector<std::string> candidates;
  for (const char* root : {"RUNFILES_DIR", "TEST_SRCDIR"}) {
    if (const char* value = std::getenv(root)) {
      candidates.push_back(absl::StrCat(value, "/cell/", runfile));
    }
  }
  candidates.push_back(absl::StrCat(self, ".runfiles/cell/", runfile));
  candidates.push_back(absl::StrCat(dir, "/", name));
  for (std::string& on_path : OnPath(name)) {
    candidates.push_back(std::move(on_path));
  }
  for (const std::string& candidate : candidates) {
    if (Executable(candidate)) return candidate;
  }
  return absl::NotFoundError(absl::StrCat(
      "cannot find ", name, "; build it (bazel build //...) or pass --",
      name == "cell" ? "cell" : "probe", "=PATH"));
}

// The spec resolved by `cell check-spec`, exactly as `cell run` will see it.
absl::StatusOr<cell::CellSpec> ResolvedSpec(const std::string& cell,
                                            const std::string& spec_file) {
  CELL_ASSIGN_OR_RETURN(
      cell::SubprocessResult result,
      cell::RunSubprocess(
          {cell, "check-spec", absl::StrCat("--spec=", spec_file)}));
  if (result.exit_code != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("the spec does not check: ",
                     absl::StripTrailingAsciiWhitespace(result.stderr_text)));
  }
  CELL_ASSIGN_OR_RETURN(Json json,
                        cell::ParseJsonText(result.stdout_text, "check-spec"));
  return cell::SpecFromJson(json);
}

// A small text file, or "" when it cannot be read.
std::string FileText(const std::string& path) {
  absl::StatusOr<std::string> text = cell::ReadFileToString(path, 1 << 20);
  return text.ok() ? *std::move(text) : "";
}

// The launcher's "started" event in the status file (the process it
// started: the command, or the cell's init whose child it is); an empty
// object until it is written.
Json StartedEvent(const std::string& status_file) {
  Json started = Json::object();
  for (absl::string_view line :
       absl::StrSplit(FileText(status_file), '\n', absl::SkipEmpty())) {
    // Written by our launcher, but read with type checks all the same: a
    // wrong type must not throw.
    const Json event = Json::parse(line.begin(), line.end(), nullptr, false);
    if (event.is_object() && event.value("event", "") == "started") {
      started = event;
    }
  }
  return started;
}

// The last non-empty line of `text`, at most 300 bytes: the reason a
// sandbox or launcher printed last.
std::string LastLine(absl::string_view text) {
  std::string last;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    line = absl::StripAsciiWhitespace(line);
    if (!line.empty()) last = std::string(line.substr(0, 300));
  }
  return last;
}

// --host-ancestors for the probe: "DEV:INO" of each host directory above
// the worktree (its parent, and so on up to /), by which it tells a rename
// the host would see from one in the cell's own root.
std::string HostAncestorsFlag(const std::string& worktree) {
  std::vector<std::string> ids;
  for (std::string dir = worktree; dir.size() > 1;) {
    const size_t slash = dir.rfind('/');
    dir = slash == 0 ? "/" : dir.substr(0, slash);
    if (const std::string id = cell::policy::IdentityOf(dir); !id.empty()) {
      ids.push_back(id);
    }
  }
  return absl::StrCat("--host-ancestors=", absl::StrJoin(ids, ","));
}

// Runs the probes in a cell built from the spec; fills `observation`.
absl::Status ObserveCell(const Flags& flags, const cell::CellSpec& spec,
                         const std::string& cell, const std::string& probe,
                         Observation* observation) {
  CELL_ASSIGN_OR_RETURN(std::unique_ptr<cell::policy::ProbeRun> run,
                        cell::policy::ProbeRun::Prepare(probe));
  std::vector<cell::FilterPattern> patterns;
  if (spec.tinyproxy_filter.has_value()) {
    CELL_ASSIGN_OR_RETURN(patterns,
                          cell::LoadFilterFile(*spec.tinyproxy_filter));
  }
  // What the proxy should answer for `host`: 200 where the filter allows
  // it, else 403.
  auto expected_status = [&](const std::string& host) -> absl::StatusOr<int> {
    bool allowed = !spec.tinyproxy_filter.has_value() ||
                   cell::FilterAllows(patterns, host);
    // The builtin engine also refuses the canary's loopback address unless
    // a line allowing the host names it (tinyproxy cannot tell).
    if (allowed && spec.network.engine == cell::EngineKind::kBuiltin) {
      CELL_ASSIGN_OR_RETURN(
          bool reachable,
          LoopbackAllowed(patterns, host, spec.tinyproxy_filter.has_value()));
      allowed = reachable;
    }
    return allowed ? 200 : 403;
  };
  std::vector<std::string> extra = {HostAncestorsFlag(spec.worktree_path)};
  if (const int forks = cell::policy::ForkTestCount(spec); forks > 0) {
    extra.push_back(absl::StrCat("--fork-max=", forks));
  }
  if (const int mib = cell::policy::MemoryTestMiB(spec); mib > 0) {
    extra.push_back(absl::StrCat("--alloc-mib=", mib));
  }
  for (const auto& [path, what] : observation->control_paths) {
    extra.push_back(absl::StrCat("--try-write=", path));
  }
  CELL_ASSIGN_OR_RETURN(
      std::vector<std::string> probe_argv,
      run->ProbeCommand(kProbesInCell, expected_status, extra, observation));
  const std::string status_file = run->work() + "/status.jsonl";
  std::vector<std::string> argv = {
      cell, "run", absl::StrCat("--spec=", flags.spec),
      absl::StrCat("--ro-bind=", run->probe_dir(), ":", kProbesInCell),
      absl::StrCat("--status-file=", status_file)};
  // The canaries' requests go to an audit log of cell-verify's own, not
  // into the spec's: the cell runs with logDir replaced by a private
  // directory, which the launcher binds exactly as it would the spec's
  // (check-spec has judged the spec's own already). Not when a read-write
  // view of the cell shows the spec's logDir (inside the worktree): the
  // launcher makes that view read-only only for the logDir it runs with,
  // and control-files tries to write it.
  if (spec.log_dir.has_value() &&
      cell::policy::WritableCellViews(spec, *spec.log_dir).empty()) {
    const std::string log_dir = run->work() + "/log";
    if (mkdir(log_dir.c_str(), 0755) != 0) {
      return cell::ErrnoStatus(errno, "mkdir " + log_dir);
    }
    argv.push_back(absl::StrCat("--log-dir=", log_dir));
  }
  argv.push_back("--");
  argv.insert(argv.end(), probe_argv.begin(), probe_argv.end());
  // The probe descends from the process the launcher names in the status
  // file's "started" event.
  auto started = [&status_file](pid_t) -> pid_t {
    const Json event = StartedEvent(status_file);
    const auto pid = event.find("pid");
    return pid != event.end() && pid->is_number_integer() ? pid->get<pid_t>()
                                                          : 0;
  };
  CELL_ASSIGN_OR_RETURN(cell::SubprocessResult result,
                        run->Run(argv, started, /*cwd=*/"", observation));
  if (result.exit_code == 125 || result.exit_code == 126 ||
      result.exit_code == 127) {
    return absl::FailedPreconditionError(
        absl::StrCat("the cell did not start: ",
                     absl::StripTrailingAsciiWhitespace(result.stderr_text)));
  }
  // What only the host can see, after the run.
  const Json event = StartedEvent(status_file);
  const auto jd = event.find("jd");
  observation->jd_removed = jd != event.end() && jd->is_string() &&
                            cell::probes::PathGone(jd->get<std::string>());
  for (const auto& [field, gone] :
       {std::pair{"proxyPid", &observation->proxy_gone},
        std::pair{"pid", &observation->command_gone}}) {
    const auto pid = event.find(field);
    if (pid != event.end() && pid->is_number_integer()) {
      *gone = cell::probes::ProcessGone(pid->get<pid_t>());
    }
  }
  return absl::OkStatus();
}

// `program` as exec would find it from here (a path, or a name on PATH),
// made absolute; an error naming it when there is nothing to run.
absl::StatusOr<std::string> ProgramPath(const std::string& program) {
  const std::vector<std::string> candidates =
      program.find('/') != std::string::npos ? std::vector<std::string>{program}
                                             : OnPath(program);
  for (const std::string& candidate : candidates) {
    char real[PATH_MAX];
    if (Executable(candidate) && realpath(candidate.c_str(), real) != nullptr) {
      return std::string(real);
    }
  }
  return absl::NotFoundError(absl::StrCat(
      "--sandbox: cannot run '", program,
      "': not an executable file, nor on PATH; is the sandbox installed?"));
}

// A worktree for a sandbox when none is given: a git repository's control
// files, as an agent's project has them (control-files tries to write
// them and to plant what is missing).
absl::StatusOr<std::string> ScratchWorktree(const std::string& work) {
  const std::string worktree = work + "/worktree";
  for (const std::string& dir :
       {worktree, worktree + "/.git", worktree + "/.git/hooks"}) {
    if (mkdir(dir.c_str(), 0755) != 0) {
      return cell::ErrnoStatus(errno, "mkdir " + dir);
    }
  }
  CELL_RETURN_IF_ERROR(cell::WriteNewFile(worktree + "/.git/HEAD",
                                          "ref: refs/heads/main\n", 0644));
  CELL_RETURN_IF_ERROR(cell::WriteNewFile(
      worktree + "/.git/config",
      "[core]\n\trepositoryformatversion = 0\n\tbare = false\n", 0644));
  return worktree;
}

// Runs the probes in a foreign sandbox (--sandbox); fills `observation`
// and the spec it is judged against (`reference`).
absl::Status ObserveSandbox(const Flags& flags, const Policy& policy,
                            const std::string& probe, Observation* observation,
                            cell::CellSpec* reference) {
  CELL_ASSIGN_OR_RETURN(std::vector<std::string> words,
                        cell::policy::SplitCommandLine(flags.sandbox));
  // The sandbox starts in the worktree: its program is found from here.
  CELL_ASSIGN_OR_RETURN(words[0], ProgramPath(words[0]));
  CELL_ASSIGN_OR_RETURN(std::unique_ptr<cell::policy::ProbeRun> run,
                        cell::policy::ProbeRun::Prepare(probe));
  std::string worktree;
  if (flags.worktree.empty()) {
    CELL_ASSIGN_OR_RETURN(worktree, ScratchWorktree(run->work()));
  } else {
    char real[PATH_MAX];
    struct stat info;
    if (realpath(flags.worktree.c_str(), real) == nullptr ||
        stat(real, &info) != 0 || !S_ISDIR(info.st_mode)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--worktree=", flags.worktree,
                       ": not a directory; give the agent's project "
                       "directory, or leave it out for a scratch one"));
    }
    worktree = real;
  }
  // {worktree} goes into the sandbox's command line as it is, where a
  // shell may read it (sh -c '... {worktree} ...'): a name a previous agent
  // chose must not become a command run as the caller.
  if (cell::policy::ShellQuote(worktree) != worktree) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--worktree=", worktree,
        ": the path holds characters a shell would read (spaces, quotes, "
        "$, ;, ...); give a path of letters, digits and ._-/+=:@%,"));
  }
  // The proxy (if the sandbox has one) must deny the canary on the host's
  // loopback unless the filter the sandbox claims (--filter) allows the
  // name: a sandbox's proxy has no address rule of ours to rely on.
  std::vector<cell::FilterPattern> patterns;
  if (!flags.filter.empty()) {
    CELL_ASSIGN_OR_RETURN(patterns, cell::LoadFilterFile(flags.filter));
  }
  auto expected_status = [&](const std::string& host) -> absl::StatusOr<int> {
    return !flags.filter.empty() && cell::FilterAllows(patterns, host) ? 200
                                                                       : 403;
  };
  *reference = cell::policy::SandboxReference(policy, worktree);
  // Where the sandbox shows the worktree: its host path unless told.
  const std::string inside =
      flags.sandbox_worktree.empty() ? worktree : flags.sandbox_worktree;
  for (const auto& [path, what] :
       cell::policy::ProtectedHostPaths(*reference)) {
    observation->control_paths[inside + path.substr(worktree.size())] = what;
  }
  std::vector<std::string> extra = {absl::StrCat("--worktree=", inside),
                                    HostAncestorsFlag(worktree)};
  for (const auto& [path, what] : observation->control_paths) {
    extra.push_back(absl::StrCat("--try-write=", path));
  }
  CELL_ASSIGN_OR_RETURN(
      std::vector<std::string> probe_argv,
      run->ProbeCommand(run->probe_dir(), expected_status, extra, observation));
  CELL_ASSIGN_OR_RETURN(std::vector<std::string> argv,
                        cell::policy::ExpandSandboxCommand(
                            words, {run->probe_dir(), worktree}, probe_argv));
  // Started in the worktree, as an agent's sandbox is: most keep the cwd.
  auto started = [](pid_t pid) { return pid; };
  CELL_ASSIGN_OR_RETURN(cell::SubprocessResult result,
                        run->Run(argv, started, worktree, observation));
  if (observation->facts.empty()) {
    const std::string exit =
        result.exit_code.has_value()
            ? absl::StrCat("exit ", *result.exit_code)
            : absl::StrCat("signal ", result.signal.value_or(0));
    const std::string said = LastLine(result.stderr_text);
    return absl::FailedPreconditionError(absl::StrCat(
        observation->command_inspected
            ? "the probe started in the sandbox but printed no facts ("
            : "the sandbox did not run the probe (",
        exit, said.empty() ? "" : absl::StrCat(": ", said), "); it must show ",
        run->probe_dir(), " at the same path and ", worktree, " at ", inside,
        " and let the probe exec (bwrap: --ro-bind {probes} {probes} --bind "
        "{worktree} {worktree})"));
  }
  observation->foreign_sandbox = true;
  observation->required_limits = policy.limits.required;
  observation->host_worktree_id = cell::policy::IdentityOf(worktree);
  reference->network.mode = cell::policy::ProbeFoundProxy(*observation)
                                ? cell::NetworkMode::kProxy
                                : cell::NetworkMode::kNone;
  return absl::OkStatus();
}

// The host ids the cell runs as: this process's (the launcher it starts
// inherits them), or those of `hostUser`.
std::pair<uid_t, gid_t> CellHostIds(const cell::CellSpec& spec) {
  absl::StatusOr<cell::HostIdentity> identity = cell::ResolveHostIdentity(
      spec.host_user, getuid(), getgid(), FileText("/etc/passwd"),
      FileText("/etc/group"));
  if (!identity.ok()) return {getuid(), getgid()};  // The launch says why.
  return {identity->uid, identity->gid};
}

// The host side of the control-files and bind-sources properties: what
// must stay read-only inside, and the spec's paths as its file names them.
absl::Status CheckHostPaths(const Flags& flags, const cell::CellSpec& spec,
                            const std::string& cell_binary,
                            Observation* observation) {
  std::map<std::string, std::string> control;
  for (const auto& [path, what] :
       {std::pair{flags.spec, "the spec"}, std::pair{cell_binary, "cell"}}) {
    char real[PATH_MAX];
    if (realpath(path.c_str(), real) != nullptr) control[real] = what;
  }
  if (spec.tinyproxy_filter.has_value()) {
    control[*spec.tinyproxy_filter] = "the filter";
  }
  observation->control_paths = cell::policy::ControlPaths(spec, control);
  CELL_ASSIGN_OR_RETURN(
      std::string text,
      cell::ReadFileToString(flags.spec, cell::kMaxJsonTextBytes));
  CELL_ASSIGN_OR_RETURN(Json raw, cell::ParseJsonText(text, flags.spec));
  observation->host_path_problems = cell::policy::HostPathProblems(raw, spec);
  const int worktree = open(spec.worktree_path.c_str(),
                            O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
  struct stat info;
  if (worktree >= 0 && fstat(worktree, &info) == 0) {
    observation->host_worktree_id = absl::StrCat(info.st_dev, ":", info.st_ino);
  }
  if (worktree >= 0) close(worktree);
  return absl::OkStatus();
}

Observation HostFacts(const cell::CellSpec& spec) {
  Observation observation;
  observation.host_namespaces = cell::probes::HostNamespaceInodes();
  std::string comm = FileText("/proc/1/comm");
  while (!comm.empty() && comm.back() == '\n') comm.pop_back();
  observation.host_pid1_comm = comm;
  observation.host_capability_count =
      std::atoi(FileText("/proc/sys/kernel/cap_last_cap").c_str()) + 1;
  std::tie(observation.uid, observation.gid) = CellHostIds(spec);
  // What a cell without `limits` inherits: this process's, which the
  // launcher it starts inherits in turn.
  for (const auto& [name, resource] : cell::RlimitResources()) {
    rlimit limit;
    if (getrlimit(resource, &limit) == 0) {
      observation.host_rlimits[std::string(name)] =
          cell::policy::RlimitFacts(limit.rlim_cur, limit.rlim_max);
    }
  }
  observation.host_cgroups =
      cell::policy::ParseCgroups(FileText("/proc/self/cgroup"));
  // A seccomp filter on cell-verify itself (a container's) is inherited by
  // every process it starts, the cell included.
  observation.host_seccomp_filter =
      cell::DetectOuterRuntime(cell::GatherRuntimeFacts()).seccomp_filter;
  return observation;
}

// A cell: its spec checked statically, then (unless --static-only) the
// probes run in a cell built from it.
absl::StatusOr<std::vector<PropertyResult>> VerifyCell(const Flags& flags,
                                                       const Policy& policy) {
  CELL_ASSIGN_OR_RETURN(std::string cell_binary,
                        FindTool(flags.cell, "cell", "launcher/cell"));
  CELL_ASSIGN_OR_RETURN(cell::CellSpec spec,
                        ResolvedSpec(cell_binary, flags.spec));
  // "~" in the policy is every home the cell could reach: cell-verify's
  // user's, and the hostUser's the cell runs as.
  std::vector<std::string> homes = cell::HomeDirectories(spec.host_user);
  if (const char* home = std::getenv("HOME"); home != nullptr && *home == '/') {
    if (std::find(homes.begin(), homes.end(), home) == homes.end()) {
      homes.emplace_back(home);
    }
  }
  CELL_ASSIGN_OR_RETURN(std::vector<cell::policy::Finding> findings,
                        cell::policy::CheckSpecStatically(
                            spec, policy, homes, CellHostIds(spec).first));
  if (flags.static_only) {
    return cell::policy::EvaluateStatic(policy, findings);
  }
  CELL_ASSIGN_OR_RETURN(std::string probe, FindTool(flags.probe, "cell-probe",
                                                    "probes/cell-probe"));
  std::fprintf(stderr,
               "cell-verify: running the probes in a cell built from %s\n",
               cell::Printable(flags.spec).c_str());
  Observation observation = HostFacts(spec);
  CELL_RETURN_IF_ERROR(CheckHostPaths(flags, spec, cell_binary, &observation));
  CELL_RETURN_IF_ERROR(
      ObserveCell(flags, spec, cell_binary, probe, &observation));
  return cell::policy::Evaluate(spec, policy, observation, findings);
}

// A foreign sandbox: the probes run under its command line, judged
// against what the policy requires.
absl::StatusOr<std::vector<PropertyResult>> VerifySandbox(
    const Flags& flags, const Policy& policy) {
  CELL_ASSIGN_OR_RETURN(std::string probe, FindTool(flags.probe, "cell-probe",
                                                    "probes/cell-probe"));
  std::fprintf(stderr, "cell-verify: running the probes under %s\n",
               cell::Printable(flags.sandbox).c_str());
  // Run as the caller: no hostUser to resolve.
  Observation observation = HostFacts(cell::CellSpec());
  cell::CellSpec reference;
  CELL_RETURN_IF_ERROR(
      ObserveSandbox(flags, policy, probe, &observation, &reference));
  return cell::policy::EvaluateSandbox(reference, policy, observation);
}

int Fail(const absl::Status& status) {
  // The message may quote a sandbox's stderr or a path from a worktree.
  std::fprintf(stderr, "cell-verify: %s\n",
               cell::Printable(status.message()).c_str());
  return kExitError;
}

}  // namespace

// A stopped cell-verify (Ctrl-C, a CI timeout) leaves nothing behind:
// SIGINT, SIGTERM and SIGHUP are blocked in every thread (threads started
// later inherit the mask; the commands it starts get their own) and taken
// by one thread, which kills what the run started, removes its work
// directory, and then dies of the signal, as the caller expects.
void HandleStopSignals() {
  sigset_t stops;
  sigemptyset(&stops);
  for (const int signal : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&stops, signal);
  pthread_sigmask(SIG_BLOCK, &stops, nullptr);
  std::thread([stops] {
    int signal = 0;
    if (sigwait(&stops, &signal) != 0) return;
    cell::policy::CleanUpRunInProgress();
    std::signal(signal, SIG_DFL);
    sigset_t just;
    sigemptyset(&just);
    sigaddset(&just, signal);
    pthread_sigmask(SIG_UNBLOCK, &just, nullptr);
    raise(signal);
    _exit(128 + signal);
  }).detach();
}

int main(int argc, char** argv) {
  HandleStopSignals();
  bool help = false;
  absl::StatusOr<Flags> flags = ParseFlags(argc, argv, &help);
  if (help) {
    std::fputs(kUsage, stdout);
    return kExitPass;
  }
  if (!flags.ok()) return Fail(flags.status());
  if (flags->version) {
    std::fputs(cell::VersionText("cell-verify").c_str(), stdout);
    return kExitPass;
  }

  absl::StatusOr<Policy> policy =
      flags->policy_file.empty() ? cell::policy::BuiltinProfile(flags->profile)
                                 : [&]() -> absl::StatusOr<Policy> {
    CELL_ASSIGN_OR_RETURN(
        std::string text,
        cell::ReadFileToString(flags->policy_file, cell::kMaxJsonTextBytes));
    return cell::policy::ParsePolicy(text, flags->policy_file);
  }();
  if (!policy.ok()) return Fail(policy.status());
  cell::policy::Report report;
  report.spec = flags->spec;
  report.sandbox = flags->sandbox;
  report.policy = policy->name;
  report.static_only = flags->static_only;
  report.threshold = flags->threshold;
  // Where it ran: inside a container the runtime decides what a cell can
  // have (a PID namespace needs an unmasked /proc).
  for (auto& [name, value] : cell::DescribeOuterRuntime(
           cell::DetectOuterRuntime(cell::GatherRuntimeFacts()))) {
    report.environment.emplace_back(std::move(name), std::move(value));
  }
  report.colour = flags->format == "text" && flags->output.empty() &&
                  isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr;
  absl::StatusOr<std::vector<PropertyResult>> results =
      flags->sandbox.empty() ? VerifyCell(*flags, *policy)
                             : VerifySandbox(*flags, *policy);
  if (!results.ok()) return Fail(results.status());
  report.results = *std::move(results);

  const std::string text = flags->format == "json"    ? FormatJson(report)
                           : flags->format == "junit" ? FormatJunit(report)
                                                      : FormatText(report);
  if (flags->output.empty()) {
    std::fputs(text.c_str(), stdout);
  } else {
    std::ofstream out(flags->output);
    out << text;
    out.close();
    if (!out.good()) {
      return Fail(absl::InternalError(
          absl::StrCat("--output: cannot write ", flags->output)));
    }
  }
  return cell::policy::Acceptable(report.results, flags->threshold) ? kExitPass
                                                                    : kExitFail;
}
