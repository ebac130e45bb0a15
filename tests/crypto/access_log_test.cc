// The access log's format (crypto/access_log.h): round trip, and every way of damaging a
// session (flipped byte, deleted, swapped and trailing objects, a deleted session, a wrong key)
// must be named.
#include "crypto/access_log.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "crypto/identity.h"
#include "crypto/log_key_sealer.h"

namespace phrfs::crypto {
namespace {

using Objects = std::map<uint64_t, std::vector<uint8_t>>;

SecureBytes Key(uint8_t fill) {
  SecureBytes k(32);
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(fill + i);
  return k;
}

StoreId Store(uint8_t fill) {
  StoreId s;
  s.bytes.fill(fill);
  return s;
}

LogRecord Rec(int i, LogOp op = LogOp::kOpenRead) {
  LogRecord r;
  r.first_ns = 1'700'000'000'000'000'000 + i;
  r.last_ns = r.first_ns + 5;
  r.count = static_cast<uint64_t>(i + 1);
  r.op = op;
  r.path = "/records/file-" + std::to_string(i);
  if (op == LogOp::kRename) r.path2 = "/records/renamed-" + std::to_string(i);
  r.result = i % 3 == 0 ? 0 : 13;
  return r;
}

class AccessLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sealer = PassphraseStoreSealer::Create(Key(1), Store(7));
    ASSERT_TRUE(sealer.ok());
    sealer_.emplace(std::move(sealer).value());
    auto id = NewLogSessionId();
    ASSERT_TRUE(id.ok());
    session_ = *id;
    auto key = NewLogSessionKey();
    ASSERT_TRUE(key.ok());
    key_ = std::move(key).value();
  }

  // A session of `batches` batch objects with two records each; the last one ends it.
  Objects MakeSession(int batches, std::vector<LogSessionId> previous = {}) {
    Objects objects;
    LogSessionHeader h;
    h.session = session_;
    h.start_ns = 1'700'000'000'000'000'000;
    h.writer = "owner-passphrase";
    h.person = "alice";
    h.previous = std::move(previous);
    auto wrapped = sealer_->Seal(key_, session_);
    EXPECT_TRUE(wrapped.ok());
    auto header = SealLogHeader(key_, h, *wrapped);
    EXPECT_TRUE(header.ok()) << header.status().ToString();
    objects[0] = *header;
    for (int b = 1; b <= batches; ++b) {
      std::vector<LogRecord> recs = {Rec(2 * b), Rec(2 * b + 1, LogOp::kRename)};
      auto batch = SealLogBatch(key_, session_, static_cast<uint64_t>(b), objects[b - 1], recs,
                                b == batches ? LogEnd::kEnd : LogEnd::kMore);
      EXPECT_TRUE(batch.ok()) << batch.status().ToString();
      objects[static_cast<uint64_t>(b)] = *batch;
    }
    return objects;
  }

  VerifiedSession Verify(const Objects& objects) {
    return VerifySession(session_, objects, *sealer_);
  }

  static bool Has(const VerifiedSession& v, LogProblemKind kind, std::optional<uint64_t> object) {
    return std::any_of(v.problems.begin(), v.problems.end(), [&](const LogProblem& p) {
      return p.kind == kind && (!object || p.object == object);
    });
  }
  static std::string Dump(const VerifiedSession& v) {
    std::string s;
    for (const auto& p : v.problems) s += p.Describe() + "\n";
    return s;
  }

  std::optional<PassphraseStoreSealer> sealer_;
  LogSessionId session_;
  SecureBytes key_;
};

TEST_F(AccessLogTest, RoundTripGivesBackEveryRecordAndTheHeader) {
  Objects objects = MakeSession(3);
  VerifiedSession v = Verify(objects);
  EXPECT_TRUE(v.problems.empty()) << Dump(v);
  EXPECT_TRUE(v.closed);
  ASSERT_TRUE(v.header.has_value());
  EXPECT_EQ(v.header->person, "alice");
  EXPECT_EQ(v.header->writer, "owner-passphrase");
  EXPECT_EQ(v.header->start_ns, 1'700'000'000'000'000'000);
  std::vector<LogRecord> expected;
  for (int b = 1; b <= 3; ++b) {
    expected.push_back(Rec(2 * b));
    expected.push_back(Rec(2 * b + 1, LogOp::kRename));
  }
  EXPECT_EQ(v.records, expected);
}

