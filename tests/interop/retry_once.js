'use strict';
// Scenario 5: a handler that throws the first time it sees a message gets that message again
// through %RETRY%<group> (CONSUMER_SEND_MSG_BACK with delay level 0, i.e. level 3 for the
// first retry), with reconsumeTimes 1, after which it is acknowledged and not seen again.
const h = require('./harness');

const COUNT = 3;
const QUEUES = 4;
const FIRST_RETRY_DELAY_MS = h.MESSAGE_DELAY_LEVELS[3 - 1] * 1000;

h.runScenario('RetryOnce', async cluster => {
  const topic = h.uniqueName('InteropRetry');
  const group = h.uniqueName('CID_retry');
  await cluster.createTopic(topic, QUEUES);

  const producer = await h.startProducer(cluster);
  const sent = [];
  for (let i = 0; i < COUNT; i++) {
    sent.push(h.buildMessage(topic, 'TagA', `key-${i}`, `body-${i}`));
  }
  await h.sendAll(producer, sent);

  const failedOnce = new Set();
  const consumer = await h.startConsumer(cluster, {
    group, topic,
    // A new group's %RETRY% route is only found by the next route poll (30 s by default,
    // see harness.js NEW_GROUP_RETRY_ROUTE_ERROR); poll every 2 s to keep the test short. Its
    // own instanceName gives the consumer its own ali-ons client (and so its own poll period)
    // rather than the producer's.
    options: { instanceName: 'interop-retry', pollNameServerInteval: 2000 },
    handler: async msg => {
      if (!failedOnce.has(msg.keys)) {
        failedOnce.add(msg.keys);
        throw new Error(`interop: first delivery of ${msg.keys} fails on purpose`);
      }
    },
  });
  const deliveriesOf = key => consumer.deliveries.filter(d => d.keys === key);
  await h.waitUntil(() => sent.every(m => deliveriesOf(m.keys).length >= 2), 60000,
      () => 'not every message came back: ' +
          sent.map(m => `${m.keys} x${deliveriesOf(m.keys).length}`).join(', '));
  // Longer than a retry delay: a third delivery would show up within it.
  await h.sleep(FIRST_RETRY_DELAY_MS + 2000);

  for (const message of sent) {
    const deliveries = deliveriesOf(message.keys);
    if (deliveries.length !== 2) {
      throw new Error(`${message.keys} delivered ${deliveries.length} times, expected 2 ` +
          `(reconsumeTimes ${deliveries.map(d => d.reconsumeTimes)})`);
    }
    const [first, retry] = deliveries;
    if (first.reconsumeTimes !== 0 || retry.reconsumeTimes !== 1) {
      throw new Error(`${message.keys}: reconsumeTimes ${first.reconsumeTimes} then ` +
          `${retry.reconsumeTimes}, expected 0 then 1`);
    }
    if (retry.topic !== topic || retry.properties.RETRY_TOPIC !== topic) {
      throw new Error(`${message.keys}: retry delivered as topic ${retry.topic} with ` +
          `RETRY_TOPIC ${retry.properties.RETRY_TOPIC}, expected ${topic}`);
    }
    if (!retry.body.equals(message.body) || retry.tags !== message.tags) {
      throw new Error(`${message.keys}: the retried copy differs in body or tag`);
    }
    if (retry.originMessageId !== first.msgId) {
      throw new Error(`${message.keys}: ORIGIN_MESSAGE_ID ${retry.originMessageId}, ` +
          `expected the first delivery's id ${first.msgId}`);
    }
    if (retry.at - first.at < FIRST_RETRY_DELAY_MS) {
      throw new Error(`${message.keys}: retried after ${retry.at - first.at} ms, before the ` +
          `first retry's delay level 3 (${FIRST_RETRY_DELAY_MS} ms)`);
    }
  }
  // Only the thrown errors are expected; anything else (e.g. a failed CONSUMER_SEND_MSG_BACK,
  // after which ali-ons re-sends the message itself) is a failure.
  h.assertNoUnexpectedErrors(consumer, 'consumer', [/fails on purpose/]);
  console.log(`retries came ${sent.map(m => {
    const [first, retry] = deliveriesOf(m.keys);
    return retry.at - first.at;
  }).join(', ')} ms after the failures (delay level 3 = ${FIRST_RETRY_DELAY_MS} ms)`);
  const route = await cluster.route(`%RETRY%${group}`);
  if (!route.route) throw new Error(`no route for %RETRY%${group}: ${route.description}`);

  await h.closeClient(consumer, 'consumer');
  await h.closeClient(producer, 'producer');
});
