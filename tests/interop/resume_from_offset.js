'use strict';
// Scenario 6: a consumer that consumed N messages and closed cleanly (ali-ons commits its
// offsets on close) is replaced by a new consumer of the same group, which receives exactly
// the M messages produced in between and none of the old ones.
const h = require('./harness');

const FIRST = 40;
const SECOND = 30;
const QUEUES = 4;

h.runScenario('ResumeFromOffset', async cluster => {
  const topic = h.uniqueName('InteropResume');
  const group = h.uniqueName('CID_resume');
  await cluster.createTopic(topic, QUEUES);
  const producer = await h.startProducer(cluster);

  const batch = (from, count) => Array.from({ length: count }, (_, j) => {
    const i = from + j;
    return h.buildMessage(topic, i % 2 === 0 ? 'TagA' : 'TagB', `key-${i}`, `body-${i}`);
  });
  const old = batch(0, FIRST);
  await h.sendAll(producer, old);

  const first = await h.startConsumer(cluster,
      { group, topic, options: { instanceName: 'interop-first' } });
  await h.waitUntil(() => first.deliveries.length >= FIRST, 60000,
      () => `first consumer received ${first.deliveries.length} of ${FIRST}`);
  await h.sleep(1000);
  h.assertExactlyOnce(first.deliveries, old, 'first consumer');
  h.assertNoUnexpectedErrors(first, 'first consumer');
  await h.closeClient(first, 'first consumer');

  // The broker holds the offsets the consumer committed on close.
  let offsets = [];
  await h.waitUntil(async () => {
    offsets = [];
    for (let queueId = 0; queueId < QUEUES; queueId++) {
      offsets.push(await cluster.committedOffset(group, topic, queueId));
    }
    return offsets.reduce((sum, o) => sum + (o || 0), 0) === FIRST;
  }, 10000, () => `committed offsets ${JSON.stringify(offsets)} do not add up to ${FIRST}`);

  const fresh = batch(FIRST, SECOND);
  await h.sendAll(producer, fresh);
  const second = await h.startConsumer(cluster,
      { group, topic, options: { instanceName: 'interop-second' } });
  await h.waitUntil(() => second.deliveries.length >= SECOND, 60000,
      () => `second consumer received ${second.deliveries.length} of ${SECOND}`);
  await h.sleep(2000);
  const replayed = second.deliveries.filter(d => old.some(m => m.keys === d.keys));
  if (replayed.length) {
    throw new Error(`second consumer got ${replayed.length} already consumed messages again, ` +
        `e.g. ${replayed[0].keys} (queue ${replayed[0].queueId}@${replayed[0].queueOffset}); ` +
        `committed offsets were ${JSON.stringify(offsets)}`);
  }
  h.assertExactlyOnce(second.deliveries, fresh, 'second consumer');
  h.assertNoUnexpectedErrors(second, 'second consumer');

  await h.closeClient(second, 'second consumer');
  await h.closeClient(producer, 'producer');
});
