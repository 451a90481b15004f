#include "launcher/spec/spec.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "launcher/spec/resolve.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace cell {
namespace {

using ::cell::testing::IsOk;
using ::cell::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;

absl::StatusOr<CellSpec> Parse(const std::string& text) {
  return ParseSpec(text, "spec.json");
}

// A spec with the required fields plus `extra` (a JSON fragment with a
// leading comma, or empty).
std::string Spec(const std::string& extra = "") {
  return absl::StrCat(R"({"version": 1, "worktreePath": "wt")", extra, "}");
}

TEST(ParseSpecTest, MinimalSpecGetsDefaults) {
  ASSERT_OK_AND_ASSIGN(CellSpec spec, Parse(Spec()));
  EXPECT_EQ(spec.worktree_path, "wt");
  EXPECT_TRUE(spec.command.empty());
  EXPECT_FALSE(spec.tinyproxy_filter.has_value());
  EXPECT_FALSE(spec.log_dir.has_value());
  EXPECT_EQ(spec.nix_daemon_socket, "/nix/var/nix/daemon-socket");
  EXPECT_EQ(spec.nix_store, "/nix/store");
  EXPECT_TRUE(spec.nix);
  EXPECT_FALSE(spec.path.has_value());
  EXPECT_EQ(spec.network.mode, NetworkMode::kProxy);
  EXPECT_EQ(spec.network.engine, EngineKind::kBuiltin);
  EXPECT_EQ(spec.network.port, 3128);
  EXPECT_FALSE(spec.isolation.pid_namespace);
  EXPECT_FALSE(spec.isolation.ipc_namespace);
  EXPECT_EQ(spec.isolation.capabilities, Capabilities::kAll);
}

TEST(ParseSpecTest, ReadsEveryField) {
  ASSERT_OK_AND_ASSIGN(CellSpec spec, Parse(R"({
    // Comments are allowed.
    "version": 1,
    "command": ["bash", "-c", ""],
    "worktreePath": "/src",
    "tinyproxyFilter": "filter.txt",  /* trailing comment */
    "logDir": "logs",
    "nixDaemonSocket": "/run/d",
    "nixStore": "/s",
    "nix": false,
    "path": ["/bin", "/usr/bin"],
    "mounts": [
      {"type": "ro-bind", "src": "/usr"},
      {"type": "bind", "src": "data", "dst": "/data/./x//", "optional": true},
      {"type": "tmpfs", "dst": "/scratch"},
      {"type": "dir", "dst": "/opt"},
      {"type": "symlink", "src": "/usr/bin", "dst": "/bin"}
    ],
    "env": {"EDITOR": "vi", "EMPTY": ""},
    "network": {"mode": "none", "engine": "builtin", "port": 8080},
    "isolation": {"pidNamespace": true, "ipcNamespace": true,
                  "capabilities": "none"}
  })"));
  EXPECT_THAT(spec.command, ElementsAre("bash", "-c", ""));
  EXPECT_EQ(spec.tinyproxy_filter, "filter.txt");
  EXPECT_EQ(spec.log_dir, "logs");
  EXPECT_FALSE(spec.nix);
  EXPECT_THAT(*spec.path, ElementsAre("/bin", "/usr/bin"));
  ASSERT_EQ(spec.mounts.size(), 5);
  EXPECT_EQ(spec.mounts[0],
            (MountSpec{MountType::kRoBind, "/usr", "/usr", false}));
  EXPECT_EQ(spec.mounts[1],
            (MountSpec{MountType::kBind, "data", "/data/x", true}));
  EXPECT_EQ(spec.mounts[2], (MountSpec{MountType::kTmpfs, "", "/scratch"}));
  EXPECT_EQ(spec.mounts[3], (MountSpec{MountType::kDir, "", "/opt"}));
  EXPECT_EQ(spec.mounts[4],
            (MountSpec{MountType::kSymlink, "/usr/bin", "/bin"}));
  EXPECT_EQ(spec.env.at("EDITOR"), "vi");
  EXPECT_EQ(spec.env.at("EMPTY"), "");
  EXPECT_EQ(spec.network.mode, NetworkMode::kNone);
  EXPECT_EQ(spec.network.engine, EngineKind::kBuiltin);
  EXPECT_EQ(spec.network.port, 8080);
  EXPECT_TRUE(spec.isolation.pid_namespace);
  EXPECT_TRUE(spec.isolation.ipc_namespace);
  EXPECT_EQ(spec.isolation.capabilities, Capabilities::kNone);
}

TEST(ParseSpecTest, SyntaxErrorsSayWhere) {
  EXPECT_THAT(Parse("{\n  \"version\": 1,\n  \"worktreePath\": }"),
              StatusIs(kInvalid, HasSubstr("spec.json:3:")));
  EXPECT_THAT(Parse(""), StatusIs(kInvalid, HasSubstr("spec.json:1:")));
  EXPECT_THAT(Parse("{\"version\": 1,} "),
              StatusIs(kInvalid, HasSubstr("invalid JSON")));
}

TEST(ParseSpecTest, DuplicateKeysAreErrors) {
  EXPECT_THAT(Parse(R"({"version": 1, "worktreePath": "a",
                        "worktreePath": "/"})"),
              StatusIs(kInvalid, AllOf(HasSubstr("spec.json:2:"),
                                       HasSubstr("duplicate key "
                                                 "\"worktreePath\""))));
}

