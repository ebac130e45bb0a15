// Strict text codecs for on-disk names and config fields: base64url without padding, lowercase
// hex, lowercase base32 (RFC 4648 alphabet). Decoders reject non-canonical input. Pure, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace phrfs {

std::string Base64UrlEncode(std::span<const uint8_t> data);
// nullopt on any character outside [A-Za-z0-9-_], on '=' padding, on an impossible length
// (len % 4 == 1) or on non-zero unused trailing bits (non-canonical).
std::optional<std::vector<uint8_t>> Base64UrlDecode(std::string_view text);

std::string HexEncode(std::span<const uint8_t> data);
// nullopt on odd length or a character outside [0-9a-f] (uppercase is rejected: canonical only).
std::optional<std::vector<uint8_t>> HexDecode(std::string_view text);

// RFC 4648 base32, lowercase, no padding: store folder names and public identities.
std::string Base32LowerEncode(std::span<const uint8_t> data);
// nullopt on any character outside [a-z2-7] (uppercase and '=' too), on an impossible length
// (len % 8 in {1, 3, 6}) or on non-zero unused trailing bits (non-canonical).
std::optional<std::vector<uint8_t>> Base32LowerDecode(std::string_view text);

// Canonical unsigned decimal (config and format fields): digits only, no sign, no leading zero
// except "0" itself, fits uint64; nullopt otherwise.
std::optional<uint64_t> ParseCanonicalDecimal(std::string_view text);

// The lines of a text whose every line ends with '\n' (the config and record formats), without
// their '\n'. nullopt when the last line has none; `bad_line` (may be null) is then its number.
std::optional<std::vector<std::string_view>> SplitTerminatedLines(std::string_view text,
                                                                  size_t* bad_line = nullptr);

}  // namespace phrfs
