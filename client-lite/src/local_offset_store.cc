#include "local_offset_store.h"

#include <cstdlib>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <utility>

namespace mqclient {

using Json = nlohmann::json;

std::string DefaultLocalOffsetPath(const std::string& group) {
  const char* home = std::getenv("HOME");
  const std::string base = home != nullptr && *home != '\0' ? std::string(home) : ".";
  return base + "/.mqclient_offsets/" + group + "/offsets.json";
}

namespace {

constexpr uint64_t kMaxFileBytes = 64ull << 20;

std::string DirOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

std::string LocalOffsetStore::Encode(std::string_view group, const OffsetTable& table) {
  Json offsets = Json::array();
  for (const auto& [queue, offset] : table) {
    offsets.push_back({{"topic", queue.topic},
                       {"brokerName", queue.broker_name},
                       {"queueId", queue.queue_id},
                       {"offset", offset}});
  }
  Json file = {{"consumerGroup", std::string(group)}, {"offsetTable", std::move(offsets)}};
  return file.dump(1) + "\n";
}

Result<OffsetTable> LocalOffsetStore::Decode(std::string_view group, std::string_view json) {
  Json file = Json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  auto bad = [](const std::string& what) { return Status::Corruption("offset file: " + what); };
  if (!file.is_object()) return bad("not a JSON object");
  auto group_field = file.find("consumerGroup");
  if (group_field == file.end() || !group_field->is_string()) return bad("no consumerGroup");
  if (group_field->get<std::string>() != group) {
    return bad("it belongs to group " + group_field->get<std::string>() + ", not " +
               std::string(group));
  }
  auto entries = file.find("offsetTable");
  if (entries == file.end() || !entries->is_array()) return bad("no offsetTable array");
  OffsetTable table;
  for (size_t i = 0; i < entries->size(); ++i) {
    const Json& entry = (*entries)[i];
    const std::string where = "offsetTable[" + std::to_string(i) + "]";
    if (!entry.is_object()) return bad(where + " is not an object");
    auto topic = entry.find("topic");
    auto broker = entry.find("brokerName");
    auto queue_id = entry.find("queueId");
    auto offset = entry.find("offset");
    if (topic == entry.end() || !topic->is_string() || topic->get<std::string>().empty() ||
        broker == entry.end() || !broker->is_string() || queue_id == entry.end() ||
        !queue_id->is_number_integer() || offset == entry.end() || !offset->is_number_integer()) {
      return bad(where + " lacks topic, brokerName, queueId or offset");
    }
    const int64_t id = queue_id->get<int64_t>();
    const int64_t value = offset->get<int64_t>();
    if (id < 0 || id > std::numeric_limits<int32_t>::max() || value < 0) {
      return bad(where + " has a negative or out-of-range queueId or offset");
    }
    table[MessageQueue{topic->get<std::string>(), broker->get<std::string>(),
                       static_cast<int32_t>(id)}] = value;
  }
  return table;
}

Result<OffsetTable> LocalOffsetStore::Load() const {
  if (!env_->FileExists(path_)) return OffsetTable{};
  MQ_ASSIGN_OR_RETURN(uint64_t size, env_->GetFileSize(path_));
  if (size > kMaxFileBytes) {
    return Status::Corruption("offset file " + path_ + " is too large (" + std::to_string(size) +
                              " bytes)");
  }
  MQ_ASSIGN_OR_RETURN(std::unique_ptr<mqstore::File> file,
                      env_->OpenFile(path_, mqstore::OpenMode::kReadOnly));
  std::string bytes(size, '\0');
  size_t read = 0;
  MQ_RETURN_IF_ERROR(file->Read(0, bytes.size(), bytes.data(), &read));
  bytes.resize(read);
  Result<OffsetTable> table = Decode(group_, bytes);
  if (!table.ok()) return table.status().WithContext(path_);
  return table;
}

Status LocalOffsetStore::Save(const OffsetTable& table) const {
  const std::string dir = DirOf(path_);
  MQ_RETURN_IF_ERROR(env_->CreateDir(dir));
  const std::string temp = path_ + ".tmp";
  const std::string bytes = Encode(group_, table);
  {
    MQ_ASSIGN_OR_RETURN(std::unique_ptr<mqstore::File> file,
                        env_->OpenFile(temp, mqstore::OpenMode::kCreate));
    MQ_RETURN_IF_ERROR(file->Truncate(0));
    MQ_RETURN_IF_ERROR(file->Write(0, bytes));
    MQ_RETURN_IF_ERROR(file->Sync());
  }
  MQ_RETURN_IF_ERROR(env_->RenameFile(temp, path_));
  return env_->SyncDir(dir);
}

Result<std::unique_ptr<LocalOffsetTable>> LocalOffsetTable::Open(mqstore::Env* env,
                                                                 std::string path,
                                                                 std::string group) {
  LocalOffsetStore store(env, std::move(path), std::move(group));
  MQ_ASSIGN_OR_RETURN(OffsetTable saved, store.Load());
  return std::unique_ptr<LocalOffsetTable>(
      new LocalOffsetTable(std::move(store), std::move(saved)));
}

std::optional<int64_t> LocalOffsetTable::Find(const MessageQueue& queue) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = saved_.find(queue);
  if (it == saved_.end()) return std::nullopt;
  return it->second;
}

}  // namespace mqclient
