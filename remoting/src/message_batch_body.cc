#include "remoting/message_batch_body.h"

#include <limits>

#include "mqstore/coding.h"

namespace mqremoting {

namespace {
// totalSize, magic, bodyCRC, flag, bodyLength and propertiesLength.
constexpr size_t kItemOverhead = 4 * 5 + 2;
}  // namespace

mqstore::Status AppendBatchItem(int32_t flag, std::string_view body, std::string_view properties,
                                std::string* out) {
  constexpr size_t kMaxProperties = std::numeric_limits<int16_t>::max();
  if (properties.size() > kMaxProperties) {
    return mqstore::Status::InvalidArgument("the properties of a batched message take " +
                                            std::to_string(properties.size()) + " bytes; at most " +
                                            std::to_string(kMaxProperties) + " fit");
  }
  const size_t total = kItemOverhead + body.size() + properties.size();
  if (total > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return mqstore::Status::InvalidArgument("a batched message is too large");
  }
  mqstore::PutBig32(out, static_cast<uint32_t>(total));
  mqstore::PutBig32(out, 0);  // magic
  mqstore::PutBig32(out, 0);  // body CRC: the broker computes it
  mqstore::PutBig32(out, static_cast<uint32_t>(flag));
  mqstore::PutBig32(out, static_cast<uint32_t>(body.size()));
  out->append(body);
  mqstore::PutBig16(out, static_cast<uint16_t>(properties.size()));
  out->append(properties);
  return mqstore::Status::OK();
}

mqstore::Result<std::vector<BatchItem>> DecodeBatchBody(std::string_view body) {
  std::vector<BatchItem> items;
  while (!body.empty()) {
    std::string_view item_bytes = body;
    uint32_t total_size = 0;
    if (!mqstore::GetBig32(&item_bytes, &total_size) || total_size < kItemOverhead ||
        total_size > body.size()) {
      return mqstore::Status::InvalidArgument("batch message " + std::to_string(items.size()) +
                                              ": bad total size");
    }
    item_bytes = body.substr(4, total_size - 4);
    body.remove_prefix(total_size);
    uint32_t magic = 0, body_crc = 0, flag = 0, body_len = 0;
    uint16_t properties_len = 0;
    BatchItem item;
    if (!mqstore::GetBig32(&item_bytes, &magic) || !mqstore::GetBig32(&item_bytes, &body_crc) ||
        !mqstore::GetBig32(&item_bytes, &flag) || !mqstore::GetBig32(&item_bytes, &body_len) ||
        !mqstore::GetBytes(&item_bytes, body_len, &item.body) ||
        !mqstore::GetBig16(&item_bytes, &properties_len) ||
        !mqstore::GetBytes(&item_bytes, properties_len, &item.properties) || !item_bytes.empty()) {
      return mqstore::Status::InvalidArgument("batch message " + std::to_string(items.size()) +
                                              ": fields do not add up to its total size");
    }
    item.flag = static_cast<int32_t>(flag);
    items.push_back(item);
  }
  if (items.empty()) return mqstore::Status::InvalidArgument("the batch is empty");
  return items;
}

}  // namespace mqremoting
