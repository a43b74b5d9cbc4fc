'use strict';
// Scenario: the C++ client (client-lite, through the built mqadmin) and ali-ons exchange
// messages both ways with identical body, tags, keys and user properties:
//   mqadmin sendMessage  -> ali-ons push consumer
//   ali-ons producer     -> mqadmin consumeMessage
// Environment: MQADMIN (path of the built mqadmin) besides the harness's MQNAMESRV / MQBROKER.
const assert = require('assert');
const h = require('./harness');

const COUNT = 3;

h.runScenario('CppExchange', async cluster => {
  const topic = h.uniqueName('InteropCpp');
  await cluster.createTopic(topic, 2);

  // C++ -> ali-ons.
  const fromCpp = [];
  for (let i = 0; i < COUNT; i++) {
    const out = h.mqadmin(cluster, ['sendMessage', '-t', topic, '-p', `cpp-body-${i}`,
      '-c', 'TagCpp', '-k', `cpp-key-${i}`, '--property', `color=blue-${i}`]);
    assert.match(out, /SEND_OK/, `mqadmin sendMessage printed: ${out}`);
    fromCpp.push(i);
  }
  const consumer = await h.startConsumer(cluster, { group: h.uniqueName('CID_cpp'), topic });
  await h.waitUntil(() => consumer.deliveries.length >= COUNT, 60000,
      () => `ali-ons received ${consumer.deliveries.length} of ${COUNT}`);
  for (const i of fromCpp) {
    const got = consumer.deliveries.filter(d => d.body.toString() === `cpp-body-${i}`);
    assert.strictEqual(got.length, 1, `ali-ons got cpp-body-${i} ${got.length} times`);
    assert.strictEqual(got[0].tags, 'TagCpp');
    assert.strictEqual(got[0].keys, `cpp-key-${i}`);
    assert.strictEqual(got[0].properties.color, `blue-${i}`);
  }
  h.assertNoUnexpectedErrors(consumer, 'consumer');
  await h.closeClient(consumer, 'consumer');

  // Bodies of 4 KiB and more go compressed. ali-ons inflates only zlib, so C++ sends it zlib
  // (mqadmin --compression zlib); ali-ons compresses its own with zlib and C++ inflates them.
  const largeTopic = h.uniqueName('InteropLarge');
  await cluster.createTopic(largeTopic, 1);
  const largeCpp = 'cpp-large-' + 'x'.repeat(6000);
  const sentLarge = h.mqadmin(cluster, ['sendMessage', '-t', largeTopic, '-p', largeCpp,
    '-c', 'TagLarge', '--compression', 'zlib']);
  assert.match(sentLarge, /SEND_OK/, `mqadmin sendMessage printed: ${sentLarge}`);
  const largeConsumer = await h.startConsumer(cluster,
      { group: h.uniqueName('CID_large'), topic: largeTopic });
  await h.waitUntil(() => largeConsumer.deliveries.length >= 1, 60000,
      () => `ali-ons received ${largeConsumer.deliveries.length} of 1 large message`);
  assert.strictEqual(largeConsumer.deliveries[0].body.toString(), largeCpp);
  assert.strictEqual(largeConsumer.deliveries[0].tags, 'TagLarge');
  h.assertNoUnexpectedErrors(largeConsumer, 'large consumer');
  await h.closeClient(largeConsumer, 'large consumer');

  // ali-ons -> C++.
  const producer = await h.startProducer(cluster);
  const { Message } = h.aliOns();
  for (let i = 0; i < COUNT; i++) {
    const message = new Message(topic, 'TagJs', Buffer.from(`js-body-${i}`));
    message.keys = [`js-key-${i}`];
    message.properties.color = `green-${i}`;
    await h.sendAll(producer, [message]);
  }
  const largeJs = 'js-large-' + 'y'.repeat(6000);  // ali-ons zlib-compresses it
  await h.sendAll(producer, [new Message(largeTopic, 'TagJsLarge', Buffer.from(largeJs))]);
  await h.closeClient(producer, 'producer');
  const largeOut = h.mqadmin(cluster, ['consumeMessage', '-t', largeTopic, '-c', '2',
    '--wait-ms', '20000']);
  assert.ok(largeOut.includes(`TAGS: [TagJsLarge] KEYS: [] BODY: ${largeJs}\n`),
      `mqadmin consumeMessage did not show ali-ons's large body inflated:\n` +
      largeOut.slice(0, 2000));
  const out = h.mqadmin(cluster, ['consumeMessage', '-t', topic, '-c', String(2 * COUNT),
    '--wait-ms', '20000']);
  for (let i = 0; i < COUNT; i++) {
    const line = new RegExp(`TAGS: \\[TagJs\\] KEYS: \\[js-key-${i}\\] BODY: js-body-${i}\\n` +
        `  PROPERTY: color=green-${i}\\n`);
    assert.match(out, line, `mqadmin consumeMessage output lacks js message ${i}:\n${out}`);
  }
});
