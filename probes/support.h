// Helpers the probes share: reading /proc text, links and variables, and
// trying a call in a child so that a probe never changes its own process.
// In-cell, statically linked.
#ifndef CELL_PROBES_SUPPORT_H_
#define CELL_PROBES_SUPPORT_H_

#include <sys/stat.h>

#include <functional>
#include <string>
#include <vector>

#include "probes/probes.h"

namespace cell::probes {

// The whole text of `path`, or "" (then `*error`, when given, is the
// errno).
std::string ReadText(const std::string& path, int* error = nullptr);
// Without trailing newlines and spaces.
std::string Trim(std::string text);
// The target of the symlink `path`, or "".
std::string ReadLink(const std::string& path);
// "DEV:INO" of a stat result: how the probe and cell-verify name a file
// across mount namespaces (a bind keeps it).
std::string StatIdentity(const struct stat& info);
// The variable's value, or null when unset.
Facts EnvOrNull(const char* name);

// `attempt` (0 or an errno) run in a forked child, so that one that works
// (a new namespace, being traced) changes nothing here. Its result, or -1
// when the child died without one.
int ErrnoInChild(const std::function<int()>& attempt);
// ErrnoInChild as a fact: "ok" or the errno.
Facts AttemptInChild(const std::function<int()>& attempt);
// 0 when `result` is not negative, else errno.
int ErrnoOf(long result);

// The inode of namespace `kind` under `proc_root`/self/ns, or null.
Facts NamespaceInode(const std::string& proc_root, const std::string& kind);

// The /proc files a host-root process could abuse (kernel.cc), relative
// to a proc mount's root: opened for writing (sysctls, sysrq-trigger) and
// read (kernel memory, keys, logs, timers).
const std::vector<std::string>& ProcWriteTargets();
const std::vector<std::string>& ProcReadTargets();
// "ok" when `path` opens for writing (nothing is written), else the error.
Facts WriteOpen(const std::string& path);
// The bytes a read of `path` shows (at most 4 KiB), or the error.
Facts ReadBytes(const std::string& path);

}  // namespace cell::probes

#endif  // CELL_PROBES_SUPPORT_H_
