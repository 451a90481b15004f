#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policy/properties/property.h"

namespace cell::policy {
namespace {

TEST(RegistryTest, EveryPropertyIsWholeAndListedOnce) {
  std::set<std::string> ids;
  for (const PropertyDef& property : Properties()) {
    SCOPED_TRACE(property.id);
    EXPECT_TRUE(ids.insert(property.id).second) << "registered twice";
    EXPECT_STRNE(property.summary, "");
    EXPECT_GE(property.weight, 1);
    EXPECT_LE(property.weight, 10);
    // A dynamic property reads some probe (cleanup: the host), a static one
    // none.
    if (property.judge == nullptr) {
      EXPECT_STREQ(property.probes, "");
    }
    EXPECT_EQ(FindProperty(property.id), &property);
  }
  EXPECT_EQ(FindProperty("no-such-property"), nullptr);
}

// Report order: every dynamic property before the static ones.
TEST(RegistryTest, DynamicPropertiesComeFirst) {
  bool seen_static = false;
  for (const PropertyDef& property : Properties()) {
    if (property.judge == nullptr) seen_static = true;
    EXPECT_FALSE(seen_static && property.judge != nullptr) << property.id;
  }
  EXPECT_TRUE(seen_static);
}

// Facts from inside a cell are never trusted: with none at all every judge
// says so (have_facts false) or fails, and none passes.
TEST(RegistryTest, NoFactsNeverPass) {
  CellSpec spec;
  spec.nix = true;
  spec.network.mode = NetworkMode::kProxy;
  Observation nothing;
  nothing.jd_removed = false;
  for (const PropertyDef& property : Properties()) {
    if (property.judge == nullptr) continue;
    const Verdict verdict = property.judge(spec, nothing);
    EXPECT_FALSE(verdict.have_facts && verdict.ok) << property.id;
  }
}

}  // namespace
}  // namespace cell::policy
