#include "inspect/record_lookup.h"

#include <deque>
#include <limits>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "index/index_service.h"
#include "inspect/index_reader.h"
#include "inspect/log_iterator.h"
#include "inspect/log_position.h"

namespace mqstore {
namespace {

bool Full(const KeyQuery& query, size_t found) {
  return query.max_results != 0 && found >= query.max_results;
}

Result<KeyQueryResult> SearchIndex(const StoreLayout& layout, FileCache* cache,
                                   const KeyQuery& query) {
  KeyQueryResult result;
  result.used_index = true;
  MQ_ASSIGN_OR_RETURN(std::vector<IndexFileReader> files, OpenIndexFiles(layout, cache));
  const uint32_t hash = IndexKeyHash(query.topic, query.key);
  std::unordered_set<int64_t> seen;  // a record's keys may share a hash: one candidate each
  Status error;
  for (auto file = files.rbegin(); file != files.rend(); ++file) {  // newest first
    if (!file->usable()) continue;
    ++result.index_files;
    const IndexHeader& h = *file->header();
    if (h.entry_count == 0 || h.end_timestamp_ms < query.begin_ms ||
        h.begin_timestamp_ms > query.end_ms) {
      continue;
    }
    file->ForEachMatch(hash, query.begin_ms, query.end_ms, [&](const IndexEntry& e) {
      if (!seen.insert(e.physical_offset).second) return true;
      ++result.candidates;
      Result<LogEntry> record = ReadRecordAtOffset(layout, cache, e.physical_offset);
      if (!record.ok()) {
        if (!record.status().IsNotFound()) {
          error = record.status();
          return false;
        }
        ++result.unreadable;
        return true;
      }
      if (record->record.topic != query.topic || !RecordHasIndexKey(query.topic, record->record.properties, query.key)) {
        ++result.collisions;
        return true;
      }
      result.records.push_back(std::move(record).value());
      return !Full(query, result.records.size());
    });
    MQ_RETURN_IF_ERROR(error);
    if (Full(query, result.records.size())) break;
  }
  return result;
}

Result<KeyQueryResult> ScanLog(const StoreLayout& layout, FileCache* cache, const KeyQuery& query) {
  KeyQueryResult result;
  std::deque<int64_t> found;  // the newest max_results matches, oldest first
  LogIteratorImpl it(cache, &layout.segments);
  it.SeekAtOrAfter(0);
  for (; it.Valid() && it.entry().kind != LogEntryKind::kEnd; it.Next()) {
    const LogEntry& e = it.entry();
    if (e.kind != LogEntryKind::kRecord) continue;
    ++result.records_scanned;
    const int64_t ts = e.record.store_timestamp_ms;
    if (ts < query.begin_ms || ts > query.end_ms || !RecordHasIndexKey(e.record.topic, e.record.properties, query.key)) {
      continue;
    }
    found.push_back(e.offset);
    if (query.max_results != 0 && found.size() > query.max_results) found.pop_front();
  }
  MQ_RETURN_IF_ERROR(it.status());
  for (auto offset = found.rbegin(); offset != found.rend(); ++offset) {
    MQ_ASSIGN_OR_RETURN(LogEntry record, ReadRecordAtOffset(layout, cache, *offset));
    result.records.push_back(std::move(record));
  }
  return result;
}

}  // namespace

Result<LogEntry> ReadRecordAtOffset(const StoreLayout& layout, FileCache* cache, int64_t offset) {
  const SegmentFile* seg = FindSegment(layout.segments, offset);
  if (seg == nullptr) {
    return Status::NotFound("no segment holds commit-log offset " + std::to_string(offset));
  }
  MQ_ASSIGN_OR_RETURN(auto file, cache->Get(seg->path));
  LogEntry e = DescribeLogPosition(*seg, file->data(), offset);
  if (e.kind != LogEntryKind::kRecord) {
    std::string what = e.kind == LogEntryKind::kBlank ? "a blank record" : e.problem;
    return Status::NotFound("no record starts at offset " + std::to_string(offset) + " (" + what +
                            ")");
  }
  return e;
}

Result<KeyQueryResult> FindRecordsByKey(const StoreLayout& layout, FileCache* cache,
                                        const KeyQuery& query) {
  if (query.key.empty() || query.key.size() > kMaxIndexKeyBytes) {
    return Status::InvalidArgument("a key is 1.." + std::to_string(kMaxIndexKeyBytes) +
                                   " bytes, not " + std::to_string(query.key.size()));
  }
  return query.topic.empty() ? ScanLog(layout, cache, query) : SearchIndex(layout, cache, query);
}

Result<MessageIdLookup> FindRecordByMessageId(const StoreLayout& layout, FileCache* cache,
                                              std::string_view id, std::string_view topic) {
  // Client unique ids are 32 hex digits too: an id that decodes as an offset id but names no
  // record of this store may still be a unique id (Store::ReadByMessageId does the same).
  if (auto decoded = DecodeOffsetMessageId(id)) {
    Result<LogEntry> record = ReadRecordAtOffset(layout, cache, decoded->second);
    if (record.ok() && record->record.store_host == decoded->first) {
      return MessageIdLookup{std::move(record).value(), true};
    }
    if (!record.ok() && !record.status().IsNotFound()) return record.status();
  }
  if (topic.empty()) {
    return Status::NotFound("no record of this store has offset message id " + std::string(id) +
                            "; to look it up as a unique id (UNIQ_KEY), give its topic");
  }
  KeyQuery query;
  query.topic = std::string(topic);
  query.key = std::string(id);
  query.max_results = 1;
  MQ_ASSIGN_OR_RETURN(KeyQueryResult found, FindRecordsByKey(layout, cache, query));
  if (found.records.empty()) {
    return Status::NotFound("no message with id " + std::string(id) +
                            ": not an offset message id of this store, and no record of topic " +
                            std::string(topic) + " carries it as a key");
  }
  return MessageIdLookup{std::move(found.records.front()), false};
}

}  // namespace mqstore
