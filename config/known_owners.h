// The owners whose shared folders a grantee's mounts have shown, by store and owner name, with
// the fingerprint of the key that signed them: trust on first use, as ssh's known_hosts. A later
// mount that finds the same owner name in the same store signed by another key does not show
// those folders. The file (default $XDG_CONFIG_HOME/phrfs/known-owners, else
// $HOME/.config/phrfs/known-owners) holds one line per owner:
//
//   STORE NAME FINGERPRINT
//
// (STORE: an absolute directory or a store URL, with '%', spaces and control characters
// percent-encoded; NAME as in shares.yaml;
// FINGERPRINT 32 lowercase hex digits); blank lines and lines starting with '#' are ignored.
// Parsing is pure; Load and Save touch the file. Main thread.
#pragma once

#include <map>
#include <string>
#include <tuple>

#include "base/status.h"
#include "config/remote_settings.h"

namespace phrfs::config {

class KnownOwners {
 public:
  // An empty set when `path` does not exist; InvalidArgument "PATH:LINE: what" for a malformed
  // line (the user mends or deletes it: the file is theirs).
  static Result<KnownOwners> Load(const std::string& path);
  static Result<KnownOwners> Parse(const std::string& path, const std::string& text);

  enum class Seen { kNew, kSame, kChanged };
  // kChanged sets `known` to the fingerprint on file.
  Seen Check(const std::string& store, const std::string& name, const std::string& fingerprint,
             std::string* known = nullptr) const;
  void Add(const std::string& store, const std::string& name, const std::string& fingerprint);

  // Writes the file when something was added (its folder made 0700, the file 0600, replaced
  // atomically); the lines read keep their order, new ones follow.
  Status Save() const;
  std::string Serialize() const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string original_;  // the file's text as read ("" when it did not exist)
  std::map<std::tuple<std::string, std::string>, std::string> by_owner_;
  std::string added_;  // lines to append
};

// $XDG_CONFIG_HOME/phrfs/known-owners (absolute XDG_CONFIG_HOME only), else
// $HOME/.config/phrfs/known-owners; InvalidArgument when neither is set.
Result<std::string> DefaultKnownOwnersPath(const EnvLookup& env);

}  // namespace phrfs::config
