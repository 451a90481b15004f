// A child whose exit the kernel hides: a process that ptrace-attached it
// and never waits for it gets its exit first, and waitpid() in the real
// parent returns nothing until the tracer reaps it or detaches, which an
// agent's tracer need never do. The launcher (for its child) and the
// cell's init (for the command) would then wait for as long as the tracer
// lives. A pidfd still becomes readable at the exit, and /proc/PID/stat
// still says Z with the wait status in its exit_code field.
//
// Both sides of the clone: no allocation, async-signal-safe.
#ifndef CELL_LAUNCHER_JAIL_TRACED_EXIT_H_
#define CELL_LAUNCHER_JAIL_TRACED_EXIT_H_

#include <sys/types.h>

namespace cell {

// A pidfd for `pid`, or -1 (pidfd_open(2), Linux 5.3).
int OpenPidfd(pid_t pid);

// True when /proc/`pid`/stat says `pid` is a zombie; then `*wait_status`
// is its status in waitpid(2)'s form. False while it runs or is stopped,
// and when /proc cannot tell (no /proc, no permission).
bool ZombieWaitStatus(pid_t pid, int* wait_status);

// The same through /proc/`pid`/stat opened beforehand (OpenStatFile, -1
// when it cannot be): a launcher whose descriptors the cell used up by
// then can still read it, and the file stays that process's (a reused pid
// is another file).
int OpenStatFile(pid_t pid);
bool ZombieWaitStatusAt(int stat_fd, int* wait_status);
// The same for a process that is exiting but not yet a zombie (it waits
// in the kernel, e.g. a PID namespace's init for a frozen process): its
// exit status is already set.
bool ExitingWaitStatusAt(int stat_fd, int* wait_status);

// The pid of the process `pidfd` refers to, as this process sees it (from
// /proc/self/fdinfo), or -1.
pid_t PidOfPidfd(int pidfd);

// The wait status as an exit code (128+N for a signal), for the init.
int ExitCodeOf(int wait_status);

}  // namespace cell

#endif  // CELL_LAUNCHER_JAIL_TRACED_EXIT_H_
