#include "inspect/index_verifier.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "index/index_service.h"
#include "inspect/record_lookup.h"

namespace mqstore {
namespace {

std::string Hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08X", v);
  return buf;
}

std::string EntryName(uint32_t n) { return "entry " + std::to_string(n); }

// What the entries of one file point at, one record at a time: a record's entries are
// consecutive, so each record is read once.
struct RecordKeys {
  int64_t offset = -1;
  std::string missing;  // why no record starts at `offset`; empty when one does
  std::string topic;
  std::vector<uint32_t> hashes;  // of `topic#key` for every key the record is indexed under
  int64_t store_timestamp_ms = 0;
};

}  // namespace

Result<IndexFacts> IndexVerifier::Run() {
  MQ_ASSIGN_OR_RETURN(std::vector<IndexFileReader> files, OpenIndexFiles(layout_, cache_));
  // IndexService::Load removes the files after the last usable one; the others must open.
  size_t usable_end = 0;  // one past the last usable file
  for (size_t i = 0; i < files.size(); ++i) {
    if (files[i].usable()) usable_end = i + 1;
  }
  IndexFacts out;
  const IndexHeader* previous = nullptr;
  for (size_t i = 0; i < files.size(); ++i) {
    const IndexFileReader& file = files[i];
    const std::string& path = file.file().path;
    CheckHeaderCopies(file);
    if (!file.usable()) {
      std::string why;
      if (const IndexHeader* h = file.header()) {
        why = "is " + std::to_string(file.file().file_bytes) + " bytes, but its header's " +
              std::to_string(h->geometry.slot_count) + " slots and " +
              std::to_string(h->geometry.max_entries) + " entries make " +
              std::to_string(h->geometry.file_bytes());
      } else {
        why = "has no valid header (copy 0: " + file.copies()[0].problem +
              "; copy 1: " + file.copies()[1].problem + ")";
      }
      if (i >= usable_end) {
        // Never flushed (a crash right after it was created), or cut short: the next open
        // removes it and indexes its records again from the log.
        sink_->Report(file.header() ? Severity::kWarning : Severity::kNote, path, -1,
                      why + ": the next open removes it and indexes its records again");
      } else {
        sink_->Report(Severity::kCorruption, path, 0,
                      why + ", and a later index file is usable: the index cannot be loaded");
      }
      sink_->Advance(file.file().file_bytes);
      continue;
    }
    const IndexHeader& h = *file.header();
    const uint64_t header_pos = static_cast<uint64_t>(file.newest_copy()) * kIndexHeaderCopySize;
    ++out.files;
    out.entries += h.entry_count;
    if (previous != nullptr && h.begin_offset < previous->end_offset) {
      sink_->Report(Severity::kCorruption, path, static_cast<int64_t>(header_pos),
                    "begins at offset " + std::to_string(h.begin_offset) +
                        ", before the previous index file ends (" +
                        std::to_string(previous->end_offset) + "): the index cannot be loaded");
    }
    if (h.end_offset > facts_.valid_end) {
      sink_->Report(Severity::kNote, path, static_cast<int64_t>(header_pos),
                    "covers the log up to offset " + std::to_string(h.end_offset) +
                        ", past its end (" + std::to_string(facts_.valid_end) +
                        "): the next open drops the entries from there on");
    }
    MQ_RETURN_IF_ERROR(CheckEntries(file, i + 1 == usable_end));
    previous = &h;
    sink_->Advance(file.file().file_bytes);
  }
  return out;
}

void IndexVerifier::CheckHeaderCopies(const IndexFileReader& file) {
  if (file.header() == nullptr) return;  // described with the file
  for (size_t c = 0; c < file.copies().size(); ++c) {
    const IndexHeaderCopy& copy = file.copies()[c];
    // A blank copy is normal: the first header write goes to copy 1.
    if (copy.valid || copy.blank) continue;
    sink_->Report(Severity::kWarning, file.file().path,
                  static_cast<int64_t>(c * kIndexHeaderCopySize),
                  "header copy " + std::to_string(c) + " is damaged (" + copy.problem + "); copy " +
                      std::to_string(file.newest_copy()) + " (sequence " +
                      std::to_string(file.header()->sequence) + ") is used");
  }
}

