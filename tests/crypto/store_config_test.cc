// crypto/store_config: the text format, unlocking, re-wrapping and the recovery key.
#include "crypto/store_config.h"

#include <chrono>
#include <regex>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/encoding.h"
#include "tests/crypto/test_util.h"

namespace phrfs::crypto {
namespace {

using ::testing::HasSubstr;

// Small scrypt parameters keep the suite fast; the format and code paths are the same.
constexpr ScryptParams kFast{1024, 8, 1};
constexpr char kPass[] = "correct horse battery staple";

class StoreConfigTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto created = CreateStore(kPass, kFast);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    store_ = new NewStore(std::move(created).value());
  }
  static void TearDownTestSuite() {
    delete store_;
    store_ = nullptr;
  }

  static const StoreConfig& config() { return store_->config; }
  static std::string text() { return SerializeStoreConfig(store_->config); }
  static std::vector<std::string> lines() {
    std::vector<std::string> out;
    std::string t = text();
    size_t pos = 0;
    while (pos < t.size()) {
      size_t nl = t.find('\n', pos);
      out.push_back(t.substr(pos, nl - pos));
      pos = nl + 1;
    }
    return out;
  }
  static std::string Join(const std::vector<std::string>& ls) {
    std::string out;
    for (const auto& l : ls) out += l + "\n";
    return out;
  }
  // The text with line `n` (1-based) replaced.
  static std::string WithLine(size_t n, const std::string& replacement) {
    auto ls = lines();
    ls[n - 1] = replacement;
    return Join(ls);
  }

  static void ExpectCorruptAtLine(const std::string& text, size_t line) {
    auto parsed = ParseStoreConfig(text);
    ASSERT_FALSE(parsed.ok()) << "accepted:\n" << text;
    EXPECT_EQ(parsed.status().code(), Code::kCorrupt) << parsed.status().ToString() << "\n" << text;
    EXPECT_THAT(parsed.status().message(), HasSubstr("line " + std::to_string(line) + ":")) << text;
  }

  static NewStore* store_;
};
NewStore* StoreConfigTest::store_ = nullptr;

// ---- creation and the canonical text ----

TEST_F(StoreConfigTest, CreateStoreMakesRandom32ByteKeysAndAFreshStoreId) {
  EXPECT_EQ(store_->master_key.size(), kMasterKeySize);
  EXPECT_EQ(store_->recovery_key.size(), kRecoveryKeySize);
  EXPECT_FALSE(store_->master_key.Equals(store_->recovery_key.span()));
  auto other = CreateStore(kPass, kFast);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->config.store_id, config().store_id);
  EXPECT_NE(other->config.salt, config().salt);
  EXPECT_FALSE(other->master_key.Equals(store_->master_key.span()));
  EXPECT_EQ(config().version, 2u);
  EXPECT_TRUE(config().flags.empty());
  EXPECT_EQ(config().kdf, kFast);
}

TEST_F(StoreConfigTest, SerializedConfigHasSixCanonicalLinesInFixedOrder) {
  auto ls = lines();
  ASSERT_EQ(ls.size(), 6u);
  EXPECT_EQ(ls[0], "phrfs-store 2");
  EXPECT_TRUE(std::regex_match(ls[1], std::regex("store_id [0-9a-f]{32}"))) << ls[1];
  EXPECT_EQ(ls[2], "flags none");
  EXPECT_TRUE(std::regex_match(ls[3], std::regex("kdf scrypt n=1024 r=8 p=1 salt=[0-9a-f]{64}"))) << ls[3];
  EXPECT_TRUE(std::regex_match(ls[4], std::regex("wrapped_passphrase [A-Za-z0-9_-]{80}"))) << ls[4];
  EXPECT_TRUE(std::regex_match(ls[5], std::regex("wrapped_recovery [A-Za-z0-9_-]{80}"))) << ls[5];
  EXPECT_EQ(text().back(), '\n');
}

TEST_F(StoreConfigTest, ParseThenSerializeIsTheIdentity) {
  auto parsed = ParseStoreConfig(text());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(SerializeStoreConfig(*parsed), text());
  EXPECT_EQ(parsed->store_id, config().store_id);
  EXPECT_EQ(parsed->kdf, config().kdf);
  EXPECT_EQ(parsed->salt, config().salt);
  EXPECT_EQ(parsed->wrapped_by_passphrase, config().wrapped_by_passphrase);
  EXPECT_EQ(parsed->wrapped_by_recovery, config().wrapped_by_recovery);
}

