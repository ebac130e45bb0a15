// Opening a STORE argument as a tree (fs/store_open.h).
#include "fs/store_open.h"

#include "base/encoding.h"
#include "crypto/kdf.h"
#include "remote/http/http_client.h"
#include "remote/object_tree.h"
#include "remote/s3/s3_store.h"
#include "remote/webdav/webdav_store.h"

namespace phrfs::fs {
namespace {

Status WithLabel(const Status& st, const std::string& label) {
  return Status::Error(st.code(), "store " + label + ": " + st.message());
}

remote::http::ClientOptions ClientOptionsFrom(const config::TransportSettings& transport) {
  remote::http::ClientOptions client;
  client.connect_timeout = transport.connect_timeout;
  client.stall_timeout = transport.stall_timeout;
  client.max_parallel = transport.parallel_transfers;
  client.ca_file = transport.ca_file;
  return client;
}

Result<std::shared_ptr<remote::ObjectStore>> OpenWebDav(const config::StoreUrl& url,
                                                        const config::MountConfig& file,
                                                        const config::EnvLookup& env,
                                                        bool create) {
  PHRFS_ASSIGN_OR_RETURN(config::WebDavCredentials credentials,
                         config::ResolveWebDavCredentials(file.webdav, env));
  auto options_for = [&](const config::StoreUrl& at) {
    remote::WebDavOptions options;
    options.base_url = config::WebDavBaseUrl(at);
    options.client = ClientOptionsFrom(config::ResolveTransport(file.remote));
    options.client.user = credentials.user;
    options.client.password = credentials.password.Clone();
    return options;
  };
  auto store = remote::WebDavStore::Open(options_for(url));
  if (store.ok()) return std::shared_ptr<remote::ObjectStore>(std::move(store).value());
  if (!create || store.status().code() != Code::kNotFound || url.path == "/") return store.status();
  // init of a new store: make its collection (one level, as `mkdir` would).
  config::StoreUrl parent = url;
  const size_t slash = url.path.rfind('/');
  parent.path = slash == 0 ? "/" : url.path.substr(0, slash);
  PHRFS_ASSIGN_OR_RETURN(auto parent_store, remote::WebDavStore::Open(options_for(parent)));
  PHRFS_RETURN_IF_ERROR(parent_store->MakeCollection(url.path.substr(slash + 1)));
  PHRFS_ASSIGN_OR_RETURN(auto made, remote::WebDavStore::Open(options_for(url)));
  return std::shared_ptr<remote::ObjectStore>(std::move(made));
}

Result<std::shared_ptr<remote::ObjectStore>> OpenS3(const config::StoreUrl& url,
                                                    const config::MountConfig& file,
                                                    const config::EnvLookup& env) {
  PHRFS_ASSIGN_OR_RETURN(config::S3Settings settings, config::ResolveS3Settings(file.s3, env));
  remote::s3::S3Options options;
  options.endpoint = settings.endpoint;
  options.region = settings.region;
  options.bucket = url.bucket;
  options.key_prefix = url.prefix;
  options.addressing = settings.addressing == config::S3Addressing::kVirtual
                           ? remote::s3::Addressing::kVirtualHost
                           : remote::s3::Addressing::kPathStyle;
  options.access_key = settings.access_key_id;
  options.secret_key = std::move(settings.secret_key);
  PHRFS_ASSIGN_OR_RETURN(auto store,
                         remote::s3::S3Store::Open(std::move(options),
                                                   ClientOptionsFrom(config::ResolveTransport(file.remote))));
  return std::shared_ptr<remote::ObjectStore>(std::move(store));
}

}  // namespace

Result<OpenedStore> OpenStore(const std::string& store, const StoreOpenOptions& options) {
  OpenedStore opened;
  PHRFS_ASSIGN_OR_RETURN(opened.url, config::ParseStoreUrl(store));
  opened.label = store;
  if (opened.url.kind == config::StoreKind::kLocal) {
    PHRFS_ASSIGN_OR_RETURN(opened.tree,
                           OpenLocalStoreTree(opened.url.path, options.access, options.create));
    opened.label = opened.url.path;
    return opened;
  }
  const config::MountConfig empty;
  const config::MountConfig& file = options.file != nullptr ? *options.file : empty;
  const config::EnvLookup env = options.env ? options.env : config::ProcessEnvironment();
  auto remote = opened.url.kind == config::StoreKind::kWebDav
                    ? OpenWebDav(opened.url, file, env, options.create)
                    : OpenS3(opened.url, file, env);
  if (!remote.ok()) return WithLabel(remote.status(), opened.label);
  opened.remote = std::move(remote).value();
  opened.tree = std::make_unique<remote::ObjectTree>(opened.remote);
  return opened;
}

std::string DefaultCacheDir(const std::string& cache_root, const std::string& store_label,
                            const crypto::StoreId& store_id) {
  std::string seed = store_label;
  seed.push_back('\0');
  seed.append(reinterpret_cast<const char*>(store_id.bytes.data()), store_id.bytes.size());
  auto digest = crypto::Sha256({reinterpret_cast<const uint8_t*>(seed.data()), seed.size()});
  // SHA-256 fails only with a broken OpenSSL; the cache's store check still guards the folder.
  const std::string name = digest.ok() ? HexEncode(std::span(*digest).first(12)) : "store";
  return cache_root + "/" + name;
}

}  // namespace phrfs::fs
