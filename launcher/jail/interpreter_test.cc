#include "launcher/jail/interpreter.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/temp_dir.h"

namespace cell {
namespace {

using ::testing::EndsWith;
using ::testing::StartsWith;

constexpr uint32_t kPtLoad = 1;
constexpr uint32_t kPtInterp = 3;

// Writes `value` as `size` bytes at `offset`, growing `bytes` as needed.
void Put(std::string* bytes, uint64_t offset, uint64_t value, int size,
         bool big) {
  if (bytes->size() < offset + size) bytes->resize(offset + size, '\0');
  for (int i = 0; i < size; ++i) {
    (*bytes)[offset + (big ? size - 1 - i : i)] =
        static_cast<char>((value >> (8 * i)) & 0xff);
  }
}

struct Segment {
  uint32_t type = kPtLoad;
  uint64_t offset = 0;
  uint64_t size = 0;
};

// An ELF file's headers: the ELF header, then its program headers (unless
// phoff says elsewhere). Fields left unset are what a real file has.
struct Elf {
  bool wide = true;
  bool big = false;
  std::vector<Segment> segments;
  std::optional<uint64_t> phoff;
  std::optional<uint64_t> phentsize;
  std::optional<uint64_t> phnum;

  std::string Bytes() const {
    std::string bytes =
        "\x7f"
        "ELF";
    bytes += static_cast<char>(wide ? 2 : 1);
    bytes += static_cast<char>(big ? 2 : 1);
    bytes += '\x01';  // EI_VERSION
    const uint64_t header_size = wide ? 64 : 52;
    const uint64_t entry_size = wide ? 56 : 32;
    const uint64_t table = phoff.value_or(header_size);
    bytes.resize(header_size, '\0');
    Put(&bytes, 16, 2, 2, big);  // ET_EXEC
    Put(&bytes, wide ? 32 : 28, table, wide ? 8 : 4, big);
    Put(&bytes, wide ? 54 : 42, phentsize.value_or(entry_size), 2, big);
    Put(&bytes, wide ? 56 : 44, phnum.value_or(segments.size()), 2, big);
    // A table placed out of any file's reach is not written.
    if (table > (1 << 20)) return bytes;
    bytes.resize(
        std::max<uint64_t>(bytes.size(), table + segments.size() * entry_size),
        '\0');
    for (size_t i = 0; i < segments.size(); ++i) {
      const uint64_t at = table + i * entry_size;
      Put(&bytes, at, segments[i].type, 4, big);
      Put(&bytes, at + (wide ? 8 : 4), segments[i].offset, wide ? 8 : 4, big);
      Put(&bytes, at + (wide ? 32 : 16), segments[i].size, wide ? 8 : 4, big);
    }
    return bytes;
  }
};

// `elf`'s bytes with `text` (and its NUL) at `offset`.
std::string WithText(std::string bytes, uint64_t offset,
                     const std::string& text) {
  if (bytes.size() < offset + text.size() + 1) {
    bytes.resize(offset + text.size() + 1, '\0');
  }
  std::memcpy(bytes.data() + offset, text.c_str(), text.size() + 1);
  return bytes;
}

constexpr char kLdSo[] = "/lib64/ld-linux-x86-64.so.2";

// A dynamic 64-bit executable as a linker writes it: a PT_LOAD, then
// PT_INTERP naming kLdSo at 0x200.
std::string DynamicElf(bool wide = true, bool big = false) {
  Elf elf;
  elf.wide = wide;
  elf.big = big;
  elf.segments = {{kPtLoad, 0, 0x1000},
                  {kPtInterp, 0x200, sizeof(kLdSo)},
                  {kPtLoad, 0x1000, 0x10}};
  return WithText(elf.Bytes(), 0x200, kLdSo);
}

struct Found {
  InterpreterKind kind;
  std::string path;
};

Found Interpreter(const std::string& bytes, size_t path_size = PATH_MAX) {
  const MemoryBytes memory{bytes.data(), bytes.size()};
  std::vector<char> path(path_size + 1, 'X');
  const InterpreterKind kind =
      FindInterpreter(MemoryBytesSource(&memory), path.data(), path_size);
  // Never written past its size; always a string.
  EXPECT_EQ(path[path_size], 'X');
  if (path_size == 0) return {kind, ""};
  EXPECT_NE(std::memchr(path.data(), '\0', path_size), nullptr);
  return {kind, path.data()};
}

TEST(FindInterpreterTest, ElfInterpreterOfEachClassAndByteOrder) {
  for (const bool wide : {true, false}) {
    for (const bool big : {false, true}) {
      const Found found = Interpreter(DynamicElf(wide, big));
      EXPECT_EQ(found.kind, InterpreterKind::kElf) << wide << big;
      EXPECT_EQ(found.path, kLdSo) << wide << big;
    }
  }
  // The 32-bit loader, as a real i386 file names it.
  Elf elf;
  elf.wide = false;
  elf.segments = {{kPtInterp, 0x80, 19}};
  const Found found =
      Interpreter(WithText(elf.Bytes(), 0x80, "/lib/ld-linux.so.2"));
  EXPECT_EQ(found.kind, InterpreterKind::kElf);
  EXPECT_EQ(found.path, "/lib/ld-linux.so.2");
}

TEST(FindInterpreterTest, StaticElfHasNone) {
  Elf elf;
  elf.segments = {{kPtLoad, 0, 0x1000}, {kPtLoad, 0x1000, 0x10}};
  const Found found = Interpreter(elf.Bytes());
  EXPECT_EQ(found.kind, InterpreterKind::kNone);
  EXPECT_EQ(found.path, "");
}

TEST(FindInterpreterTest, TheFirstPtInterpCounts) {
  Elf elf;
  elf.segments = {{kPtInterp, 0x100, 3}, {kPtInterp, 0x200, 3}};
  const Found found =
      Interpreter(WithText(WithText(elf.Bytes(), 0x100, "/a"), 0x200, "/b"));
  EXPECT_EQ(found.path, "/a");
  // What follows the first NUL within p_filesz is not part of the name.
  elf.segments = {{kPtInterp, 0x100, 8}};
  const std::string bytes =
      WithText(elf.Bytes(), 0x100, std::string("/ld\0xyz", 7));
  ASSERT_EQ(bytes.size(), 0x108u);
  EXPECT_EQ(Interpreter(bytes).path, "/ld");
}

// Every prefix of a dynamic executable: never read past, never a name.
TEST(FindInterpreterTest, TruncatedFilesAreUnknown) {
  for (const bool wide : {true, false}) {
    const std::string whole = DynamicElf(wide);
    for (size_t size = 0; size < whole.size(); ++size) {
      const Found found = Interpreter(whole.substr(0, size));
      EXPECT_EQ(found.kind, InterpreterKind::kUnknown) << size;
      EXPECT_EQ(found.path, "") << size;
    }
    EXPECT_EQ(Interpreter(whole).kind, InterpreterKind::kElf);
  }
}

TEST(FindInterpreterTest, OffsetsAndSizesOutOfBoundsAreUnknown) {
  std::vector<Elf> bad;
  Elf elf;
  elf.segments = {{kPtInterp, 0x200, sizeof(kLdSo)}};
  // Program headers past the end, at an offset that wraps around, of a
  // size the kernel refuses, none, or more than it reads.
  for (const uint64_t phoff :
       {uint64_t{1} << 40, ~uint64_t{0} - 8, ~uint64_t{0}}) {
    Elf moved = elf;
    moved.phoff = phoff;
    bad.push_back(moved);
  }
  for (const uint64_t phentsize : {0, 32, 64, 0xffff}) {
    Elf odd = elf;
    odd.phentsize = phentsize;
    bad.push_back(odd);
  }
  Elf none = elf;
  none.phnum = 0;
  bad.push_back(none);
  Elf many = elf;
  many.phnum = 0xffff;
  bad.push_back(many);
  // The interpreter's string past the end, wrapping, too long for the
  // kernel, too short, or not NUL-terminated.
  for (const Segment& segment :
       std::vector<Segment>{{kPtInterp, uint64_t{1} << 40, sizeof(kLdSo)},
                            {kPtInterp, ~uint64_t{0}, sizeof(kLdSo)},
                            {kPtInterp, 0x200, uint64_t{1} << 40},
                            {kPtInterp, 0x200, PATH_MAX + 1},
                            {kPtInterp, 0x200, 1},
                            {kPtInterp, 0x200, 0},
                            {kPtInterp, 0x200, sizeof(kLdSo) - 1}}) {
    Elf wrong = elf;
    wrong.segments = {segment};
    bad.push_back(wrong);
  }
  for (const Elf& file : bad) {
    const Found found = Interpreter(WithText(file.Bytes(), 0x200, kLdSo));
    EXPECT_EQ(found.kind, InterpreterKind::kUnknown)
        << file.phoff.value_or(0) << " " << file.phentsize.value_or(0) << " "
        << file.phnum.value_or(0) << " " << file.segments[0].offset << " "
        << file.segments[0].size;
    EXPECT_EQ(found.path, "");
  }
}

TEST(FindInterpreterTest, BadIdentOrTooSmallABufferIsUnknown) {
  std::string bytes = DynamicElf();
  bytes[4] = 3;  // No such class.
  EXPECT_EQ(Interpreter(bytes).kind, InterpreterKind::kUnknown);
  bytes = DynamicElf();
  bytes[5] = 0;  // No byte order.
  EXPECT_EQ(Interpreter(bytes).kind, InterpreterKind::kUnknown);
  // A buffer one byte short of the name and its NUL.
  EXPECT_EQ(Interpreter(DynamicElf(), sizeof(kLdSo) - 1).kind,
            InterpreterKind::kUnknown);
  EXPECT_EQ(Interpreter(DynamicElf(), sizeof(kLdSo)).path, kLdSo);
  EXPECT_EQ(Interpreter(DynamicElf(), 0).kind, InterpreterKind::kUnknown);
  for (const char* other : {"", "\x7f",
                            "\x7f"
                            "EL",
                            "hello\n", "#", "MZ"}) {
    EXPECT_EQ(Interpreter(other).kind, InterpreterKind::kUnknown) << other;
  }
}

TEST(FindInterpreterTest, ScriptsNameTheirFirstWord) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"#!/bin/sh\necho hi\n", "/bin/sh"},
      {"#!/bin/sh", "/bin/sh"},  // No newline: the end of the file.
      {"#! /usr/bin/env python3\n", "/usr/bin/env"},
      {"#!\t /bin/bash -e\n", "/bin/bash"},
      {"#!/bin/sh \n", "/bin/sh"},
      // DOS line endings: the kernel looks for exactly this file.
      {"#!/bin/sh\r\n", "/bin/sh\r"},
      {std::string("#!/x\0/y\n", 8), "/x"},
      {"#!relative/interp\n", "relative/interp"},
  };
  for (const auto& [text, path] : cases) {
    const Found found = Interpreter(text);
    EXPECT_EQ(found.kind, InterpreterKind::kScript) << text;
    EXPECT_EQ(found.path, path) << text;
  }
  // No name at all, one the kernel takes for cut off (it runs to the end
  // of the 256 bytes it reads), and one longer than the buffer.
  for (const std::string& text :
       {std::string("#!"), std::string("#!\n/bin/sh\n"),
        std::string("#!  \t \n"), "#!/" + std::string(300, 'a') + "\n"}) {
    EXPECT_EQ(Interpreter(text).kind, InterpreterKind::kUnknown) << text;
  }
  EXPECT_EQ(Interpreter("#!/bin/sh\n", 7).kind, InterpreterKind::kUnknown);
  EXPECT_EQ(Interpreter("#!/bin/sh\n", 8).path, "/bin/sh");
}

