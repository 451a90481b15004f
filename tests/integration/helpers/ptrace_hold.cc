// Test helper, run inside a cell as its command: forks a process that
// ptrace-attaches the command (PTRACE_SEIZE) and never waits for it, then
// the command exits with status 7. The kernel shows a traced process's
// exit to its tracer only, so a parent (the launcher, or the cell's init)
// that just calls waitpid() would wait for as long as the tracer lives:
// the attack keeps the launcher, its $JD and the run alive after the
// command ended. Prints "tracer PID" first. Statically linked: a cell
// holds no host libraries.
#include <stdio.h>
#include <sys/ptrace.h>
#include <unistd.h>

int main() {
  const pid_t command = getpid();
  int ready[2];
  if (pipe(ready) != 0) return 3;
  const pid_t tracer = fork();
  if (tracer < 0) return 3;
  if (tracer == 0) {
    setsid();
    const char ok = ptrace(PTRACE_SEIZE, command, 0, 0) == 0 ? 1 : 0;
    if (ok == 0) perror("PTRACE_SEIZE");
    (void)!write(ready[1], &ok, 1);
    // Holds nothing of the caller's (a test reads stdout to its end), and
    // ends by itself after a minute rather than never.
    for (int fd = 0; fd < 3; ++fd) close(fd);
    alarm(60);
    for (;;) pause();
  }
  char ok = 0;
  if (read(ready[0], &ok, 1) != 1 || ok != 1) return 4;
  printf("tracer %d\n", tracer);
  fflush(stdout);
  return 7;
}
