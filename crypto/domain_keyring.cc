#include "crypto/domain_keyring.h"

#include <charconv>
#include <optional>

#include <openssl/crypto.h>

#include "base/encoding.h"
#include "crypto/aead.h"
#include "crypto/format.h"
#include "crypto/kdf.h"
#include "crypto/random.h"
#include "crypto/recipient_wrap.h"

namespace phrfs::crypto {
namespace {

constexpr char kMagicLine[] = "phrfs-keyring 1";
constexpr char kAdOwner[] = "phrfs-keyring-owner-v1";
constexpr char kAdTable[] = "phrfs-keyring-table-v1";
constexpr char kAdKey[] = "phrfs-keyring-key-v1";
constexpr uint8_t kPayloadVersion = 1;
constexpr size_t kNamesKeySize = 64;
constexpr size_t kKeySize = 32;

std::span<const uint8_t> Span(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

void PutU32(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

std::vector<uint8_t> Ad(const char* label, const DomainId& id, std::optional<uint32_t> epoch) {
  std::vector<uint8_t> ad(label, label + std::char_traits<char>::length(label));
  ad.push_back(0);
  ad.insert(ad.end(), id.bytes.begin(), id.bytes.end());
  if (epoch) PutU32(ad, *epoch);
  return ad;
}

Result<std::vector<uint8_t>> Seal(const SecureBytes& key, std::span<const uint8_t> ad,
                                  std::span<const uint8_t> plain) {
  std::array<uint8_t, kNonceSize> nonce;
  PHRFS_RETURN_IF_ERROR(RandomBytes(nonce));
  PHRFS_ASSIGN_OR_RETURN(std::vector<uint8_t> sealed,
                         internal::GcmSealRaw(key.span(), nonce, ad, plain));
  sealed.insert(sealed.begin(), nonce.begin(), nonce.end());
  return sealed;
}

Result<SecureBytes> Open(const SecureBytes& key, std::span<const uint8_t> ad,
                         std::span<const uint8_t> sealed) {
  if (sealed.size() < kNonceSize + kTagSize) return Status::Corrupt("keyring: sealed field too short");
  auto opened = internal::GcmOpenRaw(key.span(), sealed.first(kNonceSize), ad,
                                     sealed.subspan(kNonceSize));
  if (!opened.ok()) return Status::WrongKey("keyring: not sealed under this store's key");
  return opened;
}

Result<uint32_t> ParseU32(std::string_view s) {
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty())
    return Status::Corrupt("keyring: bad number");
  return v;
}

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t at = 0;
  while (at <= line.size()) {
    size_t sp = line.find(' ', at);
    if (sp == std::string_view::npos) sp = line.size();
    out.push_back(line.substr(at, sp - at));
    at = sp + 1;
  }
  return out;
}

Result<std::vector<uint8_t>> B64(std::string_view s) {
  auto v = Base64UrlDecode(s);
  if (!v) return Status::Corrupt("keyring: bad base64");
  return std::move(*v);
}

template <size_t N>
Result<std::array<uint8_t, N>> Hex(std::string_view s) {
  auto v = HexDecode(s);
  if (!v || v->size() != N) return Status::Corrupt("keyring: bad id");
  std::array<uint8_t, N> out;
  std::copy(v->begin(), v->end(), out.begin());
  return out;
}

// The stanza payload: what a grantee needs for one epoch.
std::vector<uint8_t> Payload(const DomainSecrets& d, const GrantRecord& g, uint32_t epoch) {
  std::vector<uint8_t> p;
  p.push_back(kPayloadVersion);
  p.push_back(static_cast<uint8_t>(g.access));
  p.push_back(static_cast<uint8_t>(g.until.size()));
  p.insert(p.end(), g.until.begin(), g.until.end());
  for (const std::string* s : {&d.owner_name, &d.path}) {
    p.push_back(static_cast<uint8_t>(s->size() >> 8));
    p.push_back(static_cast<uint8_t>(s->size()));
    p.insert(p.end(), s->begin(), s->end());
  }
  const EpochKeys& k = d.epochs.at(epoch);
  p.insert(p.end(), d.dir_hash.span().begin(), d.dir_hash.span().end());
  p.insert(p.end(), k.names.span().begin(), k.names.span().end());
  p.insert(p.end(), k.content.span().begin(), k.content.span().end());
  return p;
}

struct ParsedPayload {
  GrantAccess access;
  std::string until, owner_name, path;
  SecureBytes dir_hash;
  EpochKeys keys;
};

Result<ParsedPayload> ParsePayload(const SecureBytes& bytes) {
  std::span<const uint8_t> p = bytes.span();
  auto take = [&](size_t n) -> std::optional<std::span<const uint8_t>> {
    if (p.size() < n) return std::nullopt;
    auto part = p.first(n);
    p = p.subspan(n);
    return part;
  };
  auto head = take(3);
  if (!head || (*head)[0] != kPayloadVersion) return Status::Corrupt("keyring: unknown stanza payload");
  ParsedPayload out;
  if ((*head)[1] != 1 && (*head)[1] != 2) return Status::Corrupt("keyring: unknown access");
  out.access = static_cast<GrantAccess>((*head)[1]);
  auto until = take((*head)[2]);
  if (!until) return Status::Corrupt("keyring: short stanza payload");
  out.until.assign(until->begin(), until->end());
  for (std::string* s : {&out.owner_name, &out.path}) {
    auto len = take(2);
    if (!len) return Status::Corrupt("keyring: short stanza payload");
    auto text = take((size_t{(*len)[0]} << 8) | (*len)[1]);
    if (!text) return Status::Corrupt("keyring: short stanza payload");
    s->assign(text->begin(), text->end());
  }
  auto dh = take(kKeySize), names = take(kNamesKeySize), content = take(kKeySize);
  if (!dh || !names || !content || !p.empty()) return Status::Corrupt("keyring: bad stanza payload size");
  out.dir_hash = SecureBytes(dh->data(), dh->size());
  out.keys.names = SecureBytes(names->data(), names->size());
  out.keys.content = SecureBytes(content->data(), content->size());
  return out;
}

std::string SerializeTable(const DomainSecrets& d) {
  std::string t = "path " + Base64UrlEncode(Span(d.path)) + "\n";
  t += "owner " + Base64UrlEncode(Span(d.owner_name)) + "\n";
  t += std::string("unshared ") + (d.unshared ? "1" : "0") + "\n";
  for (const GrantRecord& g : d.grants) {
    t += "grant " + Base64UrlEncode(Span(g.person)) + " " + g.public_key + " " +
         (g.access == GrantAccess::kWrite ? "w" : "r") + " " + (g.until.empty() ? "-" : g.until) +
         " " + std::to_string(g.since_epoch) + "\n";
  }
  return t;
}

Status ParseTable(std::string_view text, DomainSecrets& d) {
  size_t at = 0;
  while (at < text.size()) {
    size_t nl = text.find('\n', at);
    if (nl == std::string_view::npos) return Status::Corrupt("keyring table: unterminated line");
    auto f = Fields(text.substr(at, nl - at));
    at = nl + 1;
    auto text_of = [](std::string_view b64) -> Result<std::string> {
      PHRFS_ASSIGN_OR_RETURN(std::vector<uint8_t> v, B64(b64));
      return std::string(v.begin(), v.end());
    };
    if (f[0] == "path" && f.size() == 2) {
      PHRFS_ASSIGN_OR_RETURN(d.path, text_of(f[1]));
    } else if (f[0] == "owner" && f.size() == 2) {
      PHRFS_ASSIGN_OR_RETURN(d.owner_name, text_of(f[1]));
    } else if (f[0] == "unshared" && f.size() == 2 && (f[1] == "0" || f[1] == "1")) {
      d.unshared = f[1] == "1";
    } else if (f[0] == "grant" && f.size() == 6 && (f[3] == "r" || f[3] == "w")) {
      GrantRecord g;
      PHRFS_ASSIGN_OR_RETURN(g.person, text_of(f[1]));
      g.public_key = std::string(f[2]);
      g.access = f[3] == "w" ? GrantAccess::kWrite : GrantAccess::kRead;
      g.until = f[4] == "-" ? "" : std::string(f[4]);
      PHRFS_ASSIGN_OR_RETURN(g.since_epoch, ParseU32(f[5]));
      d.grants.push_back(std::move(g));
    } else {
      return Status::Corrupt("keyring table: unknown line");
    }
  }
  return Status::Ok();
}

// The lines of a keyring, split, with the signed prefix and the signature checked.
struct Lines {
  KeyringHeader header;
  std::map<uint32_t, std::vector<uint8_t>> owner_epochs;
  std::vector<uint8_t> table;
  std::vector<std::pair<uint32_t, std::vector<uint8_t>>> stanzas;
};

Result<Lines> Split(std::string_view text) {
  const size_t sig_at = text.rfind("\nsig ");
  if (sig_at == std::string_view::npos) return Status::Corrupt("keyring: no signature");
  const std::string_view body = text.substr(0, sig_at + 1);
  std::string_view sig_line = text.substr(sig_at + 5);
  if (!sig_line.empty() && sig_line.back() == '\n') sig_line.remove_suffix(1);
  PHRFS_ASSIGN_OR_RETURN(std::vector<uint8_t> sig, B64(sig_line));

  Lines out;
  bool saw_magic = false, saw_id = false, saw_root = false, saw_owner = false, saw_current = false,
       saw_table = false;
  size_t at = 0;
  while (at < body.size()) {
    size_t nl = body.find('\n', at);
    const std::string_view line = body.substr(at, nl - at);
    at = nl + 1;
    if (!saw_magic) {
      if (line != kMagicLine) return Status::Corrupt("keyring: not a phrfs keyring (or another version)");
      saw_magic = true;
      continue;
    }
    auto f = Fields(line);
    if (f[0] == "id" && f.size() == 2 && !saw_id) {
      PHRFS_ASSIGN_OR_RETURN(out.header.id.bytes, Hex<kIdSize>(f[1]));
      saw_id = true;
    } else if (f[0] == "root" && f.size() == 2 && !saw_root) {
      PHRFS_ASSIGN_OR_RETURN(out.header.root.bytes, Hex<kIdSize>(f[1]));
      saw_root = true;
    } else if (f[0] == "owner" && f.size() == 2 && !saw_owner) {
      auto owner = ParsePublicIdentity(f[1]);
      if (!owner.ok()) return Status::Corrupt("keyring: owner: " + owner.status().message());
      out.header.owner = *owner;
      saw_owner = true;
    } else if (f[0] == "current" && f.size() == 2 && !saw_current) {
      PHRFS_ASSIGN_OR_RETURN(out.header.current, ParseU32(f[1]));
      saw_current = true;
    } else if (f[0] == "epoch" && f.size() == 3) {
      PHRFS_ASSIGN_OR_RETURN(uint32_t e, ParseU32(f[1]));
      PHRFS_ASSIGN_OR_RETURN(auto sealed, B64(f[2]));
      if (!out.owner_epochs.emplace(e, std::move(sealed)).second)
        return Status::Corrupt("keyring: epoch listed twice");
    } else if (f[0] == "table" && f.size() == 2 && !saw_table) {
      PHRFS_ASSIGN_OR_RETURN(out.table, B64(f[1]));
      saw_table = true;
    } else if (f[0] == "key" && f.size() == 3) {
      PHRFS_ASSIGN_OR_RETURN(uint32_t e, ParseU32(f[1]));
      PHRFS_ASSIGN_OR_RETURN(auto stanza, B64(f[2]));
      out.stanzas.emplace_back(e, std::move(stanza));
    } else {
      return Status::Corrupt("keyring: unexpected line");
    }
  }
  if (!saw_id || !saw_root || !saw_owner || !saw_current || !saw_table)
    return Status::Corrupt("keyring: a required line is missing");
  PHRFS_RETURN_IF_ERROR(Verify(out.header.owner, Span(body), sig));
  out.header.stanzas = out.stanzas.size();
  return out;
}

}  // namespace

Result<DomainId> NewDomainId() {
  DomainId id;
  PHRFS_RETURN_IF_ERROR(RandomBytes(id.bytes));
  return id;
}

std::string DomainPrefix(const DomainId& id) {
  return std::string(kSharedRoot) + "/" + HexEncode(id.bytes) + "/";
}

Result<EpochKeys> EpochKeys::Generate() {
  EpochKeys k{SecureBytes(kNamesKeySize), SecureBytes(kKeySize)};
  PHRFS_RETURN_IF_ERROR(RandomBytes({k.names.data(), k.names.size()}));
  PHRFS_RETURN_IF_ERROR(RandomBytes({k.content.data(), k.content.size()}));
  return k;
}

Result<SecureBytes> DeriveDomainOwnerKey(const SecureBytes& master_key, const StoreId& store_id) {
  return HkdfSha256(master_key.span(), store_id.bytes, kLabelDomainOwner, kKeySize);
}

Result<std::string> SealKeyring(const DomainSecrets& d, const SecureBytes& owner_key,
                                const Identity& owner) {
  if (d.epochs.count(d.current) == 0)
    return Status::InvalidArgument("keyring: the current epoch has no keys");
  if (d.dir_hash.size() != kKeySize) return Status::InvalidArgument("keyring: bad dir-hash key");
  std::string text = std::string(kMagicLine) + "\n";
  text += "id " + HexEncode(d.id.bytes) + "\n";
  text += "root " + HexEncode(d.root.bytes) + "\n";
  text += "owner " + FormatPublicIdentity(owner.public_identity()) + "\n";
  text += "current " + std::to_string(d.current) + "\n";
  for (const auto& [epoch, keys] : d.epochs) {
    if (keys.names.size() != kNamesKeySize || keys.content.size() != kKeySize)
      return Status::InvalidArgument("keyring: bad epoch keys");
    SecureBytes plain(kKeySize + kNamesKeySize + kKeySize);
    std::copy(d.dir_hash.span().begin(), d.dir_hash.span().end(), plain.data());
    std::copy(keys.names.span().begin(), keys.names.span().end(), plain.data() + kKeySize);
    std::copy(keys.content.span().begin(), keys.content.span().end(),
              plain.data() + kKeySize + kNamesKeySize);
    PHRFS_ASSIGN_OR_RETURN(auto sealed, Seal(owner_key, Ad(kAdOwner, d.id, epoch), plain.span()));
    text += "epoch " + std::to_string(epoch) + " " + Base64UrlEncode(sealed) + "\n";
  }
  const std::string table = SerializeTable(d);
  PHRFS_ASSIGN_OR_RETURN(auto sealed_table, Seal(owner_key, Ad(kAdTable, d.id, std::nullopt), Span(table)));
  text += "table " + Base64UrlEncode(sealed_table) + "\n";
  for (const GrantRecord& g : d.grants) {
    auto recipient = ParsePublicIdentity(g.public_key);
    if (!recipient.ok())
      return Status::InvalidArgument("keyring: " + g.person + "'s key: " + recipient.status().message());
    for (const auto& [epoch, keys] : d.epochs) {
      if (epoch < g.since_epoch) continue;
      std::vector<uint8_t> plain = Payload(d, g, epoch);
      SecureBytes payload(plain.data(), plain.size());
      OPENSSL_cleanse(plain.data(), plain.size());
      PHRFS_ASSIGN_OR_RETURN(auto stanza,
                             WrapToRecipient(payload.span(), *recipient, Ad(kAdKey, d.id, epoch)));
      text += "key " + std::to_string(epoch) + " " + Base64UrlEncode(stanza) + "\n";
    }
  }
  PHRFS_ASSIGN_OR_RETURN(Ed25519Signature sig, Sign(owner, Span(text)));
  text += "sig " + Base64UrlEncode(sig) + "\n";
  return text;
}

Result<KeyringHeader> ParseKeyringHeader(std::string_view text) {
  PHRFS_ASSIGN_OR_RETURN(Lines lines, Split(text));
  return lines.header;
}

Result<DomainSecrets> OpenKeyringAsOwner(std::string_view text, const SecureBytes& owner_key) {
  PHRFS_ASSIGN_OR_RETURN(Lines lines, Split(text));
  DomainSecrets d;
  d.id = lines.header.id;
  d.root = lines.header.root;
  d.current = lines.header.current;
  for (const auto& [epoch, sealed] : lines.owner_epochs) {
    PHRFS_ASSIGN_OR_RETURN(SecureBytes plain, Open(owner_key, Ad(kAdOwner, d.id, epoch), sealed));
    if (plain.size() != 2 * kKeySize + kNamesKeySize) return Status::Corrupt("keyring: bad epoch keys");
    const uint8_t* p = plain.data();
    SecureBytes dir_hash(p, kKeySize);
    if (!d.dir_hash.empty() && d.dir_hash.span().size() == kKeySize &&
        !std::equal(d.dir_hash.span().begin(), d.dir_hash.span().end(), dir_hash.span().begin()))
      return Status::Corrupt("keyring: epochs disagree on the dir-hash key");
    d.dir_hash = std::move(dir_hash);
    d.epochs.emplace(epoch, EpochKeys{SecureBytes(p + kKeySize, kNamesKeySize),
                                      SecureBytes(p + kKeySize + kNamesKeySize, kKeySize)});
  }
  if (d.epochs.count(d.current) == 0) return Status::Corrupt("keyring: no keys for the current epoch");
  PHRFS_ASSIGN_OR_RETURN(SecureBytes table, Open(owner_key, Ad(kAdTable, d.id, std::nullopt), lines.table));
  PHRFS_RETURN_IF_ERROR(ParseTable({reinterpret_cast<const char*>(table.data()), table.size()}, d));
  return d;
}

Result<GranteeView> OpenKeyringAsGrantee(std::string_view text, const Identity& identity) {
  PHRFS_ASSIGN_OR_RETURN(Lines lines, Split(text));
  GranteeView v;
  v.id = lines.header.id;
  v.root = lines.header.root;
  v.owner = lines.header.owner;
  v.current = lines.header.current;
  bool found = false;
  for (const auto& [epoch, stanza] : lines.stanzas) {
    auto payload = UnwrapWithIdentity(stanza, identity, Ad(kAdKey, v.id, epoch));
    if (!payload.ok()) {
      if (payload.status().code() == Code::kWrongKey) continue;  // someone else's
      return Status::Corrupt("keyring: " + payload.status().message());
    }
    PHRFS_ASSIGN_OR_RETURN(ParsedPayload p, ParsePayload(*payload));
    // The newest epoch's stanza says what the grant is now.
    if (!found || epoch >= v.epochs.rbegin()->first) {
      v.access = p.access;
      v.until = p.until;
      v.owner_name = p.owner_name;
      v.path = p.path;
    }
    v.dir_hash = std::move(p.dir_hash);
    v.epochs.insert_or_assign(epoch, std::move(p.keys));
    found = true;
  }
  if (!found) return Status::NotFound("keyring: nothing in it is for this identity");
  return v;
}

}  // namespace phrfs::crypto
