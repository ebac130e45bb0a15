#include "crypto/access_log.h"

#include <algorithm>
#include <cstring>
#include <set>

#include <openssl/crypto.h>

#include "base/encoding.h"
#include "crypto/aead.h"
#include "crypto/kdf.h"
#include "crypto/random.h"

namespace phrfs::crypto {
namespace {

constexpr size_t kHashSize = 32;
// magic(4) version(1) kind(1)
constexpr size_t kPrefixSize = 6;
// prefix, flags(1), seq(8), previous hash(32)
constexpr size_t kBatchPlainSize = kPrefixSize + 1 + 8 + kHashSize;
constexpr size_t kMaxField = 1u << 20;  // no string or list in a log object is longer
constexpr size_t kShortHex = 12;

// ---- big-endian byte writer and reader ----

class Writer {
 public:
  void U8(uint8_t v) { out_.push_back(v); }
  void U16(uint16_t v) { Be(v, 2); }
  void U32(uint32_t v) { Be(v, 4); }
  void U64(uint64_t v) { Be(v, 8); }
  void Bytes(std::span<const uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void Str16(std::string_view s) {
    U16(static_cast<uint16_t>(s.size()));
    Bytes({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
  }
  void Str32(std::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    Bytes({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
  }
  std::vector<uint8_t>& out() { return out_; }

 private:
  void Be(uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  std::vector<uint8_t> out_;
};

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> in) : in_(in) {}
  bool U8(uint8_t& v) {
    if (!Need(1)) return false;
    v = in_[pos_++];
    return true;
  }
  bool U16(uint16_t& v) { return Be(v, 2); }
  bool U32(uint32_t& v) { return Be(v, 4); }
  bool U64(uint64_t& v) { return Be(v, 8); }
  bool Take(size_t n, std::span<const uint8_t>& out) {
    if (!Need(n)) return false;
    out = in_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  bool Str(size_t n, std::string& s) {
    std::span<const uint8_t> b;
    if (n > kMaxField || !Take(n, b)) return false;
    s.assign(reinterpret_cast<const char*>(b.data()), b.size());
    return true;
  }
  size_t pos() const { return pos_; }
  bool done() const { return pos_ == in_.size(); }

 private:
  bool Need(size_t n) const { return in_.size() - pos_ >= n; }
  template <class T>
  bool Be(T& v, int n) {
    if (!Need(n)) return false;
    uint64_t x = 0;
    for (int i = 0; i < n; ++i) x = (x << 8) | in_[pos_++];
    v = static_cast<T>(x);
    return true;
  }
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
};

std::span<const uint8_t> LabelBytes() {
  return {reinterpret_cast<const uint8_t*>(kLogAdLabel), std::strlen(kLogAdLabel)};
}

Result<SecureBytes> SubKey(const SecureBytes& session_key, const LogSessionId& session,
                           const char* label) {
  if (session_key.size() != kLogSessionKeySize) {
    return Status::InvalidArgument("log session key must be 32 bytes");
  }
  return HkdfSha256(session_key.span(), session.bytes, label, 32);
}

std::vector<uint8_t> BatchAad(const LogSessionId& session, uint64_t seq,
                              std::span<const uint8_t> prev_hash, uint8_t end) {
  Writer w;
  w.Bytes(LabelBytes());
  w.Bytes(session.bytes);
  w.U64(seq);
  w.Bytes(prev_hash);
  w.U8(end);
  return std::move(w.out());
}

bool CheckPrefix(Reader& r, uint8_t kind) {
  std::span<const uint8_t> magic;
  uint8_t version = 0, got_kind = 0;
  return r.Take(kLogMagic.size(), magic) &&
         std::equal(magic.begin(), magic.end(), kLogMagic.begin()) && r.U8(version) &&
         version == kLogVersion && r.U8(got_kind) && got_kind == kind;
}

// Seals `plain` as nonce || ct || tag appended to `w`.
Status AppendSealed(Writer& w, const SecureBytes& key, std::span<const uint8_t> aad,
                    std::span<const uint8_t> plain) {
  std::array<uint8_t, kNonceSize> nonce;
  PHRFS_RETURN_IF_ERROR(RandomBytes(nonce));
  PHRFS_ASSIGN_OR_RETURN(auto sealed, internal::GcmSealRaw(key.span(), nonce, aad, plain));
  w.Bytes(nonce);
  w.Bytes(sealed);
  return Status::Ok();
}

Result<SecureBytes> OpenSealed(const SecureBytes& key, std::span<const uint8_t> aad,
                               std::span<const uint8_t> nonce_ct_tag) {
  if (nonce_ct_tag.size() < kNonceSize + kTagSize) return Status::Corrupt("log object too short");
  return internal::GcmOpenRaw(key.span(), nonce_ct_tag.first(kNonceSize), aad,
                              nonce_ct_tag.subspan(kNonceSize));
}

std::vector<uint8_t> EncodeRecords(std::span<const LogRecord> records) {
  Writer w;
  w.U32(static_cast<uint32_t>(records.size()));
  for (const LogRecord& r : records) {
    w.U64(static_cast<uint64_t>(r.first_ns));
    w.U64(static_cast<uint64_t>(r.last_ns));
    w.U64(r.count);
    w.U8(static_cast<uint8_t>(r.op));
    w.U32(static_cast<uint32_t>(r.result));
    w.Str32(r.path);
    w.Str32(r.path2);
  }
  return std::move(w.out());
}

bool DecodeRecords(std::span<const uint8_t> plain, std::vector<LogRecord>& out) {
  Reader r(plain);
  uint32_t n = 0;
  if (!r.U32(n)) return false;
  for (uint32_t i = 0; i < n; ++i) {
    LogRecord rec;
    uint64_t first = 0, last = 0;
    uint8_t op = 0;
    uint32_t result = 0, len = 0;
    if (!r.U64(first) || !r.U64(last) || !r.U64(rec.count) || !r.U8(op) || !r.U32(result) ||
        !r.U32(len) || !r.Str(len, rec.path) || !r.U32(len) || !r.Str(len, rec.path2)) {
      return false;
    }
    rec.first_ns = static_cast<int64_t>(first);
    rec.last_ns = static_cast<int64_t>(last);
    rec.op = static_cast<LogOp>(op);
    rec.result = static_cast<int32_t>(result);
    out.push_back(std::move(rec));
  }
  return r.done();
}

struct OpenedBatch {
  uint64_t seq = 0;  // as stored (and authenticated)
  bool end = false;
  std::array<uint8_t, kHashSize> prev_hash{};
  std::vector<LogRecord> records;
};

Result<OpenedBatch> OpenBatch(const SecureBytes& records_key, const LogSessionId& session,
                              std::span<const uint8_t> object) {
  Reader r(object);
  OpenedBatch b;
  uint8_t flags = 0;
  std::span<const uint8_t> prev;
  if (!CheckPrefix(r, kLogKindBatch) || !r.U8(flags) || (flags & ~kLogFlagEnd) != 0 ||
      !r.U64(b.seq) || !r.Take(kHashSize, prev)) {
    return Status::Corrupt("not a log batch of this version");
  }
  std::copy(prev.begin(), prev.end(), b.prev_hash.begin());
  b.end = (flags & kLogFlagEnd) != 0;
  PHRFS_ASSIGN_OR_RETURN(SecureBytes plain,
                         OpenSealed(records_key, BatchAad(session, b.seq, prev, flags),
                                    object.subspan(kBatchPlainSize)));
  if (!DecodeRecords(plain.span(), b.records)) return Status::Corrupt("malformed records");
  return b;
}

bool HashEquals(std::span<const uint8_t> object, std::span<const uint8_t> expected) {
  auto h = Sha256(object);
  return h.ok() && CRYPTO_memcmp(h->data(), expected.data(), kHashSize) == 0;
}

LogProblem Problem(LogProblemKind kind, const LogSessionId& s, std::optional<uint64_t> object,
                   std::string detail) {
  return LogProblem{kind, s, object, std::move(detail)};
}

std::string ShortHex(const LogSessionId& s) { return LogSessionHex(s).substr(0, kShortHex); }

}  // namespace

std::string LogOpName(LogOp op) {
  switch (op) {
    case LogOp::kOpenRead: return "open-read";
    case LogOp::kOpenWrite: return "open-write";
    case LogOp::kCreate: return "create";
    case LogOp::kDelete: return "delete";
    case LogOp::kRename: return "rename";
    case LogOp::kUnlockFailed: return "unlock-failed";
    case LogOp::kGrant: return "grant";
    case LogOp::kRevoke: return "revoke";
    case LogOp::kDropped: return "dropped";
  }
  return "op-" + std::to_string(static_cast<int>(op));
}

Result<LogSessionId> NewLogSessionId() {
  LogSessionId id;
  PHRFS_RETURN_IF_ERROR(RandomBytes(id.bytes));
  return id;
}

Result<SecureBytes> NewLogSessionKey() {
  SecureBytes key(kLogSessionKeySize);
  PHRFS_RETURN_IF_ERROR(RandomPrivateBytes({key.data(), key.size()}));
  return key;
}

std::string LogSessionHex(const LogSessionId& session) { return HexEncode(session.bytes); }

std::string LogSessionFolder(const LogSessionId& session) {
  return std::string(kLogFolder) + "/" + LogSessionHex(session);
}

std::string LogObjectPath(const LogSessionId& session, uint64_t seq) {
  std::string digits = std::to_string(seq);
  if (digits.size() < kLogSeqDigits) digits.insert(0, kLogSeqDigits - digits.size(), '0');
  return LogSessionFolder(session) + "/" + digits;
}

std::optional<LogSessionId> ParseLogSessionName(std::string_view name) {
  if (name.size() != 2 * kLogSessionIdSize) return std::nullopt;
  auto bytes = HexDecode(name);
  if (!bytes) return std::nullopt;
  LogSessionId id;
  std::copy(bytes->begin(), bytes->end(), id.bytes.begin());
  return id;
}

std::optional<uint64_t> ParseLogObjectName(std::string_view name) {
  if (name.size() != kLogSeqDigits) return std::nullopt;
  uint64_t v = 0;
  for (char c : name) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

// What a writer signs (FORMAT "ACCESS LOG"): the session it opens and who it says it is.
static std::string WriterSignedMessage(const LogSessionId& session, int64_t start_ns,
                                       const std::string& writer, const std::string& person) {
  Writer w;
  w.U64(static_cast<uint64_t>(start_ns));
  w.Str16(writer);
  w.Str16(person);
  return "phrfs-log-writer-v1\n" + LogSessionHex(session) + "\n" +
         std::string(w.out().begin(), w.out().end());
}

Result<std::vector<uint8_t>> SealLogHeader(const SecureBytes& session_key,
                                           const LogSessionHeader& header,
                                           std::span<const uint8_t> wrapped_key,
                                           const Identity* signer) {
  if (signer && Fingerprint(signer->public_identity()) != header.writer)
    return Status::InvalidArgument("a signed log header's writer is the signer's fingerprint");
  if (header.previous.size() > 0xffff || header.writer.size() > 0xffff ||
      header.person.size() > 0xffff || wrapped_key.size() > kMaxField) {
    return Status::InvalidArgument("log header field too long");
  }
  PHRFS_ASSIGN_OR_RETURN(SecureBytes key, SubKey(session_key, header.session, kLabelLogHeader));
  Writer w;
  w.Bytes(kLogMagic);
  w.U8(kLogVersion);
  w.U8(kLogKindHeader);
  w.Bytes(header.session.bytes);
  w.U16(static_cast<uint16_t>(header.previous.size()));
  for (const LogSessionId& p : header.previous) w.Bytes(p.bytes);
  w.U32(static_cast<uint32_t>(wrapped_key.size()));
  w.Bytes(wrapped_key);
  std::vector<uint8_t> aad(LabelBytes().begin(), LabelBytes().end());
  aad.insert(aad.end(), w.out().begin(), w.out().end());
  Writer plain;
  plain.U64(static_cast<uint64_t>(header.start_ns));
  plain.Str16(header.writer);
  plain.Str16(header.person);
  if (signer) {
    const std::string message = WriterSignedMessage(header.session, header.start_ns, header.writer,
                                                    header.person);
    PHRFS_ASSIGN_OR_RETURN(auto signature,
                           Sign(*signer, {reinterpret_cast<const uint8_t*>(message.data()), message.size()}));
    plain.Str16(FormatPublicIdentity(signer->public_identity()));
    plain.Bytes(signature);
  }
  PHRFS_RETURN_IF_ERROR(AppendSealed(w, key, aad, plain.out()));
  return std::move(w.out());
}

Result<LogHeaderPublic> ParseLogHeaderPublic(std::span<const uint8_t> object) {
  Reader r(object);
  LogHeaderPublic pub;
  std::span<const uint8_t> bytes;
  uint16_t n_prev = 0;
  uint32_t wrapped_len = 0;
  if (!CheckPrefix(r, kLogKindHeader) || !r.Take(kLogSessionIdSize, bytes)) {
    return Status::Corrupt("not a log header of this version");
  }
  std::copy(bytes.begin(), bytes.end(), pub.session.bytes.begin());
  if (!r.U16(n_prev)) return Status::Corrupt("log header truncated");
  for (uint16_t i = 0; i < n_prev; ++i) {
    if (!r.Take(kLogSessionIdSize, bytes)) return Status::Corrupt("log header truncated");
    LogSessionId p;
    std::copy(bytes.begin(), bytes.end(), p.bytes.begin());
    pub.previous.push_back(p);
  }
  if (!r.U32(wrapped_len) || wrapped_len > kMaxField || !r.Take(wrapped_len, bytes)) {
    return Status::Corrupt("log header truncated");
  }
  pub.wrapped_key.assign(bytes.begin(), bytes.end());
  if (object.size() - r.pos() < kNonceSize + kTagSize) return Status::Corrupt("log header truncated");
  return pub;
}

Result<std::vector<uint8_t>> SealLogBatch(const SecureBytes& session_key, const LogSessionId& session,
                                          uint64_t seq, std::span<const uint8_t> previous_object,
                                          std::span<const LogRecord> records, LogEnd end) {
  if (seq == 0) return Status::InvalidArgument("log batches are numbered from 1");
  PHRFS_ASSIGN_OR_RETURN(SecureBytes key, SubKey(session_key, session, kLabelLogRecords));
  PHRFS_ASSIGN_OR_RETURN(auto prev_hash, Sha256(previous_object));
  const uint8_t flags = end == LogEnd::kEnd ? kLogFlagEnd : 0;
  Writer w;
  w.Bytes(kLogMagic);
  w.U8(kLogVersion);
  w.U8(kLogKindBatch);
  w.U8(flags);
  w.U64(seq);
  w.Bytes(prev_hash);
  std::vector<uint8_t> plain = EncodeRecords(records);
  Status st = AppendSealed(w, key, BatchAad(session, seq, prev_hash, flags), plain);
  SecureWipe(plain);
  PHRFS_RETURN_IF_ERROR(st);
  return std::move(w.out());
}

const char* LogProblem::KindName(LogProblemKind kind) {
  switch (kind) {
    case LogProblemKind::kHeaderMissing: return "header-missing";
    case LogProblemKind::kKeyUnreadable: return "key-unreadable";
    case LogProblemKind::kMissingObject: return "missing-object";
    case LogProblemKind::kAltered: return "altered";
    case LogProblemKind::kReordered: return "reordered";
    case LogProblemKind::kChainBroken: return "chain-broken";
    case LogProblemKind::kNotClosed: return "not-closed";
    case LogProblemKind::kAfterEnd: return "after-end";
    case LogProblemKind::kMissingSession: return "missing-session";
    case LogProblemKind::kDropped: return "dropped";
  }
  return "unknown";
}

std::string LogProblem::Describe() const {
  std::string s = "session " + ShortHex(session);
  if (object) s += " object " + std::to_string(*object);
  return s + " " + detail;
}

VerifiedSession VerifySession(const LogSessionId& session,
                              const std::map<uint64_t, std::vector<uint8_t>>& objects,
                              SessionKeySealer& sealer) {
  VerifiedSession v;
  v.session = session;
  v.objects = objects.size();
  auto add = [&](LogProblemKind kind, std::optional<uint64_t> object, std::string detail) {
    v.problems.push_back(Problem(kind, session, object, std::move(detail)));
  };

  auto header_it = objects.find(0);
  if (header_it == objects.end()) {
    add(LogProblemKind::kHeaderMissing, std::nullopt,
        "header (object 0) missing: none of its " + std::to_string(objects.size()) +
            " objects can be read");
    return v;
  }
  auto pub = ParseLogHeaderPublic(header_it->second);
  if (!pub.ok() || pub->session != session) {
    add(LogProblemKind::kAltered, 0,
        pub.ok() ? "altered (the header names another session): the session cannot be read"
                 : "altered (not a log header): the session cannot be read");
    return v;
  }
  auto session_key = sealer.Open(pub->wrapped_key, session);
  if (!session_key.ok()) {
    add(LogProblemKind::kKeyUnreadable, std::nullopt,
        "cannot be read: its key was sealed for another key, or the header was altered");
    return v;
  }

  // The header's sealed part: start time, writer, person.
  bool header_ok = false;
  if (auto key = SubKey(*session_key, session, kLabelLogHeader); key.ok()) {
    const std::span<const uint8_t> obj = header_it->second;
    // Everything before the nonce is the AAD: the public fields' length is known from parsing.
    const size_t public_size = kPrefixSize + kLogSessionIdSize + 2 +
                               kLogSessionIdSize * pub->previous.size() + 4 +
                               pub->wrapped_key.size();
    std::vector<uint8_t> aad(LabelBytes().begin(), LabelBytes().end());
    aad.insert(aad.end(), obj.begin(), obj.begin() + static_cast<ptrdiff_t>(public_size));
    auto plain = OpenSealed(*key, aad, obj.subspan(public_size));
    if (plain.ok()) {
      Reader r(plain->span());
      LogSessionHeader h;
      h.session = session;
      h.previous = pub->previous;
      uint64_t start = 0;
      uint16_t len = 0;
      if (r.U64(start) && r.U16(len) && r.Str(len, h.writer) && r.U16(len) &&
          r.Str(len, h.person)) {
        h.start_ns = static_cast<int64_t>(start);
        if (r.done()) {
          header_ok = true;  // unsigned: the writer's word
        } else {
          // Signed: the signer's public identity and its signature; the writer must be the
          // signer's fingerprint.
          std::string line;
          std::span<const uint8_t> signature;
          if (r.U16(len) && r.Str(len, line) && r.Take(kEd25519SignatureSize, signature) && r.done()) {
            auto signer = ParsePublicIdentity(line);
            const std::string message = WriterSignedMessage(session, h.start_ns, h.writer, h.person);
            if (signer.ok() && Fingerprint(*signer) == h.writer &&
                Verify(*signer, {reinterpret_cast<const uint8_t*>(message.data()), message.size()},
                       signature).ok()) {
              h.signed_by = *signer;
              header_ok = true;
            }
          }
        }
        if (header_ok) v.header = std::move(h);
      }
    }
  }
  if (!header_ok) add(LogProblemKind::kAltered, 0, "altered (the header fails authentication)");

  auto records_key = SubKey(*session_key, session, kLabelLogRecords);
  if (!records_key.ok()) {
    add(LogProblemKind::kAltered, std::nullopt, "cannot be read: " + records_key.status().message());
    return v;
  }

  // Open every batch under the number it claims; note where it was found.
  struct Found {
    OpenedBatch batch;
    uint64_t name = 0;
  };
  std::map<uint64_t, Found> verified;  // by claimed (authenticated) seq
  uint64_t highest = 0;
  for (const auto& [name, bytes] : objects) {
    if (name == 0) continue;
    auto batch = OpenBatch(*records_key, session, bytes);
    if (!batch.ok()) {
      highest = std::max(highest, name);
      add(LogProblemKind::kAltered, name, "altered (fails authentication)");
      continue;
    }
    if (batch->seq == 0) {
      add(LogProblemKind::kAltered, name, "altered (claims number 0)");
      continue;
    }
    if (batch->seq != name) {
      add(LogProblemKind::kReordered, name,
          "reordered (it holds object " + std::to_string(batch->seq) + ")");
    }
    if (verified.count(batch->seq) != 0) {
      add(LogProblemKind::kReordered, name,
          "is a second copy of object " + std::to_string(batch->seq));
      continue;
    }
    highest = std::max(highest, batch->seq);
    uint64_t seq = batch->seq;
    verified.emplace(seq, Found{std::move(batch).value(), name});
  }

  for (uint64_t s = 1; s <= highest; ++s) {
    if (objects.count(s) == 0 && verified.count(s) == 0) {
      add(LogProblemKind::kMissingObject, s, "missing");
    }
  }

  // The chain: each verified batch names the hash of the object before it.
  for (const auto& [seq, found] : verified) {
    const std::vector<uint8_t>* prev = nullptr;
    if (seq == 1) {
      if (header_ok) prev = &header_it->second;
    } else if (auto it = verified.find(seq - 1); it != verified.end()) {
      prev = &objects.at(it->second.name);
    }
    if (prev != nullptr && !HashEquals(*prev, found.batch.prev_hash)) {
      add(LogProblemKind::kChainBroken, seq,
          "does not follow object " + std::to_string(seq - 1) +
              " (chain broken: object " + std::to_string(seq - 1) + " was replaced)");
    }
  }

  std::optional<uint64_t> end_seq;
  for (const auto& [seq, found] : verified) {
    if (found.batch.end && !end_seq) end_seq = seq;
  }
  if (end_seq) {
    v.closed = true;
    for (const auto& [name, bytes] : objects) {
      if (name > *end_seq) {
        add(LogProblemKind::kAfterEnd, name,
            "found after the session's end (object " + std::to_string(*end_seq) + ")");
      }
    }
  } else {
    add(LogProblemKind::kNotClosed, std::nullopt,
        "not closed after object " + std::to_string(highest) +
            ": its mount crashed, is still mounted, or its last objects were deleted");
  }

  for (auto& [seq, found] : verified) {
    for (LogRecord& r : found.batch.records) {
      if (r.op == LogOp::kDropped) {
        add(LogProblemKind::kDropped, seq,
            "records that " + std::to_string(r.count) +
                " accesses were not logged (the store was unavailable too long)");
      }
      v.records.push_back(std::move(r));
    }
  }
  return v;
}

std::vector<LogProblem> FindMissingSessions(
    const std::map<LogSessionId, std::vector<LogSessionId>>& references) {
  std::vector<LogProblem> problems;
  std::set<LogSessionId> reported;
  for (const auto& [session, previous] : references) {
    for (const LogSessionId& p : previous) {
      if (references.count(p) != 0 || !reported.insert(p).second) continue;
      problems.push_back(Problem(LogProblemKind::kMissingSession, p, std::nullopt,
                                 "missing (session " + ShortHex(session) +
                                     " saw it in the store): a whole session was deleted"));
    }
  }
  return problems;
}

std::vector<LogSessionId> LatestSessions(
    const std::map<LogSessionId, std::vector<LogSessionId>>& references) {
  std::set<LogSessionId> referenced;
  for (const auto& [session, previous] : references) {
    referenced.insert(previous.begin(), previous.end());
  }
  std::vector<LogSessionId> latest;
  for (const auto& [session, previous] : references) {
    if (referenced.count(session) == 0) latest.push_back(session);
  }
  return latest;
}

}  // namespace phrfs::crypto
