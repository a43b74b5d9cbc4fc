#include "io_pool.h"

#include <exception>
#include <string>

#include "mqstore/thread_name.h"
#include "remoting/log_sink.h"

namespace mqremoting::internal {
namespace {

thread_local const IoPool* current_pool = nullptr;

}  // namespace

std::shared_ptr<IoPool> IoPool::Create(int threads, std::string role) {
  return std::shared_ptr<IoPool>(new IoPool(threads, std::move(role)), [](IoPool* pool) {
    // Destroyed here, the pool could not join the thread this runs on, and would free the
    // io_context that thread returns into.
    if (pool->OnOwnThread()) {
      std::thread([pool] { delete pool; }).detach();
    } else {
      delete pool;
    }
  });
}

IoPool::IoPool(int threads, std::string role)
    : context_(threads > 0 ? threads : 1),
      thread_count_(threads > 0 ? threads : 1),
      role_(std::move(role)) {}

IoPool::~IoPool() {
  Stop(std::chrono::milliseconds(0));
  // Threads are left only when Stop ran on one of them (a misuse it logged). The deleter
  // Create installs never runs this on one of them.
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void IoPool::Start() {
  work_.emplace(asio::make_work_guard(context_));
  std::lock_guard<std::mutex> lock(mu_);
  running_ = thread_count_;
  for (int i = 0; i < thread_count_; ++i) {
    threads_.emplace_back([this, i] {
      mqstore::NameThisThread("mq-" + role_ + "-" + std::to_string(i));
      RunThread();
    });
  }
}

void IoPool::RunThread() {
  current_pool = this;
  // Handlers report errors as values; an exception here is a bug in a handler. Log it and
  // keep the thread serving rather than taking the process down.
  for (;;) {
    try {
      context_.run();
      break;
    } catch (const std::exception& e) {
      Log(LogLevel::kError, std::string("remoting: a transport handler threw: ") + e.what());
    } catch (...) {
      Log(LogLevel::kError, "remoting: a transport handler threw a non-standard exception");
    }
  }
  current_pool = nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  if (--running_ == 0) threads_done_.notify_all();
}

void IoPool::Stop(std::chrono::milliseconds grace) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  work_.reset();
  if (OnOwnThread()) {
    Log(LogLevel::kError, "remoting: Stop called on a transport thread; threads not joined");
    context_.stop();
    return;
  }
  {
    std::unique_lock<std::mutex> lock(mu_);
    threads_done_.wait_for(lock, grace, [this] { return running_ == 0; });
  }
  context_.stop();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
  // Completions that were ready when the context stopped (cancelled reads and timers) still
  // hold their connections: run them so those are released.
  try {
    context_.restart();
    for (int round = 0; round < 1000 && context_.poll() > 0; ++round) {
    }
  } catch (const std::exception& e) {
    Log(LogLevel::kError, std::string("remoting: a transport handler threw: ") + e.what());
  }
}

bool IoPool::OnTransportThread() { return current_pool != nullptr; }

bool IoPool::OnOwnThread() const { return current_pool == this; }

}  // namespace mqremoting::internal
