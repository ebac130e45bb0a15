// ObjectStore: the one storage interface that the local directory, WebDAV, S3 and in-memory
// stores implement (README.md "Design decisions"). It sees only ciphertext store names and bytes.
// Thread-safe: every implementation must accept concurrent calls from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"

namespace phrfs::remote {

// Keys are '/'-separated relative paths ("ab12/cd34"). Every component must be non-empty, not
// "." or "..", and free of NUL; anything else is InvalidArgument before a store sees it, so a key
// can never leave the store's root. The empty key names the root and is accepted by List only.
//
// Error contract (typed, never an exception, never a silent success):
//   NotFound            the key, or its parent collection, does not exist
//   AlreadyExists       MakeCollection on an existing key; Rename without replace onto one
//   NotEmpty            RemoveCollection with children; Rename replacing a non-empty collection
//   NotADirectory       a parent is an object; RemoveCollection/List on an object
//   IsADirectory        Read/Write/Delete on a collection
//   PreconditionFailed  a Write/Delete precondition does not hold (the object changed)
//   InvalidArgument     a malformed key; renaming a collection into itself
//   Unavailable         transient (network, server busy): the caller may retry later
//   PermissionDenied, Corrupt, IoError, NoSpace, ... as the backend reports them
// Collections report size 0; their etag may be empty.

struct ObjectInfo {
  bool is_collection = false;
  uint64_t size = 0;
  std::string etag;     // opaque; changes whenever the object's content is replaced
  int64_t mtime_ns = 0;  // nanoseconds since the Unix epoch
};

// An object's bytes with the etag that a Write conditioned on them must name.
struct WholeObject {
  std::vector<uint8_t> bytes;
  std::string etag;
};

struct ListEntry {
  std::string name;  // the last key component only
  bool is_collection = false;
  uint64_t size = 0;
  std::string etag;
};

// A condition that a Write or Delete checks atomically with its effect.
struct Precondition {
  enum class Kind { kNone, kMustNotExist, kETagMatches };
  Kind kind = Kind::kNone;
  std::string etag;  // for kETagMatches only

  static Precondition None() { return {}; }
  static Precondition MustNotExist() { return {Kind::kMustNotExist, {}}; }
  static Precondition ETagMatches(std::string etag) {
    return {Kind::kETagMatches, std::move(etag)};
  }
};

struct RenameOptions {
  // Replace an existing target (an object, or an empty collection when the source is one).
  // Without it an existing target is AlreadyExists and nothing changes.
  bool replace = false;
};

// Validates every key and then calls the backend's Do* method (non-virtual interface), so the
// key rules above hold for every store alike.
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  ObjectStore() = default;
  ObjectStore(const ObjectStore&) = delete;
  ObjectStore& operator=(const ObjectStore&) = delete;

  // The direct children of a collection ("" = the root), in no particular order.
  Result<std::vector<ListEntry>> List(const std::string& collection);
  Result<ObjectInfo> Stat(const std::string& path);
  // Up to `max_length` bytes starting at `offset`; fewer (possibly none) near or past the end.
  Result<std::vector<uint8_t>> Read(const std::string& path, uint64_t offset, size_t max_length);
  // Read, but only from the version whose etag is `etag` (non-empty): PreconditionFailed when the
  // object now has another etag, NotFound when it is gone. The bytes then belong to that version,
  // never to a mix (what a cache needs before it keeps a slice under an etag). By default a Read
  // followed by a Stat (etags never repeat: an unchanged etag after the read proves the bytes);
  // stores that can check in the same request override DoReadIfMatch.
  Result<std::vector<uint8_t>> ReadIfMatch(const std::string& path, uint64_t offset,
                                           size_t max_length, const std::string& etag);
  // The whole object for a read-modify-write: `etag` is that of the version read, or of an
  // older one, so a Write with ETagMatches(etag) succeeds only while the object is still the
  // version these bytes are. IsADirectory for a collection; FileTooBig when it is larger than
  // `max_size`. By default a Stat then a Read; stores that can do it in one request override
  // DoReadWhole.
  Result<WholeObject> ReadWhole(const std::string& path, uint64_t max_size);
  // Replaces the whole object atomically (readers see the old or the new bytes, never a mix).
  // The parent collection must exist. Returns the new etag.
  Result<std::string> Write(const std::string& path, std::span<const uint8_t> data,
                            const Precondition& precondition);
  // Deletes an object. kMustNotExist makes no sense here and is InvalidArgument.
  Status Delete(const std::string& path, const Precondition& precondition = Precondition::None());
  Status MakeCollection(const std::string& path);
  Status RemoveCollection(const std::string& path);  // only when empty
  // Moves an object or a whole collection; the target's parent must exist.
  Status Rename(const std::string& from, const std::string& to, RenameOptions options);

  // Splits and checks a key; "" is rejected unless `allow_root`.
  static Result<std::vector<std::string>> SplitKey(const std::string& key, bool allow_root);

 protected:
  // Called only with keys that passed SplitKey (non-root unless stated).
  virtual Result<std::vector<ListEntry>> DoList(const std::string& collection) = 0;  // may be ""
  virtual Result<ObjectInfo> DoStat(const std::string& path) = 0;
  virtual Result<std::vector<uint8_t>> DoRead(const std::string& path, uint64_t offset,
                                              size_t max_length) = 0;
  virtual Result<std::vector<uint8_t>> DoReadIfMatch(const std::string& path, uint64_t offset,
                                                     size_t max_length, const std::string& etag);
  virtual Result<WholeObject> DoReadWhole(const std::string& path, uint64_t max_size);
  virtual Result<std::string> DoWrite(const std::string& path, std::span<const uint8_t> data,
                                      const Precondition& precondition) = 0;
  virtual Status DoDelete(const std::string& path, const Precondition& precondition) = 0;
  virtual Status DoMakeCollection(const std::string& path) = 0;
  virtual Status DoRemoveCollection(const std::string& path) = 0;
  virtual Status DoRename(const std::string& from, const std::string& to,
                          RenameOptions options) = 0;
};

}  // namespace phrfs::remote
