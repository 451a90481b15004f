#include "launcher/cli/pack.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "base/fs_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace cell {
namespace {

using ::cell::testing::IsOk;
using ::cell::testing::ReadHostFile;
using ::cell::testing::StatusIs;
using ::cell::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;

using Json = nlohmann::json;

// The test binary itself stands in for the launcher: any ELF64 executable.
std::string SelfPath() {
  char buffer[4096];
  const ssize_t n = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  return n > 0 ? std::string(buffer, n) : "";
}

PackedSpec Example(absl::string_view worktree) {
  return PackedSpec{{{"version", 1},
                     {"command", {"/bin/echo", "hi"}},
                     {"worktreePath", std::string(worktree)}},
                    "/somewhere/spec.json"};
}

void WriteAll(const std::string& path, const std::string& content) {
  unlink(path.c_str());
  ASSERT_THAT(WriteNewFile(path, content, 0755), IsOk());
}

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* entry = readdir(d)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(d);
  return names;
}

TEST(PackChecksumTest, IsFnv1a64) {
  EXPECT_EQ(PackChecksum(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(PackChecksum("a"), 0xaf63dc4c8601ec8cULL);
}

TEST(ElfImageSizeTest, EndsAtTheSectionHeaderTable) {
  const std::string self = SelfPath();
  const int fd = open(self.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  absl::StatusOr<std::optional<uint64_t>> size = ElfImageSize(fd);
  close(fd);
  struct stat info;
  ASSERT_EQ(stat(self.c_str(), &info), 0);
  ASSERT_THAT(size.status(), IsOk());
  EXPECT_THAT(*size, Optional(static_cast<uint64_t>(info.st_size)));
}

TEST(PackTest, PlainExecutableCarriesNoSpec) {
  absl::StatusOr<std::optional<PackedSpec>> packed = ReadPackedSpec(SelfPath());
  ASSERT_THAT(packed.status(), IsOk());
  EXPECT_FALSE(packed->has_value());
}

TEST(PackTest, RoundTripKeepsTheImageAndTheSpec) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create());
  const std::string out = dir.Path("cell-echo");
  ASSERT_THAT(WritePackedCell(SelfPath(), Example("."), out), IsOk());

  struct stat info;
  ASSERT_EQ(stat(out.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0755);
  const std::string image = ReadHostFile(SelfPath());
  const std::string packed_file = ReadHostFile(out);
  ASSERT_GT(packed_file.size(), image.size());
  EXPECT_EQ(packed_file.substr(0, image.size()), image);
  EXPECT_EQ(packed_file.substr(packed_file.size() - kPackTrailerBytes, 8),
            kPackMagic);

  ASSERT_OK_AND_ASSIGN(std::optional<PackedSpec> read, ReadPackedSpec(out));
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->spec, Example(".").spec);
  EXPECT_EQ(read->source, "/somewhere/spec.json");
  // Only the result is left: the temporary file was renamed.
  EXPECT_THAT(Entries(dir.path()), ElementsAre("cell-echo"));
}

TEST(PackTest, PackingAPackedCellReplacesItsSpec) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create());
  ASSERT_THAT(WritePackedCell(SelfPath(), Example("/a"), dir.Path("one")),
              IsOk());
  ASSERT_THAT(WritePackedCell(dir.Path("one"), Example("/b"), dir.Path("two")),
              IsOk());
  ASSERT_OK_AND_ASSIGN(std::optional<PackedSpec> read,
                       ReadPackedSpec(dir.Path("two")));
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->spec["worktreePath"], "/b");
  const std::string image = ReadHostFile(SelfPath());
  EXPECT_EQ(ReadHostFile(dir.Path("two")).size(),
            image.size() + EncodePackedSpec(Example("/b")).size());
}

TEST(PackTest, OverwritesAnExistingOutput) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create());
  WriteAll(dir.Path("out"), "old");
  ASSERT_THAT(WritePackedCell(SelfPath(), Example("."), dir.Path("out")),
              IsOk());
  ASSERT_OK_AND_ASSIGN(std::optional<PackedSpec> read,
                       ReadPackedSpec(dir.Path("out")));
  EXPECT_TRUE(read.has_value());
}