TEST(ParseSpecTest, DeepNestingAndHugeInputAreErrors) {
  std::string deep = Spec(R"(, "env": )");
  deep.pop_back();
  deep += std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_THAT(Parse(deep), StatusIs(kInvalid, HasSubstr("nesting deeper")));
  EXPECT_THAT(Parse(std::string(2 << 20, ' ')),
              StatusIs(kInvalid, HasSubstr("larger than the limit")));
}

TEST(ParseSpecTest, UnknownFieldsAreErrorsWithSuggestions) {
  EXPECT_THAT(Parse(Spec(R"(, "worktreepath": "x")")),
              StatusIs(kInvalid, AllOf(HasSubstr("field `worktreepath`"),
                                       HasSubstr("did you mean "
                                                 "`worktreePath`?"))));
  EXPECT_THAT(Parse(Spec(R"(, "isolation": {"pidNamespaces": true})")),
              StatusIs(kInvalid, HasSubstr("field `isolation.pidNamespaces`")));
  EXPECT_THAT(Parse(Spec(R"(, "zzzzzzzzzzz": 1)")),
              StatusIs(kInvalid, HasSubstr("known fields: version")));
  EXPECT_THAT(Parse(Spec(R"(, "mounts": [{"type": "tmpfs", "dst": "/x",
                                           "mode": "0755"}])")),
              StatusIs(kInvalid, HasSubstr("field `mounts[0].mode`")));
}

TEST(ParseSpecTest, RequiredFields) {
  EXPECT_THAT(Parse(R"({"worktreePath": "x"})"),
              StatusIs(kInvalid, HasSubstr("field `version`: is required")));
  EXPECT_THAT(Parse(R"({"version": 1})"),
              StatusIs(kInvalid, AllOf(HasSubstr("field `worktreePath`"),
                                       HasSubstr("--worktree"))));
  EXPECT_THAT(Parse(R"({"version": 2, "worktreePath": "x"})"),
              StatusIs(kInvalid, HasSubstr("reads version 1, got 2")));
  EXPECT_THAT(Parse("[]"), StatusIs(kInvalid, HasSubstr("expected an object")));
}

TEST(ParseSpecTest, WrongTypesNameTheField) {
  EXPECT_THAT(Parse(R"({"version": "1", "worktreePath": "x"})"),
              StatusIs(kInvalid, HasSubstr("field `version`")));
  EXPECT_THAT(Parse(Spec(R"(, "command": "ls -l")")),
              StatusIs(kInvalid, HasSubstr("field `command`: expected a list "
                                           "of strings, got string")));
  EXPECT_THAT(Parse(Spec(R"(, "command": ["ls", 3])")),
              StatusIs(kInvalid, HasSubstr("field `command[1]`")));
  EXPECT_THAT(Parse(Spec(R"(, "command": [""])")),
              StatusIs(kInvalid, HasSubstr("field `command[0]`")));
  EXPECT_THAT(Parse(Spec(R"(, "nix": "yes")")),
              StatusIs(kInvalid, HasSubstr("field `nix`: expected true or "
                                           "false")));
  EXPECT_THAT(Parse(Spec(R"(, "logDir": 5)")),
              StatusIs(kInvalid, HasSubstr("field `logDir`: expected a string "
                                           "or null")));
  EXPECT_THAT(Parse(R"({"version": 1, "worktreePath": ""})"),
              StatusIs(kInvalid, HasSubstr("must not be empty")));
  EXPECT_THAT(Parse(Spec(R"(, "network": {"mode": "host"})")),
              StatusIs(kInvalid, HasSubstr("field `network.mode`: \"host\" is "
                                           "not one of \"proxy\", \"none\"")));
  EXPECT_THAT(Parse(Spec(R"(, "network": {"port": 70000})")),
              StatusIs(kInvalid, HasSubstr("field `network.port`")));
  EXPECT_THAT(Parse(Spec(R"(, "network": {"port": 0})")),
              StatusIs(kInvalid, HasSubstr("field `network.port`")));
  EXPECT_THAT(Parse(Spec(R"(, "isolation": {"capabilities": "some"})")),
              StatusIs(kInvalid, HasSubstr("field `isolation.capabilities`")));
  EXPECT_THAT(Parse(Spec(R"(, "path": ["bin"])")),
              StatusIs(kInvalid, HasSubstr("field `path[0]`")));
  EXPECT_THAT(Parse(Spec(R"(, "path": ["/a:/b"])")),
              StatusIs(kInvalid, HasSubstr("field `path[0]`")));
}

TEST(ParseSpecTest, NulBytesAreRejected) {
  EXPECT_THAT(Parse(R"({"version": 1, "worktreePath": "a\u0000b"})"),
              StatusIs(kInvalid, HasSubstr("field `worktreePath`: contains a "
                                           "NUL byte")));
  EXPECT_THAT(Parse(Spec(R"(, "command": ["a\u0000"])")),
              StatusIs(kInvalid, HasSubstr("NUL")));
}

