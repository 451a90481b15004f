// What a program needs the kernel to start first: the ELF interpreter its
// PT_INTERP names (/lib64/ld-linux-x86-64.so.2) or the program of its #!
// line. When that is missing, execve(2) fails with ENOENT as if the
// program itself were; the child (between clone and exec) uses this to
// tell the two apart, so everything here is for the child side: no
// allocation, only syscalls over fixed buffers.
#ifndef CELL_LAUNCHER_JAIL_INTERPRETER_H_
#define CELL_LAUNCHER_JAIL_INTERPRETER_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace cell {

enum class InterpreterKind : int32_t {
  kNone = 0,     // None: an ELF file without PT_INTERP (static).
  kElf = 1,      // PT_INTERP of an ELF file.
  kScript = 2,   // The program of a #! line.
  kUnknown = 3,  // Neither an ELF file nor a #! line, or malformed,
                 // unreadable, or a name longer than the buffer.
};

// Where FindInterpreter reads: `read_at` reads up to `size` bytes at
// `offset` into `buffer` and returns how many (fewer at the end), or -1.
struct ByteSource {
  ssize_t (*read_at)(const void* context, char* buffer, size_t size,
                     uint64_t offset) = nullptr;
  const void* context = nullptr;
};

// A ByteSource over an open file (pread); `fd` must outlive it.
ByteSource FileBytes(const int* fd);

// A ByteSource over memory (for tests); `bytes` must outlive it.
struct MemoryBytes {
  const char* data = nullptr;
  size_t size = 0;
};
ByteSource MemoryBytesSource(const MemoryBytes* bytes);

// The interpreter `source` names, as the kernel reads it (fs/binfmt_elf.c,
// fs/binfmt_script.c): for ELF (32- or 64-bit, either byte order) the
// NUL-terminated string of the first PT_INTERP; for a #! line, its first
// word (up to a space, tab, newline or NUL, a carriage return included)
// within the first 256 bytes. On kElf and kScript `path` holds it,
// NUL-terminated; otherwise `path` is empty. Every offset and size read
// from the file is bounds-checked.
InterpreterKind FindInterpreter(const ByteSource& source, char* path,
                                size_t path_size);

// Why a program that exists fails to exec with ENOENT, for the launcher's
// message (see ChildFailure): written by the child, read by the parent,
// so plain fixed arrays. Names longer than a field end in "...".
struct MissingInterpreter {
  static constexpr size_t kPathSize = 256;

  // kElf or kScript: `path` is missing, and it is what the file names of
  // that kind. kUnknown: the program exists, but no missing interpreter
  // was found (unreadable, a binfmt_misc handler, a race). kNone: not
  // looked for.
  InterpreterKind kind = InterpreterKind::kNone;
  char path[kPathSize] = {};
  // When `path` is named not by the program but by its interpreter (a
  // script whose interpreter's ELF interpreter is missing): that
  // interpreter. Empty otherwise.
  char named_by[kPathSize] = {};
  // When `path` is a symlink (whose target is then what is missing): its
  // target as readlink(2) gives it. Empty otherwise.
  char link_target[kPathSize] = {};
};

// Follows `program`'s interpreter, and that interpreter's, as the kernel
// does (up to 4 levels), to the first one missing (faccessat F_OK fails
// with ENOENT or ENOTDIR), relative paths resolved from the working
// directory as exec resolves them. Fills `*out` (kind kUnknown when none
// is found); true when one is.
bool FindMissingInterpreter(const char* program, MissingInterpreter* out);

}  // namespace cell

#endif  // CELL_LAUNCHER_JAIL_INTERPRETER_H_
