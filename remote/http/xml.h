// A small read-only view of an XML document (libxml2 underneath) for the WebDAV multistatus and
// S3 list/error bodies: parse bytes safely, walk children by namespace URI + local name, read
// text. Parsing never touches the network and never expands external entities.
// Thread-safe: documents are independent; one XmlDocument (and its nodes) is not shared by threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

struct _xmlDoc;
struct _xmlNode;

namespace phrfs::remote::http {

// A non-owning element handle; valid while its XmlDocument lives.
class XmlNode {
 public:
  explicit XmlNode(_xmlNode* node) : node_(node) {}

  std::string_view LocalName() const;
  // The element's namespace URI; "" for an element in no namespace.
  std::string_view NamespaceUri() const;
  bool Is(std::string_view ns, std::string_view local) const {
    return NamespaceUri() == ns && LocalName() == local;
  }
  // Child elements with this namespace URI ("" = none) and local name, in document order.
  std::vector<XmlNode> Children(std::string_view ns, std::string_view local) const;
  // All child elements, in document order.
  std::vector<XmlNode> Elements() const;
  // The first such child element, if any.
  std::optional<XmlNode> Child(std::string_view ns, std::string_view local) const;
  // The concatenated text of this element and its descendants (entities as written, not expanded).
  std::string Text() const;
  // Text() of the first such child; nullopt when there is none.
  std::optional<std::string> ChildText(std::string_view ns, std::string_view local) const;

 private:
  _xmlNode* node_;
};

class XmlDocument {
 public:
  // Corrupt on malformed XML (the message names line and column), InvalidArgument when empty.
  static Result<XmlDocument> Parse(std::span<const uint8_t> bytes);

  XmlNode Root() const;

 private:
  struct FreeDoc {
    void operator()(_xmlDoc* doc) const;
  };
  explicit XmlDocument(_xmlDoc* doc) : doc_(doc) {}
  std::unique_ptr<_xmlDoc, FreeDoc> doc_;
};

}  // namespace phrfs::remote::http
