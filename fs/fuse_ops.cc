#include "fs/fuse_ops.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <ctime>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/secure_bytes.h"
#include "fs/audit/access_logger.h"
#include "fs/log.h"
#include "fs/to_errno.h"
#include "fs/vault/vault.h"

namespace phrfs::fs {

std::pair<AccessLogger*, size_t> AccessLogs::For(std::string_view path) const {
  for (const auto& [prefix, log] : by_prefix) {
    if (prefix.empty()) return {log, 0};
    if (path.substr(0, prefix.size()) == prefix &&
        (path.size() == prefix.size() || path[prefix.size()] == '/'))
      return {log, prefix.size()};
  }
  return {nullptr, 0};
}

namespace {

// Largest request the kernel may send; 1 MiB lets sequential I/O go in few round trips.
constexpr unsigned kMaxWrite = 1024 * 1024;

FuseContext& Ctx(fuse_req_t req) { return *static_cast<FuseContext*>(fuse_req_userdata(req)); }
Vault& V(fuse_req_t req) { return *Ctx(req).vault; }

// ---- the access log (fs/audit/access_logger.h): one record per open, create, delete and
// rename, with the path in the mount and the errno it got. A path that cannot be told (a node
// that left the tree) is logged as "?" rather than not at all.
std::string LoggedPath(Result<std::string> path) { return path.ok() ? *path : std::string("?"); }
bool Logging(fuse_req_t req) { return !Ctx(req).logs.empty(); }
void Record(fuse_req_t req, crypto::LogOp op, std::string_view path, std::string_view path2,
            int err) {
  auto [log, cut] = Ctx(req).logs.For(path);
  if (log == nullptr) return;
  // Views, not copies: the logger copies a path only when it is not pending already.
  auto in_record = [cut = cut](std::string_view p) -> std::string_view {
    if (cut == 0 || p.size() < cut) return p;
    return p.size() == cut ? std::string_view("/") : p.substr(cut);
  };
  log->Record(op, in_record(path), path2.empty() ? std::string_view() : in_record(path2), err);
}
void LogAt(fuse_req_t req, crypto::LogOp op, fuse_ino_t parent, const char* name, int err) {
  if (Logging(req)) Record(req, op, LoggedPath(V(req).PathIn(parent, name)), "", err);
}

Caller CallerOf(fuse_req_t req) {
  const struct fuse_ctx* c = fuse_req_ctx(req);
  return Caller{c->uid, c->gid};
}

// Running out of something (descriptors, memory, space) is worth one log line, not one per
// request: at most one a second. Programs see ENFILE, ENOMEM or ENOSPC, never EIO.
void LogIfExhausted(const Status& status) {
  const Code code = status.code();
  if (code != Code::kNoResources && code != Code::kOutOfMemory && code != Code::kNoSpace) return;
  static std::atomic<int64_t> last_logged{0};
  const int64_t now = static_cast<int64_t>(time(nullptr));
  int64_t last = last_logged.load();
  if (now != last && last_logged.compare_exchange_strong(last, now)) {
    Log(LogLevel::kWarning, "out of resources: %s", status.ToString().c_str());
  }
}

int ErrnoOf(const Status& status) {
  LogIfExhausted(status);
  return ToErrno(status);
}

void ReplyError(fuse_req_t req, const Status& status) { fuse_reply_err(req, ErrnoOf(status)); }

fuse_entry_param ToEntryParam(fuse_req_t req, const Entry& entry) {
  fuse_entry_param e{};
  e.ino = entry.node;
  e.generation = 0;  // node ids are inode numbers from random 128-bit node ids
  e.attr = entry.attr;
  e.attr_timeout = Ctx(req).attr_timeout;
  e.entry_timeout = Ctx(req).entry_timeout;
  return e;
}

void ReplyEntry(fuse_req_t req, const Result<Entry>& entry) {
  if (!entry.ok()) return ReplyError(req, entry.status());
  fuse_entry_param e = ToEntryParam(req, *entry);
  if (fuse_reply_entry(req, &e) != 0) V(req).Forget(entry->node, 1);  // the kernel never saw it
}

DirHandle* DirHandleOf(fuse_file_info* fi) { return reinterpret_cast<DirHandle*>(fi->fh); }

void OpInit(void* userdata, fuse_conn_info* conn) {
  auto* ctx = static_cast<FuseContext*>(userdata);
  conn->max_write = kMaxWrite;
  conn->max_readahead = kMaxWrite;
  if (conn->capable & FUSE_CAP_PARALLEL_DIROPS) conn->want |= FUSE_CAP_PARALLEL_DIROPS;
  // Every listing carries attributes (readdirplus, never the kernel's "auto" choice): `du`,
  // `ls -l` and file managers read a folder in full before they stat its entries, which with
  // "auto" costs one LOOKUP round trip per entry after the first reply.
  if (conn->capable & FUSE_CAP_READDIRPLUS) conn->want |= FUSE_CAP_READDIRPLUS;
  conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
  // Locks stay local to this machine's kernel (one mount per store): no lock ops are implemented,
  // so the kernel arbitrates flock and POSIX locks itself.
  conn->want &= ~(FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS);
  // O_TRUNC arrives as a separate setattr; the kernel's page cache is ours alone (keep_cache).
  conn->want &= ~FUSE_CAP_ATOMIC_O_TRUNC;
  // Zero-message opens: a file's content state lives with its node, not with open file
  // descriptions, so OPEN and RELEASE are two round trips per file that carry nothing. The
  // kernel then keeps the page cache across opens, as keep_cache does.
  // Not when other mounts may change the store: an open is where a file is checked again.
  // Nor when the mount keeps an access log: every open is a record.
  if ((conn->capable & FUSE_CAP_NO_OPEN_SUPPORT) && !ctx->vault->shared_store() &&
      ctx->logs.empty()) {
    conn->want |= FUSE_CAP_NO_OPEN_SUPPORT;
    ctx->zero_open = true;
  }
  Log(LogLevel::kInfo, "mounted (%s, max_write %u)", ctx->read_only ? "read-only" : "read-write",
      conn->max_write);
}

void OpLookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  auto entry = V(req).Lookup(parent, name);
  if (!entry.ok() && entry.status().code() == Code::kNotFound) {
    // A negative entry the kernel may cache for entry_timeout.
    fuse_entry_param e{};
    e.ino = 0;
    e.entry_timeout = Ctx(req).entry_timeout;
    fuse_reply_entry(req, &e);
    return;
  }
  ReplyEntry(req, entry);
}

void OpForget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  V(req).Forget(ino, nlookup);
  fuse_reply_none(req);
}

