// What the store's components get from StoreOptions (StoreOptions::Validate is defined next
// to these, in store_options.cc). Kept out of the façade so that it only wires components.
#ifndef MQSTORE_STORE_STORE_OPTIONS_H_
#define MQSTORE_STORE_STORE_OPTIONS_H_

#include "log/commit_log.h"
#include "mqstore/options.h"
#include "schedule/schedule_rewrite.h"
#include "schedule/timer_scheduler.h"

namespace mqstore {

// `o` with env and clock filled in (Env::Default(), Clock::System()).
StoreOptions WithDefaults(StoreOptions o);
CommitLog::Options LogOptions(const StoreOptions& o);
// REQUIRES: o.Validate() is OK (the delay levels parse).
ScheduleRewriteOptions RewriteOptions(const StoreOptions& o);
TimerSchedulerOptions TimerOptions(const StoreOptions& o);

}  // namespace mqstore

#endif  // MQSTORE_STORE_STORE_OPTIONS_H_
