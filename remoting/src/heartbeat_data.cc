#include "remoting/heartbeat_data.h"

#include <cmath>
#include <exception>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "json_fields.h"

namespace mqremoting {

using mqstore::Result;
using mqstore::Status;
using nlohmann::json;

namespace {

constexpr std::string_view kBody = "heartbeat body";

Status Malformed(const std::string& path, std::string_view what) {
  return MalformedField(kBody, path, what);
}

Result<ConsumerData> ParseConsumer(const json& object, const std::string& where) {
  if (!object.is_object()) return Malformed(where, "is not an object");
  ConsumerData consumer;
  MQ_RETURN_IF_ERROR(
      ReadStringField(kBody, object, "groupName", where, true, &consumer.group_name));
  if (consumer.group_name.empty()) return Malformed(JoinPath(where, "groupName"), "is empty");
  MQ_RETURN_IF_ERROR(
      ReadStringField(kBody, object, "consumeType", where, false, &consumer.consume_type));
  MQ_RETURN_IF_ERROR(
      ReadStringField(kBody, object, "messageModel", where, false, &consumer.message_model));
  MQ_RETURN_IF_ERROR(ReadStringField(kBody, object, "consumeFromWhere", where, false,
                                     &consumer.consume_from_where));
  MQ_RETURN_IF_ERROR(ReadBoolField(kBody, object, "unitMode", where, &consumer.unit_mode));
  MQ_ASSIGN_OR_RETURN(const json* subs,
                      FindArrayField(kBody, object, "subscriptionDataSet", where));
  if (subs != nullptr) {
    std::string path = JoinPath(where, "subscriptionDataSet");
    for (size_t i = 0; i < subs->size(); ++i) {
      MQ_ASSIGN_OR_RETURN(SubscriptionData sub,
                          ParseSubscriptionJson(kBody, (*subs)[i], IndexPath(path, i)));
      consumer.subscriptions.push_back(std::move(sub));
    }
  }
  return consumer;
}

Result<ProducerData> ParseProducer(const json& object, const std::string& where) {
  if (!object.is_object()) return Malformed(where, "is not an object");
  ProducerData producer;
  MQ_RETURN_IF_ERROR(
      ReadStringField(kBody, object, "groupName", where, true, &producer.group_name));
  if (producer.group_name.empty()) return Malformed(JoinPath(where, "groupName"), "is empty");
  return producer;
}

Result<HeartbeatData> ParseHeartbeatObject(const json& root) {
  if (!root.is_object()) return Malformed("body", "is not a JSON object");
  HeartbeatData data;
  MQ_RETURN_IF_ERROR(ReadStringField(kBody, root, "clientID", "", true, &data.client_id));
  if (data.client_id.empty()) return Malformed("clientID", "is empty");
  MQ_RETURN_IF_ERROR(
      ReadInt64Field(kBody, root, "heartbeatFingerprint", "", &data.heartbeat_fingerprint));
  MQ_RETURN_IF_ERROR(ReadBoolField(kBody, root, "withoutSub", "", &data.without_sub));

  MQ_ASSIGN_OR_RETURN(const json* producers, FindArrayField(kBody, root, "producerDataSet", ""));
  if (producers != nullptr) {
    for (size_t i = 0; i < producers->size(); ++i) {
      MQ_ASSIGN_OR_RETURN(ProducerData producer,
                          ParseProducer((*producers)[i], IndexPath("producerDataSet", i)));
      data.producers.push_back(std::move(producer));
    }
  }
  MQ_ASSIGN_OR_RETURN(const json* consumers, FindArrayField(kBody, root, "consumerDataSet", ""));
  if (consumers != nullptr) {
    for (size_t i = 0; i < consumers->size(); ++i) {
      MQ_ASSIGN_OR_RETURN(ConsumerData consumer,
                          ParseConsumer((*consumers)[i], IndexPath("consumerDataSet", i)));
      data.consumers.push_back(std::move(consumer));
    }
  }
  return data;
}

}  // namespace

Result<HeartbeatData> ParseHeartbeatData(std::string_view text) {
  try {
    json root = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (root.is_discarded()) return Malformed("body", "is not valid JSON");
    return ParseHeartbeatObject(root);
  } catch (const std::exception& e) {  // only allocation failures are left to throw
    return Status::InvalidArgument(std::string("heartbeat body: ") + e.what());
  }
}

std::string EncodeHeartbeatData(const HeartbeatData& data) {
  json producers = json::array();
  for (const ProducerData& producer : data.producers) {
    producers.push_back({{"groupName", producer.group_name}});
  }
  json consumers = json::array();
  for (const ConsumerData& consumer : data.consumers) {
    json subs = json::array();
    for (const SubscriptionData& sub : consumer.subscriptions) {
      subs.push_back(SubscriptionJson(sub));
    }
    consumers.push_back({{"groupName", consumer.group_name},
                         {"consumeType", consumer.consume_type},
                         {"messageModel", consumer.message_model},
                         {"consumeFromWhere", consumer.consume_from_where},
                         {"unitMode", consumer.unit_mode},
                         {"subscriptionDataSet", std::move(subs)}});
  }
  json root = {{"clientID", data.client_id},
               {"producerDataSet", std::move(producers)},
               {"consumerDataSet", std::move(consumers)},
               {"heartbeatFingerprint", data.heartbeat_fingerprint},
               {"withoutSub", data.without_sub}};
  return DumpJson(root);
}

std::string EncodeConsumerIdList(const std::vector<std::string>& consumer_ids) {
  return DumpJson(json{{"consumerIdList", consumer_ids}});
}

Result<std::vector<std::string>> ParseConsumerIdList(std::string_view text) {
  try {
    json root = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (root.is_discarded() || !root.is_object()) {
      return Status::InvalidArgument("consumer id list: body is not a JSON object");
    }
    auto it = root.find("consumerIdList");
    if (it == root.end() || !it->is_array()) {
      return Status::InvalidArgument("consumer id list: consumerIdList is missing or not an array");
    }
    std::vector<std::string> ids;
    ids.reserve(it->size());
    for (const json& id : *it) {
      if (!id.is_string()) {
        return Status::InvalidArgument("consumer id list: an entry is not a string");
      }
      ids.push_back(id.get<std::string>());
    }
    return ids;
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("consumer id list: ") + e.what());
  }
}

}  // namespace mqremoting