// ---- unlocking ----

TEST_F(StoreConfigTest, TheRightPassphraseUnlocksTheMasterKeyFromTheParsedText) {
  auto parsed = ParseStoreConfig(text());
  ASSERT_TRUE(parsed.ok());
  auto master = UnlockWithPassphrase(*parsed, kPass);
  ASSERT_TRUE(master.ok()) << master.status().ToString();
  EXPECT_TRUE(master->Equals(store_->master_key.span()));
}

TEST_F(StoreConfigTest, AWrongPassphraseIsWrongKey) {
  for (std::string_view wrong : {"correct horse battery stapl", "Correct horse battery staple", "", "x"}) {
    auto master = UnlockWithPassphrase(config(), wrong);
    ASSERT_FALSE(master.ok());
    EXPECT_EQ(master.status().code(), Code::kWrongKey);
    EXPECT_EQ(master.status().message(), "wrong passphrase or damaged store config");
  }
}

TEST_F(StoreConfigTest, TheRecoveryKeyUnlocksTheMasterKey) {
  auto master = UnlockWithRecoveryKey(config(), store_->recovery_key);
  ASSERT_TRUE(master.ok()) << master.status().ToString();
  EXPECT_TRUE(master->Equals(store_->master_key.span()));
  auto via_text = ParseRecoveryKey(FormatRecoveryKey(store_->recovery_key));
  ASSERT_TRUE(via_text.ok());
  EXPECT_TRUE(UnlockWithRecoveryKey(config(), *via_text).ok());
}

TEST_F(StoreConfigTest, AWrongRecoveryKeyIsWrongKey) {
  SecureBytes wrong = store_->recovery_key.Clone();
  wrong[31] ^= 1;
  EXPECT_EQ(UnlockWithRecoveryKey(config(), wrong).status().code(), Code::kWrongKey);
  EXPECT_EQ(UnlockWithRecoveryKey(config(), SecureBytes(16)).status().code(), Code::kWrongKey);
  // The master key is not the recovery key.
  EXPECT_EQ(UnlockWithRecoveryKey(config(), store_->master_key).status().code(), Code::kWrongKey);
}

// ---- binding: every field is covered by the associated data ----

TEST_F(StoreConfigTest, ChangingTheStoreIdBreaksBothWrappings) {
  StoreConfig c = config();
  c.store_id.bytes[0] ^= 1;
  EXPECT_EQ(UnlockWithPassphrase(c, kPass).status().code(), Code::kWrongKey);
  EXPECT_EQ(UnlockWithRecoveryKey(c, store_->recovery_key).status().code(), Code::kWrongKey);
}

TEST_F(StoreConfigTest, ChangingAnyKdfParameterOrTheSaltIsWrongKey) {
  for (int field = 0; field < 4; ++field) {
    StoreConfig c = config();
    switch (field) {
      case 0: c.kdf.n = 2048; break;
      case 1: c.kdf.r = 4; break;
      case 2: c.kdf.p = 2; break;
      case 3: c.salt[5] ^= 0x10; break;
    }
    EXPECT_EQ(UnlockWithPassphrase(c, kPass).status().code(), Code::kWrongKey) << field;
    // The recovery wrapping does not cover the KDF line.
    EXPECT_TRUE(UnlockWithRecoveryKey(c, store_->recovery_key).ok()) << field;
  }
}

TEST_F(StoreConfigTest, EveryByteOfEitherWrappedKeyIsAuthenticated) {
  for (size_t i = 0; i < config().wrapped_by_passphrase.size(); ++i) {
    StoreConfig c = config();
    c.wrapped_by_passphrase[i] ^= 0x01;
    EXPECT_EQ(UnlockWithPassphrase(c, kPass).status().code(), Code::kWrongKey) << i;
  }
  for (size_t i = 0; i < config().wrapped_by_recovery.size(); ++i) {
    StoreConfig c = config();
    c.wrapped_by_recovery[i] ^= 0x80;
    EXPECT_EQ(UnlockWithRecoveryKey(c, store_->recovery_key).status().code(), Code::kWrongKey) << i;
  }
  StoreConfig truncated = config();
  truncated.wrapped_by_passphrase.pop_back();
  EXPECT_EQ(UnlockWithPassphrase(truncated, kPass).status().code(), Code::kWrongKey);
}

