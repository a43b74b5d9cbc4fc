// Store archives: a whole store directory as one byte string, the input of
// store_recovery_fuzzer and mqdump_verify_fuzzer and the format of their seed corpora
// (fuzz/README.md).
//
//   archive := entry*
//   entry   := u32 path_len | path | u32 file_size | u32 data_len | data     (little-endian)
//
// `path` is relative to the store directory: '/'-separated parts, none empty, "." or "..",
// no NUL. A path ending in '/' names a directory (its sizes are ignored). A file is
// `file_size` bytes: `data` (data_len <= file_size), then zeros. Trailing zeros are left
// out when an archive is written, so a mostly empty 4 KiB segment costs a few bytes of
// corpus and the fuzzer mutates the bytes that matter.
//
// Parsing is lenient (any byte string is an archive): it stops at the first entry that does
// not fit in the input or in the limits below, and keeps the entries before it.
#ifndef MQSTORE_FUZZ_STORE_ARCHIVE_H_
#define MQSTORE_FUZZ_STORE_ARCHIVE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mqstore/env.h"
#include "mqstore/status.h"

namespace mqstore::fuzz {

// Bounds that keep one execution small whatever the input says.
inline constexpr size_t kMaxArchiveEntries = 96;
inline constexpr size_t kMaxArchivePathBytes = 200;
inline constexpr uint64_t kMaxArchiveFileBytes = 1u << 20;
inline constexpr uint64_t kMaxArchiveTotalBytes = 8u << 20;

struct ArchiveEntry {
  std::string path;  // relative, without the trailing '/' of a directory
  bool directory = false;
  uint64_t file_size = 0;
  std::string_view data;  // into the input; data.size() <= file_size
};

std::vector<ArchiveEntry> ParseArchive(std::string_view input);

// Appends one entry to `archive` (data's trailing zeros are dropped; file_size keeps them).
void AppendArchiveFile(std::string_view path, std::string_view contents, std::string* archive);
void AppendArchiveDir(std::string_view path, std::string* archive);

// Creates the archive's directories and files under `dir` in `env`, each file synced and its
// directory entry made durable (an image as a disk would hold it). Entries that clash with
// what exists (a file where a directory is, a path given twice) are skipped. Returns the
// number of entries created.
Result<size_t> LoadArchive(std::string_view input, Env* env, const std::string& dir);

// The directory tree under `dir` as an archive, entries in sorted path order. Skips the
// store's lock file, which says nothing about the data.
Result<std::string> DumpArchive(Env* env, const std::string& dir);

}  // namespace mqstore::fuzz

#endif  // MQSTORE_FUZZ_STORE_ARCHIVE_H_
