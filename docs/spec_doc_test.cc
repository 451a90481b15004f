// docs/spec.md against the code: every field the spec printer emits, every
// flag of the table and the lists users write from (rlimit names, the
// @defaults of `protect`, the variables the launcher forces) are named in
// the reference. A field added to SpecToJson, or a flag to the table,
// without its documentation fails here.
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "launcher/cli/flags.h"
#include "launcher/spec/spec.h"
#include "nlohmann/json.hpp"
#include "testing/runfiles.h"

namespace cell {
namespace {

using Json = nlohmann::json;

std::string ReadReference() {
  absl::StatusOr<std::string> text = testing::ReadRunfile("docs/spec.md");
  EXPECT_TRUE(text.ok()) << text.status();
  return text.value_or("");
}

// The objects whose keys are the user's (variable names, rlimit names),
// not fields.
bool IsMap(const std::string& field) {
  return field == "env" || field == "limits.rlimits";
}

// Every field name in `json`, dotted: "isolation.pidNamespace"; the fields
// of a list's objects as "mounts[].type".
void CollectFields(const Json& json, const std::string& prefix,
                   std::set<std::string>* fields) {
  if (json.is_object()) {
    if (IsMap(prefix)) return;
    for (const auto& item : json.items()) {
      const std::string field =
          prefix.empty() ? item.key() : absl::StrCat(prefix, ".", item.key());
      fields->insert(field);
      CollectFields(item.value(), field, fields);
    }
  } else if (json.is_array()) {
    for (const Json& element : json) {
      CollectFields(element, absl::StrCat(prefix, "[]"), fields);
    }
  }
}

// A spec with every optional part present, so that SpecToJson prints every
// field it can: a resolved `path`, a mount of each type (with and without a
// source), a variable, an rlimit and both cgroup limits.
CellSpec FullSpec() {
  CellSpec spec;
  spec.command = {"true"};
  spec.worktree_path = "/work";
  spec.tinyproxy_filter = "/filter";
  spec.log_dir = "/log";
  spec.host_user = "agent";
  spec.protect = {".envrc"};
  spec.path = std::vector<std::string>{"/bin"};
  MountSpec bind;
  bind.type = MountType::kRoBind;
  bind.src = "/usr";
  bind.dst = "/usr";
  MountSpec tmpfs;
  tmpfs.type = MountType::kTmpfs;
  tmpfs.dst = "/scratch";
  spec.mounts = {bind, tmpfs};
  spec.env = {{"EDITOR", "vi"}};
  spec.limits.rlimits = {{"nofile", 1024}};
  spec.limits.memory_max = uint64_t{1} << 30;
  spec.limits.pids_max = 64;
  return spec;
}

TEST(SpecDocTest, EveryFieldSpecToJsonPrintsIsDocumented) {
  const std::string reference = ReadReference();
  ASSERT_FALSE(reference.empty());
  std::set<std::string> fields;
  CollectFields(SpecToJson(CellSpec()), "", &fields);
  CollectFields(SpecToJson(FullSpec()), "", &fields);
  // The walk itself works: nested and list fields are there.
  ASSERT_TRUE(fields.count("isolation.pidNamespace"));
  ASSERT_TRUE(fields.count("mounts[].src"));
  ASSERT_TRUE(fields.count("path"));
  for (const std::string& field : fields) {
    EXPECT_NE(reference.find(absl::StrCat("`", field, "`")), std::string::npos)
        << "docs/spec.md does not document the spec field `" << field
        << "`: add a row to its table of fields (type, default, meaning)";
  }
}

TEST(SpecDocTest, EveryFlagIsDocumented) {
  const std::string reference = ReadReference();
  for (const FlagDef& flag : Flags()) {
    const std::string name = absl::StrCat("`--", flag.name);
    bool found = false;
    for (const char* after : {"`", "=", "[", " "}) {
      found = found || reference.find(name + after) != std::string::npos;
    }
    EXPECT_TRUE(found) << "docs/spec.md does not document --" << flag.name
                       << ": add it to the table of flags";
    if (*flag.field != '\0') {
      EXPECT_NE(reference.find(absl::StrCat("`", flag.field)),
                std::string::npos)
          << "--" << flag.name << " sets `" << flag.field
          << "`, which docs/spec.md does not name";
    }
  }
}

TEST(SpecDocTest, ListsUsersWriteFromAreComplete) {
  const std::string reference = ReadReference();
  for (const auto& [name, resource] : RlimitResources()) {
    EXPECT_NE(reference.find(absl::StrCat("`", name, "`")), std::string::npos)
        << "rlimit " << name;
  }
  for (const std::string& path : DefaultProtectedPaths()) {
    EXPECT_NE(reference.find(absl::StrCat("`", path, "`")), std::string::npos)
        << "@defaults path " << path;
  }
  for (const std::string& name : ForcedEnvNames()) {
    EXPECT_NE(reference.find(absl::StrCat("`", name, "`")), std::string::npos)
        << "forced variable " << name;
  }
  for (const MountType type :
       {MountType::kRoBind, MountType::kBind, MountType::kTmpfs,
        MountType::kDir, MountType::kSymlink}) {
    EXPECT_NE(reference.find(absl::StrCat("`", MountTypeName(type), "`")),
              std::string::npos)
        << "mount type " << MountTypeName(type);
  }
}

}  // namespace
}  // namespace cell
