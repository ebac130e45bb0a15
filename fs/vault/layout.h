// Where things live in a v2 store (FORMAT "LAYOUT"): the folder of each directory id, the stored
// name of each entry (encrypted stem + kind suffix), long-name sidecars, the root's object and
// the folder of unlinked-but-open objects; and the name cipher with caches of recent
// encryptions and decryptions. Thread-safe: constants and pure functions; Names locks its own
// caches.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/secure_bytes.h"
#include "base/status.h"
#include "crypto/name_cipher.h"
#include "crypto/node_format.h"
#include "crypto/types.h"

namespace phrfs::fs {

// FORMAT "LAYOUT"
inline constexpr char kFoldersRoot[] = "d";            // d/xx/yyyy...: one folder per directory id
inline constexpr char kRootObject[] = "root.d";        // the root directory's node object
inline constexpr char kUnlinkedFolder[] = "unlinked";  // objects unlinked while still in use
inline constexpr char kDirSuffix[] = ".d";
inline constexpr char kLinkSuffix[] = ".l";
inline constexpr char kSpecialSuffix[] = ".s";  // FIFOs and sockets
inline constexpr char kSidecarSuffix[] = ".n";
inline constexpr size_t kMaxSuffixLength = 2;

// The suffix by which a listing tells an entry's kind (the kind itself is authenticated in the
// object's node header; the suffix is only where to look).
enum class StoredKind { kFile, kDirectory, kSymlink, kSpecial };

std::string_view SuffixOf(StoredKind kind);
StoredKind StoredKindOf(crypto::NodeKind kind);
// True when a node header's kind may live under a stored name of this kind.
bool KindMatches(StoredKind stored, crypto::NodeKind kind);

// Splits a listed store name into stem and kind. False for names that are not entries
// (sidecars, temporaries, anything the layout does not define).
bool ParseStoredName(std::string_view stored, std::string* stem, StoredKind* kind);
// A long-name sidecar's stem, or nullopt.
std::optional<std::string> SidecarStem(std::string_view stored);

// "d/xx/yyyy..." for a directory id.
Result<std::string> FolderOf(const SecureBytes& dir_hash_key, const crypto::DirId& dir);
inline std::string Join(const std::string& folder, std::string_view leaf) {
  std::string path = folder;
  path += '/';
  path += leaf;
  return path;
}
// "unlinked/<32 hex digits of the node id>.<16 random hex digits>": unique, since a node with
// hard links may have several names set aside.
Result<std::string> NewUnlinkedPath(const crypto::NodeId& id);

// An entry name as stored: the full base64url ciphertext and the stem the store holds (the
// ciphertext itself, or ".L<hash>" when the ciphertext plus a suffix would pass the store's
// 255-byte limit).
struct StoredName {
  std::string encoded;
  std::string stem;
  bool is_long() const { return stem != encoded; }
};

// The name cipher plus bounded caches of recent encryptions: a create, rename or unlink
// encrypts the name its own lookup just encrypted (AES-SIV costs ~3 us); and the other way, for
// the access log, whose every record names a path (one decryption per component): the name of
// a stem that was recently encrypted or decrypted in a directory. Both are pure functions of
// their keys (the name key is fixed, a stem names one ciphertext), so no change in the tree can
// make an entry wrong; a cache that is full is emptied.
class Names {
 public:
  explicit Names(SecureBytes name_key) : cipher_(std::move(name_key)) {}
  Result<StoredName> Encode(const crypto::DirId& dir, std::string_view name);
  Result<std::string> Decode(const crypto::DirId& dir, std::string_view encoded) const {
    return cipher_.Decrypt(dir, encoded);
  }
  // The name stored as `stem` in `dir` when an Encode or a DecodeAndRemember of it is still in
  // the cache; nullopt otherwise (then the caller decodes it: a long name needs its sidecar).
  std::optional<std::string> Recall(const crypto::DirId& dir, std::string_view stem);
  // Decode, remembered under `stem` (the stem of `encoded`) for Recall.
  Result<std::string> DecodeAndRemember(const crypto::DirId& dir, std::string_view stem,
                                        std::string_view encoded);

 private:
  static constexpr size_t kCacheSize = 1024;
  void RememberLocked(std::string key, std::string name);  // mu_ held
  crypto::NameCipher cipher_;
  std::mutex mu_;  // guards both caches; leaf lock
  std::unordered_map<std::string, StoredName> cache_;     // dir id + name -> stored name
  std::unordered_map<std::string, std::string> plain_;   // dir id + stem -> name
};

}  // namespace phrfs::fs