// Flags reach SpecFromJson without passing through a JSON parser, so bytes
// that are not UTF-8 must be caught there (printing the spec would throw).
TEST(SpecFromJsonTest, InvalidUtf8IsRejected) {
  nlohmann::json json = {{"version", 1}, {"worktreePath", "/tmp/\xff"}};
  EXPECT_THAT(SpecFromJson(json),
              StatusIs(kInvalid, HasSubstr("field `worktreePath`: is not "
                                           "valid UTF-8")));
  json = {
      {"version", 1}, {"worktreePath", "/tmp"}, {"env", {{"A", "\xc0\x80"}}}};
  EXPECT_THAT(SpecFromJson(json), StatusIs(kInvalid, HasSubstr("env.A")));
  json = {{"version", 1},
          {"worktreePath", "/tmp"},
          {"command", {"caf\xc3\xa9", "\xe2\x82\xac"}}};
  EXPECT_THAT(SpecFromJson(json), IsOk());
}

TEST(ParseSpecTest, MountErrors) {
  EXPECT_THAT(Parse(Spec(R"(, "mounts": [{"src": "/usr"}])")),
              StatusIs(kInvalid, HasSubstr("field `mounts[0].type`: is "
                                           "required")));
  EXPECT_THAT(Parse(Spec(R"(, "mounts": [{"type": "overlay", "dst": "/x"}])")),
              StatusIs(kInvalid, HasSubstr("field `mounts[0].type`")));
  EXPECT_THAT(Parse(Spec(R"(, "mounts": [{"type": "tmpfs", "src": "/a",
                                           "dst": "/x"}])")),
              StatusIs(kInvalid, HasSubstr("`mounts[0].src`: is not allowed")));
  EXPECT_THAT(Parse(Spec(R"(, "mounts": [{"type": "bind", "dst": "/x"}])")),
              StatusIs(kInvalid, HasSubstr("`mounts[0].src`: is required")));
  EXPECT_THAT(Parse(Spec(R"(, "mounts": [{"type": "bind", "src": "rel"}])")),
              StatusIs(kInvalid, HasSubstr("`mounts[0].dst`: is required")));
  EXPECT_THAT(Parse(Spec(R"(, "mounts": [{"type": "tmpfs", "dst": "x"}])")),
              StatusIs(kInvalid, HasSubstr("must be an absolute path")));
  EXPECT_THAT(
      Parse(Spec(R"(, "mounts": [{"type": "tmpfs", "dst": "/a/../../etc"}])")),
      StatusIs(kInvalid, AllOf(HasSubstr("`mounts[0].dst`"),
                               HasSubstr("contains `..`"))));
  EXPECT_THAT(Parse(Spec(R"(, "mounts": [{"type": "tmpfs", "dst": "/."}])")),
              StatusIs(kInvalid, HasSubstr("cannot replace the cell's root")));
  EXPECT_THAT(Parse(Spec(R"(, "mounts": [{"type": "bind", "src": "/",
                                           "dst": "/a", "optional": 1}])")),
              StatusIs(kInvalid, HasSubstr("`mounts[0].optional`")));
  EXPECT_THAT(Parse(Spec(R"(, "mounts": ["/usr"])")),
              StatusIs(kInvalid, HasSubstr("`mounts[0]`: expected an object")));
}

