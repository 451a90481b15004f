#include "launcher/jail/traced_exit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace cell {
namespace {

// Appends `text` at `out`; returns the new end (no allocation: the
// cell's init uses these too).
char* AppendText(char* out, const char* text) {
  while (*text != '\0') *out++ = *text++;
  return out;
}

// Appends `value` in decimal at `out`; returns the new end.
char* AppendDecimal(char* out, unsigned long value) {
  char digits[24];
  int count = 0;
  do {
    digits[count++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0);
  while (count > 0) *out++ = digits[--count];
  return out;
}

// The decimal number at `text` (leading spaces and tabs skipped), or -1
// when there are no digits.
long ParseDecimal(const char* text) {
  while (*text == ' ' || *text == '\t') ++text;
  long value = 0;
  bool digits = false;
  for (; *text >= '0' && *text <= '9'; ++text) {
    value = value * 10 + (*text - '0');
    digits = true;
  }
  return digits ? value : -1;
}

// "/proc/<pid>/stat" in `path` (at least 48 bytes).
void StatPath(pid_t pid, char* path) {
  char* end = AppendText(path, "/proc/");
  end = AppendDecimal(end, static_cast<unsigned long>(pid));
  *AppendText(end, "/stat") = '\0';
}

}  // namespace

int OpenPidfd(pid_t pid) {
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

int OpenStatFile(pid_t pid) {
  char path[48];
  StatPath(pid, path);
  return open(path, O_RDONLY | O_CLOEXEC);
}

bool ZombieWaitStatus(pid_t pid, int* wait_status) {
  const int fd = OpenStatFile(pid);
  if (fd < 0) return false;
  const bool zombie = ZombieWaitStatusAt(fd, wait_status);
  close(fd);
  return zombie;
}

namespace {

// Field `index` (3 = the state, after the comm) of a /proc/PID/stat text,
// as a number, or -1.
long StatField(const char* after_comm, int index) {
  const char* field = after_comm;
  for (int skip = 3; skip < index; ++skip) {
    while (*field != ' ' && *field != '\0') ++field;
    if (*field == '\0') return -1;
    ++field;
  }
  return ParseDecimal(field);
}

// The text after "pid (comm) " of the stat file, in `text`; nullptr when
// it cannot be read.
const char* ReadStat(int stat_fd, char* text, size_t size) {
  if (stat_fd < 0) return nullptr;
  ssize_t n;
  do {
    n = pread(stat_fd, text, size - 1, 0);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return nullptr;
  text[n] = '\0';
  // "pid (comm) state ..."; comm may hold spaces and ')': after the last.
  const char* after = nullptr;
  for (const char* c = text; *c != '\0'; ++c) {
    if (*c == ')') after = c;
  }
  if (after == nullptr || after[1] != ' ') return nullptr;
  return after + 2;  // Field 3, the state.
}

constexpr long kPfExiting = 0x4;  // PF_EXITING in field 9, `flags`.

}  // namespace

bool ZombieWaitStatusAt(int stat_fd, int* wait_status) {
  char text[1024];
  const char* state = ReadStat(stat_fd, text, sizeof(text));
  if (state == nullptr || *state != 'Z') return false;
  const long value = StatField(state, 52);  // exit_code.
  if (value < 0) return false;
  *wait_status = static_cast<int>(value);
  return true;
}

bool ExitingWaitStatusAt(int stat_fd, int* wait_status) {
  char text[1024];
  const char* state = ReadStat(stat_fd, text, sizeof(text));
  if (state == nullptr) return false;
  const long flags = StatField(state, 9);
  if (*state != 'Z' && (flags < 0 || (flags & kPfExiting) == 0)) return false;
  const long value = StatField(state, 52);
  if (value < 0) return false;
  *wait_status = static_cast<int>(value);
  return true;
}

pid_t PidOfPidfd(int pidfd) {
  char path[48];
  *AppendDecimal(AppendText(path, "/proc/self/fdinfo/"),
                 static_cast<unsigned long>(pidfd)) = '\0';
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char text[512];
  const ssize_t n = read(fd, text, sizeof(text) - 1);
  close(fd);
  if (n <= 0) return -1;
  text[n] = '\0';
  for (const char* line = text; *line != '\0';) {
    if (line[0] == 'P' && line[1] == 'i' && line[2] == 'd' && line[3] == ':') {
      const long value = ParseDecimal(line + 4);
      return value > 0 ? static_cast<pid_t>(value) : -1;
    }
    while (*line != '\0' && *line != '\n') ++line;
    if (*line == '\n') ++line;
  }
  return -1;
}

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 125;
}

}  // namespace cell
