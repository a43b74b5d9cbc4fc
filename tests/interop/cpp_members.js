'use strict';
// Scenario: C++ push consumers as separate processes in one clustering group, orderly.
// Members join and leave while messages flow:
//   A and B split 8 queues; 300 messages; C joins (all three split); 300 more; A leaves
//   (SIGTERM: commits, unlocks, unregisters); 300 more.
// Checked: every message is consumed exactly once with its body, tags and keys; per queue,
// messages are consumed in queue-offset order across every hand-over; and no two members
// ever run the listener for one queue at the same time (listener calls of different
// processes on one queue never overlap on the machine-wide monotonic clock).
// Environment: MQPUSHCONSUMER (the built example_push_consumer) besides the harness's.
const assert = require('assert');
const h = require('./harness');

const { startCppConsumer } = h;

const QUEUES = 8;
const PER_ROUND = 300;

function covered(members) {
  const all = members.flatMap(m => m.queues || []);
  return members.every(m => (m.queues || []).length > 0) && all.length === QUEUES &&
      new Set(all).size === QUEUES;
}

function describe(members) {
  return members.map(m => `${m.name} owns ${JSON.stringify(m.queues)}`).join('; ');
}

h.runScenario('CppMembersOrderly', async cluster => {
  const topic = h.uniqueName('InteropCppMembers');
  const group = h.uniqueName('CID_cppmembers');
  await cluster.createTopic(topic, QUEUES);
  const args = ['--orderly', '--consume-ms', '1'];
  const start = name => Object.assign(startCppConsumer(cluster, group, topic, args), { name });
  const members = [start('A'), start('B')];
  const producer = await h.startProducer(cluster);
  const sent = [];
  const sendRound = async round => {
    const batch = [];
    for (let i = 0; i < PER_ROUND; i++) {
      batch.push(h.buildMessage(topic, `Tag${i % 3}`, `key-${round}-${i}`, `body-${round}-${i}`));
    }
    await h.sendAll(producer, batch);
    sent.push(...batch);
  };
  try {
    await h.waitUntil(() => covered(members), 30000, () => describe(members));
    await sendRound(0);

    members.push(start('C'));
    await h.waitUntil(() => covered(members), 30000, () => describe(members));
    await sendRound(1);

    const leaving = members.shift();
    leaving.child.kill('SIGTERM');
    const exit = await leaving.exited;
    assert.deepStrictEqual(exit, { code: 0, signal: null }, `A's exit: ${leaving.output}`);
    await h.waitUntil(() => covered(members), 30000, () => describe(members));
    await sendRound(2);

    const all = [leaving, ...members];
    const total = () => all.reduce((n, m) => n + m.deliveries.length, 0);
    await h.waitUntil(() => total() >= sent.length, 60000,
        () => `consumed ${total()} of ${sent.length}`);
    await h.sleep(1000);  // anything delivered twice would show up now
    const deliveries = all.flatMap(m => m.deliveries.map(d => Object.assign({ member: m.name }, d)));
    h.assertExactlyOnce(deliveries, sent, 'C++ members');

    for (let queue = 0; queue < QUEUES; queue++) {
      const calls = deliveries.filter(d => d.queueId === queue)
          .sort((a, b) => (a.beginNs < b.beginNs ? -1 : a.beginNs > b.beginNs ? 1 : 0));
      for (let i = 1; i < calls.length; i++) {
        const [prev, next] = [calls[i - 1], calls[i]];
        assert.ok(prev.queueOffset < next.queueOffset,
            `queue ${queue}: offset ${next.queueOffset} (${next.member}) consumed after ` +
            `${prev.queueOffset} (${prev.member})`);
        assert.ok(prev.endNs <= next.beginNs,
            `queue ${queue}: ${prev.member} and ${next.member} consumed it at once ` +
            `(offsets ${prev.queueOffset}, ${next.queueOffset})`);
      }
    }
    const shares = all.map(m => `${m.name} ${m.deliveries.length}`).join(', ');
    console.log(`consumed ${deliveries.length} messages in order: ${shares}`);
    assert.ok(all.every(m => m.deliveries.length > 0), `a member consumed nothing: ${shares}`);
    await h.closeClient(producer, 'producer');
  } finally {
    for (const m of members) {
      if (m.exit === null) m.child.kill('SIGTERM');
      await Promise.race([m.exited, h.sleep(15000)]);
      if (m.exit === null) m.child.kill('SIGKILL');
    }
  }
}, { timeoutMs: 150000 });
