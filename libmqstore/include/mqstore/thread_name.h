// Names the calling thread, as `top -H`, `ps -L`, `perf` and debuggers show it. Every
// long-lived thread of the store, the broker, the name server and the client names itself
// ("mq-dispatch", "mq-server-io-0", ...), as RocketMQ's service threads carry their service's name.
// Linux keeps at most 15 bytes: a longer name is cut there.
#ifndef MQSTORE_THREAD_NAME_H_
#define MQSTORE_THREAD_NAME_H_

#include <string>
#include <string_view>

namespace mqstore {

void NameThisThread(std::string_view name);

// The calling thread's name ("" where the platform has none).
std::string ThisThreadName();

}  // namespace mqstore

#endif  // MQSTORE_THREAD_NAME_H_
