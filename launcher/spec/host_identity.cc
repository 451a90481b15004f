#include "launcher/spec/host_identity.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace cell {
namespace {

// The lines of an /etc/passwd or /etc/group style text, split at ':'.
std::vector<std::vector<absl::string_view>> Entries(absl::string_view text) {
  std::vector<std::vector<absl::string_view>> entries;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty() || line.front() == '#') continue;
    std::vector<absl::string_view> fields = absl::StrSplit(line, ':');
    if (fields.size() >= 3 && !fields[0].empty()) entries.push_back(fields);
  }
  return entries;
}

absl::Status HostUserError(absl::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat("field `hostUser`: ", message));
}

// Names of the groups `user` is a member of (by the member lists).
std::vector<std::string> GroupsListing(absl::string_view user,
                                       absl::string_view group_text) {
  std::vector<std::string> names;
  for (const auto& fields : Entries(group_text)) {
    if (fields.size() < 4) continue;
    for (absl::string_view member : absl::StrSplit(fields[3], ',')) {
      if (!user.empty() && member == user) names.emplace_back(fields[0]);
    }
  }
  return names;
}

}  // namespace

std::string NameOfId(absl::string_view text, unsigned id) {
  for (const auto& fields : Entries(text)) {
    unsigned value = 0;
    if (absl::SimpleAtoi(fields[2], &value) && value == id) {
      return std::string(fields[0]);
    }
  }
  return "";
}

std::string HomeOfUser(absl::string_view passwd_text, absl::string_view user) {
  unsigned uid = 0;
  const bool numeric = absl::SimpleAtoi(user, &uid);
  for (const auto& fields : Entries(passwd_text)) {
    if (fields.size() < 6) continue;
    unsigned value = 0;
    const bool match =
        fields[0] == user ||
        (numeric && absl::SimpleAtoi(fields[2], &value) && value == uid);
    if (match) return std::string(fields[5]);
  }
  return "";
}

absl::StatusOr<HostIdentity> ResolveHostIdentity(
    const std::optional<std::string>& host_user, uid_t uid, gid_t gid,
    absl::string_view passwd_text, absl::string_view group_text) {
  HostIdentity identity;
  if (!host_user.has_value()) {
    identity.uid = uid;
    identity.gid = gid;
    identity.user_name = NameOfId(passwd_text, uid);
    identity.group_name = NameOfId(group_text, gid);
    return identity;
  }
  if (uid != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "field `hostUser`: only a launcher running as root can run the cell "
        "as another host user (this one runs as uid ",
        uid, "); start the cell as '", *host_user,
        "' itself, or drop --host-user"));
  }
  // A name, or a decimal uid (which need not have a name).
  unsigned number = 0;
  const bool numeric = absl::SimpleAtoi(*host_user, &number) &&
                       !host_user->empty() &&
                       absl::ascii_isdigit(host_user->front());
  bool found = false;
  for (const auto& fields : Entries(passwd_text)) {
    unsigned entry_uid = 0;
    unsigned entry_gid = 0;
    if (fields.size() < 4 || !absl::SimpleAtoi(fields[2], &entry_uid) ||
        !absl::SimpleAtoi(fields[3], &entry_gid)) {
      continue;
    }
    if (numeric ? entry_uid == number : fields[0] == *host_user) {
      identity.uid = entry_uid;
      identity.gid = entry_gid;
      identity.user_name = std::string(fields[0]);
      found = true;
      break;
    }
  }
  if (!found) {
    if (!numeric) {
      return HostUserError(absl::StrCat(
          "no user '", *host_user,
          "' in /etc/passwd; give an existing user's name or a numeric uid"));
    }
    // A uid without an entry: its own number as its group, as for the
    // conventional nobody/nogroup pairs.
    identity.uid = number;
    identity.gid = number;
  }
  identity.group_name = NameOfId(group_text, identity.gid);
  identity.switched = true;
  identity.groups.push_back(identity.gid);
  for (const std::string& name :
       GroupsListing(identity.user_name, group_text)) {
    for (const auto& fields : Entries(group_text)) {
      unsigned value = 0;
      if (fields[0] == name && absl::SimpleAtoi(fields[2], &value) &&
          std::find(identity.groups.begin(), identity.groups.end(), value) ==
              identity.groups.end()) {
        identity.groups.push_back(value);
      }
    }
  }
  return identity;
}

bool NixDaemonTrusts(const HostIdentity& identity,
                     absl::string_view nix_conf_text,
                     absl::string_view group_text) {
  if (identity.uid == 0) return true;
  std::vector<std::string> groups =
      GroupsListing(identity.user_name, group_text);
  if (!identity.group_name.empty()) groups.push_back(identity.group_name);
  for (absl::string_view line : absl::StrSplit(nix_conf_text, '\n')) {
    line = absl::StripAsciiWhitespace(line.substr(0, line.find('#')));
    const size_t equals = line.find('=');
    if (equals == absl::string_view::npos) continue;
    const absl::string_view key =
        absl::StripAsciiWhitespace(line.substr(0, equals));
    if (key != "trusted-users" && key != "extra-trusted-users") continue;
    for (absl::string_view entry :
         absl::StrSplit(line.substr(equals + 1), ' ', absl::SkipEmpty())) {
      if (entry == "*" ||
          (!identity.user_name.empty() && entry == identity.user_name)) {
        return true;
      }
      if (absl::ConsumePrefix(&entry, "@") &&
          std::find(groups.begin(), groups.end(), entry) != groups.end()) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace cell
