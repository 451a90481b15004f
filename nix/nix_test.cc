// The Nix side (nix/*.nix) against Debian's nix-instantiate and the built
// launcher. Evaluation uses the `dummy://` store, builds a nix-daemon on a
// private store: nothing is written to /nix or to the host's Nix state.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/subprocess.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "testing/nix_daemon.h"
#include "testing/runfiles.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace cell::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Optional;
using ::testing::StartsWith;
using Json = nlohmann::json;

std::vector<std::string> FilesIn(const std::string& dir,
                                 const std::string& suffix) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* entry = readdir(d)) {
    const std::string name = entry->d_name;
    if (absl::EndsWith(name, suffix)) names.push_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

class NixTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(cell_, RunfilePath("launcher/cell"));
    ASSERT_OK_AND_ASSIGN(std::string flake, RunfilePath("nix/flake.nix"));
    nix_dir_ = flake.substr(0, flake.rfind('/'));
    ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create());
    dir_.emplace(std::move(dir));
    ASSERT_EQ(mkdir(dir_->Path("home").c_str(), 0755), 0);
    ASSERT_EQ(mkdir(dir_->Path("conf").c_str(), 0755), 0);
  }

  // nix-instantiate ARGS with a private HOME and config (no /etc/nix).
  absl::StatusOr<SubprocessResult> NixInstantiate(
      const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"nix-instantiate", "--store", "dummy://"};
    argv.insert(argv.end(), args.begin(), args.end());
    SubprocessOptions options;
    options.env = std::vector<std::string>{
        "PATH=/usr/bin:/bin", absl::StrCat("HOME=", dir_->Path("home")),
        absl::StrCat("NIX_CONF_DIR=", dir_->Path("conf"))};
    options.cwd = dir_->path();
    return RunSubprocess(argv, options);
  }

  // `--eval --strict --json` of ARGS, parsed.
  Json Eval(const std::vector<std::string>& args) {
    std::vector<std::string> full = {"--eval", "--strict", "--json"};
    full.insert(full.end(), args.begin(), args.end());
    absl::StatusOr<SubprocessResult> result = NixInstantiate(full);
    EXPECT_THAT(result.status(), IsOk());
    if (!result.ok()) return Json();
    EXPECT_THAT(result->exit_code, Optional(0)) << result->stderr_text;
    return Json::parse(result->stdout_text, nullptr, false);
  }

  std::string Nix(const std::string& relative) const {
    return absl::StrCat(nix_dir_, "/", relative);
  }

  std::string cell_;
  std::string nix_dir_;
  std::optional<TempDir> dir_;
};

TEST_F(NixTest, EveryNixFileParses) {
  int parsed = 0;
  for (const std::string& dir : {nix_dir_, Nix("tests")}) {
    for (const std::string& name : FilesIn(dir, ".nix")) {
      ASSERT_OK_AND_ASSIGN(
          SubprocessResult result,
          NixInstantiate({"--parse", absl::StrCat(dir, "/", name)}));
      EXPECT_THAT(result.exit_code, Optional(0))
          << name << ": " << result.stderr_text;
      ++parsed;
    }
  }
  // flake, lib, package, spec, combinators; cases, errors, contract,
  // stand-in-pkgs, mkcell-build.
  EXPECT_GE(parsed, 10);
}

TEST_F(NixTest, SpecGeneratorGivesExactlyTheExpectedSpecs) {
  const Json names = Eval({"-E", absl::StrCat("builtins.attrNames (import ",
                                              Nix("tests/cases.nix"), ")")});
  std::set<std::string> expected_files;
  for (const std::string& file : FilesIn(Nix("tests/expected"), ".json")) {
    expected_files.insert(file.substr(0, file.size() - 5));
  }
  ASSERT_EQ(std::set<std::string>(names.begin(), names.end()), expected_files);
  ASSERT_GE(expected_files.size(), 4u);
  for (const std::string& name : expected_files) {
    const Json generated = Eval({"-A", name, Nix("tests/cases.nix")});
    const Json expected = Json::parse(
        ReadHostFile(Nix(absl::StrCat("tests/expected/", name, ".json"))));
    EXPECT_EQ(generated, expected) << name << "\n" << generated.dump(2);
  }
}

// Every expected spec is one the launcher reads: `cell pack
// --unchecked-paths` validates everything but host paths (which are the
// example's, not this machine's) and embeds it.
TEST_F(NixTest, GeneratedSpecsAreSpecsTheLauncherReads) {
  for (const std::string& file : FilesIn(Nix("tests/expected"), ".json")) {
    // Runfiles are symlinks, which the launcher does not follow.
    char real[PATH_MAX];
    ASSERT_NE(realpath(Nix("tests/expected/" + file).c_str(), real), nullptr);
    ASSERT_OK_AND_ASSIGN(
        SubprocessResult packed,
        RunSubprocess({cell_, "pack", absl::StrCat("--spec=", real),
                       absl::StrCat("--output=", dir_->Path("packed")),
                       "--unchecked-paths"}));
    EXPECT_THAT(packed.exit_code, Optional(0))
        << file << ": " << packed.stderr_text;
  }
}

