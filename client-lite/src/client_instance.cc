#include "mqclient/client_instance.h"

#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <utility>

#include "mqclient/message.h"
#include "remoting/codes.h"
#include "remoting/log_sink.h"

namespace mqclient {

using mqremoting::RemotingCommand;

// Passes each request a broker sends to the producer it is for.
class ClientInstance::Router : public mqremoting::RequestHandler {
 public:
  void OnRequest(const std::shared_ptr<mqremoting::Connection>& connection,
                 RemotingCommand request) override {
    std::shared_ptr<mqremoting::RequestHandler> handler;
    std::string group;
    if (request.code == mqremoting::request_code::kCheckTransactionState) {
      Result<std::vector<ReceivedMessage>> halves = DecodeMessages(request.BodyBytes());
      if (halves.ok() && halves->size() == 1) {
        auto found = halves->front().properties.find("PGROUP");
        if (found != halves->front().properties.end()) group = found->second;
      }
      std::lock_guard<std::mutex> lock(mu_);
      auto registered = handlers_.find(group);
      if (registered != handlers_.end()) handler = registered->second;
    }
    if (handler) {
      handler->OnRequest(connection, std::move(request));
      return;
    }
    if (request.is_oneway()) {
      // The broker asks again later; a producer of the group may have started by then.
      mqremoting::Log(mqremoting::LogLevel::kInfo,
                      "client instance: request " + std::to_string(request.code) +
                          (group.empty() ? std::string(" names no producer group")
                                         : " for producer group " + group) +
                          " has no producer here; dropped");
      return;
    }
    connection->Send(RemotingCommand::ResponseTo(
        request, mqremoting::response_code::kRequestCodeNotSupported,
        "request code " + std::to_string(request.code) + " is not supported by this client"));
  }

  Status Register(const std::string& group, std::shared_ptr<mqremoting::RequestHandler> handler) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!handlers_.emplace(group, std::move(handler)).second) {
      return Status::InvalidArgument("producer group " + group +
                                     " already has a producer in this client instance");
    }
    return Status::OK();
  }
  void Unregister(const std::string& group) {
    std::lock_guard<std::mutex> lock(mu_);
    handlers_.erase(group);
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<mqremoting::RequestHandler>> handlers_;  // guarded by mu_
};

std::shared_ptr<ClientInstance> ClientInstance::Create(ClientInstanceOptions options) {
  return std::shared_ptr<ClientInstance>(new ClientInstance(options));
}

ClientInstance::ClientInstance(const ClientInstanceOptions& options)
    : router_(std::make_shared<Router>()) {
  mqremoting::ClientOptions transport;
  transport.shared_threads = options.transport_threads;
  transport.connect_timeout = options.connect_timeout;
  remoting_ = mqremoting::RemotingClient::Create(transport, router_);
  static std::atomic<uint64_t> next_instance{0};
  client_id_ = "127.0.0.1@" + std::to_string(::getpid()) + "#i" +
               std::to_string(next_instance.fetch_add(1, std::memory_order_relaxed));
}

ClientInstance::~ClientInstance() { remoting_->Shutdown(); }

Status ClientInstance::RegisterHandler(const std::string& group,
                                       std::shared_ptr<mqremoting::RequestHandler> handler) {
  return router_->Register(group, std::move(handler));
}

void ClientInstance::UnregisterHandler(const std::string& group) { router_->Unregister(group); }

}  // namespace mqclient
