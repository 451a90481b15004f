#include "policy/evaluate.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace cell::policy {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::Each;
using ::testing::Field;
using ::testing::HasSubstr;
using Json = nlohmann::json;

CellSpec DefaultSpec() {
  CellSpec spec;
  spec.worktree_path = "/w";
  spec.path = std::vector<std::string>{"/usr/bin"};
  return spec;
}

// What cell-probe prints in a documented default cell (abridged).
Observation DocumentedFacts() {
  Observation o;
  o.host_namespaces = {
      {"pid", 1}, {"ipc", 2}, {"net", 3}, {"mnt", 4}, {"user", 5}};
  o.host_pid1_comm = "init";
  o.host_capability_count = 41;
  o.uid = 1000;
  o.gid = 100;
  o.jd_removed = true;
  o.expected_connect_statuses = {200, 403, 403};
  o.expected_get_statuses = {200, 403};
  o.facts["ns"] = {
      {"pid", 1}, {"ipc", 2}, {"net", 30}, {"mnt", 40}, {"user", 50}};
  o.facts["pid"] = {{"pid1Comm", "init"}, {"pid1Visible", true}};
  o.facts["net"] = Json::parse(R"({
    "interfaces": {"lo": {"up": true, "loopback": true}},
    "ipv4": {"count": 0, "default": false, "routes": []},
    "ipv6": {"count": 3, "default": false, "routes": []},
    "direct": {"connected": false, "error": "ENETUNREACH: Network is unreachable"},
    "proxyEnv": {"http_proxy": "http://127.0.0.1:3128"},
    "connect": [{"target": "127.0.0.1:5000", "status": 200},
                {"target": "localhost:5000", "status": 403},
                {"target": "2130706433:5000", "status": 403}],
    "get": [{"target": "127.0.0.1:5001", "hostHeader": "zz.invalid",
             "status": 200, "body": "127.0.0.1:5001"},
            {"target": "zz.invalid:5001", "hostHeader": "127.0.0.1:5001",
             "status": 403}],
    "listeners": [{"address": "127.0.0.1", "port": 3128, "named": true,
                   "http": 200, "socks5": "not tried: an HTTP server"}]})");
  o.facts["store"] = Json::parse(R"({"mount": {"readOnly": true},
    "writable": false, "writeError": "EROFS: Read-only file system",
    "remountWritable": "EPERM: Operation not permitted"})");
  o.facts["nix"] = Json::parse(R"({
    "NIX_CONFIG": "experimental-features = nix-command flakes\nsubstitute = true",
    "NIX_REMOTE": "unix:///run/nix/socket",
    "daemon": {"handshake": true, "protocolVersion": "1.34",
               "trust": {"trusted": false, "source": "setOptions"}}})");
  o.facts["identity"] = Json::parse(R"({"uid": 1000, "gid": 100,
    "uidMap": [[1000, 1000, 1]], "gidMap": [[100, 100, 1]]})");
  o.facts["kernel"] = Json::parse(R"({
    "writeOpen": {"/proc/sys/kernel/core_pattern": "EROFS: Read-only file system",
                  "/proc/sysrq-trigger": "EROFS: Read-only file system"},
    "read": {"/proc/kcore": 0, "/proc/keys": 0, "/proc/kmsg": "EACCES: x"},
    "kallsyms": "zeros"})");
  o.facts["caps"] = Json::parse(R"({"CapEff": {"count": 41},
    "mountInNewNamespace": {"ok": true}, "setLoopbackFlags": {"ok": true}})");
  o.facts["mounts"] = Json::parse(
      R"({"hostPathsVisible": {"/etc/shadow": false, "/root": false},
          "mounts": [
            {"mountPoint": "/home/cell/worktree", "fsType": "ext4",
             "readOnly": false, "nosuid": true, "nodev": true,
             "device": false, "propagation": "private"},
            {"mountPoint": "/dev/null", "fsType": "devtmpfs",
             "readOnly": false, "nosuid": true, "nodev": false,
             "device": true, "propagation": "private"},
            {"mountPoint": "/dev/pts", "fsType": "devpts",
             "readOnly": false, "nosuid": true, "nodev": false,
             "device": false, "propagation": "private"}]})");
  o.facts["fs"] = Json::parse(R"({"worktree": {"writable": true},
    "root": {"writable": true}, "worktreeId": "2049:77",
    "controlWrites": {"/home/cell/log": "EROFS: Read-only file system"},
    "controlRenames": {"/home/cell/worktree/.git": "EBUSY: busy"}})");
  o.control_paths = {{"/home/cell/log", "logDir"}};
  o.host_worktree_id = "2049:77";
  o.facts["terminal"] = Json::parse(R"({"callerTtyGiven": true,
    "sessionLeader": true, "stdinIsCallerTty": false,
    "tiocsti": {"stdin": "ok", "devTty": "ok"}, "ownPtyTiocsti": "ok"})");
  o.caller_terminal_input = 0;
  o.command_inspected = true;
  o.command_cwd_ids = {"2049:77"};
  o.command_root_ids = {"30:2"};
  o.host_root_id = "2049:2";
  o.facts["reach"] = Json::parse(R"({"walked": 1000, "truncated": false,
    "sockets": [], "devices": [], "abstractCanary": "ECONNREFUSED: x",
    "inheritedSockets": [], "kernelMounts": [], "secretFiles": [],
    "secretVariables": [], "unlistable": []})");
  o.host_rlimits = Json::parse(R"({"nofile": {"soft": 1024, "hard": 4096},
    "core": {"soft": 0, "hard": null}})");
  o.host_cgroups = Json::parse(R"({"": "/user.slice", "memory": "/m"})");
  o.facts["limits"] = {{"rlimits", o.host_rlimits},
                       {"cgroups", o.host_cgroups}};
  o.facts["seccomp"] = Json::parse(R"({"mode": 0, "filters": 0,
    "attempts": {"unshareUser": "ok", "keyctl": "ok", "ptraceTraceme": "ok",
                 "bpf": "EINVAL: Invalid argument"}})");
  return o;
}