TEST(ParseSpecTest, MountDestinationsMustNotCollide) {
  EXPECT_THAT(
      Parse(Spec(
          R"(, "mounts": [{"type": "tmpfs", "dst": "/home/cell/worktree"}])")),
      StatusIs(kInvalid, HasSubstr("is mounted by the launcher itself")));
  EXPECT_THAT(Parse(Spec(R"(, "mounts": [{"type": "tmpfs", "dst": "/nix"}])")),
              StatusIs(kInvalid, HasSubstr("would hide '/nix/store'")));
  EXPECT_THAT(
      Parse(Spec(R"(, "mounts": [{"type": "ro-bind", "src": "/etc"}])")),
      StatusIs(kInvalid, HasSubstr("would hide '/etc/passwd'")));
  EXPECT_THAT(Parse(Spec(R"(, "mounts": [{"type": "tmpfs", "dst": "/a"},
                                          {"type": "dir", "dst": "/a/"}])")),
              StatusIs(kInvalid, AllOf(HasSubstr("`mounts[1].dst`"),
                                       HasSubstr("already the destination"))));
  // Without Nix, /nix is free to use; beneath a base mount is fine.
  EXPECT_THAT(Parse(Spec(R"(, "nix": false,
                            "mounts": [{"type": "tmpfs", "dst": "/nix"},
                                       {"type": "dir", "dst": "/home/cell/x"}])")),
              IsOk());
}

// The spec takes sizes as the CLI does (--memory-max=512M).
TEST(ParseSpecTest, MemoryMaxTakesTheCliSizes) {
  ASSERT_OK_AND_ASSIGN(CellSpec spec,
                       Parse(Spec(R"(, "limits": {"memoryMax": "512M"})")));
  EXPECT_EQ(spec.limits.memory_max, uint64_t{512} << 20);
  ASSERT_OK_AND_ASSIGN(spec, Parse(Spec(R"(, "limits": {"memoryMax": "1g"})")));
  EXPECT_EQ(spec.limits.memory_max, uint64_t{1} << 30);
  ASSERT_OK_AND_ASSIGN(spec,
                       Parse(Spec(R"(, "limits": {"memoryMax": 67108864})")));
  EXPECT_EQ(spec.limits.memory_max, uint64_t{64} << 20);
  for (const char* bad : {R"("512X")", R"("-5M")", R"("")", R"("1.5G")"}) {
    EXPECT_THAT(
        Parse(Spec(absl::StrCat(R"(, "limits": {"memoryMax": )", bad, "}"))),
        StatusIs(absl::StatusCode::kInvalidArgument,
                 HasSubstr("field `limits.memoryMax`: expected a whole number "
                           "of bytes, or a size such as \"512M\"")))
        << bad;
  }
  EXPECT_THAT(Parse(Spec(R"(, "limits": {"memoryMax": "1K"})")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("below the minimum")));
  // Counts stay numbers.
  EXPECT_THAT(Parse(Spec(R"(, "limits": {"pidsMax": "64"})")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("limits.pidsMax")));
}

TEST(ParseByteSizeTest, SuffixesAndBounds) {
  EXPECT_EQ(ParseByteSize("0"), uint64_t{0});
  EXPECT_EQ(ParseByteSize("4096"), uint64_t{4096});
  EXPECT_EQ(ParseByteSize("2k"), uint64_t{2048});
  EXPECT_EQ(ParseByteSize("3T"), uint64_t{3} << 40);
  EXPECT_EQ(ParseByteSize("4194304T"), uint64_t{1} << 62);
  EXPECT_EQ(ParseByteSize("4194305T"), std::nullopt);
  for (const char* bad : {"", "M", "+1", "-1", "1.5M", "1 M", "1MB", "x"}) {
    EXPECT_EQ(ParseByteSize(bad), std::nullopt) << bad;
  }
}

TEST(ParseSpecTest, EnvErrors) {
  EXPECT_THAT(Parse(Spec(R"(, "env": {"NIX_CONFIG": "x"})")),
              StatusIs(kInvalid, AllOf(HasSubstr("field `env.NIX_CONFIG`"),
                                       HasSubstr("set by the launcher"))));
  EXPECT_THAT(Parse(Spec(R"(, "env": {"https_proxy": "x"})")),
              StatusIs(kInvalid, HasSubstr("`env.https_proxy`")));
  EXPECT_THAT(Parse(Spec(R"(, "env": {"PATH": "/x"})")),
              StatusIs(kInvalid, HasSubstr("`path` field")));
  EXPECT_THAT(Parse(Spec(R"(, "env": {"A=B": "x"})")),
              StatusIs(kInvalid, HasSubstr("not a valid variable name")));
  EXPECT_THAT(Parse(Spec(R"(, "env": {"1A": "x"})")),
              StatusIs(kInvalid, HasSubstr("not a valid variable name")));
  EXPECT_THAT(
      Parse(Spec(R"(, "env": {"A": 1})")),
      StatusIs(kInvalid, HasSubstr("field `env.A`: expected a string")));
  EXPECT_THAT(Parse(Spec(R"(, "env": ["A=1"])")),
              StatusIs(kInvalid, HasSubstr("field `env`")));
}

// Resolution works on a real temporary tree.
class ResolveSpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(temp_, ::cell::testing::TempDir::Create());
    root_ = temp_->path();
    ASSERT_EQ(mkdir((root_ + "/wt").c_str(), 0755), 0);
    ASSERT_EQ(mkdir((root_ + "/daemon").c_str(), 0755), 0);
    ASSERT_EQ(mkdir((root_ + "/store").c_str(), 0755), 0);
    ASSERT_EQ(symlink("wt", (root_ + "/link").c_str()), 0);
    std::ofstream(root_ + "/filter") << "example\\.com$\n";
    ASSERT_OK(::cell::testing::MakeSocketFile(root_ + "/daemon/socket"));
  }

  void MakeStoreProgram(const std::string& entry, const std::string& program) {
    const std::string bin = root_ + "/store/" + entry + "/bin";
    ASSERT_EQ(mkdir((root_ + "/store/" + entry).c_str(), 0755), 0);
    ASSERT_EQ(mkdir(bin.c_str(), 0755), 0);
    std::ofstream(bin + "/" + program) << "#!/bin/sh\n";
    ASSERT_EQ(chmod((bin + "/" + program).c_str(), 0755), 0);
  }

  absl::StatusOr<CellSpec> Resolve(const std::string& extra) {
    const std::string text = absl::StrCat(
        R"({"version": 1, "worktreePath": "wt", "nixStore": "store",
            "nixDaemonSocket": "daemon")",
        extra, "}");
    absl::StatusOr<CellSpec> spec = ParseSpec(text, "spec.json");
    if (!spec.ok()) return spec.status();
    return ResolveSpec(*std::move(spec), root_);
  }

  std::optional<::cell::testing::TempDir> temp_;
  std::string root_;
};

