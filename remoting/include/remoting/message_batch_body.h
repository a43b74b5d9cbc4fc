// The body of SEND_BATCH_MESSAGE (320): RocketMQ's MessageDecoder.encodeMessages, one item per
// message, back to back (docs/format/broker-bodies.md):
//
//   [int32 totalSize][int32 magic = 0][int32 bodyCRC = 0][int32 flag][int32 bodyLength][body]
//   [int16 propertiesLength][properties]            (big-endian; totalSize counts it all)
//
// client-lite encodes it; the broker decodes it and stores each item as its own message.
#ifndef REMOTING_MESSAGE_BATCH_BODY_H_
#define REMOTING_MESSAGE_BATCH_BODY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mqstore/status.h"

namespace mqremoting {

// One message of a batch; views into the decoded body.
struct BatchItem {
  int32_t flag = 0;
  std::string_view body;
  std::string_view properties;  // encoded as a message's properties
};

// Appends one item to `*out`. kInvalidArgument when the properties pass the 16-bit length
// (32,767 bytes) or the item the 32-bit total size; `*out` is then unchanged.
mqstore::Status AppendBatchItem(int32_t flag, std::string_view body, std::string_view properties,
                                std::string* out);

// The items of `body`, in order. kInvalidArgument naming the item whose sizes do not add up,
// or for an empty body.
mqstore::Result<std::vector<BatchItem>> DecodeBatchBody(std::string_view body);

}  // namespace mqremoting

#endif  // REMOTING_MESSAGE_BATCH_BODY_H_
