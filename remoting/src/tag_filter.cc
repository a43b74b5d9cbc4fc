#include "remoting/tag_filter.h"

#include <algorithm>
#include <string>

#include "mqstore/message.h"

namespace mqremoting {

using mqstore::Result;
using mqstore::Status;

namespace {

// Java String.trim(): drops leading and trailing characters <= ' '.
std::string_view Trim(std::string_view s) {
  auto blank = [](char c) { return static_cast<unsigned char>(c) <= ' '; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

Status CheckExpressionType(std::string_view expression_type) {
  if (expression_type.empty() || expression_type == kExpressionTypeTag) return Status::OK();
  if (expression_type == kExpressionTypeSql92) {
    return Status::NotSupported("SQL92 filter expressions are not supported");
  }
  return Status::InvalidArgument("unknown subscription expression type '" +
                                 std::string(expression_type) + "'");
}

// The non-empty trimmed pieces of `expression` between "||".
std::vector<std::string_view> SplitTags(std::string_view expression) {
  std::vector<std::string_view> tags;
  while (true) {
    size_t bar = expression.find("||");
    std::string_view tag = Trim(expression.substr(0, bar));
    if (!tag.empty()) tags.push_back(tag);
    if (bar == std::string_view::npos) break;
    expression.remove_prefix(bar + 2);
  }
  return tags;
}

}  // namespace

TagFilter TagFilter::OfTags(const std::vector<std::string_view>& tags) {
  TagFilter filter;
  for (std::string_view tag : tags) {
    if (tag == kSubscribeAll) return TagFilter();
  }
  filter.matches_all_ = false;
  for (std::string_view tag : tags) {
    if (std::find(filter.tags_.begin(), filter.tags_.end(), tag) != filter.tags_.end()) continue;
    filter.tags_.emplace_back(tag);
    int64_t code = mqstore::TagsHashCode(tag);
    filter.sorted_codes_.push_back(code);
    if (code == 0) filter.has_zero_code_ = true;
  }
  std::sort(filter.sorted_codes_.begin(), filter.sorted_codes_.end());
  filter.sorted_codes_.erase(std::unique(filter.sorted_codes_.begin(), filter.sorted_codes_.end()),
                             filter.sorted_codes_.end());
  return filter;
}

std::vector<int32_t> TagFilter::codes() const {
  // TagsHashCode is a sign-extended int32, so the narrowing keeps the value.
  return std::vector<int32_t>(sorted_codes_.begin(), sorted_codes_.end());
}

bool TagFilter::MatchesTagsCode(int64_t tags_code) const {
  if (matches_all_) return true;
  if (tags_code == 0) return has_zero_code_;
  return std::binary_search(sorted_codes_.begin(), sorted_codes_.end(), tags_code);
}

bool TagFilter::MatchesTag(std::string_view tag) const {
  if (matches_all_) return true;
  return std::find(tags_.begin(), tags_.end(), tag) != tags_.end();
}

bool TagFilter::NeedsTagCheck(int64_t tags_code) const {
  return !matches_all_ && tags_code == 0 && has_zero_code_;
}

Result<TagFilter> ParseTagExpression(std::string_view expression,
                                     std::string_view expression_type) {
  MQ_RETURN_IF_ERROR(CheckExpressionType(expression_type));
  std::string_view trimmed = Trim(expression);
  if (trimmed.empty() || trimmed == kSubscribeAll) return TagFilter();
  std::vector<std::string_view> tags = SplitTags(trimmed);
  if (tags.empty()) {
    return Status::InvalidArgument("subscription expression '" + std::string(expression) +
                                   "' names no tag");
  }
  return TagFilter::OfTags(tags);
}

Result<TagFilter> TagFilterFromSubscription(const SubscriptionData& sub) {
  MQ_RETURN_IF_ERROR(CheckExpressionType(sub.expression_type));
  // "*" wins over any tags, as on a Java broker.
  if (Trim(sub.sub_string) == kSubscribeAll) return TagFilter();
  std::vector<std::string_view> tags;
  for (const std::string& tag : sub.tags_set) {
    std::string_view trimmed = Trim(tag);
    if (!trimmed.empty()) tags.push_back(trimmed);
  }
  if (tags.empty()) return ParseTagExpression(sub.sub_string, sub.expression_type);
  return TagFilter::OfTags(tags);
}

}  // namespace mqremoting
