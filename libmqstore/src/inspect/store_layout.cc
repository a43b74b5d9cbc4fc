#include "inspect/store_layout.h"

#include <algorithm>
#include <charconv>
#include <tuple>

#include "index/index_service.h"
#include "log/record_codec.h"
#include "recovery/checkpoint.h"
#include "util/filename.h"
#include "util/sequence.h"

namespace mqstore {
namespace {

bool ParseQueueId(std::string_view text, int32_t* id) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *id);
  return ec == std::errc() && p == text.data() + text.size() && *id >= 0;
}

Status ListSegments(Env* env, const std::string& dir, StoreLayout* layout) {
  std::string log_dir = filename::CommitLogDir(dir);
  if (!env->FileExists(log_dir)) return Status::OK();
  MQ_ASSIGN_OR_RETURN(std::vector<std::string> names, env->GetChildren(log_dir));
  for (const auto& name : names) {
    std::string path = log_dir + "/" + name;
    auto base = filename::ParseOffsetName(name);
    if (!base) {
      layout->stray.push_back({path, "not a 20-digit segment name"});
      continue;
    }
    MQ_ASSIGN_OR_RETURN(uint64_t size, env->GetFileSize(path));
    layout->segments.push_back({path, *base, size});
  }
  std::sort(
      layout->segments.begin(), layout->segments.end(),
      [](const SegmentFile& a, const SegmentFile& b) { return a.base_offset < b.base_offset; });
  return Status::OK();
}

// One consumequeue/<topic>/<queue id>/ directory.
Status ListQueueFiles(Env* env, QueueFiles* queue, StoreLayout* layout) {
  auto names = env->GetChildren(queue->dir);
  if (!names.ok()) {
    layout->stray.push_back({queue->dir, "not a directory"});
    return Status::OK();
  }
  for (const auto& name : *names) {
    std::string path = queue->dir + "/" + name;
    auto base = filename::ParseOffsetName(name);
    if (!base) {
      layout->stray.push_back({path, "not a 20-digit consume-queue file name"});
      continue;
    }
    MQ_ASSIGN_OR_RETURN(uint64_t size, env->GetFileSize(path));
    queue->files.push_back({path, *base, size});
  }
  std::sort(queue->files.begin(), queue->files.end(), [](const QueueFile& a, const QueueFile& b) {
    return a.base_byte_offset < b.base_byte_offset;
  });
  return Status::OK();
}

Status ListQueues(Env* env, const std::string& dir, StoreLayout* layout) {
  std::string root = filename::ConsumeQueueRoot(dir);
  if (!env->FileExists(root)) return Status::OK();
  MQ_ASSIGN_OR_RETURN(std::vector<std::string> topics, env->GetChildren(root));
  for (const auto& topic : topics) {
    std::string topic_dir = root + "/" + topic;
    if (!ValidateTopic(topic).ok()) {
      layout->stray.push_back({topic_dir, "not a valid topic name"});
      continue;
    }
    auto ids = env->GetChildren(topic_dir);
    if (!ids.ok()) {
      layout->stray.push_back({topic_dir, "not a directory"});
      continue;
    }
    for (const auto& id_text : *ids) {
      QueueFiles queue;
      queue.topic = topic;
      queue.dir = topic_dir + "/" + id_text;
      if (!ParseQueueId(id_text, &queue.queue_id)) {
        layout->stray.push_back({queue.dir, "not a queue id"});
        continue;
      }
      MQ_RETURN_IF_ERROR(ListQueueFiles(env, &queue, layout));
      layout->queues.push_back(std::move(queue));
    }
  }
  std::sort(layout->queues.begin(), layout->queues.end(),
            [](const QueueFiles& a, const QueueFiles& b) {
              return std::tie(a.topic, a.queue_id) < std::tie(b.topic, b.queue_id);
            });
  return Status::OK();
}

// index/<17 digits>; IndexService ignores every other name.
Status ListIndexFiles(Env* env, const std::string& dir, StoreLayout* layout) {
  std::string index_dir = dir + "/index";
  if (!env->FileExists(index_dir)) return Status::OK();
  auto names = env->GetChildren(index_dir);
  if (!names.ok()) {
    layout->stray.push_back({index_dir, "not a directory"});
    return Status::OK();
  }
  for (const auto& name : *names) {
    std::string path = index_dir + "/" + name;
    auto ms = ParseIndexFileName(name);
    if (!ms) {
      layout->stray.push_back({path, "not a 17-digit index file name"});
      continue;
    }
    MQ_ASSIGN_OR_RETURN(uint64_t size, env->GetFileSize(path));
    layout->index_files.push_back({path, *ms, size});
  }
  std::sort(layout->index_files.begin(), layout->index_files.end(),
            [](const HashIndexFile& a, const HashIndexFile& b) { return a.name_ms < b.name_ms; });
  return Status::OK();
}

