'use strict';
// Scenario, with C++ push consumer processes (example_push_consumer):
//  1. Dead letters: a member that fails every delivery (--reconsume-later) gets each message
//     17 times (reconsume 0..16, through %RETRY%<group>), and then it is in %DLQ%<group>
//     (read back with mqadmin consumeMessage) and is not delivered again.
//  2. Rewind by timestamp: a running member of another group consumed everything; mqadmin
//     resetOffsetByTime -s 0 (the broker commits the new offsets and tells the running member)
//     makes it consume every message once more.
// Every delay level is 1 s here, so the 16 retries take ~20 s.
// Environment: MQPUSHCONSUMER and MQADMIN besides the harness's.
const assert = require('assert');
const h = require('./harness');

const COUNT = 3;
const MAX_RECONSUME = 16;  // Java's default maxReconsumeTimes

async function stop(member) {
  if (member.exit === null) member.child.kill('SIGTERM');
  await Promise.race([member.exited, h.sleep(15000)]);
  if (member.exit === null) member.child.kill('SIGKILL');
}

h.runScenario('CppRetryAndRewind', async cluster => {
  const topic = h.uniqueName('InteropCppRetry');
  const failing = h.uniqueName('CID_cppdead');
  const rewound = h.uniqueName('CID_cpprewind');
  await cluster.createTopic(topic, 2);
  const dead = h.startCppConsumer(cluster, failing, topic, ['--reconsume-later']);
  const rewinder = h.startCppConsumer(cluster, rewound, topic);
  try {
    await h.waitUntil(() => [dead, rewinder].every(m => (m.queues || []).length === 2), 30000,
        () => 'the members never took their queues');
    const producer = await h.startProducer(cluster);
    const sent = [];
    for (let i = 0; i < COUNT; i++) sent.push(h.buildMessage(topic, 'TagA', `key-${i}`, `b-${i}`));
    await h.sendAll(producer, sent);

    // 1. Every message 1 + 16 times, then dead.
    const attempts = key => dead.deliveries.filter(d => d.keys === key);
    await h.waitUntil(() => sent.every(m => attempts(m.keys).length >= MAX_RECONSUME + 1), 90000,
        () => `deliveries per key: ${sent.map(m => attempts(m.keys).length).join(', ')}`);
    for (const m of sent) {
      const got = attempts(m.keys);
      assert.deepStrictEqual(got.map(d => d.reconsumeTimes).sort((x, y) => x - y),
          Array.from({ length: MAX_RECONSUME + 1 }, (_, i) => i), `reconsume counts of ${m.keys}`);
      for (const d of got) assert.ok(d.body.equals(m.body), `body of ${m.keys} changed on retry`);
    }
    const dlq = `%DLQ%${failing}`;
    let listed = '';
    await h.waitUntil(() => {
      try {
        listed = h.mqadmin(cluster, ['consumeMessage', '-t', dlq]);
      } catch (e) {
        listed = String(e.stdout || e.message);
      }
      return sent.every(m => listed.includes(`KEYS: [${m.keys}]`));
    }, 30000, () => `${dlq} holds: ${listed}`);
    await h.sleep(2000);  // a 17th retry would be due by now (every level is 1 s)
    for (const m of sent) {
      assert.strictEqual(attempts(m.keys).length, MAX_RECONSUME + 1, `${m.keys} came again`);
    }

    // 2. The other group consumed each message once; a reset to time 0 replays them all.
    await h.waitUntil(() => rewinder.deliveries.length >= COUNT, 30000,
        () => `the second group got ${rewinder.deliveries.length} of ${COUNT}`);
    h.assertExactlyOnce(rewinder.deliveries, sent, 'the second group before the reset');
    const reset = h.mqadmin(cluster, ['resetOffsetByTime', '-g', rewound, '-t', topic, '-s', '0']);
    await h.waitUntil(() => rewinder.deliveries.length >= 2 * COUNT, 30000,
        () => `after the reset the second group got ${rewinder.deliveries.length} of ` +
            `${2 * COUNT}; mqadmin said: ${reset}`);
    h.assertExactlyOnce(rewinder.deliveries.slice(COUNT), sent, 'the second group after the reset');
    await h.closeClient(producer, 'producer');
    console.log(`each message delivered ${MAX_RECONSUME + 1} times then dead; the reset replayed ` +
        `${rewinder.deliveries.length - COUNT}`);
  } finally {
    await stop(dead);
    await stop(rewinder);
  }
}, {
  timeoutMs: 150000,
  brokerSettings: { messageDelayLevel: Array(18).fill('1s').join(' ') },
});