TEST_F(AccessLogTest, RecordsAreNotInThePlain) {
  Objects objects = MakeSession(1);
  const std::string needle = "/records/file-2";
  for (const auto& [seq, bytes] : objects) {
    std::string text(bytes.begin(), bytes.end());
    EXPECT_EQ(text.find(needle), std::string::npos) << "object " << seq;
    EXPECT_EQ(text.find("alice"), std::string::npos) << "object " << seq;
  }
}

TEST_F(AccessLogTest, FlippedByteInAnyObjectIsCaught) {
  const Objects good = MakeSession(3);
  for (const auto& [seq, bytes] : good) {
    for (size_t i = 0; i < bytes.size(); ++i) {
      Objects bad = good;
      bad[seq][i] ^= 0x01;
      VerifiedSession v = Verify(bad);
      bool caught = Has(v, LogProblemKind::kAltered, seq);
      // A flip in the wrapped session key shows as a key that does not open.
      if (seq == 0) caught = caught || Has(v, LogProblemKind::kKeyUnreadable, std::nullopt);
      ASSERT_TRUE(caught) << "object " << seq << " byte " << i << ":\n" << Dump(v);
    }
  }
}

TEST_F(AccessLogTest, TruncatedObjectIsCaught) {
  const Objects good = MakeSession(2);
  for (const auto& [seq, bytes] : good) {
    for (size_t len = 0; len < bytes.size(); len += (len < 80 ? 1 : 7)) {
      Objects bad = good;
      bad[seq].resize(len);
      VerifiedSession v = Verify(bad);
      bool caught = Has(v, LogProblemKind::kAltered, seq) ||
                    (seq == 0 && Has(v, LogProblemKind::kKeyUnreadable, std::nullopt));
      ASSERT_TRUE(caught) << "object " << seq << " cut to " << len << ":\n" << Dump(v);
    }
  }
}

TEST_F(AccessLogTest, ObjectDeletedFromTheMiddleIsAGap) {
  Objects objects = MakeSession(4);
  objects.erase(2);
  VerifiedSession v = Verify(objects);
  EXPECT_TRUE(Has(v, LogProblemKind::kMissingObject, 2)) << Dump(v);
  EXPECT_EQ(v.problems.size(), 1u) << Dump(v);
  EXPECT_TRUE(v.closed);
  EXPECT_EQ(v.records.size(), 6u);  // the other three batches still read
  EXPECT_NE(v.problems[0].Describe().find("object 2 missing"), std::string::npos);
}

TEST_F(AccessLogTest, SwappedObjectsAreReportedAsReordered) {
  Objects objects = MakeSession(4);
  std::swap(objects[2], objects[3]);
  VerifiedSession v = Verify(objects);
  EXPECT_TRUE(Has(v, LogProblemKind::kReordered, 2)) << Dump(v);
  EXPECT_TRUE(Has(v, LogProblemKind::kReordered, 3)) << Dump(v);
  EXPECT_FALSE(Has(v, LogProblemKind::kMissingObject, std::nullopt)) << Dump(v);
}

TEST_F(AccessLogTest, ObjectMovedPastTheEndIsReorderedAndAfterTheEnd) {
  Objects objects = MakeSession(4);
  objects[7] = objects[2];
  objects.erase(2);
  VerifiedSession v = Verify(objects);
  EXPECT_TRUE(Has(v, LogProblemKind::kReordered, 7)) << Dump(v);
  EXPECT_TRUE(Has(v, LogProblemKind::kAfterEnd, 7)) << Dump(v);
  EXPECT_FALSE(Has(v, LogProblemKind::kMissingObject, std::nullopt)) << Dump(v);
}

TEST_F(AccessLogTest, DeletedTailLeavesTheSessionNotClosed) {
  Objects objects = MakeSession(4);
  objects.erase(4);
  objects.erase(3);
  VerifiedSession v = Verify(objects);
  EXPECT_FALSE(v.closed);
  ASSERT_TRUE(Has(v, LogProblemKind::kNotClosed, std::nullopt)) << Dump(v);
  const std::string text = v.problems.back().Describe();
  EXPECT_NE(text.find("crashed"), std::string::npos) << text;
  EXPECT_NE(text.find("still mounted"), std::string::npos) << text;
  EXPECT_NE(text.find("deleted"), std::string::npos) << text;
}

