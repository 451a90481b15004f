// Test helper, run inside a cell as its command: forks a tracer, then
// exits with status 7. The kernel shows a traced process's exit to its
// tracer only, and a traced process stops when the tracer says, so a
// parent that just calls waitpid() (the launcher, or the cell's init)
// could wait for as long as the tracer likes: the attack keeps the
// launcher, its $JD and the run alive after the command ended.
//   ptrace_hold [command]      seize the command, never wait, live on
//   ptrace_hold init-detach    attach the cell's init (PID 1 of a PID
//                              namespace), which stops it, and exit at once
//   ptrace_hold init-hold      attach the init and live on
//   ptrace_hold command N      as `command`, the tracer first holding N
//                              idle connections to the cell's proxy (so
//                              the launcher may have no descriptor left)
// Prints "tracer PID" first. Statically linked: a cell holds no host
// libraries.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "command";
  const bool init = strncmp(mode, "init", 4) == 0;
  const pid_t target = init ? 1 : getpid();
  int ready[2];
  if (pipe(ready) != 0) return 3;
  const pid_t tracer = fork();
  if (tracer < 0) return 3;
  if (tracer == 0) {
    setsid();
    // Idle connections to the proxy ($http_proxy=http://127.0.0.1:PORT).
    const int hold = argc > 2 ? atoi(argv[2]) : 0;
    const char* proxy = getenv("http_proxy");
    const char* colon = proxy != NULL ? strrchr(proxy, ':') : NULL;
    for (int i = 0; i < hold && colon != NULL; ++i) {
      struct sockaddr_in address;
      memset(&address, 0, sizeof(address));
      address.sin_family = AF_INET;
      address.sin_port = htons(static_cast<uint16_t>(atoi(colon + 1)));
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      const int fd = socket(AF_INET, SOCK_STREAM, 0);
      if (fd < 0 || connect(fd, reinterpret_cast<struct sockaddr*>(&address),
                            sizeof(address)) != 0) {
        break;
      }
    }
    if (hold > 0) usleep(500000);  // The launcher accepts them meanwhile.
    const long attached = init ? ptrace(PTRACE_ATTACH, target, 0, 0)
                               : ptrace(PTRACE_SEIZE, target, 0, 0);
    const char ok = attached == 0 ? 1 : 0;
    if (ok == 0) perror("ptrace");
    (void)!write(ready[1], &ok, 1);
    if (strcmp(mode, "init-detach") == 0) _exit(0);
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
