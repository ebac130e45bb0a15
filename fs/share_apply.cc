#include "fs/share_apply.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>

#include "base/encoding.h"
#include "crypto/random.h"
#include "fs/log.h"
#include "fs/vault/vault.h"
#include "remote/shared_tree.h"

namespace phrfs::fs {
namespace {

constexpr uint32_t kFirstEpoch = 1;
constexpr size_t kCopyChunk = 1 << 20;
constexpr char kShareTempSuffix[] = ".phrfs-share";
constexpr char kReencryptTemp[] = ".phrfs-reencrypt.";

config::ShareAccess AccessOf(crypto::GrantAccess a) {
  return a == crypto::GrantAccess::kWrite ? config::ShareAccess::kWrite : config::ShareAccess::kRead;
}
crypto::GrantAccess GrantOf(config::ShareAccess a) {
  return a == config::ShareAccess::kWrite ? crypto::GrantAccess::kWrite : crypto::GrantAccess::kRead;
}

void Say(const ApplyOptions& options, const std::string& line) {
  if (options.progress) options.progress(line);
}

std::vector<std::string> Components(const std::string& path) {
  std::vector<std::string> parts;
  size_t at = 1;
  while (at <= path.size()) {
    size_t slash = path.find('/', at);
    if (slash == std::string::npos) slash = path.size();
    if (slash > at) parts.push_back(path.substr(at, slash - at));
    at = slash + 1;
  }
  return parts;
}

// A vault over the store with the given shared folders' keys (a short-lived one: apply opens a
// new one whenever the set of domains changes).
Result<std::unique_ptr<Vault>> OpenVault(ShareStore& store, const SharedDomains& domains) {
  PHRFS_ASSIGN_OR_RETURN(crypto::StoreKeys keys,
                         crypto::StoreKeys::Derive(store.master_key, store.store_id));
  VaultOptions options;
  options.shared_domains = domains;
  return Vault::Open(std::make_unique<remote::SharedTree>(store.tree), std::move(keys), options);
}

// Lookups that give back their count when done.
class Held {
 public:
  Held(Vault& v, Entry e) : v_(&v), e_(e) {}
  Held(Held&& o) noexcept : v_(o.v_), e_(o.e_) { o.v_ = nullptr; }
  Held& operator=(Held&& o) noexcept {
    if (this != &o) {
      Release();
      v_ = o.v_;
      e_ = o.e_;
      o.v_ = nullptr;
    }
    return *this;
  }
  ~Held() { Release(); }
  void Release() {
    if (v_ != nullptr && e_.node != kRootNode) v_->Forget(e_.node, 1);
    v_ = nullptr;
  }
  uint64_t node() const { return e_.node; }
  const struct stat& attr() const { return e_.attr; }

