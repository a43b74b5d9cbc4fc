'use strict';
// Scenario 4: a message sent with a delay level (ali-ons' msg.delayTimeLevel, property DELAY)
// is delivered no earlier than that level's delay after it was sent, while a message sent
// right after it without delay is delivered first.
const h = require('./harness');

const QUEUES = 4;
const DELAY_LEVEL = 4;
const DELAY_MS = h.MESSAGE_DELAY_LEVELS[DELAY_LEVEL - 1] * 1000;
// Generous: the delayed message may wait for a long-polled pull to return (15 s) at worst.
const UPPER_BOUND_MS = DELAY_MS + 20000;

h.runScenario('DelayLevel', async cluster => {
  const topic = h.uniqueName('InteropDelay');
  const group = h.uniqueName('CID_delay');
  await cluster.createTopic(topic, QUEUES);

  const consumer = await h.startConsumer(cluster, { group, topic });
  await h.waitUntil(() => {
    let owned = 0;
    for (const { messageQueue } of consumer.processQueueTable.values()) {
      if (messageQueue.topic === topic) owned++;
    }
    return owned === QUEUES;
  }, 20000, () => `consumer never started pulling all ${QUEUES} queues`);

  const producer = await h.startProducer(cluster);
  const delayed = h.buildMessage(topic, 'TagDelay', 'key-delayed', 'body-delayed');
  delayed.delayTimeLevel = DELAY_LEVEL;
  const marker = h.buildMessage(topic, 'TagNow', 'key-marker', 'body-marker');
  const sentAt = Date.now();
  await h.sendAll(producer, [delayed]);
  await h.sendAll(producer, [marker]);

  const find = key => consumer.deliveries.find(d => d.keys === key);
  await h.waitUntil(() => find('key-delayed'), UPPER_BOUND_MS,
      () => `delayed message (level ${DELAY_LEVEL} = ${DELAY_MS} ms) not delivered; ` +
          `deliveries so far: ${consumer.deliveries.map(d => d.keys)}`);
  const delayedDelivery = find('key-delayed');
  const markerDelivery = find('key-marker');
  const waited = delayedDelivery.at - sentAt;
  if (waited < DELAY_MS) {
    throw new Error(`delayed message arrived ${waited} ms after it was sent, before its delay ` +
        `of ${DELAY_MS} ms (level ${DELAY_LEVEL})`);
  }
  if (!markerDelivery || markerDelivery.at > delayedDelivery.at) {
    throw new Error('the undelayed message sent after the delayed one was not delivered first');
  }
  if (delayedDelivery.topic !== topic) {
    throw new Error(`delayed message delivered with topic ${delayedDelivery.topic}, not ${topic}`);
  }
  await h.sleep(1000);
  h.assertExactlyOnce(consumer.deliveries, [delayed, marker], 'consumer');
  h.assertNoUnexpectedErrors(consumer, 'consumer');
  console.log(`delayed message arrived ${waited} ms after send (delay ${DELAY_MS} ms), ` +
      `marker after ${markerDelivery.at - sentAt} ms`);

  await h.closeClient(consumer, 'consumer');
  await h.closeClient(producer, 'producer');
});