TEST_F(ResolveSpecTest, PathsBecomeAbsoluteAndCanonical) {
  ASSERT_EQ(mkdir((root_ + "/logs").c_str(), 0755), 0);
  ASSERT_OK_AND_ASSIGN(
      CellSpec spec,
      Resolve(R"(, "logDir": "logs/", "tinyproxyFilter": "./filter",
                 "mounts": [{"type": "ro-bind", "src": "wt", "dst": "/w"},
                            {"type": "symlink", "src": "rel", "dst": "/l"}])"));
  EXPECT_EQ(spec.worktree_path, root_ + "/wt");
  EXPECT_EQ(spec.log_dir, root_ + "/logs");
  EXPECT_EQ(spec.tinyproxy_filter, root_ + "/filter");
  EXPECT_EQ(spec.nix_store, root_ + "/store");
  EXPECT_EQ(spec.nix_daemon_socket, root_ + "/daemon");
  EXPECT_EQ(spec.mounts[0].src, root_ + "/wt");
  EXPECT_EQ(spec.mounts[1].src, "rel");  // A link target, not a host path.
}

// A symlink a cell could have made (here root's own, outside "/") is never
// followed: the error names the field, the link and the fix.
TEST_F(ResolveSpecTest, SymlinksAreNotFollowed) {
  EXPECT_THAT(ResolveSpec(*ParseSpec(R"({"version": 1, "worktreePath": "link",
                                         "nix": false})",
                                     "s"),
                          root_),
              StatusIs(kInvalid, AllOf(HasSubstr("field `worktreePath`"),
                                       HasSubstr(root_ + "/link' is a symlink"),
                                       HasSubstr("realpath"))));
  EXPECT_THAT(Resolve(R"(, "mounts": [{"type": "ro-bind", "src": "link/x",
                                       "dst": "/x", "optional": true}])"),
              StatusIs(kInvalid, HasSubstr("field `mounts[0].src`")));
}

TEST_F(ResolveSpecTest, MissingPathsNameFieldAndPath) {
  EXPECT_THAT(
      ResolveSpec(*ParseSpec(R"({"version": 1, "worktreePath": "no"})", "s"),
                  root_),
      StatusIs(absl::StatusCode::kNotFound,
               AllOf(HasSubstr("field `worktreePath`"),
                     HasSubstr(root_ + "/no' does not exist"))));
  EXPECT_THAT(Resolve(R"(, "logDir": "filter")"),
              StatusIs(kInvalid, AllOf(HasSubstr("field `logDir`"),
                                       HasSubstr("is not a directory"))));
  EXPECT_THAT(Resolve(R"(, "tinyproxyFilter": "wt")"),
              StatusIs(kInvalid, HasSubstr("is not a regular file")));
  EXPECT_THAT(Resolve(R"(, "mounts": [{"type": "bind", "src": "nope",
                                       "dst": "/x"}])"),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("`mounts[0].src`"),
                             HasSubstr("\"optional\": true"))));
}

// `cell run` makes a missing logDir first; resolution names where.
TEST_F(ResolveSpecTest, AMissingLogDirResolvesBelowItsNearestAncestor) {
  ASSERT_OK_AND_ASSIGN(CellSpec spec,
                       Resolve(R"(, "logDir": "./wt/./new/logs/")"));
  EXPECT_EQ(spec.log_dir, root_ + "/wt/new/logs");
  EXPECT_THAT(Resolve(R"(, "logDir": "wt/new/../x")"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("logDir")));
  EXPECT_THAT(Resolve(R"(, "logDir": "filter/x")"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("logDir")));
}

TEST_F(ResolveSpecTest, FilterMustBeARegularFile) {
  ASSERT_EQ(mkfifo((root_ + "/fifo").c_str(), 0600), 0);
  EXPECT_THAT(Resolve(R"(, "tinyproxyFilter": "fifo")"),
              StatusIs(kInvalid, AllOf(HasSubstr("field `tinyproxyFilter`"),
                                       HasSubstr("not a regular file"))));
  EXPECT_THAT(Resolve(R"(, "tinyproxyFilter": "/dev/zero")"),
              StatusIs(kInvalid, HasSubstr("not a regular file")));
}

TEST_F(ResolveSpecTest, DaemonDirNeedsASocket) {
  ASSERT_EQ(unlink((root_ + "/daemon/socket").c_str()), 0);
  EXPECT_THAT(Resolve(""),
              StatusIs(kInvalid,
                       AllOf(HasSubstr("nixDaemonSocket"),
                             HasSubstr("no `socket`"), HasSubstr("--no-nix"))));
  std::ofstream(root_ + "/daemon/socket") << "not a socket";
  EXPECT_THAT(Resolve(""), StatusIs(kInvalid, HasSubstr("no `socket`")));
  // Without Nix neither the socket nor the store is looked at.
  ASSERT_OK_AND_ASSIGN(CellSpec spec, Resolve(R"(, "nix": false)"));
  // check-spec output is itself a valid spec, also without Nix.
  ASSERT_OK_AND_ASSIGN(CellSpec again, SpecFromJson(SpecToJson(spec)));
  EXPECT_EQ(SpecToJson(again), SpecToJson(spec));
  EXPECT_FALSE(again.nix);
  EXPECT_THAT(*spec.path, ElementsAre("/usr/bin", "/bin"));
}

TEST_F(ResolveSpecTest, OptionalMissingMountsAreDropped) {
  ASSERT_OK_AND_ASSIGN(
      CellSpec spec,
      Resolve(R"(, "mounts": [{"type": "ro-bind", "src": "/absent/x",
                               "optional": true},
                              {"type": "tmpfs", "dst": "/t"}])"));
  ASSERT_EQ(spec.mounts.size(), 1);
  EXPECT_EQ(spec.mounts[0].dst, "/t");
}

