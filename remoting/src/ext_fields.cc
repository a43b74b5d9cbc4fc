#include "remoting/ext_fields.h"

#include <algorithm>
#include <tuple>

namespace mqremoting {

namespace {
// Byte-wise `a < b`, the order std::string has; inline, as names are a few bytes and a call
// to memcmp per step of the search cost more than the compare.
inline bool NameLess(std::string_view a, std::string_view b) {
  const size_t common = std::min(a.size(), b.size());
  for (size_t i = 0; i < common; ++i) {
    const auto x = static_cast<unsigned char>(a[i]);
    const auto y = static_cast<unsigned char>(b[i]);
    if (x != y) return x < y;
  }
  return a.size() < b.size();
}
}  // namespace

ExtFields::ExtFields(std::initializer_list<value_type> fields) {
  fields_.reserve(fields.size());
  for (const value_type& field : fields) (*this)[field.first] = field.second;
}

ExtFields::const_iterator ExtFields::LowerBound(std::string_view key) const {
  return std::lower_bound(
      fields_.begin(), fields_.end(), key,
      [](const value_type& field, std::string_view name) { return NameLess(field.first, name); });
}

std::string& ExtFields::operator[](std::string_view key) {
  // The name is built in place: a temporary moved in would copy a short name twice more,
  // with a call to memmove each time (this and building the producer's header values in
  // place halved the memmove samples of a client's send path; benchmarks.md).
  if (fields_.empty() || NameLess(fields_.back().first, key)) {
    return fields_
        .emplace_back(std::piecewise_construct, std::forward_as_tuple(key), std::tuple<>())
        .second;
  }
  const size_t index = static_cast<size_t>(LowerBound(key) - fields_.begin());
  if (fields_[index].first == key) return fields_[index].second;
  return fields_
      .emplace(fields_.begin() + static_cast<std::ptrdiff_t>(index), std::piecewise_construct,
               std::forward_as_tuple(key), std::tuple<>())
      ->second;
}

ExtFields::const_iterator ExtFields::find(std::string_view key) const {
  const_iterator it = LowerBound(key);
  return it != fields_.end() && it->first == key ? it : fields_.end();
}

ExtFields::iterator ExtFields::find(std::string_view key) {
  const_iterator it = std::as_const(*this).find(key);
  return fields_.begin() + (it - fields_.cbegin());
}

const std::string* ExtFields::Get(std::string_view key) const {
  const_iterator it = find(key);
  return it == fields_.end() ? nullptr : &it->second;
}

size_t ExtFields::erase(std::string_view key) {
  const_iterator it = find(key);
  if (it == fields_.end()) return 0;
  fields_.erase(it);
  return 1;
}

}  // namespace mqremoting