// The host's own /bin/sh: a real file through the file source.
TEST(FindInterpreterTest, ReadsARealExecutable) {
  const int fd = open("/bin/sh", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  char path[PATH_MAX];
  const InterpreterKind kind = FindInterpreter(FileBytes(&fd), path, PATH_MAX);
  close(fd);
  ASSERT_TRUE(kind == InterpreterKind::kElf || kind == InterpreterKind::kNone)
      << static_cast<int>(kind);
  if (kind == InterpreterKind::kElf) {
    EXPECT_EQ(access(path, F_OK), 0) << path;
  }
}

class FindMissingInterpreterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<testing::TempDir> dir = testing::TempDir::Create();
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_.emplace(*std::move(dir));
  }

  std::string Write(const std::string& name, const std::string& bytes) {
    const std::string path = dir_->Path(name);
    std::ofstream(path, std::ios::binary) << bytes;
    EXPECT_EQ(chmod(path.c_str(), 0755), 0);
    return path;
  }

  // A dynamic ELF executable whose PT_INTERP is `interpreter`.
  std::string WriteElf(const std::string& name,
                       const std::string& interpreter) {
    Elf elf;
    elf.segments = {{kPtLoad, 0, 0x1000},
                    {kPtInterp, 0x200, interpreter.size() + 1}};
    return Write(name, WithText(elf.Bytes(), 0x200, interpreter));
  }

  std::optional<testing::TempDir> dir_;
};

