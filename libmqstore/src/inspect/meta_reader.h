// Reading the metadata store (<store>/meta, docs/format/meta.md) for the inspector without
// changing it: the store's own MetadataStoreImpl opened read-only (MetadataOptions::read_only,
// MDB_RDONLY), which checks the format version and that every database is there, then one
// read transaction that copies every entry. Decoding is separate, so that Verify can judge
// each entry while ReadMetadata stops at the first that does not decode.
#ifndef MQSTORE_INSPECT_META_READER_H_
#define MQSTORE_INSPECT_META_READER_H_

#include <string>
#include <vector>

#include "mqstore/inspect.h"

namespace mqstore {

struct RawMetaEntry {
  std::string key;
  std::string value;
};

// Every entry of the metadata databases, as stored, each database in key order.
struct RawMetadata {
  std::string dir;
  std::vector<RawMetaEntry> topics, groups, offsets, topic_groups, schedule;
};

// Errors: those of OpenMetadataStore (kNotFound without data.mdb, kCorruption, kNotSupported,
// kFailedPrecondition when this process has it open), kIOError.
Result<RawMetadata> ReadRawMetadata(const std::string& meta_dir);

// Decodes everything. kCorruption / kNotSupported naming the database and key of the first
// entry that does not decode.
Result<MetadataSnapshot> DecodeMetadata(const RawMetadata& raw);

// A key of `offsets` as group/topic/queue when it decodes, else in hex; for messages.
std::string DescribeOffsetKey(std::string_view key);

}  // namespace mqstore

#endif  // MQSTORE_INSPECT_META_READER_H_
