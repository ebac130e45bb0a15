#include "config/yaml_fields.h"

#include <cstring>

#include <cerrno>

#include <unistd.h>

#include <fcntl.h>

#include <cmath>
#include <cstdio>

namespace phrfs::config {

Status FieldReader::Error(const YAML::Mark& mark, const std::string& key,
                          const std::string& problem) const {
  // yaml-cpp marks are 0-based; a null mark (-1) happens for synthesised nodes only.
  int line = mark.line >= 0 ? mark.line + 1 : 1;
  std::string where = file_name_ + ":" + std::to_string(line) + ": ";
  return Status::InvalidArgument(where + (key.empty() ? "" : key + ": ") + problem);
}

Status FieldReader::KeyName(const YAML::Node& key_node, const std::string& parent,
                            std::set<std::string>& seen, std::string& key) const {
  if (!key_node.IsScalar()) return Error(key_node.Mark(), parent, "keys must be plain words");
  key = key_node.Scalar();
  std::string full = parent.empty() ? key : parent + "." + key;
  if (!seen.insert(key).second) return Error(key_node.Mark(), full, "duplicate key");
  return Status::Ok();
}

Status FieldReader::Section(const YAML::Node& node, const std::string& key,
                            bool& present) const {
  present = false;
  if (node.IsNull()) return Status::Ok();
  if (!node.IsMap()) return Error(node.Mark(), key, "expected a mapping");
  present = true;
  return Status::Ok();
}

std::string FieldReader::Quoted(const YAML::Node& value) {
  if (!value.IsScalar()) return "";
  std::string text = value.Scalar();
  if (text.size() > 40) text = text.substr(0, 40) + "...";
  return " (got '" + text + "')";
}

Status FieldReader::Bool(const YAML::Node& value, const std::string& key, bool& out) const {
  if (!value.IsScalar() || !YAML::convert<bool>::decode(value, out)) {
    return Error(value.Mark(), key, "expected true or false" + Quoted(value));
  }
  return Status::Ok();
}

Status FieldReader::Seconds(const YAML::Node& value, const std::string& key, double min,
                            double max, double& out) const {
  if (!value.IsScalar() || !YAML::convert<double>::decode(value, out) || !std::isfinite(out) ||
      out < min || out > max) {
    return Error(value.Mark(), key,
                 "expected a number of seconds from " + FormatSeconds(min) + " to " +
                     FormatSeconds(max) + Quoted(value));
  }
  return Status::Ok();
}

Status FieldReader::WholeNumber(const YAML::Node& value, const std::string& key, long long min,
                                long long max, long long& out) const {
  if (!value.IsScalar() || !YAML::convert<long long>::decode(value, out) || out < min ||
      out > max) {
    return Error(value.Mark(), key,
                 "expected a whole number from " + std::to_string(min) + " to " +
                     std::to_string(max) + Quoted(value));
  }
  return Status::Ok();
}

Status FieldReader::Text(const YAML::Node& value, const std::string& key,
                         const std::string& what, std::string& out) const {
  if (!value.IsScalar() || value.Scalar().empty() ||
      value.Scalar().find_first_of("\n\r") != std::string::npos) {
    return Error(value.Mark(), key, "expected " + what);
  }
  out = value.Scalar();
  return Status::Ok();
}

std::string FormatSeconds(double seconds) {
  char buffer[32];
  snprintf(buffer, sizeof(buffer), "%g", seconds);
  return buffer;
}

Result<std::string> ReadSmallFile(const std::string& path, size_t max_size, const std::string& what) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string message = path + ": cannot open: " + strerror(err);
    return err == ENOENT ? Status::NotFound(message) : Status::IoError(message);
  }
  std::string text;
  char buffer[8192];
  Status st = Status::Ok();
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      st = Status::IoError(path + ": cannot read: " + strerror(errno));
      break;
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > max_size) {
      st = Status::InvalidArgument(path + ": file too large for " + what + " (over " +
                                   std::to_string(max_size >> 20) + " MiB)");
      break;
    }
  }
  close(fd);
  if (!st.ok()) return st;
  return text;
}

}  // namespace phrfs::config
