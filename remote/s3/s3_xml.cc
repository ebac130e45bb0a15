#include "remote/s3/s3_xml.h"

#include <charconv>

#include "remote/http/xml.h"

namespace phrfs::remote::s3 {
namespace {

using http::XmlDocument;
using http::XmlNode;

// Parses and checks the root element's local name; the namespace is taken from the root.
Result<XmlDocument> ParseRoot(std::span<const uint8_t> body, std::string_view root_name) {
  auto doc = XmlDocument::Parse(body);
  if (!doc.ok()) {
    return Status::Corrupt("S3 " + std::string(root_name) + ": " + doc.status().message());
  }
  if (doc->Root().LocalName() != root_name) {
    return Status::Corrupt("S3: expected <" + std::string(root_name) + ">, got <" +
                           std::string(doc->Root().LocalName()) + ">");
  }
  return std::move(doc).value();
}

std::string ChildText(const XmlNode& node, std::string_view name) {
  return node.ChildText(node.NamespaceUri(), name).value_or("");
}

Status ErrorInBody(const S3Error& e, std::string_view what) {
  std::string message = "S3 " + std::string(what) + ": " + e.code;
  if (!e.message.empty()) message += " (" + e.message + ")";
  if (e.code == "InternalError" || e.code == "SlowDown" || e.code == "ServiceUnavailable") {
    return Status::Error(Code::kUnavailable, message);
  }
  if (e.code == "PreconditionFailed") return Status::PreconditionFailed(message);
  return Status::IoError(message);
}

Result<std::string> ParseETagResult(std::span<const uint8_t> body, std::string_view root_name,
                                    bool allow_empty) {
  if (std::optional<S3Error> e = ParseError(body)) return ErrorInBody(*e, root_name);
  PHRFS_ASSIGN_OR_RETURN(XmlDocument doc, ParseRoot(body, root_name));
  std::string etag = UnquoteETag(ChildText(doc.Root(), "ETag"));
  if (etag.empty() && !allow_empty) {
    return Status::Corrupt("S3 " + std::string(root_name) + ": no ETag");
  }
  return etag;
}

}  // namespace

std::string UnquoteETag(std::string_view etag) {
  if (etag.starts_with("W/")) etag.remove_prefix(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  } else if (etag.size() >= 12 && etag.starts_with("&quot;") && etag.ends_with("&quot;")) {
    etag = etag.substr(6, etag.size() - 12);
  }
  return std::string(etag);
}

Result<ListPage> ParseListObjectsV2(std::span<const uint8_t> body) {
  PHRFS_ASSIGN_OR_RETURN(XmlDocument doc, ParseRoot(body, "ListBucketResult"));
  XmlNode root = doc.Root();
  std::string_view ns = root.NamespaceUri();
  ListPage page;
  for (const XmlNode& c : root.Children(ns, "Contents")) {
    ListedObject o;
    o.key = ChildText(c, "Key");
    if (o.key.empty()) return Status::Corrupt("S3 list: <Contents> without a <Key>");
    std::string size = ChildText(c, "Size");
    auto [end, ec] = std::from_chars(size.data(), size.data() + size.size(), o.size);
    if (ec != std::errc() || end != size.data() + size.size()) {
      return Status::Corrupt("S3 list: bad <Size> '" + size + "' for " + o.key);
    }
    o.etag = UnquoteETag(ChildText(c, "ETag"));
    page.objects.push_back(std::move(o));
  }
  for (const XmlNode& p : root.Children(ns, "CommonPrefixes")) {
    std::string prefix = ChildText(p, "Prefix");
    if (prefix.empty()) return Status::Corrupt("S3 list: <CommonPrefixes> without a <Prefix>");
    page.common_prefixes.push_back(std::move(prefix));
  }
  std::string truncated = ChildText(root, "IsTruncated");
  if (truncated != "true" && truncated != "false") {
    return Status::Corrupt("S3 list: bad <IsTruncated> '" + truncated + "'");
  }
  page.is_truncated = truncated == "true";
  if (page.is_truncated) {
    page.next_continuation_token = ChildText(root, "NextContinuationToken");
    if (page.next_continuation_token.empty()) {
      return Status::Corrupt("S3 list: truncated page without <NextContinuationToken>");
    }
  }
  return page;
}

Result<std::string> ParseInitiateMultipartUpload(std::span<const uint8_t> body) {
  PHRFS_ASSIGN_OR_RETURN(XmlDocument doc, ParseRoot(body, "InitiateMultipartUploadResult"));
  std::string id = ChildText(doc.Root(), "UploadId");
  if (id.empty()) return Status::Corrupt("S3 initiate multipart: no <UploadId>");
  return id;
}

Result<std::string> ParseCompleteMultipartUpload(std::span<const uint8_t> body) {
  return ParseETagResult(body, "CompleteMultipartUploadResult", /*allow_empty=*/true);
}

Result<std::string> ParseCopyObject(std::span<const uint8_t> body) {
  return ParseETagResult(body, "CopyObjectResult", /*allow_empty=*/false);
}

std::optional<S3Error> ParseError(std::span<const uint8_t> body) {
  if (body.empty()) return std::nullopt;
  auto doc = XmlDocument::Parse(body);
  if (!doc.ok() || doc->Root().LocalName() != "Error") return std::nullopt;
  S3Error e;
  e.code = ChildText(doc->Root(), "Code");
  e.message = ChildText(doc->Root(), "Message");
  return e;
}

}  // namespace phrfs::remote::s3
