'use strict';
// Scenario 2: two push consumers of one group (distinct client ids through ali-ons'
// instanceName option) split the topic's queues and together receive every message once.
const h = require('./harness');

const { ownedQueues } = h;

const COUNT = 400;
const QUEUES = 4;

h.runScenario('ConsumerGroupSplit', async cluster => {
  const topic = h.uniqueName('InteropSplit');
  const group = h.uniqueName('CID_split');
  await cluster.createTopic(topic, QUEUES);

  // Rebalance every second so that the first consumer gives up its extra queues quickly.
  const consumers = [];
  for (const instanceName of ['interop-c1', 'interop-c2']) {
    consumers.push(await h.startConsumer(cluster, {
      group, topic, options: { instanceName, rebalanceInterval: 1000 },
    }));
  }
  const clientIds = consumers.map(c => c._mqClient.clientId);
  if (clientIds[0] === clientIds[1]) {
    throw new Error(`both consumers have client id ${clientIds[0]}`);
  }

  let registered = [];
  await h.waitUntil(async () => {
    registered = await cluster.consumerIds(group);
    return clientIds.every(id => registered.includes(id)) && registered.length === 2;
  }, 20000, () => `GET_CONSUMER_LIST_BY_GROUP ${group} returned ${JSON.stringify(registered)}, ` +
      `expected exactly ${JSON.stringify(clientIds)}`);
  // Produce only once the queues are split, so no queue is pulled by both (which would be
  // an allowed at-least-once duplicate, not a broker fault).
  await h.waitUntil(() => {
    const [a, b] = consumers.map(c => ownedQueues(c, topic));
    const union = new Set([...a, ...b]);
    return a.length > 0 && b.length > 0 && a.length + b.length === QUEUES && union.size === QUEUES;
  }, 30000, () => `queues never split: c1 owns ${ownedQueues(consumers[0], topic)}, ` +
      `c2 owns ${ownedQueues(consumers[1], topic)}`);
  const owned = consumers.map(c => ownedQueues(c, topic));

  const producer = await h.startProducer(cluster);
  const sent = [];
  for (let i = 0; i < COUNT; i++) {
    sent.push(h.buildMessage(topic, i % 2 === 0 ? 'TagA' : 'TagB', `key-${i}`, `body-${i}`));
  }
  await h.sendAll(producer, sent);

  const total = () => consumers[0].deliveries.length + consumers[1].deliveries.length;
  await h.waitUntil(() => total() >= COUNT, 60000,
      () => `consumers received ${consumers[0].deliveries.length} + ` +
          `${consumers[1].deliveries.length} of ${COUNT}`);
  await h.sleep(2000);
  h.assertExactlyOnce([...consumers[0].deliveries, ...consumers[1].deliveries], sent, 'group');
  consumers.forEach((consumer, i) => {
    if (consumer.deliveries.length === 0) throw new Error(`consumer c${i + 1} received nothing`);
    const foreign = consumer.deliveries.filter(d => !owned[i].includes(Number(d.queueId)));
    if (foreign.length) {
      throw new Error(`consumer c${i + 1} owns queues ${owned[i]} but received from queue ` +
          `${foreign[0].queueId}`);
    }
    h.assertNoUnexpectedErrors(consumer, `consumer c${i + 1}`);
  });
  console.log(`c1 owned queues ${owned[0]} and got ${consumers[0].deliveries.length}; ` +
      `c2 owned ${owned[1]} and got ${consumers[1].deliveries.length}`);

  for (const consumer of consumers) await h.closeClient(consumer, 'consumer');
  await h.closeClient(producer, 'producer');
});
