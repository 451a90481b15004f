// Who the cell is on the host. Ids map 1:1, so the cell's uid is a host uid
// and the kernel's uid checks (sysctl writes, the Nix daemon's trust, files
// on binds) see it as such: a cell launched by root is host root for all of
// them. `hostUser` (--host-user) makes a root launcher run the cell as an
// unprivileged host user instead, as if that user had started it. Pure: the
// callers read /etc/passwd, /etc/group and nix.conf.
#ifndef CELL_LAUNCHER_SPEC_HOST_IDENTITY_H_
#define CELL_LAUNCHER_SPEC_HOST_IDENTITY_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cell {

struct HostIdentity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string user_name;   // Empty when the uid has no name.
  std::string group_name;  // Empty when the gid has no name.
  // Supplementary groups (the primary one included) when the launcher
  // switches to another user; empty otherwise (the launcher's own stay).
  std::vector<gid_t> groups;
  // True when the launcher (root) runs the cell as another user.
  bool switched = false;
};

// The launcher's own identity (`uid`, `gid`), or with `host_user` (a name
// or a decimal uid) that user's: its primary group from `passwd_text` and
// every group of `group_text` that lists it. Errors name the field `hostUser`
// and the fix: an unknown user, or a launcher that is not root.
absl::StatusOr<HostIdentity> ResolveHostIdentity(
    const std::optional<std::string>& host_user, uid_t uid, gid_t gid,
    absl::string_view passwd_text, absl::string_view group_text);

// The home directory of `user` (a name or a decimal uid) in an /etc/passwd
// style text, or "".
std::string HomeOfUser(absl::string_view passwd_text, absl::string_view user);

// The name of `id` in an /etc/passwd or /etc/group style text, or "".
std::string NameOfId(absl::string_view text, unsigned id);

// Whether a Nix daemon configured by `nix_conf_text` (its nix.conf) treats
// `identity` as a trusted user: root always is (the default
// `trusted-users = root`, and root owns the store anyway); otherwise when
// `trusted-users` / `extra-trusted-users` name the user, a group of it
// (@group), or `*`.
bool NixDaemonTrusts(const HostIdentity& identity,
                     absl::string_view nix_conf_text,
                     absl::string_view group_text);

}  // namespace cell

#endif  // CELL_LAUNCHER_SPEC_HOST_IDENTITY_H_