TEST_F(AccessLogTest, ReplacedObjectBreaksTheChain) {
  // Object 2 re-sealed by someone holding the key (the session's own writer) with other records:
  // it authenticates, but object 3 names the hash of the original.
  Objects objects = MakeSession(3);
  std::vector<LogRecord> other = {Rec(99)};
  auto forged = SealLogBatch(key_, session_, 2, objects[1], other, LogEnd::kMore);
  ASSERT_TRUE(forged.ok());
  objects[2] = *forged;
  VerifiedSession v = Verify(objects);
  EXPECT_TRUE(Has(v, LogProblemKind::kChainBroken, 3)) << Dump(v);
}

TEST_F(AccessLogTest, MissingHeaderMakesTheSessionUnreadable) {
  Objects objects = MakeSession(2);
  objects.erase(0);
  VerifiedSession v = Verify(objects);
  EXPECT_TRUE(Has(v, LogProblemKind::kHeaderMissing, std::nullopt)) << Dump(v);
  EXPECT_TRUE(v.records.empty());
}

TEST_F(AccessLogTest, ObjectOfAnotherSessionDoesNotAuthenticate) {
  Objects first = MakeSession(2);
  auto id = NewLogSessionId();
  ASSERT_TRUE(id.ok());
  session_ = *id;
  Objects second = MakeSession(2);
  second[1] = first[1];
  VerifiedSession v = Verify(second);
  EXPECT_TRUE(Has(v, LogProblemKind::kAltered, 1)) << Dump(v);
}

TEST_F(AccessLogTest, DeletedEarlierSessionIsNamedByItsSuccessor) {
  auto a = NewLogSessionId(), b = NewLogSessionId(), c = NewLogSessionId();
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  std::map<LogSessionId, std::vector<LogSessionId>> refs = {{*a, {}}, {*b, {*a}}, {*c, {*b}}};
  EXPECT_TRUE(FindMissingSessions(refs).empty());
  EXPECT_EQ(LatestSessions(refs), std::vector<LogSessionId>{*c});
  refs.erase(*b);
  auto problems = FindMissingSessions(refs);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].kind, LogProblemKind::kMissingSession);
  EXPECT_EQ(problems[0].session, *b);
  // Two heads now: a (nobody references it any more) and c.
  auto latest = LatestSessions(refs);
  EXPECT_EQ(latest.size(), 2u);
}

TEST_F(AccessLogTest, HeaderPublicPartNamesThePreviousSessions) {
  auto a = NewLogSessionId();
  ASSERT_TRUE(a.ok());
  Objects objects = MakeSession(1, {*a});
  auto pub = ParseLogHeaderPublic(objects[0]);
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  EXPECT_EQ(pub->session, session_);
  EXPECT_EQ(pub->previous, std::vector<LogSessionId>{*a});
}

TEST_F(AccessLogTest, WrongSealerKeyIsWrongKey) {
  auto other = PassphraseStoreSealer::Create(Key(2), Store(7));
  auto other_store = PassphraseStoreSealer::Create(Key(1), Store(8));
  ASSERT_TRUE(other.ok() && other_store.ok());
  auto sealed = sealer_->Seal(key_, session_);
  ASSERT_TRUE(sealed.ok());
  auto opened = sealer_->Open(*sealed, session_);
  ASSERT_TRUE(opened.ok());
  EXPECT_TRUE(opened->Equals(key_.span()));
  EXPECT_EQ(other->Open(*sealed, session_).status().code(), Code::kWrongKey);
  EXPECT_EQ(other_store->Open(*sealed, session_).status().code(), Code::kWrongKey);
  auto id = NewLogSessionId();
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(sealer_->Open(*sealed, *id).status().code(), Code::kWrongKey);  // bound to the session

  Objects objects = MakeSession(1);
  VerifiedSession v = VerifySession(session_, objects, *other);
  EXPECT_TRUE(Has(v, LogProblemKind::kKeyUnreadable, std::nullopt)) << Dump(v);
  EXPECT_TRUE(v.records.empty());
}

