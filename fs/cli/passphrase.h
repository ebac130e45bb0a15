// Reading passphrases and recovery keys for the command line: from a file (first line) or from
// the terminal with echo off, restoring the terminal on every path including SIGINT. Main thread
// only (it installs signal handlers for the duration of a prompt). Never logs what it reads.
#pragma once

#include <string>
#include <string_view>

#include "base/secure_bytes.h"
#include "base/status.h"

namespace phrfs::fs {

// A secret line of text that wipes itself when destroyed.
class Passphrase {
 public:
  Passphrase() = default;
  explicit Passphrase(SecureBytes bytes) : bytes_(std::move(bytes)) {}
  std::string_view view() const {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }
  bool empty() const { return bytes_.empty(); }

 private:
  SecureBytes bytes_;
};

// A passphrase longer than this is refused (it is almost certainly the wrong file).
inline constexpr size_t kMaxPassphraseSize = 4096;

enum class Confirm { kOnce, kTwice };  // kTwice: ask again and require the same answer

struct PassphraseRequest {
  std::string passfile;  // read the first line of this file; empty: ask on the terminal
  std::string prompt;    // shown on the terminal, e.g. "Passphrase for store /x: "
  Confirm confirm = Confirm::kOnce;
};

// Every failure (unreadable or empty file, no terminal, empty answer, the two answers differ)
// is returned with a one-line message that never contains the secret; the command line maps all
// of them to exit code 9.
Result<Passphrase> ReadPassphrase(const PassphraseRequest& request);

// The first line of `path`, without its line ending ("\n" or "\r\n"); InvalidArgument if empty.
Result<Passphrase> ReadFirstLine(const std::string& path);

}  // namespace phrfs::fs