TEST_F(StoreConfigTest, AnUnknownVersionOrFlagInMemoryIsNotSupported) {
  StoreConfig c = config();
  c.version = 3;
  EXPECT_EQ(UnlockWithPassphrase(c, kPass).status().code(), Code::kNotSupported);
  EXPECT_EQ(UnlockWithRecoveryKey(c, store_->recovery_key).status().code(), Code::kNotSupported);
  c = config();
  c.flags = {"compression"};
  EXPECT_EQ(UnlockWithPassphrase(c, kPass).status().code(), Code::kNotSupported);
  EXPECT_EQ(UnlockWithRecoveryKey(c, store_->recovery_key).status().code(), Code::kNotSupported);
}

TEST_F(StoreConfigTest, APassphraseWrappingTransplantedFromAnotherStoreIsWrongKey) {
  // Same passphrase and parameters: only the store id in the associated data tells them apart.
  auto other = CreateStore(kPass, kFast);
  ASSERT_TRUE(other.ok());
  StoreConfig c = config();
  c.salt = other->config.salt;
  c.wrapped_by_passphrase = other->config.wrapped_by_passphrase;
  EXPECT_EQ(UnlockWithPassphrase(c, kPass).status().code(), Code::kWrongKey);
  c = config();
  c.wrapped_by_recovery = other->config.wrapped_by_recovery;
  EXPECT_EQ(UnlockWithRecoveryKey(c, other->recovery_key).status().code(), Code::kWrongKey);
  // Swapping the two wrappings of one store fails too (different purpose and KEK).
  c = config();
  std::swap(c.wrapped_by_passphrase, c.wrapped_by_recovery);
  EXPECT_EQ(UnlockWithPassphrase(c, kPass).status().code(), Code::kWrongKey);
  EXPECT_EQ(UnlockWithRecoveryKey(c, store_->recovery_key).status().code(), Code::kWrongKey);
}

TEST_F(StoreConfigTest, EveryBitFlipIsRefusedByTheParserOrByEachWrappingThatCoversIt) {
  const std::string original = text();
  for (size_t i = 0; i < original.size(); ++i) {
    for (uint8_t bit : {uint8_t{0x01}, uint8_t{0x20}}) {
      std::string t = original;
      t[i] = static_cast<char>(t[i] ^ bit);
      auto parsed = ParseStoreConfig(t);
      if (!parsed.ok()) {
        Code code = parsed.status().code();
        EXPECT_TRUE(code == Code::kCorrupt || code == Code::kNotSupported || code == Code::kInvalidArgument)
            << i << ": " << parsed.status().ToString();
        continue;
      }
      // Each wrapping covers lines 1-3, its own ciphertext line, and (the passphrase one) line 4.
      // A flip in the other wrapping's line leaves this one intact by design.
      const bool in_kdf_line = i >= original.find("kdf ") && i < original.find("wrapped_passphrase");
      const bool in_recovery_line = i >= original.find("wrapped_recovery");
      const bool in_passphrase_line = i >= original.find("wrapped_passphrase") && !in_recovery_line;
      auto pass = UnlockWithPassphrase(*parsed, kPass);
      if (in_recovery_line) {
        EXPECT_TRUE(pass.ok()) << "byte " << i;
      } else {
        EXPECT_EQ(pass.status().code(), Code::kWrongKey) << "byte " << i;
      }
      auto rec = UnlockWithRecoveryKey(*parsed, store_->recovery_key);
      if (in_kdf_line || in_passphrase_line) {
        EXPECT_TRUE(rec.ok()) << "byte " << i;
      } else {
        EXPECT_EQ(rec.status().code(), Code::kWrongKey) << "byte " << i;
      }
    }
  }
}

// ---- ChangePassphrase ----

TEST_F(StoreConfigTest, ChangePassphraseKeepsTheMasterKeyAndTheRecoveryWrapping) {
  StoreConfig c = config();
  ScryptParams next{2048, 4, 2};
  ASSERT_TRUE(ChangePassphrase(c, store_->master_key, "new passphrase", next).ok());
  EXPECT_EQ(c.store_id, config().store_id);
  EXPECT_EQ(c.kdf, next);
  EXPECT_NE(c.salt, config().salt);
  EXPECT_EQ(c.wrapped_by_recovery, config().wrapped_by_recovery);
  EXPECT_NE(c.wrapped_by_passphrase, config().wrapped_by_passphrase);

  auto reparsed = ParseStoreConfig(SerializeStoreConfig(c));
  ASSERT_TRUE(reparsed.ok()) << reparsed.status().ToString();
  auto master = UnlockWithPassphrase(*reparsed, "new passphrase");
  ASSERT_TRUE(master.ok()) << master.status().ToString();
  EXPECT_TRUE(master->Equals(store_->master_key.span()));
  EXPECT_EQ(UnlockWithPassphrase(*reparsed, kPass).status().code(), Code::kWrongKey);
  auto recovered = UnlockWithRecoveryKey(*reparsed, store_->recovery_key);
  ASSERT_TRUE(recovered.ok());
  EXPECT_TRUE(recovered->Equals(store_->master_key.span()));
}

