// Test helper, run inside a cell: the terminal-injection attack. Pushes a
// command line into the terminal on fd 0 and into /dev/tty with TIOCSTI,
// as an agent would to have the caller's shell run it on the host after the
// cell exits. Prints what each attempt did on stderr; always exits 0.
// Statically linked: a cell holds no host libraries.
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace {

// How many bytes of `line` TIOCSTI pushed into `fd`, or the errno name.
void Inject(const char* name, int fd, const char* line) {
  int pushed = 0;
  int error = 0;
  for (const char* c = line; *c != '\0'; ++c) {
    if (ioctl(fd, TIOCSTI, c) == 0) {
      ++pushed;
    } else {
      error = errno;
    }
  }
  std::fprintf(stderr, "%s: pushed %d of %zu bytes%s%s\n", name, pushed,
               std::strlen(line), error != 0 ? "; " : "",
               error != 0 ? std::strerror(error) : "");
}

}  // namespace

int main(int argc, char** argv) {
  const char* line = argc > 1 ? argv[1] : "echo CELL-INJECTED\n";
  Inject("fd 0", 0, line);
  const int tty = open("/dev/tty", O_RDWR | O_NOCTTY);
  if (tty < 0) {
    std::fprintf(stderr, "/dev/tty: %s\n", std::strerror(errno));
  } else {
    Inject("/dev/tty", tty, line);
    close(tty);
  }
  return 0;
}