auto Result(const std::string& property, Outcome outcome) {
  return Contains(AllOf(Field(&PropertyResult::property, property),
                        Field(&PropertyResult::outcome, outcome)));
}

Policy DocumentedPolicy() { return *BuiltinProfile("documented"); }

TEST(EvaluateTest, ADocumentedCellPassesEveryProperty) {
  const auto results =
      Evaluate(DefaultSpec(), DocumentedPolicy(), DocumentedFacts(), {});
  EXPECT_THAT(results, Each(Field(&PropertyResult::outcome, Outcome::kPass)));
  // Every property of the registry applies to this spec (Nix, a proxy)
  // but seccomp-coverage (no filter asked).
  EXPECT_EQ(results.size(), Properties().size() - 1);
  EXPECT_TRUE(AllPassed(results));
}

TEST(EvaluateTest, EachObservedPropertyFailsWhenItsFactFlips) {
  struct Case {
    const char* property;
    void (*mutate)(Observation*);
  };
  const Case cases[] = {
      {"pid-namespace", [](Observation* o) { o->facts["ns"]["pid"] = 9; }},
      {"ipc-namespace", [](Observation* o) { o->facts["ns"]["ipc"] = 9; }},
      {"seccomp", [](Observation* o) { o->facts["seccomp"]["mode"] = 2; }},
      {"no-routes",
       [](Observation* o) { o->facts["net"]["ipv4"]["count"] = 1; }},
      {"no-routes",
       [](Observation* o) { o->facts["net"]["interfaces"]["eth0"] = {}; }},
      {"store-read-only",
       [](Observation* o) { o->facts["store"]["mount"]["readOnly"] = false; }},
      {"store-read-only",
       [](Observation* o) { o->facts["store"]["remountWritable"] = "ok"; }},
      {"nix-config",
       [](Observation* o) { o->facts["nix"]["NIX_CONFIG"] = "x"; }},
      {"nix-daemon",
       [](Observation* o) { o->facts["nix"]["daemon"]["handshake"] = false; }},
      {"identity", [](Observation* o) { o->facts["identity"]["uid"] = 0; }},
      {"nix-trust",
       [](Observation* o) {
         o->facts["nix"]["daemon"]["trust"]["trusted"] = true;
       }},
      {"terminal",
       [](Observation* o) { o->facts["terminal"]["sessionLeader"] = false; }},
      {"terminal",
       [](Observation* o) { o->facts["terminal"]["stdinIsCallerTty"] = true; }},
      {"terminal", [](Observation* o) { o->caller_terminal_input = 1; }},
      {"control-files",
       [](Observation* o) {
         o->facts["fs"]["controlWrites"]["/home/cell/log"] = "ok";
       }},
      {"control-files",
       [](Observation* o) {
         o->facts["fs"]["controlRenames"]["/home/cell/worktree/.git"] = "ok";
       }},
      {"bind-sources",
       [](Observation* o) { o->facts["fs"]["worktreeId"] = "2049:78"; }},
      {"sockets",
       [](Observation* o) {
         o->facts["reach"]["sockets"] = {{{"path", "/mnt/docker.sock"}}};
       }},
      {"sockets",
       [](Observation* o) { o->facts["reach"]["abstractCanary"] = "ok"; }},
      {"secrets",
       [](Observation* o) {
         o->facts["reach"]["secretFiles"] = {
             "/home/cell/worktree/.git-credentials"};
       }},
      {"secrets",
       [](Observation* o) {
         o->facts["reach"]["secretVariables"] = {"GITHUB_TOKEN"};
       }},
      {"descriptors",
       [](Observation* o) { o->command_descriptors = {"fd 11 -> /"}; }},
      {"descriptors", [](Observation* o) { o->command_root_ids = {"2049:2"}; }},
      {"descriptors", [](Observation* o) { o->command_cwd_ids = {"2049:3"}; }},
      {"nix-trust",
       [](Observation* o) {
         o->facts["reach"]["sockets"] = Json::parse(
             R"([{"path": "/mnt/nix/socket", "nix": {"handshake": true,
                 "trust": {"trusted": true}}}])");
       }},
      {"kernel-interfaces",
       [](Observation* o) {
         o->facts["reach"]["kernelMounts"] = Json::parse(
             R"([{"mountPoint": "/mnt/sys", "fsType": "proc", "root": "/sys",
                  "readOnly": false, "writeOpen":
                  {"/mnt/sys/kernel/core_pattern": "ok"}}])");
       }},
      {"terminal",
       [](Observation* o) {
         o->facts["reach"]["devices"] = Json::parse(
             R"([{"path": "/mnt/pts/0", "kind": "terminal",
                  "callerTty": true, "open": "ok"}])");
       }},
      {"bind-sources",
       [](Observation* o) {
         o->host_path_problems = {"worktreePath: '/w' is a symlink"};
       }},
      {"capabilities",
       [](Observation* o) { o->facts["caps"]["CapEff"]["count"] = 40; }},
      {"capabilities",
       [](Observation* o) {
         o->facts["caps"]["mountInNewNamespace"]["ok"] = false;
       }},
      {"only-explicit-binds",
       [](Observation* o) {
         o->facts["mounts"]["hostPathsVisible"]["/root"] = true;
       }},
      {"worktree-writable",
       [](Observation* o) { o->facts["fs"]["worktree"]["writable"] = false; }},
      {"mount-flags",
       [](Observation* o) {
         o->facts["mounts"]["mounts"][0]["nosuid"] = false;
       }},
      {"mount-flags",
       [](Observation* o) {
         o->facts["mounts"]["mounts"][0]["nodev"] = false;
       }},
      {"mount-flags",
       [](Observation* o) {
         o->facts["mounts"]["mounts"][2]["propagation"] = "master:1";
       }},
      {"proxy",
       [](Observation* o) { o->facts["net"]["connect"][1]["status"] = 200; }},
      {"proxy-hostile",
       [](Observation* o) { o->facts["net"]["connect"][2]["status"] = 200; }},
      // Upstream asked for the client's Host, not the one judged.
      {"proxy-hostile",
       [](Observation* o) {
         o->facts["net"]["get"][0]["body"] = "zz.invalid";
       }},
      // Routed by the Host header: the request line's host is denied.
      {"proxy-hostile",
       [](Observation* o) {
         o->facts["net"]["get"][1]["status"] = 200;
         o->facts["net"]["get"][1]["body"] = "127.0.0.1:5001";
       }},
      {"proxy",
       [](Observation* o) { o->facts["net"]["connect"][0]["status"] = 403; }},
      {"proxy",
       [](Observation* o) {
         o->facts["net"]["proxyEnv"]["http_proxy"] = "http://127.0.0.1:9";
       }},
      {"root-read-only",
       [](Observation* o) {
         o->facts["fs"]["root"] = {{"writable", false},
                                   {"error", "EROFS: Read-only file system"}};
       }},
      {"rlimits",
       [](Observation* o) {
         o->facts["limits"]["rlimits"]["nofile"]["soft"] = 64;
       }},
      {"rlimits",
       [](Observation* o) { o->facts["limits"]["rlimits"].erase("core"); }},
      {"cgroup-limits",
       [](Observation* o) {
         o->facts["limits"]["cgroups"]["memory"] = "/m/cell-1-2-3";
       }},
      {"cleanup", [](Observation* o) { o->jd_removed = false; }},
      {"cleanup", [](Observation* o) { o->proxy_gone = false; }},
      {"cleanup",
       [](Observation* o) { o->leftover_processes = {"4242 socat"}; }},
      // A second listener in the sandbox that lets the denied canary
      // through (here the first target is allowed: deny it).
      {"proxy-hostile",
       [](Observation* o) {
         o->expected_connect_statuses[0] = 403;
         o->facts["net"]["connect"][0]["status"] = 403;
         o->facts["net"]["listeners"].push_back({{"address", "127.0.0.1"},
                                                 {"port", 1080},
                                                 {"named", true},
                                                 {"http", "x"},
                                                 {"socks5", "granted"}});
       }},
      // The host's own reading of the command's /proc wins over a probe
      // that a fake /proc fooled.
      {"no-routes",
       [](Observation* o) {
         o->command_network = Json::parse(
             R"({"interfaces": ["lo", "veth0"], "ipv4Routes": 2,
                 "ipv4Default": true, "ipv6Default": false})");
       }},
      {"namespaces",
       [](Observation* o) {
         o->command_namespaces = {{"net", 3}};
       }},
      {"pid-namespace",
       [](Observation* o) {
         o->command_namespaces = {{"pid", 99}};
       }},
      {"terminal", [](Observation* o) { o->command_in_caller_session = true; }},
      {"cgroup-limits",
       [](Observation* o) {
         o->command_cgroups = Json::parse(R"({"": "/other"})");
       }},
  };
  for (const Case& c : cases) {
    Observation o = DocumentedFacts();
    c.mutate(&o);
    const auto results = Evaluate(DefaultSpec(), DocumentedPolicy(), o, {});
    EXPECT_THAT(results, Result(c.property, Outcome::kFail)) << c.property;
    EXPECT_FALSE(AllPassed(results));
  }
}

