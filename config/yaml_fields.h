// Shared checks for the sections of phrfs.yaml (mount_config.cc, remote_sections.cc): each
// reads one YAML value into a plain C++ value or returns InvalidArgument "file:line: key: what
// was expected (got '...')". Internal to config/. Any thread (no shared state).
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include <yaml-cpp/yaml.h>

#include "base/status.h"

namespace phrfs::config {

class FieldReader {
 public:
  explicit FieldReader(std::string file_name) : file_name_(std::move(file_name)) {}

  const std::string& file_name() const { return file_name_; }

  // "file:line: key: problem" (line 1-based; `key` may be empty).
  Status Error(const YAML::Mark& mark, const std::string& key, const std::string& problem) const;

  // The name of a mapping key, refusing non-scalar and repeated keys; `parent` prefixes
  // messages ("s3" gives "s3.region").
  Status KeyName(const YAML::Node& key_node, const std::string& parent,
                 std::set<std::string>& seen, std::string& key) const;

  // A section must be a mapping (or empty, which sets nothing: returns false in `present`).
  Status Section(const YAML::Node& node, const std::string& key, bool& present) const;

  Status Bool(const YAML::Node& value, const std::string& key, bool& out) const;
  // A number of seconds in [min, max], fractions allowed.
  Status Seconds(const YAML::Node& value, const std::string& key, double min, double max,
                 double& out) const;
  Status WholeNumber(const YAML::Node& value, const std::string& key, long long min,
                     long long max, long long& out) const;
  // A non-empty single-line string; `what` names it in the message ("a file path").
  Status Text(const YAML::Node& value, const std::string& key, const std::string& what,
              std::string& out) const;

  // " (got 'value')" for a scalar, shortened; empty otherwise.
  static std::string Quoted(const YAML::Node& value);

 private:
  std::string file_name_;
};

// Formats a number of seconds for messages: 3600 -> "3600", 0.5 -> "0.5".
std::string FormatSeconds(double seconds);

// The whole text of a small file (a phrfs.yaml or a shares.yaml): NotFound when it is missing,
// IoError when it cannot be read, InvalidArgument ("file too large for WHAT") past max_size.
Result<std::string> ReadSmallFile(const std::string& path, size_t max_size, const std::string& what);

}  // namespace phrfs::config
