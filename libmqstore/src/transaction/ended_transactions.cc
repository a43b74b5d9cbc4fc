#include "transaction/ended_transactions.h"

namespace mqstore {

void EndedTransactions::Add(int64_t op_offset, int64_t watermark,
                            std::span<const int64_t> transactions) {
  auto [it, inserted] = ops_.try_emplace(op_offset);
  if (!inserted) return;
  it->second.watermark = watermark;
  it->second.transactions.assign(transactions.begin(), transactions.end());
  for (int64_t t : transactions) ++ended_[t];
}

int64_t EndedTransactions::Retire(int64_t half_progress, int64_t read_end) {
  auto it = ops_.begin();
  while (it != ops_.end() && it->first < read_end && it->second.watermark <= half_progress) {
    for (int64_t t : it->second.transactions) {
      auto e = ended_.find(t);
      if (e != ended_.end() && --e->second == 0) ended_.erase(e);
    }
    it = ops_.erase(it);
  }
  return it != ops_.end() && it->first < read_end ? it->first : read_end;
}

}  // namespace mqstore