TEST(EvaluateTest, PathsTheSpecBindsAreNotLeaks) {
  CellSpec spec = DefaultSpec();
  spec.mounts = {{MountType::kRoBind, "/etc", "/etc"}};
  Observation o = DocumentedFacts();
  o.facts["mounts"]["hostPathsVisible"]["/etc/shadow"] = true;
  EXPECT_THAT(Evaluate(spec, DocumentedPolicy(), o, {}),
              Result("only-explicit-binds", Outcome::kPass));
  o.facts["mounts"]["hostPathsVisible"]["/root"] = true;
  EXPECT_THAT(Evaluate(spec, DocumentedPolicy(), o, {}),
              Result("only-explicit-binds", Outcome::kFail));
}

// A walk cut short, or a directory the cell can pass through but not
// list, leaves what the walk judges unknown: an error naming why, never a
// pass (a deep tree or a 0711 directory must not hide a socket).
TEST(EvaluateTest, AnIncompleteWalkIsAnErrorNotAPass) {
  for (const auto& [key, value] :
       {std::pair{"/truncated", Json(true)},
        std::pair{"/unlistable", Json::array({"/srv/xdir/inner"})}}) {
    Observation o = DocumentedFacts();
    o.facts["reach"][Json::json_pointer(key)] = value;
    const auto results = Evaluate(DefaultSpec(), DocumentedPolicy(), o, {});
    for (const char* property :
         {"sockets", "nix-trust", "secrets", "terminal", "kernel-interfaces"}) {
      EXPECT_THAT(results, Result(property, Outcome::kError))
          << key << " " << property;
    }
    EXPECT_FALSE(AllPassed(results));
  }
}