void OpForgetMulti(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  for (size_t i = 0; i < count; ++i) V(req).Forget(forgets[i].ino, forgets[i].nlookup);
  fuse_reply_none(req);
}

void OpGetattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  auto attr = V(req).GetAttr(ino);
  if (!attr.ok()) return ReplyError(req, attr.status());
  fuse_reply_attr(req, &*attr, Ctx(req).attr_timeout);
}

void OpSetattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info*) {
  SetAttrRequest r;
  if (to_set & FUSE_SET_ATTR_MODE) r.mode = attr->st_mode;
  if (to_set & FUSE_SET_ATTR_UID) r.uid = attr->st_uid;
  if (to_set & FUSE_SET_ATTR_GID) r.gid = attr->st_gid;
  if (to_set & FUSE_SET_ATTR_SIZE) r.size = static_cast<uint64_t>(attr->st_size);
  if (to_set & FUSE_SET_ATTR_ATIME_NOW) r.atime = timespec{0, UTIME_NOW};
  else if (to_set & FUSE_SET_ATTR_ATIME) r.atime = attr->st_atim;
  if (to_set & FUSE_SET_ATTR_MTIME_NOW) r.mtime = timespec{0, UTIME_NOW};
  else if (to_set & FUSE_SET_ATTR_MTIME) r.mtime = attr->st_mtim;
  auto result = V(req).SetAttr(ino, r);
  if (!result.ok()) return ReplyError(req, result.status());
  fuse_reply_attr(req, &*result, Ctx(req).attr_timeout);
}

void OpReadlink(fuse_req_t req, fuse_ino_t ino) {
  auto target = V(req).ReadLink(ino);
  if (!target.ok()) return ReplyError(req, target.status());
  fuse_reply_readlink(req, target->c_str());
}

void OpMkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  auto entry = V(req).MakeDir(parent, name, mode & ~fuse_req_ctx(req)->umask, CallerOf(req));
  LogAt(req, crypto::LogOp::kCreate, parent, name, entry.ok() ? 0 : ErrnoOf(entry.status()));
  ReplyEntry(req, std::move(entry));
}

void OpSymlink(fuse_req_t req, const char* target, fuse_ino_t parent, const char* name) {
  ReplyEntry(req, V(req).MakeSymlink(parent, name, target, CallerOf(req)));
}

void OpLink(fuse_req_t req, fuse_ino_t ino, fuse_ino_t new_parent, const char* new_name) {
  ReplyEntry(req, V(req).Link(ino, new_parent, new_name));
}

void OpUnlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  std::string path;
  if (Logging(req)) path = LoggedPath(V(req).PathIn(parent, name));
  const int err = ErrnoOf(V(req).Unlink(parent, name));
  if (Logging(req)) Record(req, crypto::LogOp::kDelete, path, "", err);
  fuse_reply_err(req, err);
}

void OpRmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  std::string path;
  if (Logging(req)) path = LoggedPath(V(req).PathIn(parent, name));
  const int err = ErrnoOf(V(req).RemoveDir(parent, name));
  if (Logging(req)) Record(req, crypto::LogOp::kDelete, path, "", err);
  fuse_reply_err(req, err);
}

void OpRename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t new_parent,
              const char* new_name, unsigned int flags) {
  std::string from, to;
  if (Logging(req)) {
    from = LoggedPath(V(req).PathIn(parent, name));
    to = LoggedPath(V(req).PathIn(new_parent, new_name));
  }
  const int err = ErrnoOf(V(req).Rename(parent, name, new_parent, new_name, flags));
  if (Logging(req)) Record(req, crypto::LogOp::kRename, from, to, err);
  fuse_reply_err(req, err);
}

void OpCreate(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, fuse_file_info* fi) {
  if (!S_ISREG(mode) && (mode & S_IFMT) != 0) { fuse_reply_err(req, EPERM); return; }
  auto entry = V(req).Create(parent, name, mode & ~fuse_req_ctx(req)->umask, CallerOf(req));
  LogAt(req, crypto::LogOp::kCreate, parent, name, entry.ok() ? 0 : ErrnoOf(entry.status()));
  if (!entry.ok()) return ReplyError(req, entry.status());
  fuse_entry_param e = ToEntryParam(req, *entry);
  fi->fh = 0;  // the content state lives with the node
  fi->keep_cache = 1;
  V(req).CountCreatedOpen(entry->node, fi->flags);
  if (fuse_reply_create(req, &e, fi) != 0) {  // the kernel never saw it
    V(req).Release(entry->node, fi->flags);
    V(req).Forget(entry->node, 1);
  }
}

void OpMknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t) {
  // Regular files, FIFOs and sockets; device nodes are refused (EPERM, documented in phrfs(1)).
  const mode_t type = mode & S_IFMT;
  ReplyEntry(req, V(req).MakeNode(parent, name, type | (mode & ~S_IFMT & ~fuse_req_ctx(req)->umask), CallerOf(req)));
}

// A small file opened for reading hands its content to the kernel's page cache before the
// OPEN reply (Vault::BeginOffer), so that reading it back costs no READ round trip: OPEN is
// sent only when the mount keeps an access log or shares its store (then an open drops the
// pages, and the vault offers nothing), and it would otherwise be one round trip more per
// small file than a zero-message open. A failed offer costs nothing but that round trip.
constexpr size_t kOfferMax = 128 * 1024;

void OfferContent(fuse_req_t req, fuse_ino_t ino) {
  fuse_session* session = Ctx(req).session;
  if (session == nullptr) return;
  thread_local std::vector<uint8_t> buffer(kOfferMax);
  auto n = V(req).BeginOffer(ino, buffer);
  if (!n.ok() || *n == 0) return;  // a damaged file's READ reports it
  fuse_bufvec content = FUSE_BUFVEC_INIT(*n);
  content.buf[0].mem = buffer.data();
  const int rc = fuse_lowlevel_notify_store(session, ino, 0, &content, FUSE_BUF_NO_SPLICE);
  V(req).EndOffer(ino, rc == 0);
  SecureWipe({buffer.data(), *n});
}

void OpOpen(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  if (Ctx(req).zero_open) { fuse_reply_err(req, ENOSYS); return; }  // see OpInit
  Status st = V(req).Open(ino, fi->flags);
  if (Logging(req)) {
    const bool writing = (fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC);
    Record(req, writing ? crypto::LogOp::kOpenWrite : crypto::LogOp::kOpenRead,
           LoggedPath(V(req).PathOf(ino)), "", st.ok() ? 0 : ErrnoOf(st));
  }
  if (!st.ok()) return ReplyError(req, st);
  fi->fh = 0;
  // When this mount is the store's only writer, cached pages stay valid across opens; when
  // others may write (remote stores), an open drops them.
  fi->keep_cache = V(req).shared_store() ? 0 : 1;
  if ((fi->flags & (O_ACCMODE | O_TRUNC | O_DIRECT)) == O_RDONLY) OfferContent(req, ino);
  if (fuse_reply_open(req, fi) != 0) V(req).Release(ino, fi->flags);  // the open never happened
}

