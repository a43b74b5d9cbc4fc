// Helpers for the transaction tests: prepared messages as a RocketMQ producer sends them, and
// putting them as the store façade does (through RewriteForHalf).
#ifndef MQSTORE_TESTS_MQSTORE_TRANSACTION_TRANSACTION_TEST_UTIL_H_
#define MQSTORE_TESTS_MQSTORE_TRANSACTION_TRANSACTION_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <string>

#include "mqstore/message.h"
#include "mqstore/store.h"
#include "support/test_util.h"
#include "transaction/transaction_rewrite.h"

namespace mqstore::test {

// A prepared message for `topic`/`queue_id`: PREPARED sys flag, TRAN_MSG=true, a producer
// group, a unique key and one custom property.
inline Message Prepared(std::string topic, int32_t queue_id, std::string body,
                        std::string unique_key = "UNIQ-1") {
  Message m = MakeMessage(std::move(topic), queue_id, std::move(body), "TagA", "key-1");
  m.SetProperty("custom", "value");
  m.SetProperty("TRAN_MSG", "true");
  m.SetProperty("PGROUP", "ProducerGroupA");
  if (!unique_key.empty()) m.SetProperty("UNIQ_KEY", std::move(unique_key));
  m.sys_flag = sysflag::kTransactionPrepared;
  return m;
}

// Puts `m` as the store's put path does: a prepared message is stored as its half. What is
// put has NOT_TYPE in the half topic, so a Put that applies RewriteForHalf itself leaves it
// alone. Waits until the record is dispatched.
inline PutResult PutAsStore(Store& store, const Message& m) {
  std::string props;
  MessageView view = m.View(&props);
  auto rewrite = RewriteForHalf(view);
  EXPECT_TRUE(rewrite.ok()) << rewrite.status().ToString();
  MessageView stored = rewrite.ok() && *rewrite ? (*rewrite)->Apply(view) : view;
  auto put = store.Put(stored);
  EXPECT_TRUE(put.ok()) << put.status().ToString();
  if (!put.ok()) return PutResult{};
  Status s = store.AwaitDispatched(put->physical_offset + put->record_size, 10'000);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return *put;
}

}  // namespace mqstore::test

#endif  // MQSTORE_TESTS_MQSTORE_TRANSACTION_TRANSACTION_TEST_UTIL_H_
