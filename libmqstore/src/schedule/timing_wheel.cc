#include "schedule/timing_wheel.h"

#include <algorithm>
#include <cassert>

namespace mqstore {

TimingWheel::TimingWheel(int64_t size)
    : size_(size < 2 ? 2 : size),
      cells_(static_cast<size_t>(size_)),
      bits_((static_cast<size_t>(size_) + 63) / 64, 0) {}

int64_t TimingWheel::Link(int64_t slot, int64_t pos) {
  size_t i = IndexOf(slot);
  Cell& cell = cells_[i];
  int64_t prev = -1;
  if (Occupied(i)) {
    assert(cell.slot == slot && "timing wheel slot collision: slot outside the window");
    prev = cell.tail;
  } else {
    cell.slot = slot;
    cell.count = 0;
    bits_[i / 64] |= uint64_t{1} << (i % 64);
  }
  cell.tail = pos;
  ++cell.count;
  ++total_;
  return prev;
}

int64_t TimingWheel::Tail(int64_t slot) const {
  size_t i = IndexOf(slot);
  return Occupied(i) && cells_[i].slot == slot ? cells_[i].tail : -1;
}

TimingWheel::Slot TimingWheel::Get(int64_t slot) const {
  size_t i = IndexOf(slot);
  if (!Occupied(i) || cells_[i].slot != slot) return Slot{};
  return Slot{cells_[i].tail, cells_[i].count};
}

void TimingWheel::Clear(int64_t slot) {
  size_t i = IndexOf(slot);
  if (!Occupied(i) || cells_[i].slot != slot) return;
  total_ -= cells_[i].count;
  cells_[i] = Cell{};
  bits_[i / 64] &= ~(uint64_t{1} << (i % 64));
}

void TimingWheel::Reset() {
  for (Cell& c : cells_) c = Cell{};
  for (uint64_t& w : bits_) w = 0;
  total_ = 0;
}

std::optional<int64_t> TimingWheel::NextOccupied(int64_t from) const {
  if (total_ == 0) return std::nullopt;
  const size_t n = static_cast<size_t>(size_);
  const size_t start = IndexOf(from);
  // Scan the ring from `start` to its end, then from 0 back to `start`, a word at a time.
  for (size_t scanned = 0; scanned < n;) {
    size_t i = (start + scanned) % n;
    uint64_t word = bits_[i / 64] >> (i % 64);
    size_t span = std::min<size_t>(64 - i % 64, n - i);  // bits of this word in range
    if (span > n - scanned) span = n - scanned;
    if (span < 64) word &= (uint64_t{1} << span) - 1;
    if (word != 0) {
      return cells_[i + static_cast<size_t>(__builtin_ctzll(word))].slot;
    }
    scanned += span;
  }
  return std::nullopt;
}

}  // namespace mqstore
