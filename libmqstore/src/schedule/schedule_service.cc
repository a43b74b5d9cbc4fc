#include "schedule/schedule_service.h"

#include "schedule/schedule_names.h"

namespace mqstore {

ScheduleService::ScheduleService(std::shared_ptr<ScheduleProgressStore> progress)
    : progress_(std::move(progress)) {}

Result<std::unique_ptr<ScheduleService>> ScheduleService::Start(
    Env* env, const std::string& store_dir, Store& store, Clock* clock,
    std::shared_ptr<ScheduleProgressStore> progress, const ScheduleServiceOptions& options) {
  std::unique_ptr<ScheduleService> service(new ScheduleService(std::move(progress)));
  service->delay_schedulers_ =
      MakeDelaySchedulers(store, *service->progress_, options.levels, options.delay);
  std::vector<ScheduledTask*> tasks;
  for (auto& s : service->delay_schedulers_) tasks.push_back(s.get());
  if (options.timer_enabled) {
    MQ_ASSIGN_OR_RETURN(service->timer_, TimerScheduler::Open(env, store_dir, store,
                                                              *service->progress_, options.timer));
    tasks.push_back(service->timer_.get());
  }
  service->runner_ = std::make_unique<ScheduleRunner>(clock, std::move(tasks), options.runner);
  MQ_RETURN_IF_ERROR(service->runner_->Start());
  return service;
}

ScheduleService::~ScheduleService() { Stop().IgnoreError(); }  // Close reports it

void ScheduleService::OnArrival(std::string_view topic) {
  if (topic == schedule::kScheduleTopic || topic == schedule::kTimerTopic) runner_->Notify();
}

Status ScheduleService::AwaitRound(int timeout_ms) {
  // A round in progress may have read its queues before the caller's message arrived:
  // wait for the first one that starts after this call.
  if (stopped_.load()) return Status::FailedPrecondition("the schedulers are stopped");
  uint64_t round = runner_->RequestRound();
  if (!runner_->AwaitRound(round - 1, timeout_ms)) {
    return Status::TimedOut("no schedule round completed within " + std::to_string(timeout_ms) +
                            " ms");
  }
  return runner_->last_error();
}

Status ScheduleService::Stop() {
  if (stopped_.exchange(true)) return Status::OK();
  runner_->Stop();
  return timer_ ? timer_->Close() : Status::OK();
}

ScheduleServiceStats ScheduleService::stats() const {
  ScheduleServiceStats s;
  s.rounds = runner_->rounds();
  s.last_error = runner_->last_error();
  if (timer_) {
    TimerScheduler::Stats t = timer_->stats();
    s.timers_pending = t.pending;
    s.timers_delivered = t.delivered;
  }
  return s;
}

}  // namespace mqstore
