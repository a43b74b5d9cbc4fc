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
  return MalformedField(body, path, what);
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
    MQ_ASSIGN_OR_RETURN(MessageQueue queue,
                        ParseMessageQueueJson(body, (*array)[i], IndexPath(key, i)));
    queues.push_back(std::move(queue));
  }
  return queues;
}

json QueuesJson(const std::vector<MessageQueue>& queues) {
  json array = json::array();
  for (const MessageQueue& queue : queues) array.push_back(MessageQueueJson(queue));
  return array;
}

constexpr std::string_view kRequestBody = "lock batch request body";
constexpr std::string_view kResponseBody = "lock batch response body";

Result<LockBatchRequestBody> ParseRequest(std::string_view text) {
  MQ_ASSIGN_OR_RETURN(json root, ParseJsonObject(kRequestBody, text));
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
  return DumpJson(json{{"consumerGroup", body.consumer_group},
                       {"clientId", body.client_id},
                       {"onlyThisBroker", body.only_this_broker},
                       {"mqSet", QueuesJson(body.mq_set)}});
}

std::string EncodeLockBatchResponseBody(const std::vector<MessageQueue>& locked) {
  return DumpJson(json{{"lockOKMQSet", QueuesJson(locked)}});
}

Result<std::vector<MessageQueue>> ParseLockBatchResponseBody(std::string_view text) {
  try {
    MQ_ASSIGN_OR_RETURN(json root, ParseJsonObject(kResponseBody, text));
    return ParseQueues(kResponseBody, root, "lockOKMQSet");
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string(kResponseBody) + ": " + e.what());
  }
}

}  // namespace mqremoting
