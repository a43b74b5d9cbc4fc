'use strict';
// Scenario 1: 1,000 messages with tags and keys, produced by ali-ons, are received by one
// clustering push consumer group (from the first offset) exactly once, with identical body,
// tags and keys.
const h = require('./harness');

const COUNT = 1000;
const QUEUES = 4;

h.runScenario('ProduceConsumeAll', async cluster => {
  const topic = h.uniqueName('InteropAll');
  const group = h.uniqueName('CID_all');
  await cluster.createTopic(topic, QUEUES);

  const producer = await h.startProducer(cluster);
  const sent = [];
  for (let i = 0; i < COUNT; i++) {
    sent.push(h.buildMessage(topic, i % 2 === 0 ? 'TagA' : 'TagB', `key-${i}`, `body-${i}`));
  }
  const results = await h.sendAll(producer, sent);
  const queuesUsed = new Set(results.map(r => r.messageQueue.queueId));
  if (queuesUsed.size !== QUEUES) {
    throw new Error(`producer used queues ${[...queuesUsed]}, expected all ${QUEUES}`);
  }

  const consumer = await h.startConsumer(cluster, { group, topic });
  await h.waitUntil(() => consumer.deliveries.length >= COUNT, 60000,
      () => `consumer received ${consumer.deliveries.length} of ${COUNT}`);
  // Settle: a duplicate would arrive right behind the originals.
  await h.sleep(2000);
  h.assertExactlyOnce(consumer.deliveries, sent, 'consumer');
  h.assertNoUnexpectedErrors(consumer, 'consumer');

  await h.closeClient(consumer, 'consumer');
  await h.closeClient(producer, 'producer');
});