void OpRead(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
  thread_local std::vector<uint8_t> buffer;
  if (buffer.size() < size) buffer.resize(size);
  auto n = V(req).Read(ino, static_cast<uint64_t>(off), {buffer.data(), size});
  if (!n.ok()) return ReplyError(req, n.status());
  fuse_reply_buf(req, reinterpret_cast<const char*>(buffer.data()), *n);
  SecureWipe({buffer.data(), *n});  // plaintext does not linger in a reused buffer
}

void OpWrite(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t off, fuse_file_info* fi) {
  // Page write-back (mmap) carries the flags of whichever descriptor dirtied the page: only a
  // direct write(2) on an O_APPEND descriptor appends.
  const bool append = (fi->flags & O_APPEND) != 0 && !fi->writepage;
  auto n = V(req).Write(ino, static_cast<uint64_t>(off), {reinterpret_cast<const uint8_t*>(buf), size}, append);
  if (!n.ok()) return ReplyError(req, n.status());
  fuse_reply_write(req, *n);
}

void OpRelease(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  V(req).Release(ino, fi->flags);  // only counts: nothing is held per open file description
  fuse_reply_err(req, 0);
}

void OpFsync(fuse_req_t req, fuse_ino_t ino, int, fuse_file_info*) {
  fuse_reply_err(req, ErrnoOf(V(req).Fsync(ino)));
}

void OpFallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length, fuse_file_info*) {
  // Only plain allocation (extend with zeros); punching holes would need zero passthrough.
  if (mode != 0) { fuse_reply_err(req, EOPNOTSUPP); return; }
  if (offset < 0 || length <= 0) { fuse_reply_err(req, EINVAL); return; }
  fuse_reply_err(req, ErrnoOf(V(req).Allocate(ino, static_cast<uint64_t>(offset), static_cast<uint64_t>(length))));
}

void OpOpendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  auto handle = V(req).OpenDir(ino);
  if (!handle.ok()) return ReplyError(req, handle.status());
  fi->fh = reinterpret_cast<uint64_t>(handle->release());
  fi->cache_readdir = 0;
  if (fuse_reply_open(req, fi) != 0) delete DirHandleOf(fi);
}

// Offsets: 1 is ".", 2 is "..", 3 + i is entries[i].
void Readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi, bool plus) {
  DirHandle& dir = *DirHandleOf(fi);
  if (off == 0 && dir.listed_once) {
    // A read from the start (rewinddir) must see the directory as it is now.
    Status st = V(req).ListDir(dir);
    if (!st.ok()) return ReplyError(req, st);
  }
  dir.listed_once = true;
  const size_t first = off < 2 ? 0 : static_cast<size_t>(off - 2);  // first entries[] index
  // readdirplus: the entries that fit in this reply are looked up together (their nodes load
  // in parallel), not one by one.
  std::vector<Result<Entry>> looked_up;
  if (plus && first < dir.entries.size()) {
    size_t room = size, count = 0;
    for (off_t next = off + 1; next <= 2; ++next) {
      room -= std::min(room, fuse_add_direntry_plus(req, nullptr, 0, next == 1 ? "." : "..", nullptr, 0));
    }
    for (size_t i = first; i < dir.entries.size(); ++i, ++count) {
      const size_t need = fuse_add_direntry_plus(req, nullptr, 0, dir.entries[i].name.c_str(), nullptr, 0);
      if (need > room) break;
      room -= need;
    }
    looked_up = V(req).LookupListedBatch(
        dir.node, std::span<const ListedEntry>(dir.entries).subspan(first, count));
  }
  // Lookups counted for entries this reply will not carry are given back.
  auto forget_from = [&](size_t k) {
    for (; k < looked_up.size(); ++k)
      if (looked_up[k].ok()) V(req).Forget(looked_up[k]->node, 1);
  };
  std::vector<char> buf(size);
  size_t used = 0;
  for (off_t next = off + 1;; ++next) {
    const size_t room = size - used;
    size_t need = 0;
    if (next <= 2) {
      struct stat st {};
      st.st_ino = ino;
      st.st_mode = S_IFDIR;
      const char* name = next == 1 ? "." : "..";
      if (plus) {
        fuse_entry_param e{};
        e.attr = st;
        need = fuse_add_direntry_plus(req, buf.data() + used, room, name, &e, next);
      } else {
        need = fuse_add_direntry(req, buf.data() + used, room, name, &st, next);
      }
    } else {
      const size_t index = static_cast<size_t>(next - 3);
      if (index >= dir.entries.size()) break;
      const ListedEntry& item = dir.entries[index];
      const size_t k = index - first;
      if (plus && k >= looked_up.size()) break;  // the batch was sized to fit
      if (plus && looked_up[k].ok()) {
        fuse_entry_param e = ToEntryParam(req, *looked_up[k]);
        need = fuse_add_direntry_plus(req, buf.data() + used, room, item.name.c_str(), &e, next);
        if (need > room) {
          forget_from(k);  // not sent: the kernel never saw these
          break;
        }
      } else {
        // Without attributes: a plain entry, or one whose node did not load (a damaged
        // header). That one is still listed, never silently left out, and a stat of it
        // reports the error; only an entry whose inode number cannot be read fails the read.
        if (plus) {
          Log(LogLevel::kWarning, "directory listing: entry %s: %s", item.stem.c_str(),
              looked_up[k].status().ToString().c_str());
        }
        auto entry_ino = V(req).ListedInode(dir.node, item);
        if (!entry_ino.ok()) {
          Log(LogLevel::kWarning, "directory listing: entry %s failed: %s", item.stem.c_str(),
              entry_ino.status().ToString().c_str());
          if (plus) forget_from(k + 1);
          if (used > 0) break;  // send what fits so far; the next read resumes at this entry
          return ReplyError(req, entry_ino.status());
        }
        struct stat st {};
        st.st_ino = *entry_ino;
        // FIFOs and sockets share a suffix: their type is DT_UNKNOWN until a stat.
        st.st_mode = item.kind == StoredKind::kDirectory ? S_IFDIR
                     : item.kind == StoredKind::kSymlink ? S_IFLNK
                     : item.kind == StoredKind::kFile    ? S_IFREG
                                                         : 0;
        if (plus) {
          fuse_entry_param e{};  // ino 0: a name without attributes; the kernel looks it up
          e.attr = st;
          need = fuse_add_direntry_plus(req, buf.data() + used, room, item.name.c_str(), &e, next);
        } else {
          need = fuse_add_direntry(req, buf.data() + used, room, item.name.c_str(), &st, next);
        }
        if (need > room) {
          if (plus) forget_from(k + 1);
          break;
        }
      }
    }
    if (need > room) break;
    used += need;
  }
  fuse_reply_buf(req, buf.data(), used);
}

