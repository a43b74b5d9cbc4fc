// Verify, the whole of it: the directory and the checkpoint here, then the commit log
// (log_verifier.h), the consume queues against it (queue_verifier.h), the hash index
// (index_verifier.h), the metadata store (meta_verifier.h) and the timer log against both
// (timer_verifier.h).
#ifndef MQSTORE_INSPECT_STORE_VERIFIER_H_
#define MQSTORE_INSPECT_STORE_VERIFIER_H_

#include "inspect/mapped_store_file.h"
#include "inspect/problem_sink.h"
#include "mqstore/inspect.h"

namespace mqstore {

class StoreVerifier {
 public:
  // `meta_readable`: meta/ can be opened (the inspector reads through Env::Default()).
  StoreVerifier(const StoreLayout& layout, const CheckpointState& checkpoint, FileCache* cache,
                bool meta_readable)
      : layout_(layout), checkpoint_(checkpoint), cache_(cache), meta_readable_(meta_readable) {}

  Result<VerifySummary> Run(const VerifyOptions& options);

 private:
  void CheckDirectory(ProblemSink* sink);
  void CheckCheckpoint(ProblemSink* sink);

  const StoreLayout& layout_;
  const CheckpointState& checkpoint_;
  FileCache* const cache_;
  const bool meta_readable_;
};

// Stats without verification: bounds of the log and of every queue.
Result<InspectStats> ComputeStats(const StoreLayout& layout, const CheckpointState& checkpoint,
                                  FileCache* cache);

}  // namespace mqstore

#endif  // MQSTORE_INSPECT_STORE_VERIFIER_H_
