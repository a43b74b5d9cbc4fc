// NameThisThread, and the names the store's own threads carry (what `top -H` shows).
#include "mqstore/thread_name.h"

#include <dirent.h>
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "mqstore/store.h"
#include "mqstore/store/store_test_util.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

// The names of this process's threads, from /proc.
std::multiset<std::string> ThreadNames() {
  std::multiset<std::string> names;
  DIR* tasks = opendir("/proc/self/task");
  if (tasks == nullptr) return names;
  while (dirent* entry = readdir(tasks)) {
    if (entry->d_name[0] == '.') continue;
    std::ifstream comm(std::string("/proc/self/task/") + entry->d_name + "/comm");
    std::string name;
    if (std::getline(comm, name)) names.insert(name);
  }
  closedir(tasks);
  return names;
}

TEST(ThreadNameTest, AThreadTakesTheNameAndALongOneIsCutAtFifteenBytes) {
  std::string short_name, long_name;
  std::thread([&] {
    NameThisThread("mq-test");
    short_name = ThisThreadName();
    NameThisThread("mq-a-name-longer-than-fifteen");
    long_name = ThisThreadName();
  }).join();
  EXPECT_EQ(short_name, "mq-test");
  EXPECT_EQ(long_name, "mq-a-name-longe");
}

TEST(ThreadNameTest, AnOpenStoresThreadsAreNamed) {
  test::TempDir dir;
  StoreOptions options;
  options.commitlog_segment_bytes = 1 << 20;
  auto store = Store::Open(options, dir.path());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  // The log's preparation thread starts with the first segment.
  ASSERT_TRUE(test::PutMessage(store->get(), test::MakeMessage("T", 0, "x")).ok());
  const std::set<std::string> expected = {"mq-dispatch", "mq-log-prepare", "mq-maintenance",
                                          "mq-schedule"};
  std::multiset<std::string> names;
  EXPECT_TRUE(test::WaitUntil([&] {
    names = ThreadNames();
    for (const std::string& name : expected) {
      if (names.count(name) == 0) return false;
    }
    return true;
  })) << "threads: "
      << ::testing::PrintToString(names);
  store->reset();
  names = ThreadNames();
  for (const std::string& name : expected) EXPECT_EQ(names.count(name), 0u) << name;
}

}  // namespace
}  // namespace mqstore
