// ExtFields: the custom header of a remoting command, field name -> value as text, sorted by
// name (byte order; ACL signing and our JSON encoder rely on it).
//
// A flat sorted vector rather than a std::map: a command carries about a dozen short fields
// and is built and read once, so one allocation and a binary search beat a heap node per
// field, which made malloc/free and string compares a fifth of a client's send path.
#ifndef REMOTING_EXT_FIELDS_H_
#define REMOTING_EXT_FIELDS_H_

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mqremoting {

class ExtFields {
 public:
  using value_type = std::pair<std::string, std::string>;
  using iterator = std::vector<value_type>::iterator;
  using const_iterator = std::vector<value_type>::const_iterator;

  ExtFields() = default;
  // Later duplicates replace earlier ones, as repeated assignments would.
  ExtFields(std::initializer_list<value_type> fields);

  // The value under `key`, inserted empty when absent. Appending keys in increasing order
  // (what encoders do) costs no search.
  std::string& operator[](std::string_view key);

  const_iterator find(std::string_view key) const;
  iterator find(std::string_view key);
  // The value under `key`, or nullptr.
  const std::string* Get(std::string_view key) const;

  iterator erase(const_iterator position) { return fields_.erase(position); }
  // Removes `key`; returns how many fields were removed (0 or 1).
  size_t erase(std::string_view key);
  void clear() { fields_.clear(); }
  void reserve(size_t n) { fields_.reserve(n); }

  size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }
  const_iterator begin() const { return fields_.begin(); }
  const_iterator end() const { return fields_.end(); }

  bool operator==(const ExtFields& other) const { return fields_ == other.fields_; }
  bool operator!=(const ExtFields& other) const { return fields_ != other.fields_; }

 private:
  // The first field whose name is not less than `key`.
  const_iterator LowerBound(std::string_view key) const;

  std::vector<value_type> fields_;  // sorted by first, names unique
};

}  // namespace mqremoting

#endif  // REMOTING_EXT_FIELDS_H_
