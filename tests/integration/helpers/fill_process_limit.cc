// Test helper, run inside a cell: uses up the user's process limit, frees
// exactly one slot, then runs argv[1..] in it (a fork, so the slot is
// taken again: an exec would not take one). What a cell does to starve
// a launcher of the same user of threads. The children wait until the cell
// ends (a PID namespace ends them with it). Prints how many it forked on
// stderr. Statically linked: a cell holds no host libraries.
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: fill_process_limit COMMAND [ARG...]\n");
    return 2;
  }
  pid_t last = -1;
  int forked = 0;
  while (forked < 100000) {
    const pid_t child = fork();
    if (child < 0) break;  // EAGAIN: the limit.
    if (child == 0) {
      pause();
      _exit(0);
    }
    last = child;
    ++forked;
  }
  std::fprintf(stderr, "forked %d\n", forked);
  if (last > 0) {
    kill(last, SIGKILL);
    waitpid(last, nullptr, 0);
  }
  // The freed slot can be briefly taken by a process of the same user that
  // is starting or still being reaped elsewhere: retry for a moment.
  pid_t command = -1;
  for (int attempt = 0; attempt < 100; ++attempt) {
    command = fork();
    if (command >= 0 || errno != EAGAIN) break;
    usleep(10000);
  }
  if (command < 0) {
    std::perror("fork");
    return 126;
  }
  if (command == 0) {
    execv(argv[1], argv + 1);
    std::perror("execv");
    _exit(127);
  }
  int status = 0;
  waitpid(command, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
