// AccessLogger: one mount's access log session (FORMAT "ACCESS LOG", crypto/access_log.h).
// Record() aggregates accesses in memory; a background thread seals them into write-once
// objects log/<session>/<seq> every flush interval (or sooner when many are pending); Close()
// writes the object that ends the session. Thread-safe: Record from any number of threads
// (FUSE workers) at any time; Flush, Close and Stats from any thread.
//
// Memory stays bounded when the store is down: a batch that fails to reach the store is kept
// (one at most) and retried on every flush; meanwhile new accesses are counted into the
// pending set (an access seen before only bumps its count), and a new distinct access beyond
// `max_pending` is dropped and counted; the next batch that is sealed carries a "dropped"
// record with that count, which `phrfs audit` reports as a problem.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/secure_bytes.h"
#include "base/status.h"
#include "crypto/access_log.h"
#include "crypto/identity.h"
#include "crypto/log_key_sealer.h"
#include "remote/cipher_tree.h"

namespace phrfs::fs {

// The writer name of every passphrase mount (identities use their fingerprint).
inline constexpr char kOwnerPassphraseWriter[] = "owner-passphrase";

struct AccessLoggerOptions {
  std::string writer = kOwnerPassphraseWriter;
  std::string person;  // who the user said they are (the mount's --person; may be empty)
  // An identity's mount: its identity signs the session's header (the writer is then its
  // fingerprint), so that the owner knows who wrote the session. Null: unsigned (the owner's
  // own mounts, whose sessions only the owner's key can make).
  std::shared_ptr<const crypto::Identity> signer;
  std::chrono::milliseconds flush_interval{5000};
  size_t flush_at = 1000;      // distinct pending records that start a flush before the interval
  size_t max_pending = 10000;  // distinct records held at most; beyond: dropped with a counter
  // Unix time in nanoseconds; the system clock when empty (tests put their own).
  std::function<int64_t()> now_ns;
};

struct AccessLoggerStats {
  uint64_t objects_written = 0;  // including the header
  uint64_t failed_puts = 0;      // attempts that the store refused or did not answer
  uint64_t dropped = 0;          // accesses dropped since the start (all were reported in batches
                                 // or are still to be)
  size_t pending = 0;            // distinct records waiting to be sealed
  bool behind = false;           // a sealed batch is waiting for the store
  std::string last_error;        // of the last failed put ("" after a success); no plaintext
};

class AccessLogger {
 public:
  // Starts a session: finds the latest sessions already in the store, writes the header
  // (object 0; the session key sealed with `sealer`) and starts the flush thread. Fails when
  // the store cannot be listed or written. `tree` must outlive the logger.
  static Result<std::unique_ptr<AccessLogger>> Start(remote::CipherTree& tree,
                                                     crypto::SessionKeySealer& sealer,
                                                     AccessLoggerOptions options);
  // Close()s if that has not been done (its failure is only logged).
  ~AccessLogger();
  AccessLogger(const AccessLogger&) = delete;
  AccessLogger& operator=(const AccessLogger&) = delete;

  // Cheap (a lock, a hash lookup); never touches the store. `result` is the operation's errno
  // (0 = it worked). A no-op after Close.
  void Record(crypto::LogOp op, std::string_view path, std::string_view path2, int result);
  void Record(crypto::LogOp op, std::string_view path, int result) { Record(op, path, {}, result); }

  // Seals what is pending and puts it now (the background thread does this on its own).
  // Unavailable etc. when the store failed; the batch is kept and retried.
  Status Flush();
  // Stops the thread and writes the last batch with the end flag. Calling it again retries a
  // write that failed; Ok once the end object is in the store.
  Status Close();

  AccessLoggerStats Stats() const;
  const crypto::LogSessionId& session() const { return session_; }

 private:
  struct Sealed {
    std::string path;
    std::vector<uint8_t> bytes;
  };

  AccessLogger(remote::CipherTree& tree, AccessLoggerOptions options, crypto::LogSessionId session,
               SecureBytes key);
  void Run();
  Status FlushOnce(crypto::LogEnd end);
  Status PutQueued();  // flush_mu_ held
  int64_t Now() const;

  remote::CipherTree& tree_;
  const AccessLoggerOptions options_;
  const crypto::LogSessionId session_;
  const SecureBytes key_;

  std::mutex join_mu_;  // two Close calls at once join the thread once

  // Lock order: flush_mu_ before mu_.
  std::mutex flush_mu_;  // one flush at a time; guards the chain state below
  uint64_t next_seq_ = 1;
  std::vector<uint8_t> last_object_;  // the bytes of object next_seq_-1 (the chain)
  std::deque<Sealed> queue_;          // sealed, not yet in the store (one at most)
  bool end_sealed_ = false;

  mutable std::mutex mu_;  // guards everything below
  std::condition_variable wake_;
  std::unordered_map<std::string, crypto::LogRecord> pending_;  // by (op, result, path, path2)
  uint64_t dropped_ = 0;        // since the last sealed batch
  int64_t dropped_first_ns_ = 0;
  int64_t dropped_last_ns_ = 0;
  bool closing_ = false;
  bool flush_requested_ = false;
  AccessLoggerStats stats_;
  std::thread thread_;  // started last, joined by Close
};

}  // namespace phrfs::fs
