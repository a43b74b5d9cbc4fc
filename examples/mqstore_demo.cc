// Links the store directly: appends messages, reads them back through their queue, reopens
// the store and checks everything is still there. Used as the main job until the broker
// lands (see README).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "mqstore/store.h"

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "./store-demo";
  int count = argc > 2 ? std::atoi(argv[2]) : 100000;
  mqstore::StoreOptions options;
  options.flush_mode = mqstore::FlushMode::kSync;
  options.commitlog_segment_bytes = 64 << 20;
  auto opened = mqstore::Store::Open(options, dir);
  if (!opened.ok()) {
    std::fprintf(stderr, "open %s: %s\n", dir.c_str(), opened.status().ToString().c_str());
    return 1;
  }
  auto store = std::move(opened).value();
  auto before = store->GetQueueBounds("DemoTopic", 0);
  int64_t start = before.ok() ? before->max_offset : 0;
  std::printf("store %s: DemoTopic/0 holds %lld messages\n", dir.c_str(),
              static_cast<long long>(start));
  std::vector<std::string> bodies;
  int64_t last_end = 0;
  for (int i = 0; i < count; ++i) {
    mqstore::Message m;
    m.topic = "DemoTopic";
    m.body = "demo message " + std::to_string(start + i);
    m.SetTags("demo");
    m.SetKeys("key-" + std::to_string(start + i));
    std::string props;
    auto r = store->Put(m.View(&props));
    if (!r.ok()) {
      std::fprintf(stderr, "put: %s\n", r.status().ToString().c_str());
      return 1;
    }
    last_end = r->physical_offset + r->record_size;
  }
  if (auto s = store->AwaitDispatched(last_end, 10000); !s.ok()) {
    std::fprintf(stderr, "dispatch: %s\n", s.ToString().c_str());
    return 1;
  }
  int64_t offset = start, verified = 0;
  while (true) {
    auto r = store->Read("DemoTopic", 0, offset, 256, 4 << 20);
    if (!r.ok() || r->status != mqstore::ReadStatus::kFound) break;
    for (const auto& m : r->messages) {
      mqstore::ParsedRecord p;
      if (auto s = mqstore::ParseRecord(m.record, true, &p); !s.ok()) {
        std::fprintf(stderr, "record %lld: %s\n", static_cast<long long>(m.queue_offset),
                     s.ToString().c_str());
        return 1;
      }
      if (p.body != "demo message " + std::to_string(m.queue_offset)) {
        std::fprintf(stderr, "record %lld has the wrong body\n",
                     static_cast<long long>(m.queue_offset));
        return 1;
      }
      ++verified;
    }
    offset = r->next_offset;
  }
  std::printf("appended %d (SYNC_FLUSH), read back and verified %lld\n", count,
              static_cast<long long>(verified));
  if (auto s = store->Close(); !s.ok()) {
    std::fprintf(stderr, "close: %s\n", s.ToString().c_str());
    return 1;
  }
  return verified == count ? 0 : 1;
}
