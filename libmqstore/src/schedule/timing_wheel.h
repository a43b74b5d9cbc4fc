// TimingWheel: the in-memory ring of slots that indexes the timer log by due time.
//
//   slot t (time t * precision) ─► ring[t mod size] = {t, tail, count}
//                                          │
//                           timer log:  ...[entry prev=-1]...[entry prev=●]...[entry prev=●]
//                                              ▲─────────────────────┘  ▲──────────────┘ tail
//
// Each slot is a backward-linked list through the timer log (every entry stores the
// position of the previous entry of its slot), so a slot costs 24 bytes of memory however
// many timers it holds: one second with a million timers is one slot and a million log
// entries, walked in one pass when it fires. A bitmap of occupied slots answers "when is
// the next timer due" without scanning the ring.
//
// The ring covers `size` consecutive slots; the owner keeps every linked slot inside
// [first, first + size) where first is the next slot to fire, and parks timers due later
// at the window's far edge (TimerScheduler's roll). The wheel is not persisted: the
// scheduler rebuilds it by scanning the timer log at open.
//
// Thread safety: none (owned by one TimerScheduler).
#ifndef MQSTORE_SCHEDULE_TIMING_WHEEL_H_
#define MQSTORE_SCHEDULE_TIMING_WHEEL_H_

#include <cstdint>
#include <optional>
#include <vector>

namespace mqstore {

class TimingWheel {
 public:
  struct Slot {
    int64_t tail = -1;   // log position of the slot's newest entry; -1 when empty
    uint64_t count = 0;  // entries linked
  };

  // REQUIRES: size >= 2.
  explicit TimingWheel(int64_t size);

  int64_t size() const { return size_; }

  // Links the entry at log position `pos` into `slot` and returns the previous tail (the
  // entry's prev; -1 when the slot was empty). The caller must write that prev into the
  // entry at `pos`. REQUIRES: the ring position is empty or already holds `slot`.
  int64_t Link(int64_t slot, int64_t pos);
  // The tail Link would return for `slot` right now.
  int64_t Tail(int64_t slot) const;

  // The slot's list; empty when nothing is linked into it.
  Slot Get(int64_t slot) const;
  // Forgets `slot` (after it fired).
  void Clear(int64_t slot);
  // Forgets everything.
  void Reset();

  // The first occupied slot at or after `from`, if any. REQUIRES: every occupied slot lies
  // in [from, from + size()).
  std::optional<int64_t> NextOccupied(int64_t from) const;
  // Timers linked in all slots.
  uint64_t total() const { return total_; }

 private:
  struct Cell {
    int64_t slot = 0;
    int64_t tail = -1;
    uint64_t count = 0;
  };
  size_t IndexOf(int64_t slot) const {
    int64_t m = slot % size_;
    return static_cast<size_t>(m < 0 ? m + size_ : m);
  }
  bool Occupied(size_t index) const { return (bits_[index / 64] >> (index % 64)) & 1; }

  int64_t size_;
  std::vector<Cell> cells_;
  std::vector<uint64_t> bits_;  // bit i: cells_[i] holds at least one entry
  uint64_t total_ = 0;
};

}  // namespace mqstore

#endif  // MQSTORE_SCHEDULE_TIMING_WHEEL_H_
