'use strict';
// Scenario: transactional producers as separate processes (examples/transaction.cc, one
// producer group). The first sends payments 0..4 (commits even ones, rolls back odd ones,
// leaves 4 unknown) and exits at once: it "forgot" payment 4. The second, of the same group,
// sends payment 10 and stays up; the broker's check-back for payment 4 reaches it, and it
// commits. A C++ push consumer process receives exactly payments 0, 2, 4 and 10: a rolled-back
// half message never shows, and the unknown one shows only once the check resolved it.
// Environment: MQPUSHCONSUMER and MQTRANSACTION besides the harness's.
const assert = require('assert');
const childProcess = require('child_process');
const h = require('./harness');

function runTransactions(cluster, topic, group, args) {
  const binary = process.env.MQTRANSACTION;
  if (!binary) throw new Error('set MQTRANSACTION to the built example_transaction');
  const child = childProcess.spawn(binary,
      ['-n', cluster.namesrvAddr, '-t', topic, '-g', group, ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] });
  const run = { child, output: '', exit: null };
  child.stdout.on('data', chunk => { run.output += chunk; });
  child.stderr.on('data', chunk => { run.output += chunk; });
  run.exited = new Promise(resolve => child.on('exit', (code, signal) => {
    run.exit = { code, signal };
    resolve(run.exit);
  }));
  return run;
}

h.runScenario('CppTransactionCheckBack', async cluster => {
  const topic = h.uniqueName('InteropCppTx');
  const producerGroup = h.uniqueName('PID_cpptx');
  await cluster.createTopic(topic, 2);
  const consumer = h.startCppConsumer(cluster, h.uniqueName('CID_cpptx'), topic);
  let second = null;
  try {
    await h.waitUntil(() => (consumer.queues || []).length === 2, 30000,
        () => 'the consumer never took its queues');
    const forgetful = runTransactions(cluster, topic, producerGroup, ['--count', '5']);
    const exit = await forgetful.exited;
    assert.strictEqual(exit.code, 0, `the first producer failed:\n${forgetful.output}`);
    assert.match(forgetful.output, /payment 4: unknown/, forgetful.output);

    second = runTransactions(cluster, topic, producerGroup,
        ['--first', '10', '--count', '1', '--wait', '60']);
    const bodies = () => consumer.deliveries.map(d => d.body.toString()).sort();
    const expected = ['payment 0', 'payment 10', 'payment 2', 'payment 4'];
    await h.waitUntil(() => bodies().length >= expected.length, 60000,
        () => `consumed ${JSON.stringify(bodies())}; second producer said:\n${second.output}`);
    await h.sleep(1500);  // a rolled-back payment would have come by now (checks every 1 s)
    assert.deepStrictEqual(bodies(), expected);
    assert.match(second.output, /check-back: payment 4/, second.output);
    console.log(`consumed ${bodies().join(', ')}; payment 4 resolved by the second producer`);
  } finally {
    for (const p of [second, consumer].filter(x => x !== null)) {
      if (p.exit === null) p.child.kill('SIGTERM');
      await Promise.race([p.exited, h.sleep(15000)]);
      if (p.exit === null) p.child.kill('SIGKILL');
    }
  }
}, {
  timeoutMs: 120000,
  brokerSettings: { transactionTimeOut: 1000, transactionCheckInterval: 1000 },
});