// IdentitySealer: the session key sealed to the owner's identity (what a grantee's mount does).
class IdentitySealerTest : public AccessLogTest {
 protected:
  static Identity NewIdentity() {
    auto id = Identity::Generate();
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return std::move(id).value();
  }
};

TEST_F(IdentitySealerTest, RoundTripFromThePublicHalfToTheOwner) {
  Identity owner = NewIdentity();
  const PublicIdentity pub = owner.public_identity();
  IdentitySealer grantee = IdentitySealer::ForSealing(pub);
  IdentitySealer reader = IdentitySealer::ForOpening(std::move(owner));
  EXPECT_EQ(reader.owner(), pub);
  EXPECT_EQ(grantee.owner_fingerprint(), Fingerprint(pub));

  auto sealed = grantee.Seal(key_, session_);
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  ASSERT_EQ(sealed->size(), 1u + 16u + 32u + 32u + 16u);
  EXPECT_EQ((*sealed)[0], kSealedToIdentity);
  auto address = AddressOfSealedKey(*sealed);
  ASSERT_TRUE(address.has_value());
  EXPECT_EQ(address->kind, kSealedToIdentity);
  EXPECT_EQ(address->owner, Fingerprint(pub));  // readable without any key
  EXPECT_TRUE(std::search(sealed->begin(), sealed->end(), key_.span().begin(), key_.span().end()) ==
              sealed->end());

  EXPECT_TRUE(reader.CanOpen(*sealed));
  EXPECT_FALSE(grantee.CanOpen(*sealed));  // no private key
  EXPECT_EQ(grantee.Open(*sealed, session_).status().code(), Code::kNotSupported);
  auto opened = reader.Open(*sealed, session_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_TRUE(opened->Equals(key_.span()));

  // Two seals of one key differ (a fresh ephemeral key each time).
  auto again = grantee.Seal(key_, session_);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*again, *sealed);

  // And a whole session sealed this way verifies with the owner's identity.
  Objects objects;
  LogSessionHeader h;
  h.session = session_;
  h.writer = Fingerprint(pub);
  h.person = "bob";
  auto header = SealLogHeader(key_, h, *sealed);
  ASSERT_TRUE(header.ok());
  objects[0] = *header;
  std::vector<LogRecord> recs = {Rec(1)};
  auto batch = SealLogBatch(key_, session_, 1, objects[0], recs, LogEnd::kEnd);
  ASSERT_TRUE(batch.ok());
  objects[1] = *batch;
  VerifiedSession v = VerifySession(session_, objects, reader);
  EXPECT_TRUE(v.problems.empty()) << Dump(v);
  ASSERT_TRUE(v.header.has_value());
  EXPECT_EQ(v.header->person, "bob");
  EXPECT_FALSE(v.header->signed_by.has_value());  // the writer's word only
  EXPECT_EQ(v.records, recs);

  // Signed by the writer's identity: the reader learns whose it is.
  Identity bob = NewIdentity();
  h.writer = Fingerprint(bob.public_identity());
  auto signed_header = SealLogHeader(key_, h, *sealed, &bob);
  ASSERT_TRUE(signed_header.ok()) << signed_header.status().ToString();
  EXPECT_GT(signed_header->size(), header->size());
  objects[0] = *signed_header;
  batch = SealLogBatch(key_, session_, 1, objects[0], recs, LogEnd::kEnd);
  ASSERT_TRUE(batch.ok());
  objects[1] = *batch;
  v = VerifySession(session_, objects, reader);
  EXPECT_TRUE(v.problems.empty()) << Dump(v);
  ASSERT_TRUE(v.header.has_value());
  ASSERT_TRUE(v.header->signed_by.has_value());
  EXPECT_EQ(*v.header->signed_by, bob.public_identity());
  // A signer must sign as itself: another writer is refused.
  h.writer = Fingerprint(pub);
  EXPECT_EQ(SealLogHeader(key_, h, *sealed, &bob).status().code(), Code::kInvalidArgument);
}

