#include "config/mount_config.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <exception>
#include <set>

#include <yaml-cpp/yaml.h>

namespace phrfs::config {
namespace {

// Validates one document; every message is "file:line: key: problem".
class Parser {
 public:
  explicit Parser(const std::string& file_name) : file_name_(file_name) {}

  Status Error(const YAML::Mark& mark, const std::string& key, const std::string& problem) const {
    // yaml-cpp marks are 0-based; a null mark (-1) happens for synthesised nodes only.
    int line = mark.line >= 0 ? mark.line + 1 : 1;
    std::string where = file_name_ + ":" + std::to_string(line) + ": ";
    return Status::InvalidArgument(where + (key.empty() ? "" : key + ": ") + problem);
  }

  Status ParseDocument(const YAML::Node& root, MountConfig& out) const {
    if (root.IsNull()) return Status::Ok();  // an empty file sets nothing
    if (!root.IsMap()) return Error(root.Mark(), "", "expected a mapping with the key 'mount'");
    std::set<std::string> seen;
    for (const auto& item : root) {
      std::string key;
      PHRFS_RETURN_IF_ERROR(KeyName(item.first, "", seen, key));
      if (key == "mount") {
        PHRFS_RETURN_IF_ERROR(ParseMount(item.second, out));
      } else {
        return Error(item.first.Mark(), key, "unknown key (known: mount)");
      }
    }
    return Status::Ok();
  }

 private:
  Status KeyName(const YAML::Node& key_node, const std::string& parent,
                 std::set<std::string>& seen, std::string& key) const {
    if (!key_node.IsScalar()) return Error(key_node.Mark(), parent, "keys must be plain words");
    key = key_node.Scalar();
    std::string full = parent.empty() ? key : parent + "." + key;
    if (!seen.insert(key).second) return Error(key_node.Mark(), full, "duplicate key");
    return Status::Ok();
  }

  Status ParseMount(const YAML::Node& node, MountConfig& out) const {
    if (node.IsNull()) return Status::Ok();
    if (!node.IsMap()) return Error(node.Mark(), "mount", "expected a mapping");
    std::set<std::string> seen;
    for (const auto& item : node) {
      std::string key;
      PHRFS_RETURN_IF_ERROR(KeyName(item.first, "mount", seen, key));
      const std::string full = "mount." + key;
      const YAML::Node& value = item.second;
      if (key == "read_only") {
        bool b = false;
        PHRFS_RETURN_IF_ERROR(Bool(value, full, b));
        out.read_only = b;
      } else if (key == "attr_timeout" || key == "entry_timeout") {
        double seconds = 0;
        PHRFS_RETURN_IF_ERROR(Seconds(value, full, seconds));
        (key == "attr_timeout" ? out.attr_timeout : out.entry_timeout) = seconds;
      } else if (key == "max_threads") {
        unsigned threads = 0;
        PHRFS_RETURN_IF_ERROR(Threads(value, full, threads));
        out.max_threads = threads;
      } else if (key == "log_level") {
        LogLevel level = LogLevel::kInfo;
        PHRFS_RETURN_IF_ERROR(Level(value, full, level));
        out.log_level = level;
      } else if (key == "log_file") {
        if (!value.IsScalar() || value.Scalar().empty()) {
          return Error(value.Mark(), full, "expected a file path");
        }
        out.log_file = value.Scalar();
      } else if (key == "fuse_options") {
        PHRFS_RETURN_IF_ERROR(FuseOptions(value, full, out.fuse_options));
      } else {
        return Error(item.first.Mark(), full,
                     "unknown key (known: read_only, attr_timeout, entry_timeout, max_threads, "
                     "log_level, log_file, fuse_options)");
      }
    }
    return Status::Ok();
  }

  static std::string Quoted(const YAML::Node& value) {
    if (!value.IsScalar()) return "";
    std::string text = value.Scalar();
    if (text.size() > 40) text = text.substr(0, 40) + "...";
    return " (got '" + text + "')";
  }

  Status Bool(const YAML::Node& value, const std::string& key, bool& out) const {
    if (!value.IsScalar() || !YAML::convert<bool>::decode(value, out)) {
      return Error(value.Mark(), key, "expected true or false" + Quoted(value));
    }
    return Status::Ok();
  }

  Status Seconds(const YAML::Node& value, const std::string& key, double& out) const {
    if (!value.IsScalar() || !YAML::convert<double>::decode(value, out) || !std::isfinite(out) ||
        out < 0 || out > kMaxTimeoutSeconds) {
      return Error(value.Mark(), key, "expected a number of seconds from 0 to 3600" + Quoted(value));
    }
    return Status::Ok();
  }

  Status Threads(const YAML::Node& value, const std::string& key, unsigned& out) const {
    long long n = 0;
    if (!value.IsScalar() || !YAML::convert<long long>::decode(value, n) ||
        n < static_cast<long long>(kMinThreads) || n > static_cast<long long>(kMaxThreads)) {
      return Error(value.Mark(), key,
                   "expected a whole number from " + std::to_string(kMinThreads) + " to " +
                       std::to_string(kMaxThreads) + Quoted(value));
    }
    out = static_cast<unsigned>(n);
    return Status::Ok();
  }

  Status Level(const YAML::Node& value, const std::string& key, LogLevel& out) const {
    if (value.IsScalar()) {
      if (std::optional<LogLevel> level = ParseLogLevel(value.Scalar())) {
        out = *level;
        return Status::Ok();
      }
    }
    return Error(value.Mark(), key, "expected one of error, warning, info, debug" + Quoted(value));
  }

  Status FuseOptions(const YAML::Node& value, const std::string& key,
                     std::vector<std::string>& out) const {
    if (value.IsNull()) return Status::Ok();
    if (!value.IsSequence()) return Error(value.Mark(), key, "expected a list of strings");
    for (const auto& option : value) {
      if (!option.IsScalar() || option.Scalar().empty()) {
        return Error(option.Mark(), key, "each entry must be a non-empty string");
      }
      if (option.Scalar().find(',') != std::string::npos) {
        return Error(option.Mark(), key, "give one option per entry, without commas" + Quoted(option));
      }
      out.push_back(option.Scalar());
    }
    return Status::Ok();
  }

  const std::string& file_name_;
};

}  // namespace

Result<MountConfig> ParseMountConfig(std::string_view text, const std::string& file_name) {
  Parser parser(file_name);
  try {
    YAML::Node root = YAML::Load(std::string(text));
    MountConfig config;
    PHRFS_RETURN_IF_ERROR(parser.ParseDocument(root, config));
    return config;
  } catch (const YAML::Exception& e) {
    return parser.Error(e.mark, "", "YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(file_name + ": " + e.what());
  }
}

Result<MountConfig> LoadMountConfig(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string message = path + ": cannot open: " + strerror(err);
    return err == ENOENT ? Status::NotFound(message) : Status::IoError(message);
  }
  std::string text;
  char buffer[8192];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      return Status::IoError(path + ": cannot read: " + strerror(err));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > kMaxConfigFileSize) {
      close(fd);
      return Status::InvalidArgument(path + ": file too large for a config (over 1 MiB)");
    }
  }
  close(fd);
  return ParseMountConfig(text, path);
}

}  // namespace phrfs::config
