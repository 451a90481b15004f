// One run of cell-probe as cell-verify makes it, in a cell or in a foreign
// sandbox: a private work directory with a copy of the probe; the canaries
// the probe must not reach (a TCP listener and an HTTP server on the host's
// loopback, an abstract Unix socket in the host's network namespace); a
// pty of cell-verify's own to start under, standing in for the caller's
// terminal; the probe inspected from the host while it waits; and what
// outlived the run. Host side; the caller builds the command around the
// probe's argv.
#ifndef CELL_POLICY_PROBE_RUN_H_
#define CELL_POLICY_PROBE_RUN_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/subprocess.h"
#include "policy/properties/property.h"

namespace cell::policy {

// The status the proxy should give a CONNECT or GET to the canary under
// the name `host`: 200 (allowed) or 403 (denied).
using ExpectedStatus =
    std::function<absl::StatusOr<int>(const std::string& host)>;

// The process the probe descends from, given the pid cell-verify started
// (the launcher, the sandbox); 0 while not known yet.
using StartedProcess = std::function<pid_t(pid_t started)>;

class ProbeRun {
 public:
  // A work directory /tmp/cell-verify.XXXXXX (removed with the run) with a
  // copy of `probe` in its probes/ directory, and the canaries listening.
  static absl::StatusOr<std::unique_ptr<ProbeRun>> Prepare(
      const std::string& probe);
  ~ProbeRun();
  ProbeRun(const ProbeRun&) = delete;
  ProbeRun& operator=(const ProbeRun&) = delete;

  // The work directory, and the directory holding cell-probe (host paths).
  const std::string& work() const { return work_; }
  std::string probe_dir() const { return work_ + "/probes"; }

  // cell-probe's argv as seen inside, where the probe directory appears at
  // `probes_inside`: every probe, with the canaries (each CONNECT and GET
  // target's expected status from `expect`, into `observation`), the
  // stand-in terminal, the host pid to look for, and `extra` flags.
  absl::StatusOr<std::vector<std::string>> ProbeCommand(
      const std::string& probes_inside, const ExpectedStatus& expect,
      const std::vector<std::string>& extra, Observation* observation);

  // Runs `argv` (which runs ProbeCommand's argv) in `cwd` ("": this
  // process's) under the stand-in terminal, as the subreaper of all it
  // starts, handed a descriptor of the work directory it must not pass on.
  // While the probe waits, the host looks at it (descriptors, cwd, root,
  // cgroups: policy/command_view.h; its session against the one the
  // terminal controls) among the descendants of `started`'s process; then
  // lets it go. After the exit every process still alive that it started
  // is a leftover: named in `observation`, then killed. Fills the facts
  // and the terminal's input.
  absl::StatusOr<SubprocessResult> Run(const std::vector<std::string>& argv,
                                       const StartedProcess& started,
                                       const std::string& cwd,
                                       Observation* observation);

 private:
  ProbeRun() = default;
  // The host's view of `command`; `session`: the one the stand-in
  // terminal controls.
  void InspectCommand(pid_t command, pid_t session,
                      Observation* observation) const;
  class Canaries;
  std::string work_;
  std::unique_ptr<Canaries> canaries_;
};

// For cell-verify's signal thread (SIGINT, SIGTERM, SIGHUP): kills what
// the run in progress started (its subreaper's children) and removes its
// work directory, so that a stopped cell-verify leaves nothing behind.
void CleanUpRunInProgress();

// Processes whose parent is this one, other than zombies (reaped here; a
// zombie leader whose threads live on counts as running): waits up to
// `grace` for them to go (a sandbox's helpers that die with it), then
// names each still running ("PID NAME") and kills it, and so on for what
// those leave to this process in turn.
std::vector<std::string> KillLeftoverChildren(absl::Duration grace);

}  // namespace cell::policy

#endif  // CELL_POLICY_PROBE_RUN_H_