TEST_F(StoreConfigTest, ChangePassphraseRefusesBadInputsAndLeavesTheConfigUntouched) {
  StoreConfig c = config();
  EXPECT_EQ(ChangePassphrase(c, store_->master_key, "", kFast).code(), Code::kInvalidArgument);
  EXPECT_EQ(ChangePassphrase(c, store_->master_key, "p", ScryptParams{512, 8, 1}).code(), Code::kInvalidArgument);
  EXPECT_EQ(ChangePassphrase(c, SecureBytes(16), "p", kFast).code(), Code::kInvalidArgument);
  EXPECT_EQ(SerializeStoreConfig(c), text());
}

// ---- hostile parameters ----

TEST(ScryptParamsTest, ValidateAcceptsTheDefaultsAndTheEdgesOfTheCaps) {
  EXPECT_TRUE(ValidateScryptParams(ScryptParams{}).ok());
  EXPECT_TRUE(ValidateScryptParams(ScryptParams{1024, 1, 1}).ok());
  EXPECT_TRUE(ValidateScryptParams(ScryptParams{uint64_t{1} << 20, 8, 16}).ok());  // exactly 1 GiB
  EXPECT_TRUE(ValidateScryptParams(ScryptParams{uint64_t{1} << 18, 32, 1}).ok());  // exactly 1 GiB
}

TEST(ScryptParamsTest, ValidateRejectsEverythingPastTheCaps) {
  for (ScryptParams p : {ScryptParams{0, 8, 1}, ScryptParams{512, 8, 1}, ScryptParams{1000, 8, 1},
                         ScryptParams{(uint64_t{1} << 20) + 1, 8, 1}, ScryptParams{uint64_t{1} << 21, 1, 1},
                         ScryptParams{uint64_t{1} << 63, 8, 1}, ScryptParams{1024, 0, 1}, ScryptParams{1024, 33, 1},
                         ScryptParams{1024, 8, 0}, ScryptParams{1024, 8, 17},
                         ScryptParams{uint64_t{1} << 20, 9, 1}, ScryptParams{uint64_t{1} << 19, 32, 1}}) {
    EXPECT_EQ(ValidateScryptParams(p).code(), Code::kInvalidArgument) << p.n << " " << p.r << " " << p.p;
  }
}

TEST_F(StoreConfigTest, HostileKdfParametersAreRejectedBeforeScryptRuns) {
  const std::string salt = HexEncode(config().salt);
  auto start = std::chrono::steady_clock::now();
  for (const char* params : {"n=1048576 r=16 p=1", "n=2097152 r=8 p=1", "n=9223372036854775808 r=8 p=1",
                             "n=18446744073709551615 r=8 p=1", "n=1024 r=4294967295 p=1",
                             "n=1024 r=8 p=4294967296", "n=1024 r=8 p=17", "n=1000 r=8 p=1", "n=0 r=8 p=1",
                             "n=1024 r=0 p=1", "n=512 r=8 p=1"}) {
    auto parsed = ParseStoreConfig(WithLine(4, std::string("kdf scrypt ") + params + " salt=" + salt));
    ASSERT_FALSE(parsed.ok()) << params;
    EXPECT_EQ(parsed.status().code(), Code::kInvalidArgument) << params << ": " << parsed.status().ToString();
    EXPECT_THAT(parsed.status().message(), HasSubstr("line 4:"));
  }
  // An in-memory config is checked the same way before unlocking.
  StoreConfig c = config();
  c.kdf = ScryptParams{uint64_t{1} << 40, 8, 1};
  EXPECT_EQ(UnlockWithPassphrase(c, kPass).status().code(), Code::kInvalidArgument);
  c.kdf = ScryptParams{uint64_t{1} << 20, 8, 17};
  EXPECT_EQ(UnlockWithPassphrase(c, kPass).status().code(), Code::kInvalidArgument);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(CreateStore(kPass, ScryptParams{uint64_t{1} << 21, 8, 1}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(CreateStore("", kFast).status().code(), Code::kInvalidArgument);
}

// ---- versions and flags ----

TEST_F(StoreConfigTest, AnUnknownVersionIsNotSupported) {
  for (const char* line : {"phrfs-store 3", "phrfs-store 0", "phrfs-store 4294967296"}) {
    auto parsed = ParseStoreConfig(WithLine(1, line));
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status().code(), Code::kNotSupported) << line;
  }
  // A later version may lay out the rest differently: the version decides first.
  auto parsed = ParseStoreConfig("phrfs-store 3\nsomething else entirely\n");
  EXPECT_EQ(parsed.status().code(), Code::kNotSupported);
}

TEST_F(StoreConfigTest, AnyFeatureFlagIsNotSupportedInVersion1) {
  for (const char* line : {"flags compression", "flags padding,sharing", "flags x-2"}) {
    auto parsed = ParseStoreConfig(WithLine(3, line));
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status().code(), Code::kNotSupported) << line;
    EXPECT_THAT(parsed.status().message(), HasSubstr("line 3:"));
  }
}