// cell-verify in a container (podman's default seccomp profile): every
// process it starts inherits that filter, a cell without one of its own
// included. Mode 2 is then what such a cell shows; mode 0 cannot happen.
TEST(EvaluateTest, AnOuterSeccompFilterIsInherited) {
  Observation o = DocumentedFacts();
  o.host_seccomp_filter = true;
  o.facts["seccomp"]["mode"] = 2;
  const auto results = Evaluate(DefaultSpec(), DocumentedPolicy(), o, {});
  EXPECT_THAT(results,
              Contains(AllOf(
                  Field(&PropertyResult::property, "seccomp"),
                  Field(&PropertyResult::outcome, Outcome::kPass),
                  Field(&PropertyResult::expected, HasSubstr("inherited")))));
  o.facts["seccomp"]["mode"] = 0;
  EXPECT_THAT(Evaluate(DefaultSpec(), DocumentedPolicy(), o, {}),
              Result("seccomp", Outcome::kFail));
}

TEST(EvaluateTest, ExpectationsFollowTheSpec) {
  CellSpec spec = DefaultSpec();
  spec.isolation = {true, true, Capabilities::kNone, true, true};
  // The documented-default facts now contradict the spec.
  auto results = Evaluate(spec, DocumentedPolicy(), DocumentedFacts(), {});
  EXPECT_THAT(results, Result("pid-namespace", Outcome::kFail));
  EXPECT_THAT(results, Result("ipc-namespace", Outcome::kFail));
  EXPECT_THAT(results, Result("capabilities", Outcome::kFail));
  EXPECT_THAT(results, Result("seccomp", Outcome::kFail));
  Observation hardened = DocumentedFacts();
  hardened.facts["ns"]["pid"] = 11;
  hardened.facts["ns"]["ipc"] = 12;
  hardened.facts["caps"] = Json::parse(R"({"CapEff": {"count": 0},
    "mountInNewNamespace": {"ok": false}, "setLoopbackFlags": {"ok": false}})");
  hardened.facts["fs"]["root"] = {{"writable", false},
                                  {"error", "EROFS: Read-only file system"}};
  hardened.facts["seccomp"] = Json::parse(R"({"mode": 2, "filters": 1,
    "attempts": {"unshareUser": "EPERM: Operation not permitted",
                 "keyctl": "EPERM: Operation not permitted"},
    "coverage": {"unshare": "EPERM: Operation not permitted",
                 "clone3": "ENOSYS: Function not implemented"},
    "otherAbis": {"i386": "SIGSYS", "x32": "SIGSYS"},
    "threadMode": "2"})");
  results = Evaluate(spec, DocumentedPolicy(), hardened, {});
  EXPECT_TRUE(AllPassed(results));
  // A filter that lets one route through is a failure naming it.
  hardened.facts["seccomp"]["attempts"]["bpf"] = "EINVAL: Invalid argument";
  EXPECT_THAT(Evaluate(spec, DocumentedPolicy(), hardened, {}),
              Contains(AllOf(Field(&PropertyResult::property, "seccomp"),
                             Field(&PropertyResult::outcome, Outcome::kFail),
                             Field(&PropertyResult::observed,
                                   HasSubstr("allowed: bpf")))));
  hardened.facts["seccomp"]["attempts"].erase("bpf");
  // So does any route the coverage finds reaching the kernel, another ABI
  // that runs, or an unfiltered thread.
  for (const auto& [key, value] :
       {std::pair{"/coverage/io_uring_setup", Json("EFAULT: Bad address")},
        std::pair{"/otherAbis/x32", Json("returned")},
        std::pair{"/threadMode", Json("0")}}) {
    Observation leaky = hardened;
    leaky.facts["seccomp"][Json::json_pointer(key)] = value;
    EXPECT_THAT(Evaluate(spec, DocumentedPolicy(), leaky, {}),
                Result("seccomp-coverage", Outcome::kFail))
        << key;
  }
  // Without Nix and without a proxy those properties are not judged.
  spec.nix = false;
  spec.network.mode = NetworkMode::kNone;
  results = Evaluate(spec, DocumentedPolicy(), hardened, {});
  // Three Nix properties (store, config, daemon) and the proxy's two; the
  // filter is on, so seccomp-coverage is judged.
  EXPECT_EQ(results.size(), Properties().size() - 5);
}

