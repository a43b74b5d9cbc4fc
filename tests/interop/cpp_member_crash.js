'use strict';
// Scenario: a C++ push consumer process of a clustering group is killed (SIGKILL: no commit,
// no unregister) while messages flow. The broker sees its connection close and tells the
// other member, which takes over its queues from their committed offsets.
// Checked: every message is consumed at least once (with its body); only messages the killed
// member had received (and perhaps not committed) may come twice.
// Environment: MQPUSHCONSUMER (the built example_push_consumer) besides the harness's.
const assert = require('assert');
const h = require('./harness');

const QUEUES = 4;
const COUNT = 400;

h.runScenario('CppMemberCrash', async cluster => {
  const topic = h.uniqueName('InteropCppCrash');
  const group = h.uniqueName('CID_cppcrash');
  await cluster.createTopic(topic, QUEUES);
  const survivor = h.startCppConsumer(cluster, group, topic);
  const victim = h.startCppConsumer(cluster, group, topic);
  const members = [survivor, victim];
  try {
    await h.waitUntil(() => members.every(m => (m.queues || []).length === QUEUES / 2), 30000,
        () => `queues never split: ${members.map(m => JSON.stringify(m.queues)).join(' / ')}`);
    const producer = await h.startProducer(cluster);
    const sent = [];
    for (let i = 0; i < COUNT; i++) sent.push(h.buildMessage(topic, 'TagA', `key-${i}`, `b-${i}`));
    await h.sendAll(producer, sent.slice(0, COUNT / 2));
    await h.waitUntil(() => victim.deliveries.length > 0, 30000, () => 'the victim got nothing');
    victim.child.kill('SIGKILL');
    await victim.exited;
    await h.sendAll(producer, sent.slice(COUNT / 2));
    await h.waitUntil(() => (survivor.queues || []).length === QUEUES, 30000,
        () => `the survivor owns ${JSON.stringify(survivor.queues)}`);

    const received = () => new Set([...survivor.deliveries, ...victim.deliveries].map(d => d.keys));
    await h.waitUntil(() => received().size >= COUNT, 60000,
        () => `consumed ${received().size} distinct of ${COUNT}`);
    const byKey = new Map(sent.map(m => [m.keys, m]));
    for (const d of [...survivor.deliveries, ...victim.deliveries]) {
      const message = byKey.get(d.keys);
      assert.ok(message, `delivered ${d.keys}, which was not sent`);
      assert.ok(d.body.equals(message.body), `body of ${d.keys} differs`);
    }
    // Duplicates: only what the victim had received.
    const victimKeys = new Set(victim.deliveries.map(d => d.keys));
    const seen = new Set();
    for (const d of survivor.deliveries) {
      assert.ok(!seen.has(d.keys), `the survivor got ${d.keys} twice`);
      seen.add(d.keys);
    }
    const redelivered = survivor.deliveries.filter(d => victimKeys.has(d.keys)).length;
    console.log(`victim got ${victim.deliveries.length} before SIGKILL; survivor got ` +
        `${survivor.deliveries.length}, ${redelivered} of them again after the crash`);
    await h.closeClient(producer, 'producer');
  } finally {
    for (const m of members) {
      if (m.exit === null) m.child.kill('SIGTERM');
      await Promise.race([m.exited, h.sleep(15000)]);
      if (m.exit === null) m.child.kill('SIGKILL');
    }
  }
}, { timeoutMs: 120000 });