TEST_F(FindMissingInterpreterTest, ScriptInterpreterMissing) {
  const std::string script = Write("script", "#!/nonexistent/interp -x\n");
  MissingInterpreter missing;
  EXPECT_TRUE(FindMissingInterpreter(script.c_str(), &missing));
  EXPECT_EQ(missing.kind, InterpreterKind::kScript);
  EXPECT_STREQ(missing.path, "/nonexistent/interp");
  EXPECT_STREQ(missing.named_by, "");
  EXPECT_STREQ(missing.link_target, "");
  // A file where a directory should be: ENOTDIR, just as missing.
  const std::string under_file = Write("under-file", "#!/etc/passwd/sh\n");
  EXPECT_TRUE(FindMissingInterpreter(under_file.c_str(), &missing));
  EXPECT_STREQ(missing.path, "/etc/passwd/sh");
}

TEST_F(FindMissingInterpreterTest, ElfInterpreterMissingOrADanglingLink) {
  const std::string gone = dir_->Path("ld-gone.so");
  const std::string program = WriteElf("program", gone);
  MissingInterpreter missing;
  EXPECT_TRUE(FindMissingInterpreter(program.c_str(), &missing));
  EXPECT_EQ(missing.kind, InterpreterKind::kElf);
  EXPECT_EQ(missing.path, gone);
  EXPECT_STREQ(missing.link_target, "");

  const std::string link = dir_->Path("ld-link.so");
  ASSERT_EQ(symlink("/nonexistent/ld.so", link.c_str()), 0);
  const std::string linked = WriteElf("linked", link);
  EXPECT_TRUE(FindMissingInterpreter(linked.c_str(), &missing));
  EXPECT_EQ(missing.kind, InterpreterKind::kElf);
  EXPECT_EQ(missing.path, link);
  EXPECT_STREQ(missing.link_target, "/nonexistent/ld.so");
}

