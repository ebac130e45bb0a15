// Parsers for the remote, webdav, s3 and cache sections of phrfs.yaml; called by the document
// parser in mount_config.cc. Internal to config/. Any thread (no shared state).
#pragma once

#include <yaml-cpp/yaml.h>

#include "base/status.h"
#include "config/remote_config.h"
#include "config/yaml_fields.h"

namespace phrfs::config {

Status ParseRemoteSection(const FieldReader& reader, const YAML::Node& node, RemoteConfig& out);
Status ParseWebDavSection(const FieldReader& reader, const YAML::Node& node, WebDavConfig& out);
Status ParseS3Section(const FieldReader& reader, const YAML::Node& node, S3Config& out);
Status ParseCacheSection(const FieldReader& reader, const YAML::Node& node, CacheConfig& out);

}  // namespace phrfs::config