TEST_F(NixTest, BadParametersAreRefusedSayingWhy) {
  const Json names = Eval({"-E", absl::StrCat("builtins.attrNames (import ",
                                              Nix("tests/errors.nix"), ")")});
  ASSERT_GE(names.size(), 8u);
  for (const std::string name : names) {
    const Json message =
        Eval({"-A", name + ".message", Nix("tests/errors.nix")});
    ASSERT_OK_AND_ASSIGN(
        SubprocessResult result,
        NixInstantiate({"--eval", "--strict", "--json", "-A", name + ".expr",
                        Nix("tests/errors.nix")}));
    EXPECT_THAT(result.exit_code, Optional(1)) << name;
    EXPECT_THAT(result.stderr_text, HasSubstr(message.get<std::string>()))
        << name;
  }
}

// The contract: a spec from spec.nix, for real paths on this host, is
// accepted by `cell check-spec` and launches a real cell (directly, and
// packed as mkCell packs it), in which every combinator did its part and
// `nix` reaches the configured daemon through NIX_REMOTE.
TEST_F(NixTest, GeneratedSpecLaunchesARealCell) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<NixDaemon> daemon,
                       NixDaemon::Start(dir_->Path("nix")));
  ASSERT_EQ(mkdir(dir_->Path("wt").c_str(), 0755), 0);
  // The daemon trusts host root: this root-run test's cell runs as nobody.
  ASSERT_EQ(chown(dir_->Path("wt").c_str(), 65534, 65534), 0);
  std::ofstream(dir_->Path("token")) << "s3cret";
  std::ofstream(dir_->Path("registry.json"))
      << R"({"version": 2, "flakes": []})";
  std::ofstream(dir_->Path("bundle.crt")) << "-----BEGIN CERTIFICATE-----\n";
  const Json spec = Eval({Nix("tests/contract.nix"),
                          "--argstr",
                          "worktree",
                          dir_->Path("wt"),
                          "--argstr",
                          "store",
                          daemon->store_dir(),
                          "--argstr",
                          "daemon",
                          daemon->socket_dir(),
                          "--argstr",
                          "secret",
                          dir_->Path("token"),
                          "--argstr",
                          "registry",
                          dir_->Path("registry.json"),
                          "--argstr",
                          "bundle",
                          dir_->Path("bundle.crt"),
                          "--argstr",
                          "hostUser",
                          "nobody"});
  ASSERT_TRUE(spec.is_object());
  const std::string spec_file = dir_->Path("spec.json");
  std::ofstream(spec_file) << spec.dump(2);

  ASSERT_OK_AND_ASSIGN(
      SubprocessResult checked,
      RunSubprocess({cell_, "check-spec", absl::StrCat("--spec=", spec_file)}));
  ASSERT_THAT(checked.exit_code, Optional(0)) << checked.stderr_text;

  SubprocessOptions options;
  options.env = std::vector<std::string>{"PATH=/usr/bin:/bin",
                                         absl::StrCat("TMPDIR=", dir_->path())};
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult run,
      RunSubprocess({cell_, "run", absl::StrCat("--spec=", spec_file)},
                    options));
  EXPECT_THAT(run.exit_code, Optional(0)) << run.stderr_text;
  EXPECT_THAT(run.stdout_text, HasSubstr("contract-ok"));

  ASSERT_OK_AND_ASSIGN(
      SubprocessResult packed,
      RunSubprocess({cell_, "pack", absl::StrCat("--spec=", spec_file),
                     absl::StrCat("--output=", dir_->Path("contract-cell")),
                     "--unchecked-paths"}));
  ASSERT_THAT(packed.exit_code, Optional(0)) << packed.stderr_text;
  ASSERT_OK_AND_ASSIGN(SubprocessResult packed_run,
                       RunSubprocess({dir_->Path("contract-cell")}, options));
  EXPECT_THAT(packed_run.exit_code, Optional(0)) << packed_run.stderr_text;
  EXPECT_THAT(packed_run.stdout_text, HasSubstr("contract-ok"));
}

