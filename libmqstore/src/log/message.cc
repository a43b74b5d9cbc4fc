// Message helpers declared in mqstore/message.h: properties, addresses, message ids.
#include "mqstore/message.h"

#include <charconv>
#include <cstdio>
#include <cstring>

#include "mqstore/coding.h"

namespace mqstore {

void AppendProperty(std::string_view name, std::string_view value, std::string* encoded) {
  encoded->append(name);
  encoded->push_back('\x01');
  encoded->append(value);
  encoded->push_back('\x02');
}

std::string EncodeProperties(const std::vector<std::pair<std::string, std::string>>& props) {
  std::string out;
  for (const auto& [name, value] : props) {
    if (!name.empty() && !value.empty()) AppendProperty(name, value, &out);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> DecodeProperties(std::string_view encoded) {
  std::vector<std::pair<std::string, std::string>> out;
  ForEachProperty(encoded, [&out](std::string_view name, std::string_view value) {
    out.emplace_back(std::string(name), std::string(value));
  });
  return out;
}

std::optional<std::string_view> FindProperty(std::string_view encoded, std::string_view name) {
  size_t pos = 0;
  while (pos < encoded.size()) {
    size_t end = encoded.find('\x02', pos);
    if (end == std::string_view::npos) end = encoded.size();
    std::string_view pair = encoded.substr(pos, end - pos);
    if (pair.size() > name.size() && pair[name.size()] == '\x01' &&
        pair.substr(0, name.size()) == name) {
      std::string_view value = pair.substr(name.size() + 1);
      if (!value.empty()) return value;
    }
    pos = end + 1;
  }
  return std::nullopt;
}

void Message::SetProperty(std::string name, std::string value) {
  for (auto& [n, v] : properties) {
    if (n == name) {
      v = std::move(value);
      return;
    }
  }
  properties.emplace_back(std::move(name), std::move(value));
}

MessageView Message::View(std::string* encoded_properties) const {
  *encoded_properties = EncodeProperties(properties);
  MessageView v;
  v.topic = topic;
  v.queue_id = queue_id;
  v.body = body;
  v.flag = flag;
  v.properties = *encoded_properties;
  v.sys_flag = sys_flag;
  v.born_timestamp_ms = born_timestamp_ms;
  v.born_host = born_host;
  v.reconsume_times = reconsume_times;
  return v;
}

std::optional<SocketAddress> SocketAddress::Parse(std::string_view text) {
  SocketAddress a;
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  int p = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || ptr != port.data() + port.size() || p < 0 || p > 65535) {
    return std::nullopt;
  }
  a.port = p;
  if (!host.empty() && host.front() == '[') {
    // IPv6: only the full 8-group form without "::" compression is needed by tests and
    // config files today; anything else is rejected rather than misread.
    if (host.back() != ']') return std::nullopt;
    host = host.substr(1, host.size() - 2);
    a.ipv6 = true;
    for (int g = 0; g < 8; ++g) {
      size_t end = host.find(':');
      std::string_view part = host.substr(0, end);
      unsigned v = 0;
      auto [pp, e] = std::from_chars(part.data(), part.data() + part.size(), v, 16);
      if (e != std::errc() || pp != part.data() + part.size() || v > 0xFFFF) return std::nullopt;
      a.ip[2 * g] = static_cast<uint8_t>(v >> 8);
      a.ip[2 * g + 1] = static_cast<uint8_t>(v);
      if ((end == std::string_view::npos) != (g == 7)) return std::nullopt;
      if (end != std::string_view::npos) host.remove_prefix(end + 1);
    }
    return a;
  }
  for (int i = 0; i < 4; ++i) {
    size_t end = host.find('.');
    std::string_view part = host.substr(0, end);
    unsigned v = 0;
    auto [pp, e] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (e != std::errc() || pp != part.data() + part.size() || v > 255) return std::nullopt;
    a.ip[i] = static_cast<uint8_t>(v);
    if ((end == std::string_view::npos) != (i == 3)) return std::nullopt;
    if (end != std::string_view::npos) host.remove_prefix(end + 1);
  }
  return a;
}

std::string SocketAddress::ToString() const {
  char buf[64];
  if (ipv6) {
    std::string s = "[";
    for (int g = 0; g < 8; ++g) {
      std::snprintf(buf, sizeof(buf), g ? ":%x" : "%x", (ip[2 * g] << 8) | ip[2 * g + 1]);
      s += buf;
    }
    std::snprintf(buf, sizeof(buf), "]:%d", port);
    return s + buf;
  }
  std::snprintf(buf, sizeof(buf), "%u.%u.%u.%u:%d", ip[0], ip[1], ip[2], ip[3], port);
  return buf;
}

std::string MakeOffsetMessageId(const SocketAddress& store_host, int64_t physical_offset) {
  char raw[28];
  size_t n = store_host.ipv6 ? 16 : 4;
  std::memcpy(raw, store_host.ip.data(), n);
  EncodeBig32(raw + n, static_cast<uint32_t>(store_host.port));
  EncodeBig64(raw + n + 4, static_cast<uint64_t>(physical_offset));
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string id((n + 12) * 2, '\0');  // sized once: this runs for every message sent
  for (size_t i = 0; i < n + 12; ++i) {
    id[2 * i] = kHex[static_cast<unsigned char>(raw[i]) >> 4];
    id[2 * i + 1] = kHex[static_cast<unsigned char>(raw[i]) & 0xF];
  }
  return id;
}

std::optional<std::pair<SocketAddress, int64_t>> DecodeOffsetMessageId(std::string_view id) {
  if (id.size() != 32 && id.size() != 56) return std::nullopt;
  char raw[28];
  for (size_t i = 0; i < id.size() / 2; ++i) {
    unsigned v = 0;
    auto [p, e] = std::from_chars(id.data() + 2 * i, id.data() + 2 * i + 2, v, 16);
    if (e != std::errc() || p != id.data() + 2 * i + 2) return std::nullopt;
    raw[i] = static_cast<char>(v);
  }
  SocketAddress a;
  a.ipv6 = id.size() == 56;
  size_t n = a.ipv6 ? 16 : 4;
  std::memcpy(a.ip.data(), raw, n);
  a.port = static_cast<int32_t>(DecodeBig32(raw + n));
  return std::make_pair(a, static_cast<int64_t>(DecodeBig64(raw + n + 4)));
}

}  // namespace mqstore
