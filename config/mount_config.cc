#include "config/mount_config.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <set>

#include <yaml-cpp/yaml.h>

#include "config/remote_sections.h"
#include "config/yaml_fields.h"

namespace phrfs::config {
namespace {

// Validates one document; every message is "file:line: key: problem".
class Parser {
 public:
  explicit Parser(const FieldReader& reader) : reader_(reader) {}

  Status ParseDocument(const YAML::Node& root, MountConfig& out) const {
    if (root.IsNull()) return Status::Ok();  // an empty file sets nothing
    if (!root.IsMap()) {
      return reader_.Error(root.Mark(), "",
                           "expected a mapping with the keys mount, remote, webdav, s3, cache");
    }
    std::set<std::string> seen;
    for (const auto& item : root) {
      std::string key;
      PHRFS_RETURN_IF_ERROR(reader_.KeyName(item.first, "", seen, key));
      if (key == "mount") {
        PHRFS_RETURN_IF_ERROR(ParseMount(item.second, out));
      } else if (key == "remote") {
        PHRFS_RETURN_IF_ERROR(ParseRemoteSection(reader_, item.second, out.remote));
      } else if (key == "webdav") {
        PHRFS_RETURN_IF_ERROR(ParseWebDavSection(reader_, item.second, out.webdav));
      } else if (key == "s3") {
        PHRFS_RETURN_IF_ERROR(ParseS3Section(reader_, item.second, out.s3));
      } else if (key == "cache") {
        PHRFS_RETURN_IF_ERROR(ParseCacheSection(reader_, item.second, out.cache));
      } else {
        return reader_.Error(item.first.Mark(), key,
                             "unknown key (known: mount, remote, webdav, s3, cache)");
      }
    }
    return Status::Ok();
  }

 private:
  Status ParseMount(const YAML::Node& node, MountConfig& out) const {
    bool present = false;
    PHRFS_RETURN_IF_ERROR(reader_.Section(node, "mount", present));
    if (!present) return Status::Ok();
    std::set<std::string> seen;
    for (const auto& item : node) {
      std::string key;
      PHRFS_RETURN_IF_ERROR(reader_.KeyName(item.first, "mount", seen, key));
      const std::string full = "mount." + key;
      const YAML::Node& value = item.second;
      if (key == "read_only") {
        bool b = false;
        PHRFS_RETURN_IF_ERROR(reader_.Bool(value, full, b));
        out.read_only = b;
      } else if (key == "access_log") {
        bool b = false;
        PHRFS_RETURN_IF_ERROR(reader_.Bool(value, full, b));
        out.access_log = b;
      } else if (key == "attr_timeout" || key == "entry_timeout") {
        double seconds = 0;
        PHRFS_RETURN_IF_ERROR(reader_.Seconds(value, full, 0, kMaxTimeoutSeconds, seconds));
        (key == "attr_timeout" ? out.attr_timeout : out.entry_timeout) = seconds;
      } else if (key == "max_threads") {
        long long threads = 0;
        PHRFS_RETURN_IF_ERROR(reader_.WholeNumber(value, full, kMinThreads, kMaxThreads, threads));
        out.max_threads = static_cast<unsigned>(threads);
      } else if (key == "log_level") {
        LogLevel level = LogLevel::kInfo;
        PHRFS_RETURN_IF_ERROR(Level(value, full, level));
        out.log_level = level;
      } else if (key == "log_file") {
        std::string path;
        PHRFS_RETURN_IF_ERROR(reader_.Text(value, full, "a file path", path));
        out.log_file = path;
      } else if (key == "fuse_options") {
        PHRFS_RETURN_IF_ERROR(FuseOptions(value, full, out.fuse_options));
      } else {
        return reader_.Error(item.first.Mark(), full,
                             "unknown key (known: read_only, access_log, attr_timeout, entry_timeout, "
                             "max_threads, log_level, log_file, fuse_options)");
      }
    }
    return Status::Ok();
  }

  Status Level(const YAML::Node& value, const std::string& key, LogLevel& out) const {
    if (value.IsScalar()) {
      if (std::optional<LogLevel> level = ParseLogLevel(value.Scalar())) {
        out = *level;
        return Status::Ok();
      }
    }
    return reader_.Error(value.Mark(), key,
                         "expected one of error, warning, info, debug" + FieldReader::Quoted(value));
  }

  Status FuseOptions(const YAML::Node& value, const std::string& key,
                     std::vector<std::string>& out) const {
    if (value.IsNull()) return Status::Ok();
    if (!value.IsSequence()) return reader_.Error(value.Mark(), key, "expected a list of strings");
    for (const auto& option : value) {
      if (!option.IsScalar() || option.Scalar().empty()) {
        return reader_.Error(option.Mark(), key, "each entry must be a non-empty string");
      }
      if (option.Scalar().find(',') != std::string::npos) {
        return reader_.Error(option.Mark(), key,
                             "give one option per entry, without commas" +
                                 FieldReader::Quoted(option));
      }
      out.push_back(option.Scalar());
    }
    return Status::Ok();
  }

  const FieldReader& reader_;
};

}  // namespace

Result<MountConfig> ParseMountConfig(std::string_view text, const std::string& file_name) {
  FieldReader reader(file_name);
  try {
    YAML::Node root = YAML::Load(std::string(text));
    MountConfig config;
    PHRFS_RETURN_IF_ERROR(Parser(reader).ParseDocument(root, config));
    return config;
  } catch (const YAML::Exception& e) {
    return reader.Error(e.mark, "", "YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(file_name + ": " + e.what());
  }
}

Result<MountConfig> LoadMountConfig(const std::string& path) {
  PHRFS_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, kMaxConfigFileSize, "a config"));
  return ParseMountConfig(text, path);
}

}  // namespace phrfs::config
