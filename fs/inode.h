// One node of the mounted tree as the kernel knows it: its kind, descriptors that pin its
// ciphertext objects, and (for files) the content state shared by every open handle.
// Thread-safety: fields marked const are immutable; the rest are guarded as noted.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <cstdint>
#include <mutex>
#include <optional>
#include <shared_mutex>

#include "crypto/types.h"
#include "fs/content_file.h"
#include "remote/local/posix_io.h"

namespace phrfs::fs {

enum class Kind { kFile, kDirectory, kSymlink };

struct Inode {
  Inode(Kind k, uint64_t id, remote::Fd fd, dev_t dev, ino_t ino)
      : kind(k), node_id(id), path_fd(std::move(fd)), src_dev(dev), src_ino(ino) {}

  const Kind kind;
  const uint64_t node_id;
  // O_PATH descriptor of the backing object: the content object of a file, the ".l" object of a
  // symlink, the store folder of a directory. Holding it pins the backing inode, so its number
  // (our identity and st_ino) cannot be reused while the kernel knows this node.
  const remote::Fd path_fd;
  const dev_t src_dev;
  const ino_t src_ino;
  // Directories only: the ".d" entry object (pinned for the same reason; absent for the root)
  // and the directory id from it.
  remote::Fd entry_fd;
  crypto::DirId dir_id;

  std::atomic<uint64_t> nlookup{0};

  // Files only: the content state, loaded on first use and kept while the kernel knows the node
  // (the kernel does not send open and release, see fuse_ops.cc). Readers take content_mu
  // shared; loading, writes and truncation take it exclusive.
  // Lock order: Vault::tree_mu_ before content_mu before Vault::table_mu_.
  std::shared_mutex content_mu;
  remote::Fd io_fd;                    // guarded by content_mu; O_RDWR (O_RDONLY read-only)
  std::optional<ContentFile> content;  // guarded by content_mu; never unloaded once loaded
};

}  // namespace phrfs::fs