TEST_F(ResolveSpecTest, HostRootIsNeverBoundWritable) {
  EXPECT_THAT(
      ResolveSpec(*ParseSpec(R"({"version": 1, "worktreePath": "/"})", "s"),
                  root_),
      StatusIs(kInvalid, HasSubstr("host's root")));
  ASSERT_EQ(symlink("/", (root_ + "/rootlink").c_str()), 0);
  // Through a link: refused as a link, before it could reach "/".
  EXPECT_THAT(Resolve(R"(, "logDir": "rootlink")"),
              StatusIs(kInvalid, HasSubstr("is a symlink")));
  EXPECT_THAT(Resolve(R"(, "mounts": [{"type": "bind", "src": "/",
                                       "dst": "/host"}])"),
              StatusIs(kInvalid, HasSubstr("host's root")));
  EXPECT_THAT(Resolve(R"(, "mounts": [{"type": "ro-bind", "src": "/",
                                       "dst": "/host"}])"),
              IsOk());
}

TEST_F(ResolveSpecTest, DefaultPathUsesNewestStoreNixAndCoreutils) {
  const std::string h1(32, 'a');
  const std::string h2(32, 'b');
  const std::string h3(32, 'c');
  MakeStoreProgram(h1 + "-nix-2.9.1", "nix");
  MakeStoreProgram(h2 + "-nix-2.18.1", "nix");
  MakeStoreProgram(h3 + "-nix-prefetch-git-1.0", "nix");
  MakeStoreProgram(h1 + "-coreutils-9.1", "ls");
  ASSERT_EQ(mkdir((root_ + "/store/" + h2 + "-coreutils-9.4").c_str(), 0755),
            0);  // No bin/ls: not a candidate.
  ASSERT_OK_AND_ASSIGN(CellSpec spec, Resolve(""));
  EXPECT_THAT(*spec.path,
              ElementsAre("/nix/store/" + h2 + "-nix-2.18.1/bin",
                          "/nix/store/" + h1 + "-coreutils-9.1/bin"));
}

TEST_F(ResolveSpecTest, ExplicitPathIsKept) {
  ASSERT_OK_AND_ASSIGN(CellSpec spec, Resolve(R"(, "path": ["/opt/bin"])"));
  EXPECT_THAT(*spec.path, ElementsAre("/opt/bin"));
}

TEST_F(ResolveSpecTest, ResolvedSpecRoundTripsThroughJson) {
  ASSERT_OK_AND_ASSIGN(CellSpec spec,
                       Resolve(R"(, "command": ["x"], "env": {"A": "1"},
                 "mounts": [{"type": "tmpfs", "dst": "/t"}],
                 "isolation": {"pidNamespace": true}, "tinyproxyFilter": "filter")"));
  const nlohmann::json json = SpecToJson(spec);
  EXPECT_EQ(json["worktreePath"], root_ + "/wt");
  EXPECT_EQ(json["network"]["mode"], "proxy");
  EXPECT_EQ(json["logDir"], nullptr);
  ASSERT_OK_AND_ASSIGN(CellSpec again, SpecFromJson(json));
  EXPECT_EQ(SpecToJson(again), json);
}

TEST(ParseSpecTest, EveryErrorIsReportedOnItsOwnLine) {
  const absl::StatusOr<CellSpec> spec = Parse(R"({"version": 2,
      "worktreePath": 3, "nix": "no", "isolaton": {},
      "mounts": [{"type": "bind"}, {"type": "tmpfs", "dst": "/proc/x"}]})");
  ASSERT_FALSE(spec.ok());
  const std::vector<std::string> lines =
      absl::StrSplit(spec.status().message(), '\n');
  EXPECT_THAT(
      lines,
      ElementsAre(HasSubstr("`isolaton`: unknown field; did you mean "
                            "`isolation`?"),
                  HasSubstr("`version`"), HasSubstr("`worktreePath`"),
                  HasSubstr("`nix`"), HasSubstr("`mounts[0].src`"),
                  // The index in the spec, not among the valid mounts.
                  HasSubstr("`mounts[1].dst`: '/proc/x' is under /proc")));
  for (const std::string& line : lines) {
    EXPECT_THAT(line, ::testing::StartsWith("spec.json: field `"));
  }
}

TEST(ParseSpecTest, PresetsAndTlsRoots) {
  ASSERT_OK_AND_ASSIGN(CellSpec one, Parse(Spec(R"(, "presets": "host")")));
  EXPECT_THAT(one.presets, ElementsAre("host"));
  ASSERT_OK_AND_ASSIGN(CellSpec both,
                       Parse(Spec(R"(, "presets": ["nix", "host", "nix"],
                                   "tlsRoots": "@host")")));
  EXPECT_THAT(both.presets, ElementsAre("nix", "host"));
  EXPECT_EQ(both.tls_roots, "@host");
  EXPECT_THAT(Parse(Spec(R"(, "presets": ["hots"])")),
              StatusIs(kInvalid,
                       AllOf(HasSubstr("`presets[0]`"), HasSubstr("host, nix"),
                             HasSubstr("cell help presets"))));
  EXPECT_THAT(Parse(Spec(R"(, "tlsRoots": "")")),
              StatusIs(kInvalid, HasSubstr("`tlsRoots`")));
  // The bundle's place is the launcher's.
  EXPECT_THAT(Parse(Spec(R"(, "tlsRoots": "/x.pem", "mounts": [{"type":
                            "tmpfs", "dst": "/etc/cell-tls-roots.pem"}])")),
              StatusIs(kInvalid, HasSubstr("mounted by the launcher")));
}

TEST(ParseSpecTest, OnlyAReadWriteBindReplacesTheHome) {
  EXPECT_THAT(Parse(Spec(R"(, "mounts": [{"type": "bind", "src": "/h",
                                          "dst": "/home/cell"}])")),
              IsOk());
  EXPECT_THAT(Parse(Spec(R"(, "mounts": [{"type": "tmpfs",
                                          "dst": "/home/cell"}])")),
              StatusIs(kInvalid, HasSubstr("only a read-write bind")));
  // Above the home still hides what the launcher mounts.
  EXPECT_THAT(Parse(Spec(R"(, "mounts": [{"type": "bind", "src": "/h",
                                          "dst": "/home"}])")),
              StatusIs(kInvalid, HasSubstr("would hide")));
}