TEST_F(StoreConfigTest, AnUnknownKdfIsNotSupported) {
  auto parsed = ParseStoreConfig(WithLine(4, "kdf argon2id t=3 m=65536 p=4 salt=00"));
  EXPECT_EQ(parsed.status().code(), Code::kNotSupported);
}

// ---- malformed text ----

TEST_F(StoreConfigTest, MalformedConfigsAreCorruptWithTheLineNumber) {
  const auto ls = lines();
  const std::string salt = HexEncode(config().salt);
  const std::string kdf_tail = " salt=" + salt;
  std::string upper_id = ls[1];
  for (size_t i = 9; i < upper_id.size(); ++i) upper_id[i] = static_cast<char>(std::toupper(upper_id[i]));
  if (upper_id == ls[1]) upper_id[9] = 'G';
  const std::string wrapped59 = Base64UrlEncode(std::vector<uint8_t>(59, 7));
  const std::string wrapped61 = Base64UrlEncode(std::vector<uint8_t>(61, 7));

  struct Case {
    std::string text;
    size_t line;
  };
  std::vector<Case> cases = {
      {"", 1},
      {"phrfs-store 1", 1},                            // no newline at all
      {text().substr(0, text().size() - 1), 6},        // missing final newline
      {WithLine(1, "phrfs-store 01"), 1},
      {WithLine(1, "phrfs-store +1"), 1},
      {WithLine(1, "phrfs-store"), 1},
      {WithLine(1, "phrfs-store  1"), 1},
      {WithLine(1, "phrfs-store 1 "), 1},
      {WithLine(1, "PHRFS-store 1"), 1},
      {WithLine(1, "phrfs-store 1\r"), 1},
      {WithLine(2, upper_id), 2},
      {WithLine(2, ls[1].substr(0, ls[1].size() - 2)), 2},
      {WithLine(2, ls[1] + "00"), 2},
      {WithLine(2, ls[1] + " "), 2},
      {WithLine(2, "store_id  " + ls[1].substr(9)), 2},
      {WithLine(2, "storeid " + ls[1].substr(9)), 2},
      {WithLine(3, "flags "), 3},
      {WithLine(3, "flags"), 3},
      {WithLine(3, "flags none "), 3},
      {WithLine(3, "flags None"), 3},
      {WithLine(3, "flags none,x"), 3},
      {WithLine(3, "flags a,,b"), 3},
      {WithLine(3, "flags a,a"), 3},
      {WithLine(3, "flags a,"), 3},
      {WithLine(3, "flags A"), 3},
      {WithLine(4, "kdf scrypt n=01024 r=8 p=1" + kdf_tail), 4},
      {WithLine(4, "kdf scrypt n=1024 r=8 p=1" + kdf_tail + " "), 4},
      {WithLine(4, "kdf scrypt n=1024 r=8 p=1" + kdf_tail + "00"), 4},
      {WithLine(4, "kdf scrypt n=1024 r=8 p=1 salt=" + salt.substr(2)), 4},
      {WithLine(4, "kdf scrypt n=1024 r=8 p=1 salt=" + std::string(64, 'A')), 4},
      {WithLine(4, "kdf scrypt n=1024 r=8" + kdf_tail), 4},
      {WithLine(4, "kdf scrypt r=8 n=1024 p=1" + kdf_tail), 4},
      {WithLine(4, "kdf scrypt n=1024  r=8 p=1" + kdf_tail), 4},
      {WithLine(4, "kdf scrypt n=-1024 r=8 p=1" + kdf_tail), 4},
      {WithLine(4, "kdf scrypt n=1024 r=8 p=1"), 4},
      {WithLine(4, "kdf scrypt"), 4},
      {WithLine(4, "kdf  scrypt n=1024 r=8 p=1" + kdf_tail), 4},
      {WithLine(4, "kdf Scrypt n=1024 r=8 p=1" + kdf_tail), 4},
      {WithLine(4, "kdf scrypt n=99999999999999999999999 r=8 p=1" + kdf_tail), 4},
      {WithLine(5, ls[4] + "="), 5},
      {WithLine(5, ls[4].substr(0, ls[4].size() - 1)), 5},
      {WithLine(5, "wrapped_passphrase " + wrapped59), 5},
      {WithLine(5, "wrapped_passphrase " + wrapped61), 5},
      {WithLine(5, "wrapped_passphrase " + std::string(80, '+')), 5},
      {WithLine(5, "wrapped_passphrase"), 5},
      {WithLine(6, "wrapped_recovery " + wrapped59), 6},
      {WithLine(6, ls[5] + " "), 6},
      {WithLine(6, "wrapped_recovery"), 6},
      {Join({ls[0], ls[2], ls[1], ls[3], ls[4], ls[5]}), 2},          // reordered
      {Join({ls[0], ls[1], ls[1], ls[2], ls[3], ls[4], ls[5]}), 3},   // duplicated
      {Join({ls[0], ls[1], ls[3], ls[4], ls[5]}), 3},                 // flags missing
      {Join({ls[0], ls[1], ls[2], ls[3], ls[5], ls[4]}), 5},          // wrapped lines swapped
      {Join({ls[0], ls[1], ls[2]}), 4},                               // truncated
      {Join({ls[0], ls[1], ls[2], ls[3], ls[4]}), 6},
      {text() + "\n", 7},                                             // trailing empty line
      {text() + "comment here\n", 7},
      {text() + ls[5] + "\n", 7},
      {"\n" + text(), 1},
  };
  for (const auto& c : cases) ExpectCorruptAtLine(c.text, c.line);
}