TEST(EvaluateTest, LimitsAreJudgedByPathAndByEffect) {
  CellSpec spec = DefaultSpec();
  spec.isolation.read_only_root = true;
  spec.limits.rlimits = {{"nofile", 64}};
  spec.limits.pids_max = 20;
  spec.limits.memory_max = 64 << 20;
  EXPECT_EQ(ForkTestCount(spec), 28);
  EXPECT_EQ(MemoryTestMiB(spec), 136);
  Observation o = DocumentedFacts();
  auto results = Evaluate(spec, DocumentedPolicy(), o, {});
  EXPECT_THAT(results, Result("root-read-only", Outcome::kFail));
  EXPECT_THAT(results, Result("rlimits", Outcome::kFail));
  EXPECT_THAT(results, Result("cgroup-limits", Outcome::kFail));

  o.facts["fs"]["root"] = {{"writable", false},
                           {"error", "EROFS: Read-only file system"}};
  o.facts["limits"]["rlimits"]["nofile"] = {{"soft", 64}, {"hard", 64}};
  o.facts["limits"]["cgroups"] = {{"", "/user.slice"},
                                  {"memory", "/m/cell-1-2-3"},
                                  {"pids", "/cell-1-2-3"}};
  o.facts["limits"]["forkTest"] = {{"tried", 28}, {"started", 19}};
  o.facts["limits"]["memoryTest"] = {
      {"triedMiB", 136}, {"touchedMiB", 63}, {"signal", 9}};
  results = Evaluate(spec, DocumentedPolicy(), o, {});
  EXPECT_TRUE(AllPassed(results));

  // Each bound that does not hold is a failure.
  for (const auto& mutate : std::vector<void (*)(Json*)>{
           [](Json* l) { (*l)["forkTest"]["started"] = 28; },
           [](Json* l) { (*l)["memoryTest"]["touchedMiB"] = 136; },
           [](Json* l) { (*l)["memoryTest"]["signal"] = nullptr; },
           [](Json* l) { (*l)["cgroups"]["pids"] = "/"; },
           [](Json* l) { (*l).erase("memoryTest"); }}) {
    Observation changed = o;
    mutate(&changed.facts["limits"]);
    EXPECT_THAT(Evaluate(spec, DocumentedPolicy(), changed, {}),
                Result("cgroup-limits", Outcome::kFail));
  }
  // Bounds too large to test cheaply are judged by the cgroup path.
  spec.limits.pids_max = 100000;
  spec.limits.memory_max = uint64_t{8} << 30;
  EXPECT_EQ(ForkTestCount(spec), 0);
  EXPECT_EQ(MemoryTestMiB(spec), 0);
  o.facts["limits"].erase("forkTest");
  o.facts["limits"].erase("memoryTest");
  EXPECT_TRUE(AllPassed(Evaluate(spec, DocumentedPolicy(), o, {})));
}

TEST(EvaluateTest, MissingFactsAreErrorsNotPasses) {
  Observation o = DocumentedFacts();
  o.facts.erase("caps");
  const auto results = Evaluate(DefaultSpec(), DocumentedPolicy(), o, {});
  EXPECT_THAT(results, Result("capabilities", Outcome::kError));
  EXPECT_FALSE(AllPassed(results));
}

TEST(EvaluateTest, SeverityTurnsFailuresIntoWarningsOrNothing) {
  Policy policy = DocumentedPolicy();
  policy.severity["cleanup"] = Severity::kWarn;
  policy.severity["proxy"] = Severity::kOff;
  Observation o = DocumentedFacts();
  o.jd_removed = false;
  o.facts["net"]["connect"][1]["status"] = 200;
  const auto results = Evaluate(DefaultSpec(), policy, o, {});
  EXPECT_THAT(results, Result("cleanup", Outcome::kWarn));
  EXPECT_THAT(results, Result("proxy", Outcome::kOff));
  EXPECT_TRUE(AllPassed(results));
}

TEST(EvaluateTest, StaticFindingsGroupByProperty) {
  const std::vector<Finding> findings = {
      {"isolation-policy", FindingLevel::kFail, "set --pid-namespace"},
      {"filter-policy", FindingLevel::kWarn, "f:1 is not anchored"}};
  const auto results = EvaluateStatic(DocumentedPolicy(), findings);
  EXPECT_EQ(results.size(), 5u);
  EXPECT_THAT(results, Result("isolation-policy", Outcome::kFail));
  EXPECT_THAT(results, Result("filter-policy", Outcome::kWarn));
  EXPECT_THAT(results, Result("env-policy", Outcome::kPass));
  EXPECT_THAT(results, Contains(Field(&PropertyResult::message,
                                      HasSubstr("set --pid-namespace"))));
  EXPECT_FALSE(AllPassed(results));
}