// `payload` followed by a trailer that is right for it.
std::string WithTrailer(const std::string& payload) {
  std::string out = payload + std::string(kPackMagic);
  for (uint64_t v : {uint64_t{payload.size()}, PackChecksum(payload)}) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
  }
  return out;
}

class DamagedPackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, TempDir::Create());
    ASSERT_THAT(WritePackedCell(SelfPath(), Example("."), Good()), IsOk());
    good_ = ReadHostFile(Good());
    image_size_ = ReadHostFile(SelfPath()).size();
  }
  std::string Good() const { return dir_.Path("good"); }
  // Writes `content` as a new file and reads the spec back from it.
  absl::Status ReadBack(const std::string& content) {
    WriteAll(dir_.Path("bad"), content);
    return ReadPackedSpec(dir_.Path("bad")).status();
  }

  TempDir dir_ = *TempDir::Create();
  std::string good_;
  size_t image_size_ = 0;
};

TEST_F(DamagedPackTest, FlippedPayloadByteFailsTheChecksum) {
  std::string bad = good_;
  bad[image_size_ + 10] ^= 0x20;
  EXPECT_THAT(ReadBack(bad),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("damaged packed cell"),
                             HasSubstr("checksum"), HasSubstr("cell pack"))));
}

TEST_F(DamagedPackTest, TruncatedTrailerIsDamagedNotPlain) {
  EXPECT_THAT(ReadBack(good_.substr(0, good_.size() - 1)),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("without the pack trailer")));
}

TEST_F(DamagedPackTest, BytesAppendedToAPlainLauncherAreDamaged) {
  EXPECT_THAT(ReadBack(good_.substr(0, image_size_) + "garbage"),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("7 bytes follow the executable")));
}

TEST_F(DamagedPackTest, PayloadOfTheWrongSizeIsDamaged) {
  // One byte removed from the payload: the trailer's size no longer fits.
  std::string bad = good_;
  bad.erase(image_size_ + 3, 1);
  EXPECT_THAT(ReadBack(bad), StatusIs(absl::StatusCode::kDataLoss,
                                      HasSubstr("bytes of spec")));
}

TEST_F(DamagedPackTest, PayloadThatIsNotAPackIsDamaged) {
  // A valid trailer over JSON that is not a pack.
  EXPECT_THAT(
      ReadBack(good_.substr(0, image_size_) + WithTrailer("[1, 2]")),
      StatusIs(absl::StatusCode::kDataLoss, HasSubstr("not a cell pack")));
}

TEST_F(DamagedPackTest, NewerFormatIsRefusedByName) {
  EXPECT_THAT(
      ReadBack(good_.substr(0, image_size_) +
               WithTrailer(R"({"cellPack": 2, "source": "", "spec": {}})")),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               HasSubstr("format 2; this launcher reads format 1")));
}

TEST(PackTest, FileWithoutElfHeaderFallsBackOnTheTrailer) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create());
  WriteAll(dir.Path("script"), "#!/bin/sh\n" + EncodePackedSpec(Example(".")));
  ASSERT_OK_AND_ASSIGN(std::optional<PackedSpec> read,
                       ReadPackedSpec(dir.Path("script")));
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->spec, Example(".").spec);
  WriteAll(dir.Path("plain"), "#!/bin/sh\necho hi\n");
  ASSERT_OK_AND_ASSIGN(read, ReadPackedSpec(dir.Path("plain")));
  EXPECT_FALSE(read.has_value());
}

TEST(PackTest, BadOutputsLeaveNothingBehind) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create());
  ASSERT_EQ(mkdir(dir.Path("sub").c_str(), 0755), 0);
  EXPECT_THAT(WritePackedCell(SelfPath(), Example("."), dir.Path("sub")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("names a directory")));
  EXPECT_THAT(WritePackedCell(SelfPath(), Example("."), dir.Path("no/such")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no/such")));
  EXPECT_THAT(WritePackedCell(SelfPath(), Example("."), dir.Path("sub/")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("names a directory")));
  EXPECT_THAT(Entries(dir.path()), ElementsAre("sub"));
  EXPECT_THAT(Entries(dir.Path("sub")), ::testing::IsEmpty());
  EXPECT_THAT(
      WritePackedCell(dir.Path("missing"), Example("."), dir.Path("out")),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("launcher")));
}

}  // namespace
}  // namespace cell