TEST_F(ResolveSpecTest, PresetsBecomeMountsAndPath) {
  ASSERT_OK_AND_ASSIGN(CellSpec spec,
                       Resolve(R"(, "nix": false, "presets": ["host"],
                 "mounts": [{"type": "tmpfs", "dst": "/etc/ssl/certs"}])"));
  EXPECT_TRUE(spec.presets.empty());
  // This host's /usr, read-only; the spec's own mount wins over the
  // preset's at the same place, and comes after the preset's.
  EXPECT_THAT(spec.mounts, ::testing::Contains(MountSpec{
                               MountType::kRoBind, "/usr", "/usr", true}));
  int certs = 0;
  for (const MountSpec& mount : spec.mounts) {
    if (mount.dst == "/etc/ssl/certs") ++certs;
  }
  EXPECT_EQ(certs, 1);
  EXPECT_EQ(spec.mounts.back().type, MountType::kTmpfs);
  EXPECT_EQ(spec.path->front(), "/usr/local/bin");
  // Resolved once, a spec resolves to itself.
  ASSERT_OK_AND_ASSIGN(CellSpec again, SpecFromJson(SpecToJson(spec)));
  ASSERT_OK_AND_ASSIGN(CellSpec twice, ResolveSpec(again, root_));
  EXPECT_EQ(SpecToJson(twice), SpecToJson(spec));
  EXPECT_THAT(Resolve(R"(, "nix": false, "presets": ["nix"])"),
              StatusIs(kInvalid, AllOf(HasSubstr("`presets`"),
                                       HasSubstr("needs \"nix\": true"))));
}

TEST_F(ResolveSpecTest, TlsRootsAreAFileOrTheHostsBundle) {
  std::ofstream(root_ + "/roots.pem") << "-----BEGIN CERTIFICATE-----\n";
  std::ofstream(root_ + "/id_ed25519")
      << "-----BEGIN OPENSSH PRIVATE KEY-----\n";
  std::ofstream(root_ + "/key.pem")
      << "-----BEGIN CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\n";
  std::ofstream(root_ + "/notes.txt") << "hello\n";
  // What it names is shown to every TLS client: certificates only.
  for (const char* wrong : {"id_ed25519", "key.pem"}) {
    EXPECT_THAT(Resolve(absl::StrCat(R"(, "tlsRoots": ")", wrong, "\"")),
                StatusIs(kInvalid, HasSubstr("holds a private key")))
        << wrong;
  }
  EXPECT_THAT(Resolve(R"(, "tlsRoots": "notes.txt")"),
              StatusIs(kInvalid, HasSubstr("holds no PEM certificate")));
  ASSERT_OK_AND_ASSIGN(CellSpec spec, Resolve(R"(, "tlsRoots": "roots.pem")"));
  EXPECT_EQ(spec.tls_roots, root_ + "/roots.pem");
  EXPECT_THAT(Resolve(R"(, "tlsRoots": "wt")"),
              StatusIs(kInvalid, AllOf(HasSubstr("`tlsRoots`"),
                                       HasSubstr("not a regular file"))));
  // "@host" on a host root without any bundle names where it looked.
  ResolveOptions options;
  options.cwd = root_;
  options.host_root = root_ + "/wt";
  unsetenv("SSL_CERT_FILE");
  unsetenv("NIX_SSL_CERT_FILE");
  EXPECT_THAT(
      ResolveSpec(*ParseSpec(R"({"version": 1, "worktreePath": "wt",
                                 "nix": false, "tlsRoots": "@host"})",
                             "s"),
                  options),
      StatusIs(kInvalid, AllOf(HasSubstr("no CA bundle found"),
                               HasSubstr("/etc/ssl/certs/ca-certificates.crt"),
                               HasSubstr("--tls-roots=FILE"))));
  ASSERT_EQ(mkdir((root_ + "/wt/etc").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((root_ + "/wt/etc/pki").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((root_ + "/wt/etc/pki/tls").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((root_ + "/wt/etc/pki/tls/certs").c_str(), 0755), 0);
  std::ofstream(root_ + "/wt/etc/pki/tls/certs/ca-bundle.crt")
      << "-----BEGIN CERTIFICATE-----\n";
  ASSERT_OK_AND_ASSIGN(
      CellSpec found,
      ResolveSpec(*ParseSpec(R"({"version": 1, "worktreePath": "wt",
                                 "nix": false, "tlsRoots": "@host"})",
                             "s"),
                  options));
  EXPECT_EQ(found.tls_roots, root_ + "/wt/etc/pki/tls/certs/ca-bundle.crt");
}

