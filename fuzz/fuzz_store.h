// Helpers shared by the fuzzers and make_seed_stores: failing loudly, a clock that moves only
// when told to, the tiny store options every fuzzed store uses, and ExploreStore, the
// read-side checks of an open store that hold whatever bytes it was opened on.
#ifndef MQSTORE_FUZZ_FUZZ_STORE_H_
#define MQSTORE_FUZZ_FUZZ_STORE_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "mqstore/env.h"
#include "mqstore/options.h"
#include "mqstore/store.h"

namespace mqstore::fuzz {

// Prints `what` with its place and aborts: libFuzzer reports the abort as a crash and saves
// the input.
[[noreturn]] void Fail(const char* file, int line, const std::string& what);

#define FUZZ_CHECK(cond, what)                                                                  \
  do {                                                                                          \
    if (!(cond))                                                                                \
      ::mqstore::fuzz::Fail(__FILE__, __LINE__, std::string(#cond) + ": " + std::string(what)); \
  } while (0)

// A clock that moves only when told to, so that records (and what a fuzzer sees) do not
// depend on when it runs.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_ms) : now_(start_ms) {}
  int64_t NowMillis() override { return now_.load(); }
  void Advance(int64_t ms) { now_ += ms; }

 private:
  std::atomic<int64_t> now_;
};

inline constexpr char kStoreDir[] = "/store";
inline constexpr int64_t kStartMs = 1'700'000'000'000;
// Periods of the background work: never, within one fuzz execution. Every flush and
// checkpoint is the fuzzer's doing, so an input replays the same way.
inline constexpr int kNeverMs = 3'600'000;
// Retention deletes segments whose records are this old (op_sequence_fuzzer's "expire").
inline constexpr int64_t kFileReservedMs = 60'000;
// Largest body a fuzzed store takes: half a segment, so that big messages roll segments.
inline constexpr uint32_t kMaxBodyBytes = 2048;

// Tiny files (4 KiB segments, 4-entry queue files, 16-slot index files, 3 KiB timer log
// segments, a 1024-slot timing wheel) so that a store of a few dozen messages has several of
// each, and no metadata (LMDB only works on the POSIX Env). A seed store opens only with the
// segment size it was written with, so every fuzzer uses these.
StoreOptions TinyStoreOptions(Env* env, Clock* clock, FlushMode mode);

// A message of the fuzzers' stores: body, optional tags and keys.
struct FuzzMessage {
  std::string topic;
  int32_t queue_id = 0;
  std::string body;
  std::string properties;  // encoded
  int32_t flag = 0;
  MessageView View() const;
};

// Reads what an open store shows and checks what its API promises for any store, however
// damaged the files it recovered from: stats ordered (durable <= written <= appended), every
// listed queue has bounds and reads contiguously from its minimum (or says the offset is too
// small), records returned by ReadRecord parse and start where asked, key and message-id
// lookups return records of the topic carrying the key, time searches stay within the
// queue. Work is bounded (queues, messages and lookups are capped). Returns the number of
// messages read.
size_t ExploreStore(Store* store);

}  // namespace mqstore::fuzz

#endif  // MQSTORE_FUZZ_FUZZ_STORE_H_
