#include "transaction_processor.h"

#include "client_registry.h"
#include "mqstore/coding.h"
#include "mqstore/store.h"
#include "mqstore/thread_name.h"
#include "mqstore/transaction.h"
#include "remoting/codes.h"
#include "server_common/logger.h"

namespace mqbroker {

using mqremoting::ExtFieldReader;
using mqremoting::RemotingCommand;
namespace response_code = mqremoting::response_code;
namespace request_code = mqremoting::request_code;

namespace {

// commitOrRollback values (MessageSysFlag transaction types).
constexpr int32_t kTransactionNotType = 0;
constexpr int32_t kTransactionCommitType = 0x8;
constexpr int32_t kTransactionRollbackType = 0xC;

constexpr uint32_t kMagicV1 = 0xDAA320A7;
constexpr uint32_t kMagicV2 = 0xDAA320AB;
constexpr size_t kMaxV1TopicLength = 127;
// Checks returned by one CheckTransactions call.
constexpr size_t kChecksPerScan = 256;

}  // namespace

std::string RecordWithTopic(std::string_view record, const mqstore::ParsedRecord& parsed,
                            std::string_view topic, int32_t queue_id) {
  const size_t body_end =
      static_cast<size_t>(parsed.body.data() + parsed.body.size() - record.data());
  const size_t properties_field = static_cast<size_t>(parsed.properties.data() - record.data()) - 2;
  const bool v2 = topic.size() > kMaxV1TopicLength;
  std::string out(record.substr(0, body_end));
  if (v2) {
    mqstore::PutBig16(&out, static_cast<uint16_t>(topic.size()));
  } else {
    out.push_back(static_cast<char>(topic.size()));
  }
  out.append(topic);
  out.append(record.substr(properties_field));
  mqstore::EncodeBig32(out.data(), static_cast<uint32_t>(out.size()));
  mqstore::EncodeBig32(out.data() + 4, v2 ? kMagicV2 : kMagicV1);
  mqstore::EncodeBig32(out.data() + 12, static_cast<uint32_t>(queue_id));
  return out;
}

void TransactionProcessor::Process(const std::shared_ptr<mqremoting::Connection>& connection,
                                   RemotingCommand request) {
  ExtFieldReader fields(request);
  std::string producer_group = fields.String("producerGroup");
  int64_t commit_log_offset = fields.Long("commitLogOffset");
  int32_t commit_or_rollback = fields.Int("commitOrRollback");
  fields.Long("tranStateTableOffset");
  fields.String("msgId");
  if (!fields.status().ok()) {
    ReplyError(connection, request, response_code::kSystemError, fields.status().message());
    return;
  }
  mqstore::TransactionResolution resolution;
  switch (commit_or_rollback) {
    case kTransactionNotType:
      return;  // "unknown": the check-back will ask again; RocketMQ answers nothing
    case kTransactionCommitType:
      resolution = mqstore::TransactionResolution::kCommit;
      break;
    case kTransactionRollbackType:
      resolution = mqstore::TransactionResolution::kRollback;
      break;
    default:
      ReplyError(connection, request, response_code::kIllegalOperation,
                 "commitOrRollback " + std::to_string(commit_or_rollback) +
                     " is none of 0 (unknown), 8 (commit), 12 (rollback)");
      return;
  }
  auto ended = context_->store->EndTransaction(commit_log_offset, resolution);
  if (!ended.ok()) {
    std::string remark = ended.status().IsNotFound()
                             ? "Find prepared transaction message failed, offset " +
                                   std::to_string(commit_log_offset)
                             : ended.status().ToString();
    ReplyError(connection, request, response_code::kSystemError, remark);
    return;
  }
  Reply(connection, request, RemotingCommand::ResponseTo(request, response_code::kSuccess));
}

TransactionChecker::TransactionChecker(const BrokerContext* context,
                                       std::chrono::milliseconds interval)
    : context_(context), interval_(interval) {}

TransactionChecker::~TransactionChecker() { Stop(); }

void TransactionChecker::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] {
    mqstore::NameThisThread("mq-txn-check");
    Run();
  });
}

size_t TransactionChecker::CheckOnce() {
  size_t sent = 0;
  for (;;) {
    auto scan = context_->store->CheckTransactions(kChecksPerScan);
    if (!scan.ok()) {
      mqserver::DefaultLogger().Warn("transaction", "check scan failed",
                                     {{"status", scan.status()}});
      return sent;
    }
    for (const mqstore::TransactionCheck& check : scan->checks) {
      auto producer = context_->clients->PickProducerConnection(check.producer_group);
      if (!producer) continue;  // asked again at the next scan, until checks run out
      mqstore::ParsedRecord parsed;
      if (!mqstore::ParseRecord(check.record.bytes, false, &parsed).ok()) continue;
      RemotingCommand request = RemotingCommand::Request(request_code::kCheckTransactionState);
      request.SetExt("topic", check.real_topic);
      request.SetExt("tranStateTableOffset", check.queue_offset);
      request.SetExt("commitLogOffset", check.physical_offset);
      std::string unique_id(
          mqstore::FindProperty(parsed.properties, mqstore::property::kUniqueKey).value_or(""));
      request.SetExt("msgId", unique_id);
      request.SetExt("transactionId",
                     check.transaction_id.empty() ? unique_id : check.transaction_id);
      request.SetExt("offsetMsgId", mqstore::MakeOffsetMessageId(context_->identity.store_host,
                                                                 check.physical_offset));
      request.SetExt("bname", context_->identity.broker_name);
      request.body =
          RecordWithTopic(check.record.bytes, parsed, check.real_topic, check.real_queue_id);
      producer->SendOneway(std::move(request));
      ++sent;
    }
    if (!scan->more) return sent;
  }
}

void TransactionChecker::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void TransactionChecker::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    CheckOnce();
    lock.lock();
  }
}

}  // namespace mqbroker