// timer/log/<20 digits>; TimerLog ignores every other name. Other entries of timer/ are
// the schedule component's business (its progress file, when it has no metadata store).
Status ListTimerSegments(Env* env, StoreLayout* layout) {
  if (!env->FileExists(layout->timer_log_dir)) return Status::OK();
  auto names = env->GetChildren(layout->timer_log_dir);
  if (!names.ok()) {
    layout->stray.push_back({layout->timer_log_dir, "not a directory"});
    return Status::OK();
  }
  for (const auto& name : *names) {
    std::string path = layout->timer_log_dir + "/" + name;
    auto base = filename::ParseOffsetName(name);
    if (!base) {
      layout->stray.push_back({path, "not a 20-digit timer log segment name"});
      continue;
    }
    MQ_ASSIGN_OR_RETURN(uint64_t size, env->GetFileSize(path));
    layout->timer_segments.push_back({path, *base, size});
  }
  std::sort(layout->timer_segments.begin(), layout->timer_segments.end(),
            [](const TimerLogFile& a, const TimerLogFile& b) { return a.base < b.base; });
  return Status::OK();
}

}  // namespace

Result<StoreLayout> ScanStoreLayout(Env* env, const std::string& dir) {
  if (!env->FileExists(dir)) return Status::NotFound("no such directory: " + dir);
  MQ_ASSIGN_OR_RETURN(std::vector<std::string> names, env->GetChildren(dir));
  StoreLayout layout;
  layout.dir = dir;
  layout.checkpoint_path = filename::Checkpoint(dir);
  layout.meta_dir = dir + "/meta";
  layout.timer_log_dir = dir + "/timer/log";
  bool has_log_dir = false;
  for (const auto& name : names) {
    if (name == "commitlog") {
      has_log_dir = true;
    } else if (name == "checkpoint") {
      layout.has_checkpoint = true;
    } else if (name == "abort") {
      layout.has_abort_marker = true;
    } else if (name == "meta") {
      layout.has_meta = true;
    } else if (name == "timer") {
      layout.has_timer = true;
    } else if (name != "consumequeue" && name != "lock" && name != "index" &&
               name != "schedule_progress" &&  // FileProgressStore, without meta/
               name != "schedule_progress.tmp") {  // its commit in progress at a crash
      layout.stray.push_back({dir + "/" + name, "not a store file"});
    }
  }
  if (!has_log_dir && !layout.has_checkpoint) {
    return Status::InvalidArgument(dir + " is not an mqstore directory: it has neither " +
                                   "commitlog/ nor checkpoint");
  }
  MQ_RETURN_IF_ERROR(ListSegments(env, dir, &layout));
  MQ_RETURN_IF_ERROR(ListQueues(env, dir, &layout));
  MQ_RETURN_IF_ERROR(ListIndexFiles(env, dir, &layout));
  if (layout.has_timer) MQ_RETURN_IF_ERROR(ListTimerSegments(env, &layout));
  return layout;
}

Result<CheckpointState> ReadCheckpointState(Env* env, const std::string& path) {
  CheckpointState state;
  state.path = path;
  if (!env->FileExists(path)) return state;
  state.exists = true;
  MQ_ASSIGN_OR_RETURN(std::unique_ptr<File> file, env->OpenFile(path, OpenMode::kReadOnly));
  MQ_ASSIGN_OR_RETURN(state.file_bytes, file->Size());
  std::string buf(2 * kCheckpointSlotSize, '\0');
  size_t n = 0;
  MQ_RETURN_IF_ERROR(file->Read(0, buf.size(), buf.data(), &n));
  for (size_t i = 0; i < 2; ++i) {
    CheckpointSlot& slot = state.slots[i];
    if (!CheckpointSlotPresent(n, i)) {
      slot.problem = "missing: the file is only " + std::to_string(state.file_bytes) + " bytes";
      continue;
    }
    slot.present = true;
    std::string_view bytes =
        std::string_view(buf).substr(i * kCheckpointSlotSize, kCheckpointSlotSize);
    slot.blank = bytes.find_first_not_of('\0') == std::string_view::npos;
    CheckpointData d;
    Status s = DecodeCheckpointSlotAt(bytes, i, &d);
    if (!s.ok()) {
      slot.problem = slot.blank ? "never written (all zeros)" : std::string(s.message());
      continue;
    }
    slot.valid = true;
    slot.fields =
        CheckpointFields{d.sequence,       d.log_durable_offset, d.dispatch_durable_offset,
                         d.log_min_offset, d.segment_bytes,      d.written_at_ms};
    if (state.newest_slot < 0 || SequenceNewer(d.sequence, state.newest()->sequence)) {
      state.newest_slot = static_cast<int>(i);
    }
  }
  return state;
}

}  // namespace mqstore
