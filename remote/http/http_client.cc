// The transport-independent parts of http_client.h: header lookup on a Response.
#include "remote/http/http_client.h"

#include <strings.h>

namespace phrfs::remote::http {

std::optional<std::string> Response::Find(std::string_view name) const {
  for (const Header& h : headers) {
    if (h.name.size() == name.size() && strncasecmp(h.name.data(), name.data(), name.size()) == 0) {
      return h.value;
    }
  }
  return std::nullopt;
}

}  // namespace phrfs::remote::http
