#include "remoting/lock_batch_body.h"

#include <exception>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

#include "json_fields.h"

namespace mqremoting {

using mqstore::Result;
using mqstore::Status;
using nlohmann::json;

namespace {

Status Malformed(std::string_view body, const std::string& path, std::string_view what) {
  return Status::InvalidArgument(std::string(body) + ": " + path + " " + std::string(what));
}

Result<MessageQueue> ParseQueue(std::string_view body, const json& object,
                                const std::string& where) {
  if (!object.is_object()) return Malformed(body, where, "is not an object");
  MessageQueue queue;
  const json* topic = FindField(object, "topic");
  if (topic == nullptr || !topic->is_string() || topic->get_ref<const std::string&>().empty()) {
    return Malformed(body, where + ".topic", "is missing or not a non-empty string");
  }
  queue.topic = topic->get<std::string>();
  const json* broker = FindField(object, "brokerName");
  if (broker == nullptr || !broker->is_string()) {
    return Malformed(body, where + ".brokerName", "is missing or not a string");
  }
  queue.broker_name = broker->get<std::string>();
  const json* id = FindField(object, "queueId");
  if (id == nullptr || !(id->is_number_integer() || id->is_number_unsigned())) {
    return Malformed(body, where + ".queueId", "is missing or not an integer");
  }
  bool in_range =
      id->is_number_unsigned()
          ? id->get<uint64_t>() <= std::numeric_limits<int32_t>::max()
          : id->get<int64_t>() >= 0 && id->get<int64_t>() <= std::numeric_limits<int32_t>::max();
  if (!in_range) return Malformed(body, where + ".queueId", "is out of range");
  queue.queue_id = static_cast<int32_t>(id->get<int64_t>());
  return queue;
}

// The queues of the array under `key` (absent or null = none).
Result<std::vector<MessageQueue>> ParseQueues(std::string_view body, const json& root,
                                              const char* key) {
  std::vector<MessageQueue> queues;
  const json* array = FindField(root, key);
  if (array == nullptr) return queues;
  if (!array->is_array()) return Malformed(body, key, "is not an array");
  queues.reserve(array->size());
  for (size_t i = 0; i < array->size(); ++i) {
    std::string where = std::string(key) + "[" + std::to_string(i) + "]";
    MQ_ASSIGN_OR_RETURN(MessageQueue queue, ParseQueue(body, (*array)[i], where));
    queues.push_back(std::move(queue));
  }
  return queues;
}

Result<json> ParseObject(std::string_view body, std::string_view text) {
  json root = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return Malformed(body, "body", "is not valid JSON");
  if (!root.is_object()) return Malformed(body, "body", "is not a JSON object");
  return root;
}

json QueuesJson(const std::vector<MessageQueue>& queues) {
  json array = json::array();
  for (const MessageQueue& queue : queues) {
    array.push_back(
        {{"brokerName", queue.broker_name}, {"queueId", queue.queue_id}, {"topic", queue.topic}});
  }
  return array;
}

// Invalid UTF-8 in a string is replaced instead of making dump() throw.
std::string Dump(const json& value) {
  return value.dump(-1, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace);
}

constexpr std::string_view kRequestBody = "lock batch request body";
constexpr std::string_view kResponseBody = "lock batch response body";

Result<LockBatchRequestBody> ParseRequest(std::string_view text) {
  MQ_ASSIGN_OR_RETURN(json root, ParseObject(kRequestBody, text));
  LockBatchRequestBody request;
  const json* group = FindField(root, "consumerGroup");
  if (group == nullptr || !group->is_string() || group->get_ref<const std::string&>().empty()) {
    return Malformed(kRequestBody, "consumerGroup", "is missing or not a non-empty string");
  }
  request.consumer_group = group->get<std::string>();
  const json* client = FindField(root, "clientId");
  if (client == nullptr || !client->is_string() || client->get_ref<const std::string&>().empty()) {
    return Malformed(kRequestBody, "clientId", "is missing or not a non-empty string");
  }
  request.client_id = client->get<std::string>();
  if (const json* only = FindField(root, "onlyThisBroker")) {
    if (!only->is_boolean()) return Malformed(kRequestBody, "onlyThisBroker", "is not a boolean");
    request.only_this_broker = only->get<bool>();
  }
  MQ_ASSIGN_OR_RETURN(request.mq_set, ParseQueues(kRequestBody, root, "mqSet"));
  return request;
}

}  // namespace

Result<LockBatchRequestBody> ParseLockBatchRequestBody(std::string_view text) {
  try {
    return ParseRequest(text);
  } catch (const std::exception& e) {  // only allocation failures are left to throw
    return Status::InvalidArgument(std::string(kRequestBody) + ": " + e.what());
  }
}

std::string EncodeLockBatchRequestBody(const LockBatchRequestBody& body) {
  return Dump(json{{"consumerGroup", body.consumer_group},
                   {"clientId", body.client_id},
                   {"onlyThisBroker", body.only_this_broker},
                   {"mqSet", QueuesJson(body.mq_set)}});
}

std::string EncodeLockBatchResponseBody(const std::vector<MessageQueue>& locked) {
  return Dump(json{{"lockOKMQSet", QueuesJson(locked)}});
}

Result<std::vector<MessageQueue>> ParseLockBatchResponseBody(std::string_view text) {
  try {
    MQ_ASSIGN_OR_RETURN(json root, ParseObject(kResponseBody, text));
    return ParseQueues(kResponseBody, root, "lockOKMQSet");
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string(kResponseBody) + ": " + e.what());
  }
}

}  // namespace mqremoting
