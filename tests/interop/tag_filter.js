'use strict';
// Scenario 3: a consumer subscribed to "TagA" receives every TagA message and no TagB one.
// ali-ons also drops non-matching tags on its side, so the broker's own filtering is checked
// separately with raw PULL_MESSAGE requests carrying the same subscription.
const h = require('./harness');

const COUNT = 200;
const QUEUES = 4;

h.runScenario('TagFilter', async cluster => {
  const topic = h.uniqueName('InteropTags');
  const group = h.uniqueName('CID_tags');
  await cluster.createTopic(topic, QUEUES);

  const producer = await h.startProducer(cluster);
  const sent = [];
  for (let i = 0; i < COUNT; i++) {
    sent.push(h.buildMessage(topic, i % 2 === 0 ? 'TagA' : 'TagB', `key-${i}`, `body-${i}`));
  }
  await h.sendAll(producer, sent);
  const tagA = sent.filter(m => m.tags === 'TagA');

  const consumer = await h.startConsumer(cluster, { group, topic, subExpression: 'TagA' });
  await h.waitUntil(() => consumer.deliveries.length >= tagA.length, 60000,
      () => `consumer received ${consumer.deliveries.length} of ${tagA.length} TagA messages`);
  await h.sleep(2000);
  const wrongTag = consumer.deliveries.filter(d => d.tags !== 'TagA');
  if (wrongTag.length) {
    throw new Error(`consumer of "TagA" got ${wrongTag.length} messages tagged otherwise, ` +
        `first ${wrongTag[0].keys} tag ${wrongTag[0].tags}`);
  }
  h.assertExactlyOnce(consumer.deliveries, tagA, 'TagA consumer');
  h.assertNoUnexpectedErrors(consumer, 'consumer');

  // Broker-side filtering: pull every queue from 0 with subscription "TagA".
  const rawGroup = h.uniqueName('CID_rawpull');
  const pulled = [];
  for (let queueId = 0; queueId < QUEUES; queueId++) {
    let offset = 0;
    for (let round = 0; ; round++) {
      if (round > 200) throw new Error(`raw pull of queue ${queueId} never reached the end`);
      const result = await cluster.pull(rawGroup, topic, queueId, offset, 'TagA');
      if (result.code === h.Code.PULL_NOT_FOUND) break;
      if (result.code !== h.Code.SUCCESS && result.code !== h.Code.PULL_RETRY_IMMEDIATELY) {
        throw new Error(`raw PULL_MESSAGE ${topic}:${queueId}@${offset} answered code ` +
            `${result.code} remark "${result.remark}"`);
      }
      if (!(result.nextBeginOffset > offset)) {
        throw new Error(`raw PULL_MESSAGE ${topic}:${queueId}@${offset} answered code ` +
            `${result.code} with nextBeginOffset ${result.nextBeginOffset}`);
      }
      pulled.push(...result.messages);
      offset = result.nextBeginOffset;
    }
  }
  const notTagA = pulled.filter(m => m.tags !== 'TagA');
  if (notTagA.length) {
    throw new Error(`broker returned ${notTagA.length} non-TagA messages to a "TagA" pull, ` +
        `first ${notTagA[0].keys} tag ${notTagA[0].tags}`);
  }
  const pulledKeys = new Set(pulled.map(m => m.keys));
  if (pulled.length !== tagA.length || pulledKeys.size !== tagA.length) {
    throw new Error(`raw "TagA" pulls returned ${pulled.length} messages ` +
        `(${pulledKeys.size} distinct), expected ${tagA.length}`);
  }

  await h.closeClient(consumer, 'consumer');
  await h.closeClient(producer, 'producer');
});