// A script whose interpreter exists, but that interpreter's own ELF
// interpreter does not: the report names both.
TEST_F(FindMissingInterpreterTest, FollowsInterpretersOfInterpreters) {
  const std::string gone = dir_->Path("ld-gone.so");
  const std::string python = WriteElf("python3", gone);
  const std::string script = Write("tool.py", "#!" + python + "\n");
  MissingInterpreter missing;
  EXPECT_TRUE(FindMissingInterpreter(script.c_str(), &missing));
  EXPECT_EQ(missing.kind, InterpreterKind::kElf);
  EXPECT_EQ(missing.path, gone);
  EXPECT_EQ(missing.named_by, python);
}

TEST_F(FindMissingInterpreterTest, NothingMissingIsUnknown) {
  Elf elf;
  elf.segments = {{kPtLoad, 0, 0x1000}};
  const std::string static_program = Write("static", elf.Bytes());
  const std::string script = Write("script", "#!" + static_program + "\n");
  MissingInterpreter missing;
  for (const std::string& program :
       {script, static_program, dir_->Path("absent"), std::string("/"),
        Write("text", "just text\n")}) {
    EXPECT_FALSE(FindMissingInterpreter(program.c_str(), &missing)) << program;
    EXPECT_EQ(missing.kind, InterpreterKind::kUnknown) << program;
    EXPECT_STREQ(missing.path, "") << program;
  }
  // A script naming itself: followed a few levels, then given up.
  const std::string loop = dir_->Path("loop");
  Write("loop", "#!" + loop + "\n");
  EXPECT_FALSE(FindMissingInterpreter(loop.c_str(), &missing));
}

// A name longer than the report's field is cut, and says so.
TEST_F(FindMissingInterpreterTest, LongNamesAreCutVisibly) {
  const std::string gone = "/nonexistent/" + std::string(400, 'l');
  const std::string program = WriteElf("program", gone);
  MissingInterpreter missing;
  EXPECT_TRUE(FindMissingInterpreter(program.c_str(), &missing));
  EXPECT_EQ(std::strlen(missing.path), MissingInterpreter::kPathSize - 1);
  EXPECT_THAT(std::string(missing.path), StartsWith("/nonexistent/lll"));
  EXPECT_THAT(std::string(missing.path), EndsWith("l..."));
}

}  // namespace
}  // namespace cell
