// Listing a store directory and reading its checkpoint without changing either
// (docs/format/files.md, docs/format/checkpoint.md).
#ifndef MQSTORE_INSPECT_STORE_LAYOUT_H_
#define MQSTORE_INSPECT_STORE_LAYOUT_H_

#include <string>

#include "mqstore/env.h"
#include "mqstore/inspect.h"

namespace mqstore {

// Lists segments, consume-queue files and marker files, and names every entry the store
// would ignore. kNotFound: no `dir`; kInvalidArgument: not a store directory.
// segment_bytes is left 0; the caller fills it in (it needs the checkpoint).
Result<StoreLayout> ScanStoreLayout(Env* env, const std::string& dir);

// Decodes both slots of the checkpoint at `path`. A missing file gives exists == false.
Result<CheckpointState> ReadCheckpointState(Env* env, const std::string& path);

}  // namespace mqstore

#endif  // MQSTORE_INSPECT_STORE_LAYOUT_H_