TEST_F(StoreConfigTest, AConfigLargerThan4KiBIsCorrupt) {
  std::string big = text() + std::string(4096, '#') + "\n";
  auto parsed = ParseStoreConfig(big);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), Code::kCorrupt);
  EXPECT_THAT(parsed.status().message(), HasSubstr("4096"));
}

// ---- recovery key text ----

TEST(RecoveryKeyTest, FormatIsEightGroupsOfEightLowercaseHexDigits) {
  SecureBytes key(32);
  for (size_t i = 0; i < 32; ++i) key[i] = static_cast<uint8_t>(i * 9 + 0xa0);
  std::string text = FormatRecoveryKey(key);
  EXPECT_TRUE(std::regex_match(text, std::regex("([0-9a-f]{8}-){7}[0-9a-f]{8}"))) << text;
  EXPECT_EQ(text.substr(0, 17), "a0a9b2bb-c4cdd6df");
}

TEST(RecoveryKeyTest, ParseAcceptsGroupsOrPlainHexInAnyCaseWithSurroundingWhitespace) {
  SecureBytes key(32);
  for (size_t i = 0; i < 32; ++i) key[i] = static_cast<uint8_t>(255 - i * 7);
  std::string grouped = FormatRecoveryKey(key);
  std::string plain;
  for (char c : grouped) {
    if (c != '-') plain += c;
  }
  std::string upper = grouped;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  for (const std::string& text : {grouped, plain, upper, "  " + grouped + "\n", plain + "\r\n"}) {
    auto parsed = ParseRecoveryKey(text);
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.status().ToString();
    EXPECT_TRUE(parsed->Equals(key.span())) << text;
  }
}

TEST(RecoveryKeyTest, ParseRejectsWrongLengthsCharactersAndMisplacedSeparators) {
  SecureBytes key(32);
  std::string grouped = FormatRecoveryKey(key);
  std::string misplaced = grouped;
  std::swap(misplaced[8], misplaced[9]);
  for (const std::string& text : {std::string(""), grouped.substr(1), grouped + "0", std::string(63, '0'),
                                  std::string(65, '0'), std::string(64, 'g'), misplaced,
                                  std::string(71, '0'), grouped.substr(0, 70) + "x",
                                  std::string(8, '0') + " " + grouped.substr(9)}) {
    EXPECT_EQ(ParseRecoveryKey(text).status().code(), Code::kInvalidArgument) << text;
  }
}

}  // namespace
}  // namespace phrfs::crypto