// Host root (a root launcher without hostUser) warns in the documented
// profile and fails agent-strict; a writable host sysctl or readable
// kernel memory fails both.
TEST(EvaluateTest, HostRootAndKernelInterfacesAreJudged) {
  const CellSpec spec = DefaultSpec();
  Observation root = DocumentedFacts();
  root.facts["identity"]["uidMap"] = Json::parse("[[1000, 0, 1]]");
  EXPECT_THAT(Evaluate(spec, DocumentedPolicy(), root, {}),
              Result("host-identity", Outcome::kWarn));
  EXPECT_THAT(Evaluate(spec, *BuiltinProfile("agent-strict"), root, {}),
              Result("host-identity", Outcome::kFail));
  for (const char* broken : {
           R"({"writeOpen": {"/proc/sys/kernel/core_pattern": "ok"},
               "read": {}, "kallsyms": "zeros"})",
           R"({"writeOpen": {}, "read": {"/proc/kcore": 4096},
               "kallsyms": "zeros"})",
           R"({"writeOpen": {}, "read": {}, "kallsyms": "real"})"}) {
    Observation o = DocumentedFacts();
    o.facts["kernel"] = Json::parse(broken);
    EXPECT_THAT(Evaluate(spec, DocumentedPolicy(), o, {}),
                Result("kernel-interfaces", Outcome::kFail))
        << broken;
  }
}

// A cell that shares the host's network (or user, or mount) namespace is
// not jailed; the report names every shared namespace.
TEST(EvaluateTest, SharedJailNamespacesFailAndAreNamed) {
  Observation o = DocumentedFacts();
  const auto pass = Evaluate(DefaultSpec(), DocumentedPolicy(), o, {});
  EXPECT_THAT(pass, Result("namespaces", Outcome::kPass));
  EXPECT_THAT(
      pass,
      Contains(AllOf(Field(&PropertyResult::property, "namespaces"),
                     Field(&PropertyResult::observed, HasSubstr("pid, ipc")))));
  o.facts["ns"]["net"] = 3;  // The host's.
  EXPECT_THAT(Evaluate(DefaultSpec(), DocumentedPolicy(), o, {}),
              Result("namespaces", Outcome::kFail));
}

// A rule that reports a property the registry does not know (a typo) is
// shown as an error, never dropped.
TEST(EvaluateTest, AFindingForNoPropertyIsAnError) {
  const auto results = EvaluateStatic(
      DocumentedPolicy(), {{"fliter-policy", FindingLevel::kFail, "typo"}});
  EXPECT_THAT(results, Result("fliter-policy", Outcome::kError));
  EXPECT_FALSE(AllPassed(results));
}

// Near-identical findings are one entry: the private hosts a filter line
// lets through differ only in the quoted host.
TEST(EvaluateTest, NearIdenticalFindingsAreGrouped) {
  const std::vector<Finding> findings = {
      {"filter-policy", FindingLevel::kWarn,
       "f:2 '^a' is not anchored (^...$); anchor it"},
      {"filter-policy", FindingLevel::kFail,
       "private or metadata address 'localhost' is allowed by f:1 '.*'"},
      {"filter-policy", FindingLevel::kFail,
       "private or metadata address '127.0.0.1' is allowed by f:1 '.*'"},
      {"filter-policy", FindingLevel::kFail,
       "private or metadata address 'localhost' is allowed by f:1 '.*'"},
      {"filter-policy", FindingLevel::kFail,
       "mustAllow host 'github.com' is denied: no line of f matches it"}};
  const std::vector<FindingEntry> entries =
      GroupFindings(findings, /*as_warnings=*/false);
  ASSERT_EQ(entries.size(), 3u);
  // Failures first, each group in the order found.
  EXPECT_EQ(entries[0].id, "filter-policy.private-or-metadata-address-is");
  EXPECT_EQ(entries[0].severity, "fail");
  EXPECT_EQ(entries[0].count, 3);
  EXPECT_EQ(entries[0].message,
            "private or metadata address 'localhost', '127.0.0.1' is allowed "
            "by f:1 '.*'");
  EXPECT_EQ(entries[1].id, "filter-policy.mustallow-host-is-denied-no");
  EXPECT_EQ(entries[1].count, 1);
  EXPECT_EQ(entries[1].message, findings[4].message);
  EXPECT_EQ(entries[2].id, "filter-policy.is-not-anchored-anchor-it");
  EXPECT_EQ(entries[2].severity, "warn");
  EXPECT_EQ(entries[2].field, "");

  // A policy that downgrades the property downgrades every entry.
  for (const FindingEntry& entry : GroupFindings(findings, true)) {
    EXPECT_EQ(entry.severity, "warn") << entry.id;
  }
}

