'use strict';
// Scenario: two C++ push consumer processes are members of one BROADCASTING group. Each takes
// every queue and receives every message. One is stopped (SIGTERM: it saves its offsets to its
// local file) while messages keep coming, then started again on the same file: it resumes
// after what it had consumed, so it gets the messages sent while it was down and nothing of
// what it had already received (it starts with --from first, so without its file it would
// get everything again).
// Environment: MQPUSHCONSUMER (the built example_push_consumer) besides the harness's.
const assert = require('assert');
const path = require('path');
const fs = require('fs');
const h = require('./harness');

const QUEUES = 4;
const COUNT = 100;

h.runScenario('CppBroadcasting', async cluster => {
  const topic = h.uniqueName('InteropCppBroadcast');
  const group = h.uniqueName('CID_cppbroadcast');
  await cluster.createTopic(topic, QUEUES);
  const offsets = name => path.join(cluster.dir, `${name}-offsets.json`);
  const start = (name, file) => Object.assign(h.startCppConsumer(cluster, group, topic,
      ['--broadcasting', '--offsets', offsets(file)]), { name });
  const a = start('a', 'a');
  const b = start('b', 'b');
  let againA = null;
  const everyone = () => [a, b, againA].filter(m => m !== null);
  try {
    // Broadcasting: no allocation, each member holds all queues.
    await h.waitUntil(() => [a, b].every(m => (m.queues || []).length === QUEUES), 30000,
        () => `queues: ${[a, b].map(m => JSON.stringify(m.queues)).join(' / ')}`);
    const producer = await h.startProducer(cluster);
    const sent = [];
    for (let i = 0; i < 3 * COUNT; i++) sent.push(h.buildMessage(topic, 'TagA', `key-${i}`, `b-${i}`));
    const first = sent.slice(0, COUNT);
    const second = sent.slice(COUNT, 2 * COUNT);
    const third = sent.slice(2 * COUNT);

    await h.sendAll(producer, first);
    for (const m of [a, b]) {
      await h.waitUntil(() => m.deliveries.length >= COUNT, 30000,
          () => `member ${m.name} got ${m.deliveries.length} of ${COUNT}`);
    }
    // Stopped cleanly, a member saves its offsets to its file before it exits.
    a.child.kill('SIGTERM');
    const exit = await a.exited;
    assert.strictEqual(exit.code, 0, `member a exited with ${JSON.stringify(exit)}:\n${a.output}`);
    assert.ok(fs.existsSync(offsets('a')), 'member a left no offset file');

    await h.sendAll(producer, second);
    againA = start('a-again', 'a');  // the same offset file
    await h.waitUntil(() => (againA.queues || []).length === QUEUES, 30000,
        () => `restarted member holds ${JSON.stringify(againA.queues)}`);
    await h.sendAll(producer, third);
    await h.waitUntil(() => b.deliveries.length >= 3 * COUNT, 30000,
        () => `member b got ${b.deliveries.length} of ${3 * COUNT}`);
    await h.waitUntil(() => againA.deliveries.length >= 2 * COUNT, 30000,
        () => `restarted member a got ${againA.deliveries.length} of ${2 * COUNT}`);
    await h.sleep(500);  // a repeat of the first batch would show up now

    h.assertExactlyOnce(a.deliveries, first, 'member a before its restart');
    h.assertExactlyOnce(b.deliveries, sent, 'member b');
    h.assertExactlyOnce(againA.deliveries, second.concat(third), 'member a after its restart');
    console.log(`a: ${a.deliveries.length} then ${againA.deliveries.length} after a restart; ` +
        `b: ${b.deliveries.length}`);
    await h.closeClient(producer, 'producer');
  } finally {
    for (const m of everyone()) {
      if (m.exit === null) m.child.kill('SIGTERM');
      await Promise.race([m.exited, h.sleep(15000)]);
      if (m.exit === null) m.child.kill('SIGKILL');
    }
  }
}, { timeoutMs: 150000 });