void OpReaddir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  Readdir(req, ino, size, off, fi, false);
}

void OpReaddirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  Readdir(req, ino, size, off, fi, true);
}

void OpReleasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  delete DirHandleOf(fi);
  fuse_reply_err(req, 0);
}

void OpFsyncdir(fuse_req_t req, fuse_ino_t ino, int, fuse_file_info*) {
  fuse_reply_err(req, ErrnoOf(V(req).FsyncDir(ino)));
}

void OpStatfs(fuse_req_t req, fuse_ino_t) {
  auto st = V(req).StatFs();
  if (!st.ok()) return ReplyError(req, st.status());
  fuse_reply_statfs(req, &*st);
}

struct fuse_lowlevel_ops MakeOps() {
  struct fuse_lowlevel_ops ops {};
  ops.init = OpInit;
  ops.lookup = OpLookup;
  ops.forget = OpForget;
  ops.forget_multi = OpForgetMulti;
  ops.getattr = OpGetattr;
  ops.setattr = OpSetattr;
  ops.readlink = OpReadlink;
  ops.mknod = OpMknod;
  ops.mkdir = OpMkdir;
  ops.unlink = OpUnlink;
  ops.rmdir = OpRmdir;
  ops.symlink = OpSymlink;
  ops.rename = OpRename;
  ops.link = OpLink;
  ops.open = OpOpen;
  ops.read = OpRead;
  ops.write = OpWrite;
  // No flush: writes reach the store before they return, so close(2) has nothing to push;
  // libfuse answers ENOSYS once and the kernel stops sending FLUSH (one round trip per close).
  ops.release = OpRelease;
  ops.fsync = OpFsync;
  ops.opendir = OpOpendir;
  ops.readdir = OpReaddir;
  ops.readdirplus = OpReaddirplus;
  ops.releasedir = OpReleasedir;
  ops.fsyncdir = OpFsyncdir;
  ops.statfs = OpStatfs;
  ops.create = OpCreate;
  ops.fallocate = OpFallocate;
  // No xattr ops: libfuse answers ENOSYS once, the kernel then reports EOPNOTSUPP to programs
  // and stops asking (documented in phrfs(1)). No lock ops: see OpInit.
  return ops;
}

}  // namespace

const struct fuse_lowlevel_ops& FuseOperations() {
  static const struct fuse_lowlevel_ops ops = MakeOps();
  return ops;
}

}  // namespace phrfs::fs
