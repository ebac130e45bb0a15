#include "fs/audit/access_logger.h"

#include <algorithm>
#include <map>

#include "fs/audit/log_objects.h"
#include "fs/log.h"

namespace phrfs::fs {
namespace {

std::string AggregateKey(crypto::LogOp op, std::string_view path, std::string_view path2,
                         int result) {
  std::string key;
  key.reserve(6 + path.size() + path2.size());
  key.push_back(static_cast<char>(op));
  key.append(reinterpret_cast<const char*>(&result), sizeof(result));
  key.append(path);
  key.push_back('\0');
  key.append(path2);
  return key;
}

// Put with must-not-exist; an object already there with exactly our bytes counts as written
// (the reply to an earlier attempt was lost on the way back).
Status PutOnce(remote::CipherTree& tree, const std::string& path, const std::vector<uint8_t>& bytes) {
  Status st = tree.Put(path, bytes, remote::PutMode::kMustNotExist);
  if (st.code() != Code::kAlreadyExists) return st;
  auto existing = ReadLogObject(tree, path);
  if (existing.ok() && *existing == bytes) return Status::Ok();
  return Status::Corrupt("access log object " + path + " exists with other contents");
}

int64_t NowFrom(const AccessLoggerOptions& options) {
  if (options.now_ns) return options.now_ns();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

AccessLogger::AccessLogger(remote::CipherTree& tree, AccessLoggerOptions options,
                           crypto::LogSessionId session, SecureBytes key)
    : tree_(tree), options_(std::move(options)), session_(session), key_(std::move(key)) {}

Result<std::unique_ptr<AccessLogger>> AccessLogger::Start(remote::CipherTree& tree,
                                                          crypto::SessionKeySealer& sealer,
                                                          AccessLoggerOptions options) {
  if (options.flush_interval.count() <= 0 || options.flush_at == 0 ||
      options.max_pending < options.flush_at) {
    return Status::InvalidArgument("access log: bad flush settings");
  }
  PHRFS_ASSIGN_OR_RETURN(crypto::LogSessionId session, crypto::NewLogSessionId());
  PHRFS_ASSIGN_OR_RETURN(SecureBytes key, crypto::NewLogSessionKey());
  PHRFS_ASSIGN_OR_RETURN(auto refs, ReadSessionReferences(tree));

  crypto::LogSessionHeader header;
  header.session = session;
  header.start_ns = NowFrom(options);
  header.writer = options.writer;
  header.person = options.person;
  header.previous = crypto::LatestSessions(refs);
  PHRFS_ASSIGN_OR_RETURN(auto wrapped, sealer.Seal(key, session));
  PHRFS_ASSIGN_OR_RETURN(auto object,
                         crypto::SealLogHeader(key, header, wrapped, options.signer.get()));

  // The header is in the store before a logger exists: a logger never writes batches into a
  // session without one.
  Status st = tree.MakeFolder(crypto::kLogFolder);
  if (!st.ok() && st.code() != Code::kAlreadyExists) return st;
  PHRFS_RETURN_IF_ERROR(tree.MakeFolder(crypto::LogSessionFolder(session)));
  st = PutOnce(tree, crypto::LogObjectPath(session, 0), object);
  if (!st.ok()) {
    // Best effort: an empty session folder is ignored by readers anyway.
    (void)tree.RemoveFolder(crypto::LogSessionFolder(session));
    return st;
  }

  std::unique_ptr<AccessLogger> logger(
      new AccessLogger(tree, std::move(options), session, std::move(key)));
  logger->last_object_ = std::move(object);
  logger->stats_.objects_written = 1;
  logger->thread_ = std::thread([raw = logger.get()] { raw->Run(); });
  return logger;
}

AccessLogger::~AccessLogger() {
  Status st = Close();
  if (!st.ok()) {
    Log(LogLevel::kWarning, "access log: session %s not closed: %s",
        crypto::LogSessionHex(session_).c_str(), st.ToString().c_str());
  }
}

int64_t AccessLogger::Now() const { return NowFrom(options_); }

void AccessLogger::Record(crypto::LogOp op, std::string_view path, std::string_view path2,
                          int result) {
  const int64_t now = Now();
  std::string key = AggregateKey(op, path, path2, result);
  std::lock_guard<std::mutex> lock(mu_);
  if (closing_) return;
  auto it = pending_.find(key);
  if (it != pending_.end()) {
    ++it->second.count;
    it->second.last_ns = std::max(it->second.last_ns, now);
    return;
  }
  if (pending_.size() >= options_.max_pending) {
    if (dropped_ == 0) dropped_first_ns_ = now;
    dropped_last_ns_ = now;
    ++dropped_;
    ++stats_.dropped;
    return;
  }
  crypto::LogRecord rec;
  rec.first_ns = rec.last_ns = now;
  rec.count = 1;
  rec.op = op;
  rec.path.assign(path);
  rec.path2.assign(path2);
  rec.result = result;
  pending_.emplace(std::move(key), std::move(rec));
  if (pending_.size() == options_.flush_at) {
    flush_requested_ = true;
    wake_.notify_one();
  }
}

void AccessLogger::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!closing_) {
    wake_.wait_for(lock, options_.flush_interval, [&] { return closing_ || flush_requested_; });
    if (closing_) break;
    flush_requested_ = false;
    lock.unlock();
    Status st = FlushOnce(crypto::LogEnd::kMore);
    if (!st.ok()) {
      Log(LogLevel::kWarning, "access log: flush failed, retrying later: %s", st.ToString().c_str());
    }
    lock.lock();
  }
}

Status AccessLogger::PutQueued() {
  while (!queue_.empty()) {
    const Sealed& next = queue_.front();
    Status st = PutOnce(tree_, next.path, next.bytes);
    std::lock_guard<std::mutex> lock(mu_);
    if (!st.ok()) {
      ++stats_.failed_puts;
      stats_.last_error = st.ToString();
      stats_.behind = true;
      return st;
    }
    ++stats_.objects_written;
    stats_.last_error.clear();
    stats_.behind = queue_.size() > 1;
    queue_.pop_front();
  }
  return Status::Ok();
}

Status AccessLogger::FlushOnce(crypto::LogEnd end) {
  std::lock_guard<std::mutex> flush_lock(flush_mu_);
  // A batch the store refused goes first; nothing new is sealed until it is in (the chain
  // stays in order and at most one sealed batch waits in memory).
  PHRFS_RETURN_IF_ERROR(PutQueued());
  if (end_sealed_) return Status::Ok();

  std::vector<crypto::LogRecord> records;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_.empty() && dropped_ == 0 && end == crypto::LogEnd::kMore) return Status::Ok();
    records.reserve(pending_.size() + 1);
    for (auto& [key, rec] : pending_) records.push_back(std::move(rec));
    pending_.clear();
    if (dropped_ > 0) {
      crypto::LogRecord drop;
      drop.first_ns = dropped_first_ns_;
      drop.last_ns = dropped_last_ns_;
      drop.count = dropped_;
      drop.op = crypto::LogOp::kDropped;
      records.push_back(std::move(drop));
      dropped_ = 0;
    }
  }
  std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) {
    return a.first_ns < b.first_ns;
  });
  auto sealed = crypto::SealLogBatch(key_, session_, next_seq_, last_object_, records, end);
  for (auto& r : records) {  // plaintext paths do not outlive the batch
    SecureWipe({reinterpret_cast<uint8_t*>(r.path.data()), r.path.size()});
    SecureWipe({reinterpret_cast<uint8_t*>(r.path2.data()), r.path2.size()});
  }
  if (!sealed.ok()) return sealed.status();
  queue_.push_back(Sealed{crypto::LogObjectPath(session_, next_seq_), *sealed});
  last_object_ = std::move(sealed).value();
  ++next_seq_;
  if (end == crypto::LogEnd::kEnd) end_sealed_ = true;
  return PutQueued();
}

Status AccessLogger::Flush() { return FlushOnce(crypto::LogEnd::kMore); }

Status AccessLogger::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
  }
  wake_.notify_all();
  {
    std::lock_guard<std::mutex> lock(join_mu_);
    if (thread_.joinable()) thread_.join();
  }
  return FlushOnce(crypto::LogEnd::kEnd);
}

AccessLoggerStats AccessLogger::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  AccessLoggerStats s = stats_;
  s.pending = pending_.size();
  return s;
}

}  // namespace phrfs::fs
