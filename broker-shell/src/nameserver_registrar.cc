#include "nameserver_registrar.h"

#include <future>

#include "mqstore/metadata.h"
#include "mqstore/thread_name.h"
#include "remoting/codes.h"
#include "remoting/log_sink.h"
#include "remoting/transport.h"
#include "topic_manager.h"

namespace mqbroker {

using mqremoting::RemotingCommand;
using mqstore::Status;

namespace {

constexpr std::chrono::milliseconds kRegisterTimeout{3000};
// How often the thread looks for topic-table changes between full registrations.
constexpr std::chrono::milliseconds kChangeCheckPeriod{1000};

}  // namespace

NameServerRegistrar::NameServerRegistrar(mqremoting::RemotingClient* client,
                                         std::vector<std::string> name_servers,
                                         BrokerIdentity identity, std::string ha_server_addr,
                                         TopicManager* topics, std::chrono::milliseconds period)
    : client_(client),
      name_servers_(std::move(name_servers)),
      identity_(std::move(identity)),
      ha_server_addr_(std::move(ha_server_addr)),
      topics_(topics),
      period_(period) {}

NameServerRegistrar::~NameServerRegistrar() { Stop(); }

void NameServerRegistrar::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_ || name_servers_.empty()) return;
  started_ = true;
  thread_ = std::thread([this] {
    mqstore::NameThisThread("mq-ns-register");
    Run();
  });
}

mqremoting::RegisterBrokerBody NameServerRegistrar::MakeBody(int64_t* counter) const {
  mqremoting::RegisterBrokerBody body;
  body.topic_config_serialize_wrapper = topics_->SerializeWrapper();
  *counter = body.topic_config_serialize_wrapper.data_version.counter;
  return body;
}

Status NameServerRegistrar::RegisterNow() {
  std::lock_guard<std::mutex> round(register_mu_);
  if (name_servers_.empty()) return Status::OK();
  int64_t counter = 0;
  std::string body = mqremoting::EncodeJson(MakeBody(&counter));

  // All name servers at once: a dead one costs its timeout, not everyone's.
  std::vector<std::future<mqstore::Result<RemotingCommand>>> answers;
  for (const std::string& address : name_servers_) {
    RemotingCommand request = RemotingCommand::Request(mqremoting::request_code::kRegisterBroker);
    request.SetExt("brokerName", identity_.broker_name);
    request.SetExt("brokerAddr", identity_.broker_addr);
    request.SetExt("clusterName", identity_.cluster_name);
    request.SetExt("haServerAddr", ha_server_addr_);
    request.SetExt("brokerId", identity_.broker_id);
    request.SetExt("compressed", false);
    request.SetExt("bodyCrc32", int64_t{0});
    request.body = body;
    auto promise = std::make_shared<std::promise<mqstore::Result<RemotingCommand>>>();
    answers.push_back(promise->get_future());
    client_->InvokeAsync(address, std::move(request), kRegisterTimeout,
                         [promise](mqstore::Result<RemotingCommand> response) {
                           promise->set_value(std::move(response));
                         });
  }
  Status first_error;
  for (size_t i = 0; i < answers.size(); ++i) {
    mqstore::Result<RemotingCommand> response = answers[i].get();
    Status status = response.status();
    if (status.ok() && response->code != mqremoting::response_code::kSuccess) {
      status = Status::IOError("answered code " + std::to_string(response->code) + ": " +
                               response->remark.value_or(""));
    }
    if (!status.ok()) {
      status = status.WithContext("registering with name server " + name_servers_[i]);
      mqremoting::Log(mqremoting::LogLevel::kWarn, status.ToString());
      if (first_error.ok()) first_error = status;
    }
  }
  // Failures are retried by the next periodic round, not by every change check.
  registered_counter_ = counter;
  return first_error;
}

Status NameServerRegistrar::RegisterIfChanged() {
  {
    std::lock_guard<std::mutex> round(register_mu_);
    if (topics_->data_version().counter == registered_counter_) return Status::OK();
  }
  return RegisterNow();
}

void NameServerRegistrar::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (!started_) return;
  for (const std::string& address : name_servers_) {
    RemotingCommand request = RemotingCommand::Request(mqremoting::request_code::kUnregisterBroker);
    request.SetExt("brokerName", identity_.broker_name);
    request.SetExt("brokerAddr", identity_.broker_addr);
    request.SetExt("clusterName", identity_.cluster_name);
    request.SetExt("brokerId", identity_.broker_id);
    client_->InvokeSync(address, std::move(request), kRegisterTimeout).status().IgnoreError();
  }
}

void NameServerRegistrar::Run() {
  auto next_full = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    if (std::chrono::steady_clock::now() >= next_full) {
      RegisterNow().IgnoreError();  // logged; retried next period
      next_full = std::chrono::steady_clock::now() + period_;
    } else {
      RegisterIfChanged().IgnoreError();
    }
    lock.lock();
    wake_.wait_for(lock, kChangeCheckPeriod, [this] { return stopping_; });
  }
}

}  // namespace mqbroker
