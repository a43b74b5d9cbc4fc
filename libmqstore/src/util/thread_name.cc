#include "mqstore/thread_name.h"

#include <pthread.h>

#include <algorithm>

namespace mqstore {

namespace {
constexpr size_t kMaxNameBytes = 15;  // the kernel's TASK_COMM_LEN, less the terminator
}  // namespace

void NameThisThread(std::string_view name) {
  std::string cut(name.substr(0, std::min(name.size(), kMaxNameBytes)));
  // Best effort: a name is for people reading a process list, never worth an error.
  pthread_setname_np(pthread_self(), cut.c_str());
}

std::string ThisThreadName() {
  char name[kMaxNameBytes + 1] = {};
  if (pthread_getname_np(pthread_self(), name, sizeof name) != 0) return std::string();
  return std::string(name);
}

}  // namespace mqstore
