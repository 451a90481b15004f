#include "launcher/spec/presets.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace cell {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;
using ::testing::Not;

// A host root of a merged-/usr distribution, with a private key beside the
// certificates.
class PresetsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<cell::testing::TempDir> dir =
        cell::testing::TempDir::Create();
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_.emplace(*std::move(dir));
    for (const char* path :
         {"usr", "usr/bin", "usr/lib", "etc", "etc/alternatives", "etc/ssl",
          "etc/ssl/certs", "etc/ssl/private"}) {
      ASSERT_EQ(mkdir(Path(path).c_str(), 0755), 0) << path;
    }
    ASSERT_EQ(symlink("usr/bin", Path("bin").c_str()), 0);
    ASSERT_EQ(symlink("usr/lib", Path("lib").c_str()), 0);
    ASSERT_EQ(symlink("/usr/share/zoneinfo/UTC", Path("etc/localtime").c_str()),
              0);
    const int fd = open(Path("etc/ld.so.cache").c_str(),
                        O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    close(fd);
  }

  std::string Path(const std::string& relative) const {
    return dir_->Path(relative);
  }
  std::string Root() const { return dir_->path(); }

  std::optional<cell::testing::TempDir> dir_;
};

TEST_F(PresetsTest, HostBindsWhatExistsAndKeepsLinksAsLinks) {
  std::string root = Root();
  if (!root.empty() && root.back() == '/') root.pop_back();
  const std::vector<MountSpec> mounts = ExpandPresets({"host"}, root, {});
  EXPECT_THAT(
      mounts,
      ElementsAre(MountSpec{MountType::kRoBind, root + "/usr", "/usr", true},
                  MountSpec{MountType::kSymlink, "usr/bin", "/bin", false},
                  MountSpec{MountType::kSymlink, "usr/lib", "/lib", false},
                  MountSpec{MountType::kRoBind, root + "/etc/alternatives",
                            "/etc/alternatives", true},
                  MountSpec{MountType::kRoBind, root + "/etc/ld.so.cache",
                            "/etc/ld.so.cache", true},
                  MountSpec{MountType::kRoBind, root + "/etc/ssl/certs",
                            "/etc/ssl/certs", true},
                  MountSpec{MountType::kSymlink, "/usr/share/zoneinfo/UTC",
                            "/etc/localtime", false}));
}

TEST_F(PresetsTest, TheSpecsOwnMountsWin) {
  std::string root = Root();
  if (!root.empty() && root.back() == '/') root.pop_back();
  // At, above and beneath a preset path.
  const std::vector<MountSpec> mounts =
      ExpandPresets({"host"}, root, {"/usr", "/etc", "/lib/modules"});
  EXPECT_THAT(mounts, ElementsAre(Field(&MountSpec::dst, "/bin")));
}

TEST_F(PresetsTest, UnknownNamesAndEmptyRootsGiveNothing) {
  EXPECT_THAT(ExpandPresets({"nope"}, Root(), {}), IsEmpty());
  EXPECT_THAT(ExpandPresets({"host"}, Path("missing"), {}), IsEmpty());
}

TEST(PresetPathsTest, NoPresetBindsAHostSecretOrItsDirectory) {
  // Private keys live beside the certificates; homes, credentials, the
  // Nix daemon's own state and the host's run time are never a preset's.
  const std::vector<std::string> secrets = {"/etc/ssl/private",
                                            "/etc/pki/tls/private",
                                            "/etc/shadow",
                                            "/etc/gshadow",
                                            "/etc/sudoers",
                                            "/root",
                                            "/home",
                                            "/var",
                                            "/run/secrets",
                                            "/etc/ssh",
                                            "/proc",
                                            "/sys",
                                            "/dev",
                                            "/nix/var/nix/db",
                                            "/tmp"};
  for (const Preset& preset : Presets()) {
    for (const char* path : preset.paths) {
      ASSERT_EQ(path[0], '/') << preset.name << ": " << path;
      for (const std::string& secret : secrets) {
        const std::string p = path;
        const bool above = secret.rfind(p + "/", 0) == 0 || p == secret;
        const bool below = p.rfind(secret + "/", 0) == 0;
        EXPECT_FALSE(above || below)
            << preset.name << " binds " << path << ", which exposes " << secret;
      }
    }
  }
}

TEST(PresetPathsTest, PathDirectoriesInOrderWithoutRepeats) {
  EXPECT_THAT(PresetPathDirs({"host"}),
              ElementsAre("/usr/local/bin", "/usr/bin", "/bin",
                          "/usr/local/sbin", "/usr/sbin", "/sbin"));
  const std::vector<std::string> both = PresetPathDirs({"nix", "host"});
  EXPECT_EQ(both.front(), "/run/current-system/sw/bin");
  EXPECT_EQ(std::count(both.begin(), both.end(), "/usr/bin"), 1);
  EXPECT_THAT(PresetPathDirs({}), IsEmpty());
}

TEST(PresetPathsTest, HelpNamesEveryPresetAndPath) {
  const std::string help = PresetHelp();
  for (const Preset& preset : Presets()) {
    EXPECT_THAT(help, ::testing::HasSubstr(std::string(preset.name) + ": "));
    for (const char* path : preset.paths) {
      EXPECT_THAT(help, ::testing::HasSubstr(path));
    }
  }
  EXPECT_THAT(help, Not(::testing::HasSubstr("/etc/ssl/private")));
}

}  // namespace
}  // namespace cell