// The flake's mkCell built for real and run. nixpkgs cannot be downloaded
// here, so `nix build` of the flake never builds it; this builds the real
// lib.nix's mkCell with only `pkgs` stood in for (tests/stand-in-pkgs.nix)
// and the Bazel-built launcher as `cell` (tests/mkcell-build.nix), by
// nix-build through a nix-daemon on a private store. What mkCell produced
// must launch its cell, carry the spec it names as passthru.specFile, and
// pass cell-verify's documented profile on that spec.
TEST_F(NixTest, MkCellBuildsACellThatRunsAndPassesCellVerify) {
  // Whatever the host had, the build must not add /nix.
  const bool host_had_nix = access("/nix", F_OK) == 0;
  ASSERT_OK_AND_ASSIGN(const std::string verify,
                       RunfilePath("policy/cell-verify"));
  ASSERT_OK_AND_ASSIGN(const std::string probe,
                       RunfilePath("probes/cell-probe"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<NixDaemon> daemon,
                       NixDaemon::Start(dir_->Path("nix")));
  // The daemon trusts host root: this root-run test's cell runs as nobody.
  ASSERT_EQ(mkdir(dir_->Path("wt").c_str(), 0755), 0);
  ASSERT_EQ(chown(dir_->Path("wt").c_str(), 65534, 65534), 0);
  // The runfile is a symlink; the store gets the file it points to.
  char launcher[PATH_MAX];
  ASSERT_NE(realpath(cell_.c_str(), launcher), nullptr);
  for (const char* sub : {"client-state", "client-log"}) {
    ASSERT_EQ(mkdir(dir_->Path(sub).c_str(), 0755), 0);
  }

  // nix-build of one attribute, through the daemon. The client names the
  // daemon's store (store paths depend on it) and keeps its own state and
  // config in the test's directory, never /nix or /etc/nix.
  const std::string store = daemon->store_dir();
  auto build = [&](const std::string& attribute) {
    SubprocessOptions options;
    options.env = std::vector<std::string>{
        "PATH=/usr/bin:/bin",
        absl::StrCat("HOME=", dir_->Path("home")),
        "NIX_REMOTE=daemon",
        absl::StrCat("NIX_DAEMON_SOCKET_PATH=", daemon->socket_dir(),
                     "/socket"),
        absl::StrCat("NIX_STORE_DIR=", store),
        absl::StrCat("NIX_STATE_DIR=", dir_->Path("client-state")),
        absl::StrCat("NIX_LOG_DIR=", dir_->Path("client-log")),
        absl::StrCat("NIX_CONF_DIR=", dir_->Path("conf"))};
    options.cwd = dir_->path();
    options.timeout = absl::Minutes(3);
    return RunSubprocess(
        {"nix-build", Nix("tests/mkcell-build.nix"), "--no-out-link", "-A",
         attribute, "--argstr", "launcher", launcher, "--argstr", "worktree",
         dir_->Path("wt"), "--argstr", "store", store, "--argstr", "daemon",
         daemon->socket_dir()},
        options);
  };
  std::map<std::string, std::string> out;
  for (const std::string attribute : {"packed", "specFile", "cell"}) {
    ASSERT_OK_AND_ASSIGN(SubprocessResult built, build(attribute));
    ASSERT_THAT(built.exit_code, Optional(0))
        << attribute << ": " << built.stderr_text
        << "\nnix-daemon: " << daemon->LogText();
    out[attribute] =
        std::string(absl::StripTrailingAsciiWhitespace(built.stdout_text));
    ASSERT_THAT(out[attribute], StartsWith(store + "/")) << attribute;
  }
  const std::string packed_cell = out["packed"] + "/bin/mkcell-test-cell";
  const std::string launcher_in_store = out["cell"] + "/bin/cell";
  ASSERT_EQ(access(packed_cell.c_str(), X_OK), 0) << packed_cell;

  // The packed cell runs its command in a real cell: the command (see
  // mkcell-build.nix) checks it is inside, writes the marker into the
  // worktree and exits 7. Arguments are appended to the spec's command.
  SubprocessOptions options;
  options.env = std::vector<std::string>{"PATH=/usr/bin:/bin",
                                         absl::StrCat("TMPDIR=", dir_->path())};
  options.cwd = dir_->path();
  ASSERT_OK_AND_ASSIGN(SubprocessResult run,
                       RunSubprocess({packed_cell, "from-the-test"}, options));
  EXPECT_THAT(run.exit_code, Optional(7)) << run.stderr_text;
  EXPECT_EQ(ReadHostFile(dir_->Path("wt/mkcell-marker")),
            "mkcell-ok from-the-test\n");

  // passthru.specFile is the spec the packed cell carries, so what
  // cell-verify judges below is what runs.
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult carried,
      RunSubprocess({launcher_in_store, "check-spec",
                     absl::StrCat("--packed=", out["packed"], "/libexec/",
                                  "mkcell-test-cell")}));
  ASSERT_THAT(carried.exit_code, Optional(0)) << carried.stderr_text;
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult named,
      RunSubprocess({launcher_in_store, "check-spec",
                     absl::StrCat("--spec=", out["specFile"])}));
  ASSERT_THAT(named.exit_code, Optional(0)) << named.stderr_text;
  EXPECT_EQ(carried.stdout_text, named.stdout_text);

  // cell-verify on that spec, with the launcher from the store.
  SubprocessOptions verify_options = options;
  verify_options.timeout = absl::Minutes(3);
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult verified,
      RunSubprocess({verify, absl::StrCat("--spec=", out["specFile"]),
                     absl::StrCat("--cell=", launcher_in_store),
                     absl::StrCat("--probe=", probe), "--profile=documented"},
                    verify_options));
  EXPECT_THAT(verified.exit_code, Optional(0))
      << "signal " << verified.signal.value_or(0) << "\n"
      << verified.stdout_text << verified.stderr_text;
  EXPECT_THAT(verified.stdout_text, HasSubstr(" 0 failed, "));

  if (!host_had_nix) {
    EXPECT_NE(access("/nix", F_OK), 0) << "the build touched the host's /nix";
  }
}

}  // namespace
}  // namespace cell::testing
