// mq_crash_writer: opens a store (SYNC_FLUSH) on the real file system and puts messages with
// several threads until it is killed. After every put acknowledged as durable it appends an
// acknowledgement line (crash_process_common.h) to a log and fdatasyncs it, so the log holds
// only messages the store promised to keep.
//
//   mq_crash_writer <store_dir> <ack_log> <seed> <threads> <ready_file>
//
// <ready_file> is created once the store is open. Exits 2 on any store error (the driver
// reports it), 0 after a safety limit of 60 s if nobody killed it.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "crash_process_common.h"
#include "mqstore/store.h"

namespace mqstore::crash_process {
namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "mq_crash_writer: %s\n", what.c_str());
  std::fflush(stderr);
  std::_Exit(2);
}

class AckLog {
 public:
  explicit AckLog(const std::string& path)
      : fd_(open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) {
    if (fd_ < 0) Die("cannot open " + path);
  }
  // Appends the line and makes it durable before returning.
  void Append(const Ack& ack) {
    std::string line = FormatAck(ack);
    std::lock_guard<std::mutex> l(mu_);
    if (write(fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      Die("short write to the acknowledgement log");
    }
    if (fdatasync(fd_) != 0) Die("fdatasync of the acknowledgement log failed");
  }

 private:
  int fd_;
  std::mutex mu_;
};

void WriterLoop(Store* store, AckLog* acks, uint64_t seed, int thread) {
  std::mt19937_64 rng(seed * 131 + static_cast<uint64_t>(thread));
  for (uint64_t seq = 0;; ++seq) {
    std::string body = "pid" + std::to_string(getpid()) + "-t" + std::to_string(thread) + "-s" +
                       std::to_string(seq) + ":";
    size_t size = 16 + rng() % 2000;
    while (body.size() < size) body.push_back(static_cast<char>('a' + rng() % 26));
    Message m;
    m.topic = kTopic;
    m.queue_id = static_cast<int32_t>(rng() % kQueues);
    m.body = body;
    m.born_timestamp_ms = 1'700'000'000'000;
    m.SetTags("t" + std::to_string(thread));
    // Some puts do not wait for durability: the store acknowledges them early and they must
    // not appear in the acknowledgement log.
    bool wait = rng() % 5 != 0;
    if (!wait) m.SetProperty(std::string(property::kWaitStoreMsgOk), "false");
    std::string props;
    auto r = store->Put(m.View(&props));
    if (!r.ok()) Die("put failed: " + r.status().ToString());
    if (r->status != PutStatus::kOk) continue;  // a flush timeout: not acknowledged
    if (!r->durable) continue;
    acks->Append(
        Ack{m.queue_id, r->queue_offset, r->physical_offset, r->record_size, BodyHash(body)});
  }
}

int Main(int argc, char** argv) {
  if (argc != 6) Die("usage: mq_crash_writer <store_dir> <ack_log> <seed> <threads> <ready_file>");
  std::string dir = argv[1];
  AckLog acks(argv[2]);
  uint64_t seed = std::strtoull(argv[3], nullptr, 10);
  int threads = std::atoi(argv[4]);
  auto opened = Store::Open(WriterOptions(), dir);
  if (!opened.ok()) Die("open failed: " + opened.status().ToString());
  std::unique_ptr<Store> store = std::move(opened).value();
  int ready = open(argv[5], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (ready < 0) Die("cannot create the ready file");
  close(ready);
  for (int t = 0; t < threads; ++t) {
    std::thread([&store, &acks, seed, t] { WriterLoop(store.get(), &acks, seed, t); }).detach();
  }
  std::this_thread::sleep_for(std::chrono::seconds(60));  // nobody killed us: give up
  std::_Exit(0);
}

}  // namespace
}  // namespace mqstore::crash_process

int main(int argc, char** argv) { return mqstore::crash_process::Main(argc, argv); }