TEST_F(IdentitySealerTest, AnotherIdentityFlippedBytesOrAnotherSessionAreWrongKey) {
  Identity owner = NewIdentity();
  Identity other = NewIdentity();
  IdentitySealer sealer = IdentitySealer::ForSealing(owner.public_identity());
  IdentitySealer reader = IdentitySealer::ForOpening(std::move(owner));
  IdentitySealer stranger = IdentitySealer::ForOpening(std::move(other));
  auto sealed = sealer.Seal(key_, session_);
  ASSERT_TRUE(sealed.ok());

  EXPECT_FALSE(stranger.CanOpen(*sealed));
  EXPECT_EQ(stranger.Open(*sealed, session_).status().code(), Code::kWrongKey);
  // Even with the stranger's fingerprint written over the owner's, the stanza does not open.
  auto readdressed = stranger.Seal(key_, session_);
  ASSERT_TRUE(readdressed.ok());
  std::vector<uint8_t> forged = *sealed;
  std::copy(readdressed->begin() + 1, readdressed->begin() + 17, forged.begin() + 1);
  EXPECT_TRUE(stranger.CanOpen(forged));
  EXPECT_EQ(stranger.Open(forged, session_).status().code(), Code::kWrongKey);

  for (size_t i = 0; i < sealed->size(); ++i) {
    std::vector<uint8_t> bad = *sealed;
    bad[i] ^= 0x20;
    EXPECT_EQ(reader.Open(bad, session_).status().code(), Code::kWrongKey) << "byte " << i;
  }
  std::vector<uint8_t> shorter(sealed->begin(), sealed->end() - 1);
  EXPECT_EQ(reader.Open(shorter, session_).status().code(), Code::kWrongKey);
  EXPECT_EQ(reader.Open({}, session_).status().code(), Code::kWrongKey);

  auto id = NewLogSessionId();
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(reader.Open(*sealed, *id).status().code(), Code::kWrongKey);  // bound to the session
  ASSERT_TRUE(reader.Open(*sealed, session_).ok());

  SecureBytes short_key(16);
  EXPECT_EQ(sealer.Seal(short_key, session_).status().code(), Code::kInvalidArgument);
}

TEST_F(IdentitySealerTest, PassphraseAndIdentitySealedKeysAreNotMistakenForEachOther) {
  Identity owner = NewIdentity();
  IdentitySealer reader = IdentitySealer::ForOpening(std::move(owner));
  auto by_passphrase = sealer_->Seal(key_, session_);
  auto to_identity = reader.Seal(key_, session_);
  ASSERT_TRUE(by_passphrase.ok() && to_identity.ok());

  EXPECT_FALSE(reader.CanOpen(*by_passphrase));
  EXPECT_EQ(reader.Open(*by_passphrase, session_).status().code(), Code::kWrongKey);
  EXPECT_FALSE(sealer_->CanOpen(*to_identity));
  EXPECT_EQ(sealer_->Open(*to_identity, session_).status().code(), Code::kWrongKey);
  EXPECT_TRUE(sealer_->CanOpen(*by_passphrase));

  auto address = AddressOfSealedKey(*by_passphrase);
  ASSERT_TRUE(address.has_value());
  EXPECT_EQ(address->kind, kSealedByPassphraseStore);
  EXPECT_EQ(address->owner, "");
  EXPECT_FALSE(AddressOfSealedKey({}).has_value());
  std::vector<uint8_t> cut(to_identity->begin(), to_identity->begin() + 10);
  EXPECT_FALSE(AddressOfSealedKey(cut).has_value());
}

TEST_F(AccessLogTest, ObjectNamesRoundTrip) {
  EXPECT_EQ(LogObjectPath(session_, 7),
            "log/" + LogSessionHex(session_) + "/0000000007");
  EXPECT_EQ(ParseLogObjectName("0000000007"), std::optional<uint64_t>(7));
  EXPECT_EQ(ParseLogObjectName("7"), std::nullopt);
  EXPECT_EQ(ParseLogObjectName("00000000x7"), std::nullopt);
  EXPECT_EQ(ParseLogSessionName(LogSessionHex(session_)), std::optional<LogSessionId>(session_));
  EXPECT_EQ(ParseLogSessionName("phrfs.lease"), std::nullopt);
}

}  // namespace
}  // namespace phrfs::crypto
