'use strict';
// Scenario: an ali-ons push consumer and the C++ PushConsumer (examples/push_consumer.cc) in
// one consumer group split the topic's queues, agreeing on who takes which (same sorted
// members and queues, same "averagely" allocation), and together receive every message
// once with identical body, tags and keys. When the C++ member stops (SIGTERM: it commits
// its offsets and unregisters), the broker notifies ali-ons, which takes over its queues.
// Environment: MQPUSHCONSUMER (the built example_push_consumer) besides the harness's.
const assert = require('assert');
const h = require('./harness');

const { ownedQueues, startCppConsumer } = h;

const COUNT = 200;
const QUEUES = 4;

h.runScenario('MixedGroup', async cluster => {
  const topic = h.uniqueName('InteropMixed');
  const group = h.uniqueName('CID_mixed');
  await cluster.createTopic(topic, QUEUES);

  const js = await h.startConsumer(cluster, {
    group, topic, options: { instanceName: 'interop-js', rebalanceInterval: 1000 },
  });
  const cpp = startCppConsumer(cluster, group, topic);
  try {
    await h.waitUntil(() => cpp.clientId !== null, 20000,
        () => `the C++ consumer did not start: ${cpp.output}`);
    let registered = [];
    await h.waitUntil(async () => {
      registered = await cluster.consumerIds(group);
      return registered.length === 2 && registered.includes(cpp.clientId);
    }, 20000, () => `GET_CONSUMER_LIST_BY_GROUP returned ${JSON.stringify(registered)}`);
    // Both sides computed the same split: disjoint, covering every queue, nobody empty.
    await h.waitUntil(() => {
      const a = ownedQueues(js, topic);
      const b = cpp.queues || [];
      const union = new Set([...a, ...b]);
      return a.length > 0 && b.length > 0 && a.length + b.length === QUEUES &&
          union.size === QUEUES;
    }, 30000, () => `queues never split: ali-ons owns ${ownedQueues(js, topic)}, C++ owns ` +
        `${cpp.queues}`);
    const owned = { js: ownedQueues(js, topic), cpp: cpp.queues };

    const producer = await h.startProducer(cluster);
    const sent = [];
    for (let i = 0; i < COUNT; i++) {
      sent.push(h.buildMessage(topic, i % 2 === 0 ? 'TagA' : 'TagB', `key-${i}`, `body-${i}`));
    }
    await h.sendAll(producer, sent);
    await h.waitUntil(() => js.deliveries.length + cpp.deliveries.length >= COUNT, 60000,
        () => `received ${js.deliveries.length} (ali-ons) + ${cpp.deliveries.length} (C++) of ` +
            `${COUNT}`);
    await h.sleep(1000);
    h.assertExactlyOnce([...js.deliveries, ...cpp.deliveries], sent, 'mixed group');
    assert.ok(js.deliveries.length > 0 && cpp.deliveries.length > 0,
        `one side received nothing: ali-ons ${js.deliveries.length}, C++ ${cpp.deliveries.length}`);
    for (const d of cpp.deliveries) {
      assert.ok(owned.cpp.includes(d.queueId), `C++ got queue ${d.queueId}, owns ${owned.cpp}`);
    }
    for (const d of js.deliveries) {
      assert.ok(owned.js.includes(Number(d.queueId)),
          `ali-ons got queue ${d.queueId}, owns ${owned.js}`);
    }
    console.log(`ali-ons owned ${owned.js} and got ${js.deliveries.length}; ` +
        `C++ owned ${owned.cpp} and got ${cpp.deliveries.length}`);

    // The C++ member leaves cleanly; ali-ons takes over every queue.
    cpp.child.kill('SIGTERM');
    const exit = await cpp.exited;
    assert.deepStrictEqual(exit, { code: 0, signal: null }, `C++ consumer exit: ${cpp.output}`);
    assert.match(cpp.output, /STOPPED received=\d+/);
    await h.waitUntil(() => ownedQueues(js, topic).length === QUEUES, 30000,
        () => `ali-ons owns ${ownedQueues(js, topic)} after the C++ member left`);
    // What the C++ member consumed was committed: nothing it got comes again.
    const before = js.deliveries.length;
    await h.sleep(2000);
    assert.strictEqual(js.deliveries.length, before,
        'ali-ons received again what the C++ member had consumed and committed');
    h.assertNoUnexpectedErrors(js, 'ali-ons consumer');
    await h.closeClient(producer, 'producer');
  } finally {
    if (cpp.exit === null) cpp.child.kill('SIGKILL');
    await h.closeClient(js, 'ali-ons consumer');
  }
});