TEST_F(ResolveSpecTest, ARelativeWorktreeIsNeverAHome) {
  ASSERT_EQ(mkdir((root_ + "/home").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((root_ + "/home/me").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((root_ + "/home/me/project").c_str(), 0755), 0);
  ResolveOptions options;
  options.homes = {root_ + "/home/me"};
  const auto resolve = [&](const std::string& cwd, const std::string& wt) {
    options.cwd = cwd;
    return ResolveSpec(*ParseSpec(absl::StrCat(R"({"version": 1, "nix": false,
                                    "worktreePath": ")",
                                               wt, "\"}"),
                                  "s"),
                       options);
  };
  EXPECT_THAT(
      resolve(root_ + "/home/me", "."),
      StatusIs(kInvalid, AllOf(HasSubstr("is the home directory"),
                               HasSubstr("--worktree=" + root_ + "/home/me"))));
  // A directory holding a home gives it away as well.
  EXPECT_THAT(resolve(root_ + "/home/me/project", "../.."),
              StatusIs(kInvalid, HasSubstr("holds the home directory")));
  EXPECT_THAT(resolve(root_ + "/home/me/project", "."), IsOk());
  // A hidden directory of the home: what the cell writes there runs on
  // the host (~/.config/cell/trusted, autostart, ~/.local/bin).
  ASSERT_EQ(mkdir((root_ + "/home/me/.config").c_str(), 0755), 0);
  EXPECT_THAT(
      resolve(root_ + "/home/me/.config", "."),
      StatusIs(kInvalid, HasSubstr("in a hidden directory of the home")));
  // Named absolutely, it is meant.
  EXPECT_THAT(resolve(root_, root_ + "/home/me"), IsOk());
}

TEST_F(ResolveSpecTest, APersistentHomeIsNotTheUsersOwn) {
  ASSERT_EQ(mkdir((root_ + "/me").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((root_ + "/me/cellhome").c_str(), 0755), 0);
  ResolveOptions options;
  options.cwd = root_;
  options.homes = {root_ + "/me"};
  const auto resolve = [&](const std::string& src) {
    return ResolveSpec(*ParseSpec(absl::StrCat(R"({"version": 1, "nix": false,
                                    "worktreePath": "wt", "mounts": [
                                    {"type": "bind", "dst": "/home/cell",
                                     "src": ")",
                                               src, "\"}]}"),
                                  "s"),
                       options);
  };
  EXPECT_THAT(resolve("me"),
              StatusIs(kInvalid, AllOf(HasSubstr("`mounts[0].src`"),
                                       HasSubstr("a home of its own"))));
  EXPECT_THAT(resolve("."), StatusIs(kInvalid, HasSubstr("holds the home")));
  EXPECT_THAT(resolve("wt"), StatusIs(kInvalid, HasSubstr("is the worktree")));
  EXPECT_THAT(resolve("me/cellhome"), IsOk());
  // A hidden directory of the home runs on the host: ~/.local/bin on PATH.
  ASSERT_EQ(mkdir((root_ + "/me/.local").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((root_ + "/me/.local/share").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((root_ + "/me/.local/share/cell").c_str(), 0755), 0);
  EXPECT_THAT(resolve("me/.local"),
              StatusIs(kInvalid, AllOf(HasSubstr("hidden directory"),
                                       HasSubstr("/.local/share/cell/home"))));
  EXPECT_THAT(resolve("me/.local/share/cell"), IsOk());
  // Another name for the home (a bind mount, here a trusted spelling of
  // the same directory) is the home.
  options.homes = {root_ + "/me/cellhome"};
  EXPECT_THAT(resolve("me/./cellhome"),
              StatusIs(kInvalid, HasSubstr("is the home directory")));
}

TEST(AnchorSpecPathsTest, TheSpecFilesPathsAreRelativeToIt) {
  nlohmann::json spec = nlohmann::json::parse(R"({
      "worktreePath": ".", "tinyproxyFilter": "f.txt", "logDir": "../logs",
      "nixStore": "/nix/store", "tlsRoots": "@host",
      "nixDaemonSocket": "d",
      "mounts": [{"type": "ro-bind", "src": "tools", "dst": "/t"},
                 {"type": "ro-bind", "src": "nodst"},
                 {"type": "symlink", "src": "rel", "dst": "/l"},
                 {"type": "bind", "src": 3, "dst": "/n"}]})");
  AnchorSpecPaths("/specs/dir", &spec);
  EXPECT_EQ(spec["worktreePath"], ".");
  EXPECT_EQ(spec["tinyproxyFilter"], "/specs/dir/f.txt");
  EXPECT_EQ(spec["logDir"], "/specs/dir/../logs");
  EXPECT_EQ(spec["nixStore"], "/nix/store");
  EXPECT_EQ(spec["tlsRoots"], "@host");
  EXPECT_EQ(spec["nixDaemonSocket"], "/specs/dir/d");
  EXPECT_EQ(spec["mounts"][0]["src"], "/specs/dir/tools");
  EXPECT_EQ(spec["mounts"][1]["src"], "nodst");  // The parser names dst.
  EXPECT_EQ(spec["mounts"][2]["src"], "rel");    // A link target.
  EXPECT_EQ(spec["mounts"][3]["src"], 3);        // The parser names it.
}

}  // namespace
}  // namespace cell