 private:
  Vault* v_;
  Entry e_;
};

Result<Held> Look(Vault& v, uint64_t parent, const std::string& name) {
  PHRFS_ASSIGN_OR_RETURN(Entry e, v.Lookup(parent, name));
  return Held(v, e);
}

// The directory at `path` (absolute in the owner's record) and its parent.
struct Resolved {
  std::optional<Held> parent;  // empty for "/"
  std::optional<Held> dir;
  std::string name;
};
Result<Resolved> ResolveDir(Vault& v, const std::string& path) {
  Resolved r;
  std::vector<std::string> parts = Components(path);
  if (parts.empty()) return Status::InvalidArgument("the root cannot be shared");
  uint64_t at = kRootNode;
  std::optional<Held> held;
  for (size_t i = 0; i < parts.size(); ++i) {
    auto next = Look(v, at, parts[i]);
    if (!next.ok()) return next.status();
    if (!S_ISDIR(next->attr().st_mode)) return Status::Error(Code::kNotADirectory, "not a folder");
    if (i + 1 == parts.size()) {
      r.parent = std::move(held);
      r.dir.emplace(std::move(next).value());
      r.name = parts[i];
      return r;
    }
    held.emplace(std::move(next).value());
    at = held->node();
  }
  return Status::NotFound("no such folder");
}

Status SetTimesAndOwner(Vault& v, uint64_t node, const struct stat& from, bool mode_too) {
  SetAttrRequest r;
  if (mode_too) r.mode = from.st_mode & 07777;
  r.uid = from.st_uid;
  r.gid = from.st_gid;
  r.atime = from.st_atim;
  r.mtime = from.st_mtim;
  return v.SetAttr(node, r).status();
}

Status CopyFileContents(Vault& v, uint64_t from, uint64_t to) {
  std::vector<uint8_t> buf(kCopyChunk);
  for (uint64_t off = 0;;) {
    PHRFS_ASSIGN_OR_RETURN(size_t n, v.Read(from, off, buf));
    if (n == 0) return Status::Ok();
    PHRFS_ASSIGN_OR_RETURN(size_t w, v.Write(to, off, {buf.data(), n}, false));
    if (w != n) return Status::IoError("short write while copying");
    off += n;
  }
}

// Copies one entry (and below it) from one folder to another; the copy gets the same mode,
// owner, group and times. Hard links become separate files.
Status CopyEntry(Vault& v, uint64_t from_dir, const ListedEntry& e, uint64_t to_dir,
                 const std::string& to_name, size_t* files) {
  PHRFS_ASSIGN_OR_RETURN(Entry src_e, v.LookupListed(from_dir, e));
  Held src(v, src_e);
  const struct stat& a = src.attr();
  const Caller caller{a.st_uid, a.st_gid};
  if (S_ISDIR(a.st_mode)) {
    PHRFS_ASSIGN_OR_RETURN(Entry dst_e, v.MakeDir(to_dir, to_name, a.st_mode & 07777, caller));
    Held dst(v, dst_e);
    PHRFS_ASSIGN_OR_RETURN(auto handle, v.OpenDir(src.node()));
    for (const ListedEntry& child : handle->entries)
      PHRFS_RETURN_IF_ERROR(CopyEntry(v, src.node(), child, dst.node(), child.name, files));
    return SetTimesAndOwner(v, dst.node(), a, true);
  }
  if (S_ISLNK(a.st_mode)) {
    PHRFS_ASSIGN_OR_RETURN(std::string target, v.ReadLink(src.node()));
    PHRFS_ASSIGN_OR_RETURN(Entry dst_e, v.MakeSymlink(to_dir, to_name, target, caller));
    Held dst(v, dst_e);
    ++*files;
    return SetTimesAndOwner(v, dst.node(), a, false);
  }
  if (S_ISREG(a.st_mode)) {
    PHRFS_ASSIGN_OR_RETURN(Entry dst_e, v.Create(to_dir, to_name, a.st_mode & 07777, caller));
    Held dst(v, dst_e);
    PHRFS_RETURN_IF_ERROR(CopyFileContents(v, src.node(), dst.node()));
    PHRFS_RETURN_IF_ERROR(v.Fsync(dst.node()));
    ++*files;
    return SetTimesAndOwner(v, dst.node(), a, true);
  }
  PHRFS_ASSIGN_OR_RETURN(Entry dst_e, v.MakeNode(to_dir, to_name, a.st_mode, caller));
  Held dst(v, dst_e);
  ++*files;
  return SetTimesAndOwner(v, dst.node(), a, true);
}

// Removes `name` from `parent` and everything below it.
Status RemoveTree(Vault& v, uint64_t parent, const std::string& name) {
  PHRFS_ASSIGN_OR_RETURN(Held h, Look(v, parent, name));
  if (S_ISDIR(h.attr().st_mode)) {
    PHRFS_ASSIGN_OR_RETURN(auto handle, v.OpenDir(h.node()));
    for (const ListedEntry& child : handle->entries)
      PHRFS_RETURN_IF_ERROR(RemoveTree(v, h.node(), child.name));
    return v.RemoveDir(parent, name);
  }
  return v.Unlink(parent, name);
}

bool Empty(Vault& v, uint64_t dir) {
  auto handle = v.OpenDir(dir);
  return handle.ok() && (*handle)->entries.empty();
}

// Re-encrypts every entry name of a domain under its current epoch's name key (FORMAT "DOMAIN
// KEYRING": rotation). Names already under it are left; names under an older epoch's key are
// moved. Works on the store's objects directly: names and folders only, no contents.
Status ReencryptNames(remote::CipherTree& tree, const crypto::DomainSecrets& d, size_t* count) {
  std::map<uint32_t, std::unique_ptr<Names>> names;
  for (const auto& [epoch, keys] : d.epochs) names.emplace(epoch, std::make_unique<Names>(keys.names.Clone()));
  Names& current = *names.at(d.current);
  const std::string prefix = crypto::DomainPrefix(d.id);
  std::vector<crypto::DirId> dirs{d.root};
  while (!dirs.empty()) {
    const crypto::DirId dir = dirs.back();
    dirs.pop_back();
    PHRFS_ASSIGN_OR_RETURN(std::string rel, FolderOf(d.dir_hash, dir));
    const std::string folder = prefix + rel;
    auto listing = tree.List(folder);
    if (!listing.ok()) {
      if (listing.status().code() == Code::kNotFound) continue;
      return listing.status();
    }
    for (const auto& e : *listing) {
      std::string stem;
      StoredKind kind;
      if (e.is_folder || !ParseStoredName(e.name, &stem, &kind)) continue;
      std::string encoded = stem;
      const bool was_long = stem.rfind(crypto::kLongNamePrefix, 0) == 0;
      if (was_long) {
        std::vector<uint8_t> side(4096);
        auto got = tree.Read(Join(folder, stem + kSidecarSuffix), 0, side);
        if (!got.ok()) continue;
        encoded.assign(side.begin(), side.begin() + *got);
      }
      std::string path = Join(folder, e.name);
      if (!current.Decode(dir, encoded).ok()) {
        std::optional<std::string> plain;
        for (const auto& [epoch, n] : names) {
          if (epoch == d.current) continue;
          auto p = n->Decode(dir, encoded);
          if (p.ok()) {
            plain = std::move(p).value();
            break;
          }
        }
        if (!plain) {
          Log(LogLevel::kWarning, "%s: a name no epoch's key decrypts; left as it is", path.c_str());
          continue;
        }
        PHRFS_ASSIGN_OR_RETURN(StoredName fresh, current.Encode(dir, *plain));
        const std::string to = Join(folder, fresh.stem + std::string(SuffixOf(kind)));
        if (fresh.is_long()) {
          const auto* p = reinterpret_cast<const uint8_t*>(fresh.encoded.data());
          PHRFS_RETURN_IF_ERROR(tree.Put(Join(folder, fresh.stem + kSidecarSuffix),
                                         {p, fresh.encoded.size()}, remote::PutMode::kReplace));
        }
        PHRFS_RETURN_IF_ERROR(tree.Move(path, to, remote::MoveMode::kNoReplace));
        if (was_long) (void)tree.Delete(Join(folder, stem + kSidecarSuffix));
        path = to;
        ++*count;
      }
      if (kind == StoredKind::kDirectory) {
        uint8_t raw[crypto::kNodeHeaderSize];
        PHRFS_ASSIGN_OR_RETURN(size_t got, tree.Read(path, 0, raw));
        PHRFS_ASSIGN_OR_RETURN(auto fields, crypto::ParseNodeHeaderFields({raw, got}));
        dirs.push_back(crypto::DirIdOf(fields.node_id));
      }
    }
  }
  return Status::Ok();
}

// Rewrites every file below `dir` under the domain's current epoch (a new file beside it, then
// renamed over it), and reseals directory headers.
Status ReencryptTree(Vault& v, uint64_t dir, size_t* files) {
  PHRFS_ASSIGN_OR_RETURN(auto handle, v.OpenDir(dir));
  for (const ListedEntry& e : handle->entries) {
    if (e.name.rfind(kReencryptTemp, 0) == 0) {
      PHRFS_RETURN_IF_ERROR(v.Unlink(dir, e.name));  // left by an interrupted apply
      continue;
    }
    PHRFS_ASSIGN_OR_RETURN(Entry src_e, v.LookupListed(dir, e));
    Held src(v, src_e);
    const struct stat a = src.attr();
    if (S_ISDIR(a.st_mode)) {
      PHRFS_RETURN_IF_ERROR(ReencryptTree(v, src.node(), files));
      PHRFS_RETURN_IF_ERROR(SetTimesAndOwner(v, src.node(), a, true));  // reseals the header
      continue;
    }
    std::array<uint8_t, 8> r;
    PHRFS_RETURN_IF_ERROR(crypto::RandomBytes(r));
    const std::string temp = kReencryptTemp + HexEncode(r);
    ListedEntry self{e.name, e.stem, e.kind};
    size_t ignored = 0;
    PHRFS_RETURN_IF_ERROR(CopyEntry(v, dir, self, dir, temp, &ignored));
    PHRFS_RETURN_IF_ERROR(v.Rename(dir, temp, dir, e.name, 0));
    ++*files;
  }
  return Status::Ok();
}

// Deletes every object and folder under `folder` (a domain's store prefix), then the folder.
Status RemoveStoreFolder(remote::CipherTree& tree, const std::string& folder) {
  auto list = tree.List(folder);
  if (!list.ok()) return list.status().code() == Code::kNotFound ? Status::Ok() : list.status();
  for (const auto& e : *list) {
    const std::string key = folder + "/" + e.name;
    Status st = e.is_folder ? RemoveStoreFolder(tree, key) : tree.Delete(key);
    if (!st.ok() && st.code() != Code::kNotFound) return st;
  }
  Status st = tree.RemoveFolder(folder);
  return st.ok() || st.code() == Code::kNotFound ? Status::Ok() : st;
}

SharedDomains DomainsOf(const std::map<std::string, crypto::DomainSecrets>& by_path) {
  SharedDomains known;
  for (const auto& [p, s] : by_path) {
    auto kd = KeyDomainFor(s.id, s.dir_hash, s.epochs, s.current);
    if (kd.ok()) known.emplace(DomainRootKey(s.root), *kd);
  }
  return known;
}

// What an interrupted apply left, put right before anything else (ApplyShares' contract):
// - a new share whose copy was interrupted: its keyring's root is the ".NAME.phrfs-share"
//   folder, not the folder at its path. The half copy and the domain go; the share is made
//   again (its path is added to `redo`).
// - a new share whose old tree was not yet deleted: the ".NAME.phrfs-share" folder is the old
//   tree (not the domain's root); it goes.
// - a domain made without its keyring: its folders are removed.
// - a rotation whose renames were interrupted: names still under an older epoch's key are
//   re-encrypted (ReencryptNames leaves alone what is done).
Status FinishInterrupted(ShareStore& store, std::map<std::string, crypto::DomainSecrets>& by_path,
                         std::set<std::string>& redo, const ApplyOptions& options,
                         ApplyReport& report) {
  // A domain whose keyring never got written holds nothing anyone can read: its folders go.
  PHRFS_ASSIGN_OR_RETURN(auto ids, ListDomains(*store.tree));
  for (const auto& id : ids) {
    auto text = ReadKeyring(*store.tree, id);
    if (text.ok() || text.status().code() != Code::kNotFound) continue;
    const std::string prefix = crypto::DomainPrefix(id);
    PHRFS_RETURN_IF_ERROR(RemoveStoreFolder(*store.tree, prefix.substr(0, prefix.size() - 1)));
  }
  {
    PHRFS_ASSIGN_OR_RETURN(auto vault, OpenVault(store, DomainsOf(by_path)));
    for (auto it = by_path.begin(); it != by_path.end();) {
      const std::vector<std::string> parts = Components(it->first);
      if (parts.empty()) { ++it; continue; }
      std::string parent_path;
      for (size_t i = 0; i + 1 < parts.size(); ++i) parent_path += "/" + parts[i];
      uint64_t parent = kRootNode;
      std::optional<Held> parent_held;
      if (!parent_path.empty()) {
        auto p = ResolveDir(*vault, parent_path);
        if (!p.ok()) { ++it; continue; }
        parent = p->dir->node();
        parent_held = std::move(p->dir);
      }
      const std::string temp = "." + parts.back() + kShareTempSuffix;
      auto t = Look(*vault, parent, temp);
      if (!t.ok()) { ++it; continue; }
      auto temp_id = vault->DirIdOf(t->node());
      const bool half_copy = temp_id.ok() && *temp_id == it->second.root;
      t->Release();
      Say(options, it->first + ": finishing what an interrupted apply left (" + temp + ")");
      PHRFS_RETURN_IF_ERROR(RemoveTree(*vault, parent, temp));
      if (half_copy) {
        PHRFS_RETURN_IF_ERROR(RemoveStoreFolder(
            *store.tree, crypto::DomainPrefix(it->second.id).substr(0, crypto::DomainPrefix(it->second.id).size() - 1)));
        redo.insert(it->first);
        it = by_path.erase(it);
        continue;
      }
      ++it;
    }
  }
  for (auto& [path, s] : by_path) {
    if (s.epochs.size() > 1) PHRFS_RETURN_IF_ERROR(ReencryptNames(*store.tree, s, &report.names_reencrypted));
  }
  return Status::Ok();
}

}  // namespace

std::vector<DomainState> CurrentShares(const std::vector<OwnedDomain>& domains) {
  std::vector<DomainState> out;
  for (const auto& d : domains) {
    DomainState s;
    s.path = d.secrets.path;
    s.epoch = d.secrets.current;
    s.unshared = d.secrets.unshared;
    for (const auto& g : d.secrets.grants) {
      s.grants.push_back(GrantState{g.person, g.public_key, AccessOf(g.access),
                                    g.until.empty() ? std::nullopt : config::ParseCalendarDate(g.until)});
    }
    out.push_back(std::move(s));
  }
  return out;
}

Result<ApplyReport> ApplyShares(ShareStore& store, const crypto::Identity& owner,
                                const config::SharesFile& file,
                                const std::vector<config::ResolvedShare>& desired,
                                const SharePlan& plan, const ApplyOptions& options) {
  ApplyReport report;
  PHRFS_ASSIGN_OR_RETURN(SecureBytes owner_key,
                         crypto::DeriveDomainOwnerKey(store.master_key, store.store_id));
  std::vector<std::string> problems;
  PHRFS_ASSIGN_OR_RETURN(std::vector<OwnedDomain> domains,
                         LoadOwnedDomains(*store.tree, owner_key, &problems));
  if (!problems.empty())
    return Status::Corrupt("a shared folder's keyring does not open: " + problems.front());
  std::map<std::string, crypto::DomainSecrets> by_path;
  for (auto& d : domains) by_path.emplace(d.secrets.path, std::move(d.secrets));

  std::set<std::string> paths, rotate, create;
  PHRFS_RETURN_IF_ERROR(FinishInterrupted(store, by_path, create, options, report));
  paths.insert(create.begin(), create.end());
  for (const Change& c : plan.changes) {
    paths.insert(c.path);
    if (c.kind == ChangeKind::kRotate) rotate.insert(c.path);
    if (c.kind == ChangeKind::kNewShare) create.insert(c.path);
  }
  std::map<std::string, const config::ResolvedShare*> wanted;
  for (const auto& r : desired) wanted.emplace(r.path, &r);
  auto line_of = [&](const std::string& path) {
    auto it = wanted.find(path);
    return it == wanted.end() ? std::string() : file.Where(it->second->line);
  };

  for (const std::string& path : paths) {
    // ---- a new share: make the domain, and move the folder's contents into it
    if (create.count(path)) {
      SharedDomains known = DomainsOf(by_path);
      PHRFS_ASSIGN_OR_RETURN(auto vault, OpenVault(store, known));
      auto where = ResolveDir(*vault, path);
      if (!where.ok()) {
        return Status::InvalidArgument(line_of(path) + path + ": " +
                                       (where.status().code() == Code::kNotADirectory
                                            ? "is not a folder"
                                            : "does not exist in the store (" +
                                                  where.status().message() + ")"));
      }
      const uint64_t parent = where->parent ? where->parent->node() : kRootNode;
      for (auto& [p, s] : by_path) {
        auto root = vault->DirIdOf(where->dir->node());
        if (root.ok() && *root == s.root)
          return Status::InvalidArgument(line_of(path) + path + ": is already a shared folder (" + p + ")");
      }
      const std::string temp = "." + where->name + kShareTempSuffix;
      if (Look(*vault, parent, temp).ok()) {
        Say(options, path + ": removing what an interrupted apply left (" + temp + ")");
        PHRFS_RETURN_IF_ERROR(RemoveTree(*vault, parent, temp));
      }
      crypto::DomainSecrets s;
      PHRFS_ASSIGN_OR_RETURN(s.id, crypto::NewDomainId());
      s.path = path;
      s.owner_name = options.owner_name;
      s.dir_hash = SecureBytes(32);
      PHRFS_RETURN_IF_ERROR(crypto::RandomBytes({s.dir_hash.data(), s.dir_hash.size()}));
      PHRFS_ASSIGN_OR_RETURN(auto first, crypto::EpochKeys::Generate());
      s.epochs.emplace(kFirstEpoch, std::move(first));
      s.current = kFirstEpoch;
      const bool empty = Empty(*vault, where->dir->node());
      if (empty) {
        PHRFS_ASSIGN_OR_RETURN(s.root, vault->DirIdOf(where->dir->node()));
      } else {
        const struct stat a = where->dir->attr();
        PHRFS_ASSIGN_OR_RETURN(Entry t, vault->MakeDir(parent, temp, 0700, Caller{a.st_uid, a.st_gid}));
        Held th(*vault, t);
        PHRFS_ASSIGN_OR_RETURN(s.root, vault->DirIdOf(t.node));
      }
      PHRFS_ASSIGN_OR_RETURN(auto kd, KeyDomainFor(s.id, s.dir_hash, s.epochs, s.current));
      PHRFS_RETURN_IF_ERROR(MakeDomainFolders(*store.tree, *kd, s.root));
      // The keyring goes out before anything lands in the domain: what is there is always
      // readable. Grants come with the final keyring below.
      PHRFS_ASSIGN_OR_RETURN(std::string text, crypto::SealKeyring(s, owner_key, owner));
      PHRFS_RETURN_IF_ERROR(WriteKeyring(*store.tree, s.id, text));
      if (!empty) {
        where->dir.reset();
        where->parent.reset();
        vault.reset();
        known.emplace(DomainRootKey(s.root), kd);
        PHRFS_ASSIGN_OR_RETURN(vault, OpenVault(store, known));
        PHRFS_ASSIGN_OR_RETURN(Resolved again, ResolveDir(*vault, path));
        const uint64_t p2 = again.parent ? again.parent->node() : kRootNode;
        PHRFS_ASSIGN_OR_RETURN(Held into, Look(*vault, p2, temp));
        PHRFS_ASSIGN_OR_RETURN(auto handle, vault->OpenDir(again.dir->node()));
        Say(options, path + ": moving " + std::to_string(handle->entries.size()) +
                         " entries into the share");
        for (const ListedEntry& e : handle->entries) {
          PHRFS_RETURN_IF_ERROR(CopyEntry(*vault, again.dir->node(), e, into.node(), e.name,
                                          &report.files_moved));
          Say(options, path + ": " + std::to_string(report.files_moved) + " files moved");
        }
        PHRFS_RETURN_IF_ERROR(SetTimesAndOwner(*vault, into.node(), again.dir->attr(), true));
        PHRFS_RETURN_IF_ERROR(vault->Rename(p2, temp, p2, again.name, RENAME_EXCHANGE));
        PHRFS_RETURN_IF_ERROR(RemoveTree(*vault, p2, temp));
      }
      by_path.emplace(path, std::move(s));
    }

    auto it = by_path.find(path);
    if (it == by_path.end()) return Status::Corrupt(path + ": the plan names a share the store does not have");
    crypto::DomainSecrets& s = it->second;

    // ---- grants as the file wants them (expired ones left out)
    auto want = wanted.find(path);
    std::vector<crypto::GrantRecord> grants;
    if (want != wanted.end()) {
      for (const auto& [person, g] : want->second->grants) {
        if (g.until && *g.until < options.today) continue;
        grants.push_back(crypto::GrantRecord{person, g.public_key, GrantOf(g.access),
                                             g.until ? config::FormatCalendarDate(*g.until) : "",
                                             s.epochs.begin()->first});
      }
    }
    s.grants = std::move(grants);
    s.unshared = want == wanted.end();
    if (!options.owner_name.empty()) s.owner_name = options.owner_name;

    // ---- rotation: a new epoch for those who remain; names re-encrypted under it
    const bool rotating = rotate.count(path) != 0;
    if (rotating) {
      PHRFS_ASSIGN_OR_RETURN(auto next, crypto::EpochKeys::Generate());
      s.current = s.epochs.rbegin()->first + 1;
      s.epochs.emplace(s.current, std::move(next));
      for (auto& g : s.grants) g.since_epoch = s.epochs.begin()->first;
    }
    PHRFS_ASSIGN_OR_RETURN(std::string text, crypto::SealKeyring(s, owner_key, owner));
    PHRFS_RETURN_IF_ERROR(WriteKeyring(*store.tree, s.id, text));
    ++report.keyrings_written;
    if (rotating) {
      Say(options, path + ": key epoch " + std::to_string(s.current) + "; re-encrypting names");
      PHRFS_RETURN_IF_ERROR(ReencryptNames(*store.tree, s, &report.names_reencrypted));
    }
  }

  // ---- --reencrypt: every share's files under its current epoch, then old epochs dropped
  if (options.reencrypt) {
    for (auto& [path, s] : by_path) {
      if (s.epochs.size() == 1) continue;
      PHRFS_RETURN_IF_ERROR(ReencryptNames(*store.tree, s, &report.names_reencrypted));
      PHRFS_ASSIGN_OR_RETURN(auto vault, OpenVault(store, DomainsOf(by_path)));
      {
        PHRFS_ASSIGN_OR_RETURN(Resolved at, ResolveDir(*vault, path));
        Say(options, path + ": re-encrypting files under key epoch " + std::to_string(s.current));
        PHRFS_RETURN_IF_ERROR(ReencryptTree(*vault, at.dir->node(), &report.files_reencrypted));
      }
      vault.reset();
      // Nothing is sealed under an older epoch now: only the current one stays.
      crypto::EpochKeys keep = s.epochs.at(s.current).Clone();
      s.epochs.clear();
      s.epochs.emplace(s.current, std::move(keep));
      for (auto& g : s.grants) g.since_epoch = s.current;
      PHRFS_ASSIGN_OR_RETURN(std::string text, crypto::SealKeyring(s, owner_key, owner));
      PHRFS_RETURN_IF_ERROR(WriteKeyring(*store.tree, s.id, text));
      ++report.keyrings_written;
    }
  }
  return report;
}

}  // namespace phrfs::fs
