// mqdump meta: the metadata store (meta/, LMDB), opened read-only.
#include <iostream>

#include "commands.h"
#include "format.h"
#include "mqstore/inspect.h"
#include "mqstore/metadata.h"
#include "record_output.h"

namespace mqdump {
namespace {

// RocketMQ's PermName.perm2String: R, W, X (inherit).
std::string PermText(int32_t perm) {
  std::string s = std::to_string(perm) + " (";
  s += (perm & mqstore::perm::kRead) ? 'R' : '-';
  s += (perm & mqstore::perm::kWrite) ? 'W' : '-';
  s += (perm & mqstore::perm::kInherit) ? 'X' : '-';
  return s + ")";
}

const char* FilterName(mqstore::TopicFilterType t) {
  return t == mqstore::TopicFilterType::kMultiTag ? "multi_tag" : "single_tag";
}

std::string YesNo(bool b) { return b ? "yes" : "no"; }

std::string AttributesText(const std::map<std::string, std::string>& attributes) {
  std::string s = "{";
  for (const auto& [key, value] : attributes) {
    if (s.size() > 1) s += ", ";
    s += Escape(key) + "=" + Escape(value);
  }
  return s + "}";
}

nlohmann::json SnapshotJson(const mqstore::MetadataSnapshot& m) {
  nlohmann::json j;
  j["dir"] = m.dir;
  j["topics"] = nlohmann::json::array();
  for (const auto& t : m.topics) {
    j["topics"].push_back({{"name", t.name},
                           {"read_queue_nums", t.read_queue_nums},
                           {"write_queue_nums", t.write_queue_nums},
                           {"perm", t.perm},
                           {"filter_type", FilterName(t.filter_type)},
                           {"topic_sys_flag", t.topic_sys_flag},
                           {"order", t.order},
                           {"attributes", t.attributes}});
  }
  j["groups"] = nlohmann::json::array();
  for (const auto& g : m.groups) {
    j["groups"].push_back(
        {{"group_name", g.group_name},
         {"consume_enable", g.consume_enable},
         {"consume_from_min_enable", g.consume_from_min_enable},
         {"consume_broadcast_enable", g.consume_broadcast_enable},
         {"consume_message_orderly", g.consume_message_orderly},
         {"retry_queue_nums", g.retry_queue_nums},
         {"retry_max_times", g.retry_max_times},
         {"broker_id", g.broker_id},
         {"which_broker_when_consume_slowly", g.which_broker_when_consume_slowly},
         {"notify_consumer_ids_changed_enable", g.notify_consumer_ids_changed_enable},
         {"group_sys_flag", g.group_sys_flag},
         {"consume_timeout_minute", g.consume_timeout_minute},
         {"attributes", g.attributes}});
  }
  j["offsets"] = nlohmann::json::array();
  for (const auto& o : m.offsets) {
    j["offsets"].push_back({{"group", o.group},
                            {"topic", o.offset.topic},
                            {"queue_id", o.offset.queue_id},
                            {"offset", o.offset.offset}});
  }
  j["schedule"] = nlohmann::json::array();
  for (const auto& p : m.schedule) {
    j["schedule"].push_back(
        {{"name", p.name}, {"offset", p.offset}, {"timestamp_ms", p.timestamp_ms}});
  }
  return j;
}

void PrintSnapshotText(const mqstore::MetadataSnapshot& m) {
  PrintField("metadata", m.dir);
  PrintField("topics", std::to_string(m.topics.size()));
  for (const auto& t : m.topics) {
    std::cout << "  " << Escape(t.name) << " read_queues=" << t.read_queue_nums
              << " write_queues=" << t.write_queue_nums << " perm=" << PermText(t.perm)
              << " filter=" << FilterName(t.filter_type) << " order=" << YesNo(t.order)
              << " sys_flag=" << t.topic_sys_flag;
    if (!t.attributes.empty()) std::cout << " attributes=" << AttributesText(t.attributes);
    std::cout << "\n";
  }
  PrintField("subscription groups", std::to_string(m.groups.size()));
  for (const auto& g : m.groups) {
    std::cout << "  " << Escape(g.group_name) << " consume=" << YesNo(g.consume_enable)
              << " from_min=" << YesNo(g.consume_from_min_enable)
              << " broadcast=" << YesNo(g.consume_broadcast_enable)
              << " orderly=" << YesNo(g.consume_message_orderly)
              << " retry_queues=" << g.retry_queue_nums << " retry_max=" << g.retry_max_times
              << " broker_id=" << g.broker_id
              << " slow_broker_id=" << g.which_broker_when_consume_slowly
              << " notify_ids_changed=" << YesNo(g.notify_consumer_ids_changed_enable)
              << " sys_flag=" << g.group_sys_flag << " timeout_min=" << g.consume_timeout_minute;
    if (!g.attributes.empty()) std::cout << " attributes=" << AttributesText(g.attributes);
    std::cout << "\n";
  }
  PrintField("consumer offsets", std::to_string(m.offsets.size()));
  for (const auto& o : m.offsets) {
    std::cout << "  group=" << Escape(o.group) << " topic=" << Escape(o.offset.topic)
              << " queue=" << o.offset.queue_id << " offset=" << o.offset.offset << "\n";
  }
  PrintField("schedule progress", std::to_string(m.schedule.size()));
  for (const auto& p : m.schedule) {
    std::cout << "  " << Escape(p.name) << " offset=" << p.offset << " timestamp=" << p.timestamp_ms
              << " (" << FormatTime(p.timestamp_ms) << ")\n";
  }
}

}  // namespace

int RunMeta(const MetaArgs& args) {
  auto inspector = OpenOrReport(args.dir);
  if (!inspector) return kExitError;
  auto snapshot = inspector->ReadMetadata();
  if (!snapshot.ok()) return ReportError(snapshot.status());
  if (args.json) {
    PrintJsonLine(SnapshotJson(*snapshot));
  } else {
    PrintSnapshotText(*snapshot);
  }
  return kExitOk;
}

}  // namespace mqdump