// An apostrophe inside a word is no quote; a field in backquotes names the
// entry; different fields or flags are never grouped; equal slugs get a
// suffix.
TEST(EvaluateTest, FindingIdsAndFields) {
  Finding a{"env-policy", FindingLevel::kFail,
            "`env.GH_TOKEN` matches the forbidden name '*_TOKEN'; pass it by "
            "reference"};
  a.field = "env.GH_TOKEN";
  Finding b = a;
  b.message =
      "`env.NPM_TOKEN` matches the forbidden name '*_TOKEN'; pass it "
      "by reference";
  b.field = "env.NPM_TOKEN";
  const Finding c{"isolation-policy", FindingLevel::kFail,
                  "the cell shares the host's PID namespace; it's bad; set "
                  "isolation.pidNamespace: true (--pid-namespace)"};
  std::vector<FindingEntry> entries = GroupFindings({a, b}, false);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].id,
            "env-policy.env-gh-token-matches-forbidden-name-pass");
  EXPECT_EQ(entries[0].field, "env.GH_TOKEN");
  EXPECT_EQ(entries[1].id,
            "env-policy.env-npm-token-matches-forbidden-name-pass");
  entries = GroupFindings({c, c}, false);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].id, "isolation-policy.cell-shares-hosts-pid-namespace");
  EXPECT_EQ(entries[0].count, 2);
  EXPECT_EQ(entries[0].message, c.message);
  Finding d = c;
  d.message = "the cell shares the host's IPC namespace";
  entries = GroupFindings({c, d}, false);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].id, "isolation-policy.cell-shares-hosts-ipc-namespace");
  d.message = "the cell shares the host's PID namespace, twice";
  entries = GroupFindings({c, d}, false);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].id,
            "isolation-policy.cell-shares-hosts-pid-namespace-2");
}

// Each static result carries its findings; dynamic and "off" ones none.
TEST(EvaluateTest, StaticResultsListTheirFindings) {
  Policy policy = DocumentedPolicy();
  policy.severity["env-policy"] = Severity::kOff;
  const std::vector<Finding> findings = {
      {"isolation-policy", FindingLevel::kFail, "set --pid-namespace"},
      {"env-policy", FindingLevel::kFail, "`env.X` is forbidden"},
      {"fliter-policy", FindingLevel::kFail, "typo"}};
  const auto results =
      Evaluate(DefaultSpec(), policy, DocumentedFacts(), findings);
  for (const PropertyResult& result : results) {
    SCOPED_TRACE(result.property);
    if (result.property == "isolation-policy" ||
        result.property == "fliter-policy") {
      ASSERT_EQ(result.findings.size(), 1u);
      EXPECT_EQ(result.findings[0].severity, "fail");
      EXPECT_EQ(result.findings[0].count, 1);
    } else {
      EXPECT_THAT(result.findings, ::testing::IsEmpty());
    }
  }
}

// Without a proxy, a listener in the sandbox that reaches the host's
// loopback is a way out (found in review: a bridge nobody named).
TEST(EvaluateTest, AListenerReachingTheHostIsARouteWithoutAProxy) {
  CellSpec spec = DefaultSpec();
  spec.network.mode = NetworkMode::kNone;
  Observation o = DocumentedFacts();
  o.facts["net"]["listeners"] = Json::array();
  EXPECT_THAT(Evaluate(spec, DocumentedPolicy(), o, {}),
              Result("no-routes", Outcome::kPass));
  // Any listener no proxy variable names (found in review, round 9: a
  // forward to a host service lets no canary through; a bridge on
  // 127.0.0.2, on [::1], on an abstract socket).
  for (const char* listener :
       {R"({"address": "127.0.0.2", "port": 3999, "named": false,
            "http": 403, "socks5": "x"})",
        R"({"abstract": "@proxy", "named": false})"}) {
    o.facts["net"]["listeners"] = Json::array();
    o.facts["net"]["listeners"].push_back(Json::parse(listener));
    const auto judged = Evaluate(spec, DocumentedPolicy(), o, {});
    EXPECT_THAT(judged, Result("no-routes", Outcome::kFail))
        << listener << "\n"
        << std::find_if(judged.begin(), judged.end(),
                        [](const PropertyResult& r) {
                          return r.property == "no-routes";
                        })
               ->observed;
  }
  // Without a proxy, a named one that reaches the host is a way out too.
  o.facts["net"]["listeners"] = Json::parse(
      R"([{"address": "::1", "port": 3999, "named": true, "http": 200}])");
  const auto results = Evaluate(spec, DocumentedPolicy(), o, {});
  EXPECT_THAT(results, Result("no-routes", Outcome::kFail));
  EXPECT_THAT(results, Contains(Field(&PropertyResult::observed,
                                      HasSubstr("::1 port 3999 (http)"))));
  // Proxied: the named proxy is judged by proxy-hostile; more listeners
  // than the probe checks fail.
  Observation named = DocumentedFacts();
  EXPECT_THAT(Evaluate(DefaultSpec(), DocumentedPolicy(), named, {}),
              Result("no-routes", Outcome::kPass));
  named.facts["net"]["listenersCut"] = true;
  EXPECT_THAT(Evaluate(DefaultSpec(), DocumentedPolicy(), named, {}),
              Result("no-routes", Outcome::kFail));
}

