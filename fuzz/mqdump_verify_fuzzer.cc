// mqdump_verify_fuzzer: what `mqdump verify` and `mqdump stats` do, on a mutated store.
//
// Input: a store archive (store_archive.h, fuzz/README.md), loaded into a fresh MemEnv.
// StoreInspector (mqstore/inspect.h) opens it read-only; Stats, ReadCheckpoint, Verify, a
// walk of the log and of every queue, ReadTimerLog and key / id lookups must never crash,
// and may fail only with an error status. Checked: Verify's summary counts agree with the
// problems it reported, and the inspector changed nothing in the directory.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "fuzz_store.h"
#include "mqstore/inspect.h"
#include "mqstore/mem_env.h"
#include "store_archive.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mqstore;
  using namespace mqstore::fuzz;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::unique_ptr<MemEnv> env = NewMemEnv();
  if (!LoadArchive(input, env.get(), kStoreDir).ok()) return 0;
  auto before = DumpArchive(env.get(), kStoreDir);
  FUZZ_CHECK(before.ok(), before.status().ToString());

  InspectOptions options;
  options.env = env.get();
  auto opened = StoreInspector::Open(kStoreDir, options);
  if (!opened.ok()) return 0;
  StoreInspector* inspector = opened->get();

  inspector->ReadCheckpoint().status().IgnoreError();
  auto stats = inspector->Stats();

  uint64_t notes = 0, warnings = 0, corruptions = 0;
  VerifyOptions verify;
  verify.report = [&](const Problem& p) {
    FUZZ_CHECK(!p.message.empty(), "a problem without a message");
    // A remark that more problems were counted than shown is forwarded, not counted.
    if (p.message.find("more problems not shown") != std::string::npos) return;
    switch (p.severity) {
      case Severity::kNote:
        ++notes;
        break;
      case Severity::kWarning:
        ++warnings;
        break;
      case Severity::kCorruption:
        ++corruptions;
        break;
    }
  };
  auto summary = inspector->Verify(verify);
  if (summary.ok()) {
    // Per-queue problems past max_problems_per_queue are counted but not reported.
    FUZZ_CHECK(summary->notes >= notes && summary->warnings >= warnings &&
                   summary->corruptions >= corruptions,
               "Verify's summary counts fewer problems than it reported");
    FUZZ_CHECK(summary->log_start <= summary->log_end, "log start past its end");
  }

  // What `mqdump commitlog` and `mqdump consumequeue` walk.
  if (auto it = inspector->NewLogIterator(0); it.ok()) {
    int records = 0;
    for (; (*it)->Valid() && records < 512; (*it)->Next(), ++records) {
      const LogEntry& e = (*it)->entry();
      if (e.kind == LogEntryKind::kRecord) {
        FUZZ_CHECK(e.bytes.size() == static_cast<size_t>(e.size), "record entry size");
        inspector->ReadRecordAt(e.offset).status().IgnoreError();
        if (auto keys = FindProperty(e.record.properties, property::kKeys)) {
          KeyQuery q;
          q.topic = std::string(e.record.topic);
          q.key = std::string(keys->substr(0, keys->find(' ')));
          if (!q.key.empty()) inspector->FindByKey(q).status().IgnoreError();
        }
        inspector
            ->ReadByMessageId(MakeOffsetMessageId(e.record.store_host, e.offset), e.record.topic)
            .status()
            .IgnoreError();
      }
    }
  }
  if (stats.ok()) {
    int queues = 0;
    for (const QueueFiles& q : inspector->layout().queues) {
      if (++queues > 32) break;
      auto it = inspector->NewQueueIterator(q.topic, q.queue_id, 0);
      if (!it.ok()) continue;
      for (int n = 0; (*it)->Valid() && n < 256; (*it)->Next(), ++n) {
      }
    }
  }
  inspector->ReadTimerLog().status().IgnoreError();
  opened->reset();

  auto after = DumpArchive(env.get(), kStoreDir);
  FUZZ_CHECK(after.ok() && *after == *before, "the inspector changed the store directory");
  return 0;
}
