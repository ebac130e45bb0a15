// libxml2 behind xml.h: options that forbid the network and entity expansion, and a document that
// frees itself.
#include "remote/http/xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include <limits>
#include <mutex>

namespace phrfs::remote::http {
namespace {

std::string_view View(const xmlChar* s) {
  return s == nullptr ? std::string_view() : std::string_view(reinterpret_cast<const char*>(s));
}

// xmlInitParser must run once before threads parse concurrently.
void InitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { xmlInitParser(); });
}

// libxml2's default handler prints to stderr; errors come back through the return value instead.
void Silent(void*, const char*, ...) {}

}  // namespace

std::string_view XmlNode::LocalName() const { return View(node_->name); }

std::string_view XmlNode::NamespaceUri() const {
  return node_->ns == nullptr ? std::string_view() : View(node_->ns->href);
}

std::vector<XmlNode> XmlNode::Elements() const {
  std::vector<XmlNode> out;
  for (xmlNode* c = node_->children; c != nullptr; c = c->next) {
    if (c->type == XML_ELEMENT_NODE) out.emplace_back(c);
  }
  return out;
}

std::vector<XmlNode> XmlNode::Children(std::string_view ns, std::string_view local) const {
  std::vector<XmlNode> out;
  for (xmlNode* c = node_->children; c != nullptr; c = c->next) {
    if (c->type == XML_ELEMENT_NODE && XmlNode(c).Is(ns, local)) out.emplace_back(c);
  }
  return out;
}

std::optional<XmlNode> XmlNode::Child(std::string_view ns, std::string_view local) const {
  for (xmlNode* c = node_->children; c != nullptr; c = c->next) {
    if (c->type == XML_ELEMENT_NODE && XmlNode(c).Is(ns, local)) return XmlNode(c);
  }
  return std::nullopt;
}

std::string XmlNode::Text() const {
  std::unique_ptr<xmlChar, void (*)(xmlChar*)> text(xmlNodeGetContent(node_),
                                                    [](xmlChar* p) { xmlFree(p); });
  return std::string(View(text.get()));
}

std::optional<std::string> XmlNode::ChildText(std::string_view ns, std::string_view local) const {
  std::optional<XmlNode> c = Child(ns, local);
  if (!c) return std::nullopt;
  return c->Text();
}

void XmlDocument::FreeDoc::operator()(_xmlDoc* doc) const { xmlFreeDoc(doc); }

Result<XmlDocument> XmlDocument::Parse(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return Status::InvalidArgument("empty XML body");
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return Status::InvalidArgument("XML body too large");
  }
  InitOnce();
  xmlSetGenericErrorFunc(nullptr, &Silent);  // per thread in a threaded libxml2
  // No XML_PARSE_NOENT (entities stay unexpanded), no DTDLOAD, NONET: nothing is fetched.
  // Without XML_PARSE_HUGE libxml2 keeps its limits against entity amplification.
  const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
  xmlDoc* doc = xmlReadMemory(reinterpret_cast<const char*>(bytes.data()),
                              static_cast<int>(bytes.size()), "response.xml", nullptr, options);
  if (doc == nullptr) {
    const xmlError* err = xmlGetLastError();
    std::string message = "malformed XML";
    if (err != nullptr) {
      message += " at line " + std::to_string(err->line) + " column " + std::to_string(err->int2);
    }
    return Status::Corrupt(message);
  }
  XmlDocument out(doc);
  if (xmlDocGetRootElement(doc) == nullptr) return Status::Corrupt("XML without a root element");
  return out;
}

XmlNode XmlDocument::Root() const { return XmlNode(xmlDocGetRootElement(doc_.get())); }

}  // namespace phrfs::remote::http