// A spelling the proxy never answered (it was not listening yet) was not
// judged: an error, never a vacuous pass. With no proxy variable at all
// there is no proxy to get through: `proxy` fails, proxy-hostile passes.
TEST(EvaluateTest, AnUnansweredCanaryIsAnErrorUnlessThereIsNoProxy) {
  Observation o = DocumentedFacts();
  o.facts["net"]["connect"][2] = {{"target", "2130706433:5000"},
                                  {"error", "ECONNREFUSED: x"}};
  EXPECT_THAT(Evaluate(DefaultSpec(), DocumentedPolicy(), o, {}),
              Result("proxy-hostile", Outcome::kError));
  o.facts["net"]["proxyEnv"] = {{"http_proxy", nullptr}};
  for (Json& connect : o.facts["net"]["connect"]) {
    connect = {{"target", connect["target"]}, {"error", "no proxy"}};
  }
  for (Json& get : o.facts["net"]["get"]) {
    get = {{"target", get["target"]}, {"error", "no proxy"}};
  }
  const auto results = Evaluate(DefaultSpec(), DocumentedPolicy(), o, {});
  EXPECT_THAT(results, Result("proxy-hostile", Outcome::kPass));
  EXPECT_THAT(results, Result("proxy", Outcome::kFail));
}

// A foreign sandbox (cell-verify --sandbox): what the policy requires, from
// facts and the host only; the static properties off, never a pass.
TEST(EvaluateTest, AForeignSandboxIsJudgedByFactsAndItsStaticPropertiesAreOff) {
  Observation o = DocumentedFacts();
  o.foreign_sandbox = true;
  // Its own proxy URL, in the upper-case variable only.
  o.facts["net"]["proxyEnv"] = {{"HTTPS_PROXY", "http://localhost:40000"}};
  // A sandbox of host uid 1000 that maps it 1:1.
  CellSpec reference = DefaultSpec();
  const auto results = EvaluateSandbox(reference, DocumentedPolicy(), o);
  for (const char* property : {"filter-policy", "mount-policy", "env-policy",
                               "isolation-policy", "nix-policy"}) {
    EXPECT_THAT(results, Result(property, Outcome::kOff)) << property;
  }
  for (const char* property : {"proxy", "identity", "cleanup", "namespaces"}) {
    EXPECT_THAT(results, Result(property, Outcome::kPass)) << property;
  }
  EXPECT_TRUE(AllPassed(results));

  // Identity: 1:1 whatever the host user; root inside is not.
  Observation root = o;
  root.facts["identity"]["uid"] = 0;
  root.facts["identity"]["uidMap"] = Json::parse("[[0, 1000, 1]]");
  EXPECT_THAT(EvaluateSandbox(reference, DocumentedPolicy(), root),
              Result("identity", Outcome::kFail));
  // No proxy in any variable: the proxy property fails.
  Observation unproxied = o;
  unproxied.facts["net"]["proxyEnv"] = Json::object();
  EXPECT_THAT(EvaluateSandbox(reference, DocumentedPolicy(), unproxied),
              Result("proxy", Outcome::kFail));
  // Limits: lowered is fine, raised is not; what the policy requires must
  // be bounded (found in review: they passed with no sandbox at all).
  Observation limits = o;
  limits.facts["limits"]["rlimits"]["nofile"] = {{"soft", 64}, {"hard", 64}};
  EXPECT_THAT(EvaluateSandbox(reference, DocumentedPolicy(), limits),
              Result("rlimits", Outcome::kPass));
  limits.facts["limits"]["rlimits"]["nofile"] = {{"soft", 1024},
                                                 {"hard", nullptr}};
  EXPECT_THAT(EvaluateSandbox(reference, DocumentedPolicy(), limits),
              Result("rlimits", Outcome::kFail));
  Observation required = o;
  required.required_limits = {"core", "memoryMax"};
  const auto unbounded =
      EvaluateSandbox(reference, DocumentedPolicy(), required);
  EXPECT_THAT(unbounded, Result("rlimits", Outcome::kFail));
  EXPECT_THAT(unbounded, Result("cgroup-limits", Outcome::kFail));
  required.facts["limits"]["rlimits"]["core"] = {{"soft", 0}, {"hard", 0}};
  required.command_cgroups = Json::parse(R"({"": "/user.slice",
                                             "memory": "/m/sandbox-1"})");
  const auto bounded = EvaluateSandbox(reference, DocumentedPolicy(), required);
  EXPECT_THAT(bounded, Result("rlimits", Outcome::kPass));
  EXPECT_THAT(bounded, Result("cgroup-limits", Outcome::kPass));
  // Cleanup: what outlived it.
  Observation leftover = o;
  leftover.leftover_processes = {"77 tinyproxy"};
  const auto left = EvaluateSandbox(reference, DocumentedPolicy(), leftover);
  EXPECT_THAT(left, Result("cleanup", Outcome::kFail));
  EXPECT_THAT(left, Contains(Field(&PropertyResult::observed,
                                   HasSubstr("LEFT RUNNING: 77 tinyproxy"))));
}

}  // namespace
}  // namespace cell::policy
