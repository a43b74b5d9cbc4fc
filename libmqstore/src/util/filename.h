// Every file name in a store directory is made and parsed here (docs/format/files.md).
#ifndef MQSTORE_UTIL_FILENAME_H_
#define MQSTORE_UTIL_FILENAME_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mqstore::filename {

// "00000000001073741824": a segment's first byte offset, zero-padded to 20 digits.
std::string OffsetName(int64_t offset);
// The offset a 20-digit name stands for; nullopt for any other name.
std::optional<int64_t> ParseOffsetName(std::string_view name);

std::string CommitLogDir(const std::string& root);
std::string CommitLogSegment(const std::string& root, int64_t base_offset);
std::string ConsumeQueueRoot(const std::string& root);
std::string ConsumeQueueDir(const std::string& root, std::string_view topic, int32_t queue_id);
std::string ConsumeQueueFile(const std::string& root, std::string_view topic, int32_t queue_id,
                             int64_t base_byte_offset);
std::string Checkpoint(const std::string& root);
std::string AbortMarker(const std::string& root);
std::string Lock(const std::string& root);
// LMDB environment of the metadata store (docs/format/meta.md).
std::string MetaDir(const std::string& root);
// Schedule progress of a store without the metadata store (FileProgressStore).
std::string ScheduleProgress(const std::string& root);

}  // namespace mqstore::filename

#endif  // MQSTORE_UTIL_FILENAME_H_
