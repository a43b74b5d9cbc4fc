// make_seed_stores: writes the seed corpora of the fuzzers (fuzz/README.md).
//
//   make_seed_stores <corpus dir>      e.g. fuzz/corpus
//
// Builds small stores on MemEnv with TinyStoreOptions (the options the fuzzers open them
// with) and writes each as a store archive into <corpus dir>/store_recovery/ and
// <corpus dir>/mqdump_verify/: a clean SYNC_FLUSH store, ASYNC_FLUSH crash images of the
// three CrashModes, one with segments removed by retention, one with delayed messages, an
// empty one. From the same stores it takes the seeds of the decoder fuzzers: records
// (record/), checkpoint files (checkpoint/), index files (index/) and consume-queue files
// (consume_queue/), each with the flag bytes its fuzzer expects. Output is deterministic.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_store.h"
#include "mqstore/mem_env.h"
#include "mqstore/store.h"
#include "store_archive.h"

namespace mqstore::fuzz {
namespace {

namespace fs = std::filesystem;

Status WriteSeed(const fs::path& dir, const std::string& name, std::string_view bytes) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) return Status::IOError("cannot write " + (dir / name).string());
  std::printf("%8zu  %s\n", bytes.size(), (dir / name).c_str());
  return Status::OK();
}

Result<std::string> ReadWhole(Env* env, const std::string& path) {
  MQ_ASSIGN_OR_RETURN(std::unique_ptr<File> f, env->OpenFile(path, OpenMode::kReadOnly));
  MQ_ASSIGN_OR_RETURN(uint64_t size, f->Size());
  std::string bytes(size, '\0');
  size_t n = 0;
  MQ_RETURN_IF_ERROR(f->Read(0, bytes.size(), bytes.data(), &n));
  bytes.resize(n);
  return bytes;
}

FuzzMessage Message(int seq, size_t body_bytes, bool keys, bool tags) {
  FuzzMessage m;
  m.topic = seq % 3 == 0 ? "TopicB" : "TopicA";
  m.queue_id = seq % 2;
  m.body = "m" + std::to_string(seq) + "-";
  while (m.body.size() < body_bytes) m.body += static_cast<char>('a' + (seq + m.body.size()) % 26);
  if (tags) AppendProperty(property::kTags, "tag" + std::to_string(seq % 3), &m.properties);
  if (keys) AppendProperty(property::kKeys, "key-" + std::to_string(seq), &m.properties);
  m.flag = seq % 4;
  return m;
}

Status PutSome(Store* store, int from, int count, size_t body_bytes) {
  for (int i = from; i < from + count; ++i) {
    FuzzMessage m =
        Message(i, body_bytes + static_cast<size_t>(i % 5) * 40, i % 2 == 0, i % 3 != 2);
    MQ_RETURN_IF_ERROR(store->Put(m.View()).status());
  }
  return Status::OK();
}

