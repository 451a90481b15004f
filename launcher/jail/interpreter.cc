#include "launcher/jail/interpreter.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace cell {
namespace {

// What the kernel reads of a file to choose its loader (BINPRM_BUF_SIZE):
// a #! line must fit in it.
constexpr size_t kHeadSize = 256;
constexpr uint32_t kPtInterp = 3;
// The kernel reads at most 64 KiB of program headers (elf_read_phdrs).
constexpr uint64_t kMaxProgramHeaders = 65536;
// Nested interpreters the kernel follows (BINPRM_MAX_RECURSION).
constexpr int kMaxDepth = 4;

ssize_t ReadFile(const void* context, char* buffer, size_t size,
                 uint64_t offset) {
  const int fd = *static_cast<const int*>(context);
  if (offset > static_cast<uint64_t>(INT64_MAX)) return -1;
  size_t done = 0;
  while (done < size) {
    const ssize_t n = pread(fd, buffer + done, size - done,
                            static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(done);
}

ssize_t ReadMemory(const void* context, char* buffer, size_t size,
                   uint64_t offset) {
  const MemoryBytes& bytes = *static_cast<const MemoryBytes*>(context);
  if (offset >= bytes.size) return 0;
  const size_t available = bytes.size - static_cast<size_t>(offset);
  const size_t n = size < available ? size : available;
  std::memcpy(buffer, bytes.data + offset, n);
  return static_cast<ssize_t>(n);
}

// Exactly `size` bytes at `offset`, or false.
bool ReadExact(const ByteSource& source, char* buffer, size_t size,
               uint64_t offset) {
  return source.read_at(source.context, buffer, size, offset) ==
         static_cast<ssize_t>(size);
}

// An unsigned field of `size` bytes (2, 4 or 8) in the file's byte order.
uint64_t Field(const char* at, int size, bool big_endian) {
  uint64_t value = 0;
  for (int i = 0; i < size; ++i) {
    const uint64_t byte =
        static_cast<unsigned char>(at[big_endian ? i : size - 1 - i]);
    value = (value << 8) | byte;
  }
  return value;
}

bool SpaceOrTab(char c) { return c == ' ' || c == '\t'; }

// fs/binfmt_script.c: "#!", spaces or tabs, then the interpreter up to a
// space, tab, newline or NUL (the rest of the 256 bytes reads as NULs).
InterpreterKind ParseScript(const char* head, size_t size, char* path,
                            size_t path_size) {
  size_t start = 2;
  while (start < size && SpaceOrTab(head[start])) ++start;
  size_t end = start;
  while (end < size && !SpaceOrTab(head[end]) && head[end] != '\n' &&
         head[end] != '\0') {
    ++end;
  }
  // No name; or one that runs to the end of a full buffer, which the
  // kernel takes for cut off (ENOEXEC).
  if (end == start || (end == size && size >= kHeadSize - 1)) {
    return InterpreterKind::kUnknown;
  }
  if (end - start >= path_size) return InterpreterKind::kUnknown;
  std::memcpy(path, head + start, end - start);
  path[end - start] = '\0';
  return InterpreterKind::kScript;
}

// fs/binfmt_elf.c: the first PT_INTERP's contents, NUL-terminated within
// its p_filesz (at least 2 bytes, at most PATH_MAX).
InterpreterKind ParseElf(const ByteSource& source, const char* head,
                         size_t size, char* path, size_t path_size) {
  constexpr size_t kIdentSize = 16;
  if (size < kIdentSize) return InterpreterKind::kUnknown;
  const int elf_class = head[4];  // 1: 32-bit, 2: 64-bit.
  const int data = head[5];       // 1: little-endian, 2: big-endian.
  if ((elf_class != 1 && elf_class != 2) || (data != 1 && data != 2)) {
    return InterpreterKind::kUnknown;
  }
  const bool wide = elf_class == 2;
  const bool big = data == 2;
  // The header's size and the fields of it and of a program header.
  const size_t header_size = wide ? 64 : 52;
  const uint64_t entry_size = wide ? 56 : 32;
  if (size < header_size) return InterpreterKind::kUnknown;
  const uint64_t phoff = Field(head + (wide ? 32 : 28), wide ? 8 : 4, big);
  const uint64_t phentsize = Field(head + (wide ? 54 : 42), 2, big);
  const uint64_t phnum = Field(head + (wide ? 56 : 44), 2, big);
  if (phentsize != entry_size || phnum == 0 ||
      phnum * phentsize > kMaxProgramHeaders) {
    return InterpreterKind::kUnknown;
  }
  char header[56];
  for (uint64_t i = 0; i < phnum; ++i) {
    uint64_t offset = 0;
    if (__builtin_add_overflow(phoff, i * phentsize, &offset) ||
        !ReadExact(source, header, entry_size, offset)) {
      return InterpreterKind::kUnknown;
    }
    if (Field(header, 4, big) != kPtInterp) continue;
    const uint64_t interp_offset =
        Field(header + (wide ? 8 : 4), wide ? 8 : 4, big);
    const uint64_t interp_size =
        Field(header + (wide ? 32 : 16), wide ? 8 : 4, big);
    if (interp_size < 2 || interp_size > PATH_MAX || interp_size > path_size ||
        !ReadExact(source, path, interp_size, interp_offset) ||
        path[interp_size - 1] != '\0') {
      path[0] = '\0';
      return InterpreterKind::kUnknown;
    }
    return InterpreterKind::kElf;
  }
  return InterpreterKind::kNone;
}

// `text` into `field` (`size` bytes), ending in "..." when cut.
void CopyField(const char* text, char* field, size_t size) {
  const size_t length = strnlen(text, PATH_MAX);
  if (length < size) {
    std::memcpy(field, text, length);
    field[length] = '\0';
    return;
  }
  std::memcpy(field, text, size - 4);
  std::memcpy(field + size - 4, "...", 4);
}

// The interpreter the regular file `file` names, into `next`.
InterpreterKind InterpreterOf(const char* file, char* next, size_t next_size) {
  next[0] = '\0';
  const int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return InterpreterKind::kUnknown;
  struct stat info;
  InterpreterKind kind = InterpreterKind::kUnknown;
  if (fstat(fd, &info) == 0 && S_ISREG(info.st_mode)) {
    kind = FindInterpreter(FileBytes(&fd), next, next_size);
  }
  close(fd);
  return kind;
}

}  // namespace

ByteSource FileBytes(const int* fd) {
  ByteSource source;
  source.read_at = ReadFile;
  source.context = fd;
  return source;
}

ByteSource MemoryBytesSource(const MemoryBytes* bytes) {
  ByteSource source;
  source.read_at = ReadMemory;
  source.context = bytes;
  return source;
}

InterpreterKind FindInterpreter(const ByteSource& source, char* path,
                                size_t path_size) {
  if (path_size == 0) return InterpreterKind::kUnknown;
  path[0] = '\0';
  char head[kHeadSize];
  const ssize_t n = source.read_at(source.context, head, sizeof(head), 0);
  if (n < 0) return InterpreterKind::kUnknown;
  const size_t size = static_cast<size_t>(n);
  if (size >= 2 && head[0] == '#' && head[1] == '!') {
    return ParseScript(head, size, path, path_size);
  }
  if (size >= 4 && std::memcmp(head,
                               "\x7f"
                               "ELF",
                               4) == 0) {
    return ParseElf(source, head, size, path, path_size);
  }
  return InterpreterKind::kUnknown;
}

bool FindMissingInterpreter(const char* program, MissingInterpreter* out) {
  *out = MissingInterpreter();
  out->kind = InterpreterKind::kUnknown;
  // The file looked at and the interpreter it names, swapped each level.
  char first[PATH_MAX];
  char second[PATH_MAX];
  char* file = first;
  char* next = second;
  const size_t length = strnlen(program, PATH_MAX);
  if (length == PATH_MAX) return false;
  std::memcpy(file, program, length + 1);
  for (int depth = 0; depth < kMaxDepth; ++depth) {
    const InterpreterKind kind = InterpreterOf(file, next, PATH_MAX);
    if (kind != InterpreterKind::kElf && kind != InterpreterKind::kScript) {
      return false;
    }
    if (faccessat(AT_FDCWD, next, F_OK, 0) == 0) {
      char* const named = file;
      file = next;
      next = named;
      continue;
    }
    // Anything else (EACCES on the way, ELOOP) would not be ENOENT.
    if (errno != ENOENT && errno != ENOTDIR) return false;
    out->kind = kind;
    CopyField(next, out->path, sizeof(out->path));
    if (depth > 0) CopyField(file, out->named_by, sizeof(out->named_by));
    struct stat link;
    if (fstatat(AT_FDCWD, next, &link, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISLNK(link.st_mode)) {
      // `file` is done with: its buffer takes the target.
      const ssize_t n = readlink(next, file, PATH_MAX - 1);
      if (n > 0) {
        file[n] = '\0';
        CopyField(file, out->link_target, sizeof(out->link_target));
      }
    }
    return true;
  }
  return false;
}

}  // namespace cell
