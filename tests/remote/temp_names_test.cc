// The one home of temporary names: their shape, and that they are told apart from store names.
#include "remote/temp_names.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace phrfs::remote::testing {
namespace {

TEST(TempNamesTest, NewNamesArePrefixedRandomHexAndRecognised) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto name = NewTempName();
    ASSERT_TRUE(name.ok()) << name.status().ToString();
    EXPECT_TRUE(IsTempName(*name));
    ASSERT_EQ(name->size(), std::string(kTempPrefix).size() + 16);
    EXPECT_EQ(name->find_first_not_of("0123456789abcdef", sizeof(kTempPrefix) - 1),
              std::string::npos);
    seen.insert(*name);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(TempNamesTest, OnlyNamesStartingWithThePrefixAreTemporary) {
  EXPECT_TRUE(IsTempName(".tmp."));
  EXPECT_TRUE(IsTempName(".tmp.x"));
  EXPECT_FALSE(IsTempName(".tmp"));
  EXPECT_FALSE(IsTempName("a.tmp.x"));
  EXPECT_FALSE(IsTempName("AQrBK6M5wr_Y80yo7Kl5TY_0x7M8sKo.l"));
  EXPECT_TRUE(RejectTempNames({"a", "b"}, "a/b").ok());
  EXPECT_EQ(RejectTempNames({"a", ".tmp.1", "b"}, "a/.tmp.1/b").code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace phrfs::remote::testing
