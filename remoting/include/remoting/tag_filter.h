// Tag filtering of a subscription: which messages it wants. The broker filters PULL_MESSAGE
// results with it and the client re-checks what it receives, as RocketMQ's clients do. A
// subscription is a TAG expression, "*" (everything) or tags joined by "||"
// ("TagA || TagB"). The consume queue keeps the Java String.hashCode() of each message's tag
// (mqstore::TagsHashCode; 0 when the message has no tag), so filtering is two steps:
//
//   MatchesTagsCode(entry.tags_code)   cheap, from the consume queue alone
//   MatchesTag(record's TAGS value)    exact, once the record has been read
//
// A message without a tag matches only "*". Because its code is 0, the code step lets 0
// through only when a subscribed tag itself hashes to 0; the exact step then tells the two
// apart (NeedsTagCheck says when that is required). Other hash collisions between different
// tags are left to the client, which re-checks the tag string as RocketMQ clients do.
//
// SQL92 expressions are not supported (kNotSupported: the pull processor answers
// SUBSCRIPTION_PARSE_FAILED). Immutable once built; safe to share between threads.
#ifndef REMOTING_TAG_FILTER_H_
#define REMOTING_TAG_FILTER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mqstore/status.h"
#include "remoting/heartbeat_data.h"

namespace mqremoting {

class TagFilter {
 public:
  // Matches everything.
  TagFilter() = default;

  bool matches_all() const { return matches_all_; }
  // The subscribed tags without duplicates, in expression order; empty when matches_all().
  const std::vector<std::string>& tags() const { return tags_; }
  // TagsHashCode of every tag, sorted, without duplicates (a subscription's codeSet).
  std::vector<int32_t> codes() const;

  // Whether an entry with this consume-queue tags code may match.
  bool MatchesTagsCode(int64_t tags_code) const;
  // Whether a message whose TAGS property is `tag` matches (pass "" for a message without
  // TAGS: it matches only matches_all()).
  bool MatchesTag(std::string_view tag) const;
  // True when MatchesTagsCode(tags_code) holds but only MatchesTag can decide: the code is 0
  // and a subscribed tag hashes to 0, so an untagged message looks the same as a tagged one.
  bool NeedsTagCheck(int64_t tags_code) const;

 private:
  friend mqstore::Result<TagFilter> ParseTagExpression(std::string_view expression,
                                                       std::string_view expression_type);
  friend mqstore::Result<TagFilter> TagFilterFromSubscription(const SubscriptionData& sub);
  static TagFilter OfTags(const std::vector<std::string_view>& tags);

  bool matches_all_ = true;
  std::vector<std::string> tags_;
  std::vector<int64_t> sorted_codes_;  // TagsHashCode of tags_, sorted, unique
  bool has_zero_code_ = false;
};

// Builds the filter for a subscription expression. `expression_type` "" or "TAG" is a tag
// expression: "*" or blank = everything; otherwise tags split on "||", trimmed, empty pieces
// dropped, and a "*" among them means everything. Errors: kNotSupported for SQL92,
// kInvalidArgument for other types and for an expression without any tag (" || ").
mqstore::Result<TagFilter> ParseTagExpression(std::string_view expression,
                                              std::string_view expression_type);

// The filter of a subscription registered by heartbeat: everything when its sub_string is
// "*"; else its tags_set when that has a tag (the client already split the expression; the
// codes are recomputed from the tags, so the exact tag check stays possible); else its
// sub_string. Same errors as ParseTagExpression.
mqstore::Result<TagFilter> TagFilterFromSubscription(const SubscriptionData& sub);

}  // namespace mqremoting

#endif  // REMOTING_TAG_FILTER_H_
