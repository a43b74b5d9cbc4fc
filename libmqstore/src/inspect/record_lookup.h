// Finding records for the inspector: at an offset, by key through the hash index (or by
// scanning the log), and by message id (include/mqstore/inspect.h).
#ifndef MQSTORE_INSPECT_RECORD_LOOKUP_H_
#define MQSTORE_INSPECT_RECORD_LOOKUP_H_

#include <cstdint>
#include <string_view>

#include "inspect/mapped_store_file.h"
#include "mqstore/inspect.h"

namespace mqstore {

// The record starting exactly at `offset`; kNotFound when none does.
Result<LogEntry> ReadRecordAtOffset(const StoreLayout& layout, FileCache* cache, int64_t offset);

// StoreInspector::FindByKey.
Result<KeyQueryResult> FindRecordsByKey(const StoreLayout& layout, FileCache* cache,
                                        const KeyQuery& query);

// StoreInspector::ReadByMessageId.
Result<MessageIdLookup> FindRecordByMessageId(const StoreLayout& layout, FileCache* cache,
                                              std::string_view id, std::string_view topic);

}  // namespace mqstore

#endif  // MQSTORE_INSPECT_RECORD_LOOKUP_H_