Status IndexVerifier::CheckEntries(const IndexFileReader& file, bool last) {
  const IndexHeader& h = *file.header();
  const uint32_t slots = h.geometry.slot_count;
  const uint32_t count = h.entry_count;
  FileProblemReporter report(sink_, file.file().path);
  auto corrupt = [&](uint64_t pos, std::string message) {
    report.Report(Severity::kCorruption, pos, std::move(message));
  };

  std::vector<uint32_t> newest(slots, 0);  // the newest entry of each slot so far
  uint32_t used_slots = 0;
  int64_t previous_offset = h.begin_offset;
  uint32_t previous_diff = 0;
  uint64_t below_log = 0, past_log = 0;
  RecordKeys record;
  for (uint32_t n = 1; n <= count; ++n) {
    const IndexEntry e = file.EntryAt(n);
    const uint64_t pos = file.EntryPos(n);
    const uint32_t slot = e.key_hash % slots;
    const int64_t ts = h.begin_timestamp_ms + e.time_diff_ms;

    // The chain: Add links each entry to its slot's previous head.
    if (e.prev != newest[slot]) {
      corrupt(pos, EntryName(n) + ": PREVENTRY is " + std::to_string(e.prev) +
                       ", but the previous entry of its slot " + std::to_string(slot) + " is " +
                       std::to_string(newest[slot]));
    }
    if (newest[slot] == 0) ++used_slots;
    newest[slot] = n;

    // Log order and time order.
    if (e.physical_offset < h.begin_offset || e.physical_offset >= h.end_offset) {
      corrupt(pos, EntryName(n) + " points at offset " + std::to_string(e.physical_offset) +
                       ", outside the file's records [" + std::to_string(h.begin_offset) + ", " +
                       std::to_string(h.end_offset) + ")");
    } else if (e.physical_offset < previous_offset) {
      corrupt(pos, EntryName(n) + " points at offset " + std::to_string(e.physical_offset) +
                       ", before the entry ahead of it (" + std::to_string(previous_offset) +
                       "): entries are in log order");
    }
    if (n == 1 && e.time_diff_ms != 0) {
      corrupt(pos, "entry 1 has time diff " + std::to_string(e.time_diff_ms) +
                       " ms; the first entry sets BEGINTIMESTAMP, so its diff is 0");
    } else if (e.time_diff_ms < previous_diff) {
      corrupt(pos, EntryName(n) + " is indexed at " + std::to_string(ts) +
                       ", before the entry ahead of it: indexed times never decrease");
    } else if (ts > h.end_timestamp_ms) {
      corrupt(pos, EntryName(n) + " is indexed at " + std::to_string(ts) +
                       ", after the header's ENDTIMESTAMP " + std::to_string(h.end_timestamp_ms));
    }
    // Compare the next entry with this one only if this one is plausible, so that one bad
    // entry is reported once, not again for every entry after it.
    if (e.physical_offset >= previous_offset && e.physical_offset < h.end_offset) {
      previous_offset = e.physical_offset;
    }
    if (e.time_diff_ms >= previous_diff && ts <= h.end_timestamp_ms) previous_diff = e.time_diff_ms;

    // The record it points at.
    if (e.physical_offset < facts_.log_start) {
      ++below_log;
      continue;
    }
    if (e.physical_offset >= facts_.valid_end) {
      ++past_log;
      continue;
    }
    if (e.physical_offset != record.offset) {
      record = RecordKeys();
      record.offset = e.physical_offset;
      Result<LogEntry> found = ReadRecordAtOffset(layout_, cache_, e.physical_offset);
      if (!found.ok()) {
        if (!found.status().IsNotFound()) return found.status();
        record.missing = std::string(found.status().message());
      } else {
        const ParsedRecord& r = found->record;
        for (std::string_view key : IndexKeysOf(IndexRecordOf(r.topic, r.properties))) {
          record.hashes.push_back(IndexKeyHash(r.topic, key));
        }
        record.topic = std::string(r.topic);
        record.store_timestamp_ms = r.store_timestamp_ms;
      }
    }
    if (!record.missing.empty()) {
      corrupt(pos, EntryName(n) + " points at offset " + std::to_string(e.physical_offset) +
                       ", inside the log, but " + record.missing);
    } else if (std::find(record.hashes.begin(), record.hashes.end(), e.key_hash) ==
               record.hashes.end()) {
      corrupt(pos, EntryName(n) + " has key hash " + Hex32(e.key_hash) +
                       ", which is none of the keys of the record at offset " +
                       std::to_string(e.physical_offset) + " (topic " + record.topic + ")");
    } else if (ts < std::max<int64_t>(record.store_timestamp_ms, 0)) {
      corrupt(pos, EntryName(n) + " is indexed at " + std::to_string(ts) +
                       ", before its record was stored (" +
                       std::to_string(record.store_timestamp_ms) + ")");
    }
  }

  // The header's summary of the entries.
  const uint64_t header_pos = static_cast<uint64_t>(file.newest_copy()) * kIndexHeaderCopySize;
  if (used_slots != h.used_slots) {
    report.Report(Severity::kWarning, header_pos,
                  "USEDSLOTS is " + std::to_string(h.used_slots) + ", but the entries use " +
                      std::to_string(used_slots) + " slots");
  }
  if (count > 0) {
    const int64_t last_ts = h.begin_timestamp_ms + file.EntryAt(count).time_diff_ms;
    if (last_ts != h.end_timestamp_ms) {
      corrupt(header_pos, "ENDTIMESTAMP is " + std::to_string(h.end_timestamp_ms) +
                              ", but the last entry is indexed at " + std::to_string(last_ts));
    }
  }

  // Slot heads: each the newest entry of its slot.
  uint64_t stale_heads = 0;
  for (uint32_t s = 0; s < slots; ++s) {
    const uint32_t head = file.SlotHead(s);
    if (head == newest[s]) continue;
    if (head > h.geometry.max_entries) {
      corrupt(file.SlotPos(s), "slot " + std::to_string(s) + " holds entry number " +
                                   std::to_string(head) + ", beyond the file's " +
                                   std::to_string(h.geometry.max_entries) + " entries");
    } else if (head > count && last) {
      ++stale_heads;  // written after the header was: RestoreSlotHeads resets it
    } else if (head > count) {
      corrupt(file.SlotPos(s), "slot " + std::to_string(s) + " points at entry " +
                                   std::to_string(head) + ", past the entry count " +
                                   std::to_string(count) + " of a file later files follow");
    } else {
      corrupt(file.SlotPos(s), "slot " + std::to_string(s) + " points at entry " +
                                   std::to_string(head) + ", but the newest entry of the slot is " +
                                   std::to_string(newest[s]));
    }
  }
  if (stale_heads > 0) {
    sink_->Report(Severity::kNote, file.file().path, static_cast<int64_t>(file.SlotPos(0)),
                  std::to_string(stale_heads) + " slot heads point past the entry count " +
                      std::to_string(count) +
                      " (entries added after the last flush): the next open resets them");
  }
  if (past_log > 0) {
    sink_->Report(Severity::kNote, file.file().path, -1,
                  std::to_string(past_log) + " entries point at or past the end of the log (" +
                      std::to_string(facts_.valid_end) + "): the next open drops them");
  }
  if (below_log > 0) {
    sink_->Report(Severity::kNote, file.file().path, -1,
                  std::to_string(below_log) + " entries point below the start of the log (" +
                      std::to_string(facts_.log_start) +
                      "): their segments were removed, so lookups skip them");
  }
  return Status::OK();
}

}  // namespace mqstore
