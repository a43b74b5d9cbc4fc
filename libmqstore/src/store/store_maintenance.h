// StoreMaintenance: the store's one periodic thread. Every flush interval it makes the log
// durable and releases old mapped pages; every checkpoint interval it writes a checkpoint.
// The work itself is passed in; this class only keeps time.
#ifndef MQSTORE_STORE_STORE_MAINTENANCE_H_
#define MQSTORE_STORE_STORE_MAINTENANCE_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace mqstore {

class StoreMaintenance {
 public:
  struct Task {
    std::chrono::milliseconds period;
    std::function<void()> run;
  };

  explicit StoreMaintenance(std::vector<Task> tasks);
  ~StoreMaintenance();  // stops and joins

 private:
  void Loop();

  std::vector<Task> tasks_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace mqstore

#endif  // MQSTORE_STORE_STORE_MAINTENANCE_H_
