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
    : thread_count_(threads > 0 ? threads : 1), role_(std::move(role)) {
  for (int i = 0; i < thread_count_; ++i) loops_.push_back(std::make_unique<Loop>());
}

asio::io_context& IoPool::NextContext() {
  const size_t i = next_loop_.fetch_add(1, std::memory_order_relaxed) % loops_.size();
  return loops_[i]->context;
}

IoPool::~IoPool() {
  Stop(std::chrono::milliseconds(0));
  // Threads are left only when Stop ran on one of them (a misuse it logged). The deleter
  // Create installs never runs this on one of them.
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void IoPool::Start() {
  for (auto& loop : loops_) loop->work.emplace(asio::make_work_guard(loop->context));
  std::lock_guard<std::mutex> lock(mu_);
  running_ = thread_count_;
  for (int i = 0; i < thread_count_; ++i) {
    threads_.emplace_back([this, i] {
      mqstore::NameThisThread("mq-" + role_ + "-" + std::to_string(i));
      RunThread(*loops_[static_cast<size_t>(i)]);
    });
  }
}

void IoPool::RunThread(Loop& loop) {
  current_pool = this;
  // Handlers report errors as values; an exception here is a bug in a handler. Log it and
  // keep the thread serving rather than taking the process down.
  for (;;) {
    try {
      loop.context.run();
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
  for (auto& loop : loops_) loop->work.reset();
  if (OnOwnThread()) {
    Log(LogLevel::kError, "remoting: Stop called on a transport thread; threads not joined");
    for (auto& loop : loops_) loop->context.stop();
    return;
  }
  {
    std::unique_lock<std::mutex> lock(mu_);
    threads_done_.wait_for(lock, grace, [this] { return running_ == 0; });
  }
  for (auto& loop : loops_) loop->context.stop();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
  // Completions that were ready when the contexts stopped (cancelled reads and timers) still
  // hold their connections: run them so those are released. A completion may post to
  // another context, so the rounds go over all of them until none has work.
  try {
    for (auto& loop : loops_) loop->context.restart();
    for (int round = 0; round < 1000; ++round) {
      size_t ran = 0;
      for (auto& loop : loops_) ran += loop->context.poll();
      if (ran == 0) break;
    }
  } catch (const std::exception& e) {
    Log(LogLevel::kError, std::string("remoting: a transport handler threw: ") + e.what());
  }
}

bool IoPool::OnTransportThread() { return current_pool != nullptr; }

bool IoPool::OnOwnThread() const { return current_pool == this; }

}  // namespace mqremoting::internal
