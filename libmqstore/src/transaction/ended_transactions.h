// EndedTransactions: the in-memory "done" set of the transaction check scan. It knows which
// transactions (by transaction offset, see transaction_rewrite.h) have been ended, for as
// long as the scan may still meet one of their half records.
//
// Each op record is kept with a *watermark*: a half queue offset below which every half
// record of its transactions lies. Once the scan's half progress has reached the watermark
// it will never meet those records again, and the op record is retired (Retire). Op
// records are retired in op queue order, so the first one still kept is where reading the
// op queue must resume after a restart: the op progress.
//
//   op queue:   [retired ... | kept: o1 (w1)  o2 (w2) ... | not yet read ...]
//                             ^ op progress                ^ read end
//
// Memory is proportional to the op records kept: roughly those ended since the scan last
// passed transaction_timeout_ms of half queue.
//
// Thread safety: none; owned by TransactionService, which serialises its calls.
#ifndef MQSTORE_TRANSACTION_ENDED_TRANSACTIONS_H_
#define MQSTORE_TRANSACTION_ENDED_TRANSACTIONS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <unordered_map>
#include <vector>

namespace mqstore {

class EndedTransactions {
 public:
  // Records that the op record at op queue offset `op_offset` ends `transactions`, whose
  // half records all lie below half queue offset `watermark`. Adding an op offset that is
  // already known does nothing (the service adds its own op records when it writes them,
  // and meets them again when it reads the op queue).
  void Add(int64_t op_offset, int64_t watermark, std::span<const int64_t> transactions);

  bool Contains(int64_t transaction_offset) const { return ended_.contains(transaction_offset); }
  bool HasOp(int64_t op_offset) const { return ops_.contains(op_offset); }

  // Retires, in op offset order, the op records below `read_end` whose watermark is at most
  // `half_progress`, stopping at the first one that must stay. Returns the op progress: the
  // offset of the first op record kept, or `read_end` when none below it is kept.
  int64_t Retire(int64_t half_progress, int64_t read_end);

  size_t op_count() const { return ops_.size(); }
  size_t transaction_count() const { return ended_.size(); }

 private:
  struct Op {
    int64_t watermark = 0;
    std::vector<int64_t> transactions;
  };
  std::map<int64_t, Op> ops_;                  // by op queue offset
  std::unordered_map<int64_t, int> ended_;     // transaction offset -> op records naming it
};

}  // namespace mqstore

#endif  // MQSTORE_TRANSACTION_ENDED_TRANSACTIONS_H_