Status AwaitQuiet(Store* store) {
  return store->AwaitDispatched(store->Stats().appended_offset, 10'000);
}

// Where each seed store's files go, and the decoder seeds taken from it.
class SeedWriter {
 public:
  explicit SeedWriter(fs::path root) : root_(std::move(root)) {}

  Status Add(const std::string& name, Env* env) {
    MQ_ASSIGN_OR_RETURN(std::string archive, DumpArchive(env, kStoreDir));
    MQ_RETURN_IF_ERROR(WriteSeed(root_ / "store_recovery", name, archive));
    MQ_RETURN_IF_ERROR(WriteSeed(root_ / "mqdump_verify", name, archive));
    return AddDecoderSeeds(name, env);
  }

 private:
  Status AddDecoderSeeds(const std::string& name, Env* env) {
    const std::string dir = kStoreDir;
    if (auto cp = ReadWhole(env, dir + "/checkpoint"); cp.ok()) {
      MQ_RETURN_IF_ERROR(WriteSeed(root_ / "checkpoint", name, std::string(1, '\0') + *cp));
      MQ_RETURN_IF_ERROR(
          WriteSeed(root_ / "checkpoint", name + "-fixcrc", std::string(1, '\1') + *cp));
    }
    if (auto names = env->GetChildren(dir + "/index"); names.ok() && !names->empty()) {
      auto bytes = ReadWhole(env, dir + "/index/" + names->back());
      if (bytes.ok()) {
        MQ_RETURN_IF_ERROR(WriteSeed(root_ / "index", name, std::string(1, '\0') + *bytes));
        MQ_RETURN_IF_ERROR(
            WriteSeed(root_ / "index", name + "-fixcrc-restore", std::string(1, '\3') + *bytes));
      }
    }
    // Queue TopicA/0: all its files, with the fuzzer's two leading bytes (4 entries a file).
    const std::string qdir = dir + "/consumequeue/TopicA/0";
    if (auto names = env->GetChildren(qdir); names.ok() && !names->empty()) {
      std::sort(names->begin(), names->end());
      std::string seed = {static_cast<char>(3),
                          static_cast<char>(names->size() > 4 ? 3 : names->size() - 1)};
      for (size_t i = 0; i < names->size() && i < 4; ++i) {
        auto bytes = ReadWhole(env, qdir + "/" + (*names)[i]);
        if (bytes.ok()) seed += *bytes;
      }
      MQ_RETURN_IF_ERROR(WriteSeed(root_ / "consume_queue", name, seed));
    }
    // The first record of every segment, and a blank.
    if (auto names = env->GetChildren(dir + "/commitlog"); names.ok()) {
      std::sort(names->begin(), names->end());
      int n = 0;
      for (const std::string& segment : *names) {
        auto bytes = ReadWhole(env, dir + "/commitlog/" + segment);
        if (!bytes.ok()) continue;
        ParsedRecord rec;
        if (ParseRecord(*bytes, false, &rec).ok()) {
          MQ_RETURN_IF_ERROR(WriteSeed(root_ / "record", name + "-" + std::to_string(n++),
                                       bytes->substr(0, static_cast<size_t>(rec.total_size))));
        }
      }
    }
    return Status::OK();
  }

  fs::path root_;
};

Status MakeSeeds(const fs::path& root) {
  SeedWriter seeds(root);
  {  // An empty store, closed.
    auto env = NewMemEnv();
    ManualClock clock(kStartMs);
    MQ_ASSIGN_OR_RETURN(
        auto store, Store::Open(TinyStoreOptions(env.get(), &clock, FlushMode::kSync), kStoreDir));
    MQ_RETURN_IF_ERROR(store->Close());
    MQ_RETURN_IF_ERROR(seeds.Add("empty-closed", env.get()));
  }
  {  // SYNC_FLUSH, keys and tags, a segment rollover, closed cleanly.
    auto env = NewMemEnv();
    ManualClock clock(kStartMs);
    MQ_ASSIGN_OR_RETURN(
        auto store, Store::Open(TinyStoreOptions(env.get(), &clock, FlushMode::kSync), kStoreDir));
    MQ_RETURN_IF_ERROR(PutSome(store.get(), 0, 24, 120));
    MQ_RETURN_IF_ERROR(store->Close());
    MQ_RETURN_IF_ERROR(seeds.Add("sync-closed", env.get()));
  }
  const CrashMode modes[] = {CrashMode::kDropUnsynced, CrashMode::kTornPrefix,
                             CrashMode::kRandomPages};
  const char* mode_names[] = {"drop-unsynced", "torn-prefix", "random-pages"};
  for (int i = 0; i < 3; ++i) {  // ASYNC_FLUSH: a flushed prefix, an unflushed tail, a crash.
    auto env = NewMemEnv();
    ManualClock clock(kStartMs);
    MQ_ASSIGN_OR_RETURN(
        auto store, Store::Open(TinyStoreOptions(env.get(), &clock, FlushMode::kAsync), kStoreDir));
    MQ_RETURN_IF_ERROR(PutSome(store.get(), 0, 14, 150));
    MQ_RETURN_IF_ERROR(store->Flush());
    clock.Advance(1000);
    MQ_RETURN_IF_ERROR(PutSome(store.get(), 14, 8, 200));
    MQ_RETURN_IF_ERROR(AwaitQuiet(store.get()));
    std::unique_ptr<MemEnv> image = env->CrashCopy({modes[i], 42});
    MQ_RETURN_IF_ERROR(seeds.Add(std::string("async-crash-") + mode_names[i], image.get()));
    MQ_RETURN_IF_ERROR(store->Close());
  }
  {  // SYNC_FLUSH crash with a tail of puts that did not wait (WAIT=false): not durable.
    auto env = NewMemEnv();
    ManualClock clock(kStartMs);
    MQ_ASSIGN_OR_RETURN(
        auto store, Store::Open(TinyStoreOptions(env.get(), &clock, FlushMode::kSync), kStoreDir));
    MQ_RETURN_IF_ERROR(PutSome(store.get(), 0, 10, 100));
    for (int i = 10; i < 14; ++i) {
      FuzzMessage m = Message(i, 90, true, true);
      AppendProperty(property::kWaitStoreMsgOk, "false", &m.properties);
      MQ_RETURN_IF_ERROR(store->Put(m.View()).status());
    }
    MQ_RETURN_IF_ERROR(AwaitQuiet(store.get()));
    std::unique_ptr<MemEnv> image = env->CrashCopy({CrashMode::kTornPrefix, 7});
    MQ_RETURN_IF_ERROR(seeds.Add("sync-crash-nowait-tail", image.get()));
    MQ_RETURN_IF_ERROR(store->Close());
  }
  {  // Large messages roll segments; retention then removes the expired ones.
    auto env = NewMemEnv();
    ManualClock clock(kStartMs);
    MQ_ASSIGN_OR_RETURN(
        auto store, Store::Open(TinyStoreOptions(env.get(), &clock, FlushMode::kAsync), kStoreDir));
    MQ_RETURN_IF_ERROR(PutSome(store.get(), 0, 6, 1500));
    clock.Advance(kFileReservedMs * 2);
    MQ_RETURN_IF_ERROR(PutSome(store.get(), 6, 3, 100));
    MQ_RETURN_IF_ERROR(store->RunRetention());
    MQ_RETURN_IF_ERROR(store->Close());
    MQ_RETURN_IF_ERROR(seeds.Add("retention-closed", env.get()));
  }
  {  // Delayed messages (a delay level and a timer) parked, then a crash.
    auto env = NewMemEnv();
    ManualClock clock(kStartMs);
    MQ_ASSIGN_OR_RETURN(
        auto store, Store::Open(TinyStoreOptions(env.get(), &clock, FlushMode::kSync), kStoreDir));
    MQ_RETURN_IF_ERROR(PutSome(store.get(), 0, 3, 60));
    FuzzMessage delayed = Message(100, 60, true, true);
    AppendProperty(property::kDelayLevel, "3", &delayed.properties);
    MQ_RETURN_IF_ERROR(store->Put(delayed.View()).status());
    FuzzMessage timer = Message(101, 60, false, true);
    AppendProperty("TIMER_DELAY_MS", "30000", &timer.properties);
    MQ_RETURN_IF_ERROR(store->Put(timer.View()).status());
    MQ_RETURN_IF_ERROR(AwaitQuiet(store.get()));
    MQ_RETURN_IF_ERROR(store->AwaitScheduleRound(10'000));
    std::unique_ptr<MemEnv> image = env->CrashCopy({CrashMode::kDropUnsynced, 1});
    MQ_RETURN_IF_ERROR(seeds.Add("delay-timer-crash", image.get()));
    MQ_RETURN_IF_ERROR(store->Close());
    MQ_RETURN_IF_ERROR(seeds.Add("delay-timer-closed", env.get()));
  }
  return Status::OK();
}

}  // namespace
}  // namespace mqstore::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir, e.g. fuzz/corpus>\n", argv[0]);
    return 2;
  }
  mqstore::Status s = mqstore::fuzz::MakeSeeds(argv[1]);
  if (!s.ok()) {
    std::fprintf(stderr, "make_seed_stores: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
