'use strict';
// Harness for the interop scenarios: starts mqnamesrv and mqbroker on 127.0.0.1 with ephemeral
// ports and a temp directory, stops them by PID, and gives the scenarios what they need around
// the unmodified npm client ali-ons: a tiny raw remoting client (topic creation, route and
// offset look-ups, raw pulls), factories for ali-ons producers and consumers, and a runner that
// bounds each scenario in time and always stops the servers.
//
// Environment: MQNAMESRV and MQBROKER (paths of the built binaries), NODE_PATH (where
// scripts/install-interop-deps.sh put ali-ons), MQ_INTEROP_KEEP=1 keeps the temp directory.

const assert = require('assert');
const childProcess = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const ALI_ONS_VERSION = '3.12.0';
const BROKER_NAME = 'broker-a';
const CLUSTER_NAME = 'DefaultCluster';
// RocketMQ's 18-level format, shortened so that delayed messages and retries (delay level
// 3 + reconsumeTimes for the first retry) come back within seconds.
const MESSAGE_DELAY_LEVELS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18];

// Remoting request and response codes the harness uses (remoting-protocol.md §2, §3).
const Code = {
  SUCCESS: 0,
  PULL_MESSAGE: 11,
  QUERY_CONSUMER_OFFSET: 14,
  UPDATE_AND_CREATE_TOPIC: 17,
  PULL_NOT_FOUND: 19,
  PULL_RETRY_IMMEDIATELY: 20,
  QUERY_NOT_FOUND: 22,
  GET_CONSUMER_LIST_BY_GROUP: 38,
  GET_ROUTEINFO_BY_TOPIC: 105,
};

// ---------------------------------------------------------------------------------------------
// Small utilities

function sleep(ms) {
  return new Promise(resolve => setTimeout(resolve, ms));
}

// Polls `predicate` (sync or async) every `intervalMs` until it returns a truthy value, which
// is returned; throws Error(describe()) once `timeoutMs` passed.
async function waitUntil(predicate, timeoutMs, describe, intervalMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
    }
    await sleep(intervalMs);
  }
}

// Rejects with a clear message if `promise` has not settled within `timeoutMs`.
function withTimeout(promise, timeoutMs, what) {
  let timer;
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${timeoutMs} ms`)),
        timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// A name unique to this run, so repeated runs never share topics or groups by accident.
function uniqueName(prefix) {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}`;
}

// ---------------------------------------------------------------------------------------------
// Raw remoting client: JSON-header frames (remoting-protocol.md §1), enough for admin calls.

class RemotingConnection {
  constructor(socket, addr) {
    this.addr = addr;
    this.socket = socket;
    this.nextOpaque = 1;
    this.pending = new Map();
    this.buffered = Buffer.alloc(0);
    this.closedError = null;
    socket.on('data', chunk => this._onData(chunk));
    socket.on('error', err => this._failAll(err));
    socket.on('close', () => this._failAll(new Error(`connection to ${addr} closed`)));
  }

  static connect(addr, timeoutMs = 5000) {
    const [host, port] = splitAddress(addr);
    return withTimeout(new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      socket.once('connect', () => resolve(new RemotingConnection(socket, addr)));
      socket.once('error', reject);
    }), timeoutMs, `connecting to ${addr}`);
  }

  // Sends one request; resolves with { code, remark, extFields, body } of the response.
  request(code, extFields = {}, body = null, timeoutMs = 5000) {
    if (this.closedError) return Promise.reject(this.closedError);
    const opaque = this.nextOpaque++;
    const fields = {};
    for (const [key, value] of Object.entries(extFields)) {
      if (value !== undefined && value !== null) fields[key] = String(value);
    }
    const header = Buffer.from(JSON.stringify({
      code, language: 'JAVA', version: 401, opaque, flag: 0, extFields: fields,
    }));
    const bodyBytes = body ? Buffer.from(body) : Buffer.alloc(0);
    const prefix = Buffer.alloc(8);
    prefix.writeInt32BE(4 + header.length + bodyBytes.length, 0);
    prefix.writeInt32BE(header.length, 4);  // serialize type 0 (JSON) in the high byte
    const response = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(opaque);
        reject(new Error(
            `request code ${code} to ${this.addr} got no response in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(opaque, { resolve, reject, timer });
    });
    this.socket.write(Buffer.concat([prefix, header, bodyBytes]));
    return response;
  }

  close() {
    this.closedError = this.closedError || new Error(`connection to ${this.addr} closed`);
    this.socket.destroy();
  }

  _onData(chunk) {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 4) {
      const frameLength = this.buffered.readInt32BE(0);
      if (this.buffered.length < 4 + frameLength) return;
      const frame = this.buffered.subarray(4, 4 + frameLength);
      this.buffered = this.buffered.subarray(4 + frameLength);
      this._onFrame(frame);
    }
  }

  _onFrame(frame) {
    const serializeType = frame[0];
    const headerLength = frame.readInt32BE(0) & 0xffffff;
    if (serializeType !== 0) {
      this._failAll(new Error(`${this.addr} answered with serialize type ${serializeType}, ` +
          'not JSON (0): ali-ons could not parse it'));
      return;
    }
    let header;
    try {
      header = JSON.parse(frame.subarray(4, 4 + headerLength).toString('utf8'));
    } catch (err) {
      this._failAll(
          new Error(`${this.addr} sent a header that is not strict JSON: ${err.message}`));
      return;
    }
    if ((header.flag & 1) === 0) return;  // a request from the server (e.g. code 40): ignored
    const waiter = this.pending.get(header.opaque);
    if (!waiter) return;
    this.pending.delete(header.opaque);
    clearTimeout(waiter.timer);
    waiter.resolve({
      code: header.code,
      remark: header.remark,
      extFields: header.extFields || {},
      body: frame.subarray(4 + headerLength),
    });
  }

  _failAll(err) {
    this.closedError = this.closedError || err;
    for (const waiter of this.pending.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(err);
    }
    this.pending.clear();
  }
}

function splitAddress(addr) {
  const colon = addr.lastIndexOf(':');
  return [addr.slice(0, colon), Number(addr.slice(colon + 1))];
}

// One request on a fresh connection.
async function requestOnce(addr, code, extFields, body, timeoutMs) {
  const connection = await RemotingConnection.connect(addr);
  try {
    return await connection.request(code, extFields, body, timeoutMs);
  } finally {
    connection.close();
  }
}

function describeResponse(response) {
  return `code ${response.code}${response.remark ? ` remark "${response.remark}"` : ''}`;
}

// Route and consumer-list bodies: strict JSON first (what we expect), else the lenient
// parser ali-ons itself uses (fastjson's unquoted numeric keys).
function parseJsonBody(body) {
  const text = body.toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    return require('JSON2').parse(text);
  }
}

// Decodes a pull body: stored records in RocketMQ's V1 layout (remoting-protocol.md §6).
function decodeStoredMessages(body) {
  const messages = [];
  let pos = 0;
  while (pos < body.length) {
    const totalSize = body.readInt32BE(pos);
    const record = body.subarray(pos, pos + totalSize);
    let at = 4 + 4 + 4;  // size, magic, body CRC
    const queueId = record.readInt32BE(at); at += 4;
    at += 4;  // flag
    const queueOffset = Number(record.readBigInt64BE(at)); at += 8;
    at += 8;  // commit-log offset
    const sysFlag = record.readInt32BE(at); at += 4;
    at += 8;  // born timestamp
    at += (sysFlag & 0x10) ? 20 : 8;  // born host
    at += 8;  // store timestamp
    at += (sysFlag & 0x20) ? 20 : 8;  // store host
    const reconsumeTimes = record.readInt32BE(at); at += 4;
    at += 8;  // prepared transaction offset
    const bodyLength = record.readInt32BE(at); at += 4;
    const messageBody = record.subarray(at, at + bodyLength); at += bodyLength;
    const topicLength = record[at]; at += 1;
    const topic = record.subarray(at, at + topicLength).toString('utf8'); at += topicLength;
    const propertiesLength = record.readInt16BE(at); at += 2;
    const properties = {};
    for (const entry of record.subarray(at, at + propertiesLength).toString('utf8').split('\x02')) {
      const separator = entry.indexOf('\x01');
      if (separator > 0) properties[entry.slice(0, separator)] = entry.slice(separator + 1);
    }
    messages.push({ queueId, queueOffset, sysFlag, reconsumeTimes, topic, properties,
      body: messageBody, tags: properties.TAGS, keys: properties.KEYS });
    pos += totalSize;
  }
  return messages;
}

// ---------------------------------------------------------------------------------------------
// Server processes

class ServerProcess {
  // Spawns `binary args`, appends its stdout+stderr to `logFile`, and resolves once a stderr
  // line matches `readyPattern` (whose first group is the port).
  static start(name, binary, args, { logFile, readyPattern, timeoutMs = 20000 }) {
    const log = fs.openSync(logFile, 'a');
    const child = childProcess.spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new ServerProcess(name, child, logFile);
    return new Promise((resolve, reject) => {
      let pendingText = '';
      let ready = false;
      const timer = setTimeout(() => {
        reject(new Error(`${name} printed no "ready" line within ${timeoutMs} ms\n` +
            server.logTail()));
      }, timeoutMs);
      const onOutput = chunk => {
        fs.writeSync(log, chunk);
        if (ready) return;
        pendingText += chunk.toString('utf8');
        const match = readyPattern.exec(pendingText);
        if (match) {
          ready = true;
          clearTimeout(timer);
          server.port = Number(match[1]);
          resolve(server);
        }
      };
      child.stdout.on('data', onOutput);
      child.stderr.on('data', onOutput);
      child.once('error', err => {
        clearTimeout(timer);
        reject(new Error(`cannot start ${name} (${binary}): ${err.message}`));
      });
      child.once('exit', (code, signal) => {
        server.exitCode = code;
        server.exitSignal = signal;
        fs.closeSync(log);
        if (!ready) {
          clearTimeout(timer);
          reject(new Error(`${name} exited before it was ready (code ${code}, signal ${signal})\n` +
              server.logTail()));
        }
      });
    });
  }

  constructor(name, child, logFile) {
    this.name = name;
    this.child = child;
    this.pid = child.pid;
    this.logFile = logFile;
    this.port = 0;
    this.exitCode = undefined;
    this.exitSignal = undefined;
    this.exited = new Promise(resolve => child.once('exit', () => resolve()));
  }

  get running() {
    return this.exitCode === undefined && this.exitSignal === undefined;
  }

  // SIGTERM by PID; SIGKILL if it has not exited after `graceMs`. Resolves to a problem
  // description, or null when it exited 0 on SIGTERM.
  async stop(graceMs = 10000) {
    if (!this.running) {
      return `${this.name} (pid ${this.pid}) had already exited ` +
          `(code ${this.exitCode}, signal ${this.exitSignal})`;
    }
    process.kill(this.pid, 'SIGTERM');
    const stopped = await Promise.race(
        [this.exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!stopped) {
      process.kill(this.pid, 'SIGKILL');
      await this.exited;
      return `${this.name} (pid ${this.pid}) did not exit within ${graceMs} ms of SIGTERM; killed`;
    }
    if (this.exitCode !== 0) {
      return `${this.name} (pid ${this.pid}) exited with code ${this.exitCode} ` +
          `(signal ${this.exitSignal}) on SIGTERM`;
    }
    return null;
  }

  killNow() {
    if (this.running) {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch (err) {
        // Already gone.
      }
    }
  }

  logTail(lines = 60) {
    let text = '';
    try {
      text = fs.readFileSync(this.logFile, 'utf8');
    } catch (err) {
      return `(no log: ${err.message})`;
    }
    const all = text.split('\n');
    return `---- last ${lines} lines of ${this.name} (${this.logFile}) ----\n` +
        all.slice(-lines - 1).join('\n');
  }
}

function requireBinary(variable) {
  const binary = process.env[variable];
  if (!binary) {
    throw new Error(`environment variable ${variable} (path of the built binary) is not set`);
  }
  if (!fs.existsSync(binary)) throw new Error(`${variable}=${binary} does not exist`);
  return binary;
}

// A name server and one broker registered with it, in a fresh temp directory.
class Cluster {
  static async start(brokerSettings = {}) {
    const cluster = new Cluster(fs.mkdtempSync(path.join(os.tmpdir(), 'mqstore-interop-')));
    try {
      // Loopback only: tests never listen on the machine's other interfaces.
      const namesrvConfig = path.join(cluster.dir, 'namesrv.conf');
      fs.writeFileSync(namesrvConfig, 'listenPort=0\nbindAddress=127.0.0.1\n');
      cluster.namesrv = await ServerProcess.start('mqnamesrv', requireBinary('MQNAMESRV'),
          ['-c', namesrvConfig], {
            logFile: path.join(cluster.dir, 'mqnamesrv.log'),
            readyPattern: /mqnamesrv\s+ready\s+port=(\d+)/,
          });
      cluster.namesrvAddr = `127.0.0.1:${cluster.namesrv.port}`;
      const settings = Object.assign({
        brokerClusterName: CLUSTER_NAME,
        brokerName: BROKER_NAME,
        brokerId: 0,
        brokerIP1: '127.0.0.1',
        listenPort: 0,
        bindAddress: '127.0.0.1',
        // Small index files: the default ones are 420 MB each.
        maxHashSlotNum: 10000,
        maxIndexNum: 40000,
        storePathRootDir: path.join(cluster.dir, 'store'),
        mappedFileSizeCommitLog: 64 * 1024 * 1024,
        messageDelayLevel: MESSAGE_DELAY_LEVELS.map(s => `${s}s`).join(' '),
      }, brokerSettings);
      const configFile = path.join(cluster.dir, 'broker.conf');
      fs.writeFileSync(configFile,
          Object.entries(settings).map(([key, value]) => `${key}=${value}\n`).join(''));
      cluster.broker = await ServerProcess.start('mqbroker', requireBinary('MQBROKER'),
          ['-c', configFile, '-n', cluster.namesrvAddr], {
            logFile: path.join(cluster.dir, 'mqbroker.log'),
            readyPattern: /mqbroker\s+ready\s+port=(\d+)/,
          });
      cluster.brokerAddr = `127.0.0.1:${cluster.broker.port}`;
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  constructor(dir) {
    this.dir = dir;
    this.namesrv = null;
    this.broker = null;
    this.namesrvAddr = '';
    this.brokerAddr = '';
  }

  // Stops the broker, then the name server; removes the temp dir unless MQ_INTEROP_KEEP=1.
  // Resolves to the problems seen (an empty list when both exited 0).
  async stop() {
    const problems = [];
    for (const server of [this.broker, this.namesrv]) {
      if (!server) continue;
      try {
        const problem = await server.stop();
        if (problem) problems.push(problem);
      } catch (err) {
        problems.push(`stopping ${server.name}: ${err.message}`);
        server.killNow();
      }
    }
    if (process.env.MQ_INTEROP_KEEP === '1') {
      console.log(`kept ${this.dir}`);
    } else {
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
    return problems;
  }

  killNow() {
    for (const server of [this.broker, this.namesrv]) if (server) server.killNow();
  }

  logTails(lines) {
    return [this.namesrv, this.broker].filter(Boolean).map(s => s.logTail(lines)).join('\n');
  }

  // UPDATE_AND_CREATE_TOPIC on the broker, then waits until the name server routes the topic
  // with that many writable queues on our broker.
  async createTopic(topic, queueNums = 4, timeoutMs = 30000) {
    const response = await requestOnce(this.brokerAddr, Code.UPDATE_AND_CREATE_TOPIC, {
      topic, defaultTopic: 'TBW102', readQueueNums: queueNums, writeQueueNums: queueNums,
      perm: 6, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false,
    });
    assert.strictEqual(response.code, Code.SUCCESS,
        `UPDATE_AND_CREATE_TOPIC ${topic} answered ${describeResponse(response)}`);
    let last = null;
    await waitUntil(async () => {
      last = await this.route(topic);
      return last.route && last.route.queueDatas.some(q => q.brokerName === BROKER_NAME &&
          q.writeQueueNums === queueNums && q.readQueueNums === queueNums && (q.perm & 6) === 6);
    }, timeoutMs, () => `name server has no route for ${topic} with ${queueNums} queues on ` +
        `${BROKER_NAME}; last answer: ${last && last.description}`, 100);
  }

  // GET_ROUTEINFO_BY_TOPIC on the name server: { route (parsed body or null), description }.
  async route(topic) {
    const response = await requestOnce(this.namesrvAddr, Code.GET_ROUTEINFO_BY_TOPIC, { topic });
    if (response.code !== Code.SUCCESS) {
      return { route: null, description: describeResponse(response) };
    }
    const route = parseJsonBody(response.body);
    return { route, description: `code 0 body ${response.body.toString('utf8')}` };
  }

  // GET_CONSUMER_LIST_BY_GROUP on the broker: the client ids it knows, [] when none.
  async consumerIds(group) {
    const response = await requestOnce(this.brokerAddr, Code.GET_CONSUMER_LIST_BY_GROUP,
        { consumerGroup: group });
    if (response.code !== Code.SUCCESS) return [];
    return parseJsonBody(response.body).consumerIdList || [];
  }

  // QUERY_CONSUMER_OFFSET on the broker: the committed offset, or null if none.
  async committedOffset(group, topic, queueId) {
    const response = await requestOnce(this.brokerAddr, Code.QUERY_CONSUMER_OFFSET,
        { consumerGroup: group, topic, queueId });
    if (response.code === Code.QUERY_NOT_FOUND) return null;
    assert.strictEqual(response.code, Code.SUCCESS, `QUERY_CONSUMER_OFFSET ${group} ` +
        `${topic}:${queueId} answered ${describeResponse(response)}`);
    return Number(response.extFields.offset);
  }

  // One PULL_MESSAGE without long polling, with the subscription text in the request:
  // { code, nextBeginOffset, messages }.
  async pull(group, topic, queueId, queueOffset, subscription, maxMsgNums = 32) {
    const response = await requestOnce(this.brokerAddr, Code.PULL_MESSAGE, {
      consumerGroup: group, topic, queueId, queueOffset, maxMsgNums,
      sysFlag: 4,  // SUBSCRIPTION only: no commit, no suspend
      commitOffset: 0, suspendTimeoutMillis: 0, subscription, subVersion: Date.now(),
    });
    const result = { code: response.code, remark: response.remark,
      nextBeginOffset: Number(response.extFields.nextBeginOffset), messages: [] };
    if (response.code === Code.SUCCESS) result.messages = decodeStoredMessages(response.body);
    return result;
  }
}

// ---------------------------------------------------------------------------------------------
// ali-ons

function aliOns() {
  let onsPackage;
  try {
    onsPackage = require('ali-ons/package.json');
  } catch (err) {
    throw new Error('npm package ali-ons not found (NODE_PATH=' + (process.env.NODE_PATH || '') +
        '): run scripts/install-interop-deps.sh');
  }
  assert.strictEqual(onsPackage.version, ALI_ONS_VERSION,
      `ali-ons ${onsPackage.version} installed, the tests are pinned to ${ALI_ONS_VERSION}`);
  return require('ali-ons');
}

// ali-ons logs warnings and errors to the console by default; keep them for failure reports.
const clientLog = [];
const quietLogger = {
  info() {},
  debug() {},
  warn(...args) { clientLog.push(['warn', args]); },
  error(...args) { clientLog.push(['error', args]); },
};

function clientOptions(cluster, options) {
  // httpclient is asserted by ali-ons even with nameSrv set (real-clients.md §1.3).
  return Object.assign({ nameSrv: cluster.namesrvAddr, httpclient: {}, logger: quietLogger },
      options);
}

async function startProducer(cluster, options = {}) {
  const { Producer } = aliOns();
  const producer = new Producer(clientOptions(cluster,
      Object.assign({ producerGroup: uniqueName('PID_interop') }, options)));
  producer.errors = [];
  producer.on('error', err => producer.errors.push(err));
  await withTimeout(producer.ready(), 20000, 'producer.ready()');
  return producer;
}

// Builds the message every scenario uses: tag, one key and a body with random bytes.
function buildMessage(topic, tag, key, bodyPrefix) {
  const { Message } = aliOns();
  const body = Buffer.concat([Buffer.from(bodyPrefix), require('crypto').randomBytes(16)]);
  const message = new Message(topic, tag, body);
  message.keys = [key];
  return message;
}

// Sends `messages` one after the other; returns the send results in order.
async function sendAll(producer, messages) {
  const results = [];
  for (const message of messages) {
    const result = await withTimeout(producer.send(message), 10000, `send of ${message.keys}`);
    assert.strictEqual(result.sendStatus, 'SEND_OK',
        `send of ${message.keys} returned ${JSON.stringify(result)}`);
    results.push(result);
  }
  return results;
}

// A push consumer (clustering) that records every delivery. `handler(msg)` may throw to ask
// for a retry. Options are passed to ali-ons (instanceName makes the client id unique).
async function startConsumer(cluster,
    { group, topic, subExpression = '*', handler, options = {} }) {
  const { Consumer } = aliOns();
  const consumer = new Consumer(clientOptions(cluster, Object.assign({
    consumerGroup: group,
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
  }, options)));
  consumer.errors = [];
  consumer.deliveries = [];
  consumer.on('error', err => consumer.errors.push(err));
  consumer.subscribe(topic, subExpression, async msg => {
    consumer.deliveries.push({
      at: Date.now(), msgId: msg.msgId, topic: msg.topic, queueId: msg.queueId,
      queueOffset: msg.queueOffset, tags: msg.tags, keys: msg.keys, body: Buffer.from(msg.body),
      reconsumeTimes: msg.reconsumeTimes, originMessageId: msg.originMessageId,
      properties: Object.assign({}, msg.properties),
    });
    if (handler) await handler(msg);
  });
  await withTimeout(consumer.ready(), 20000, `consumer ${group} ready()`);
  return consumer;
}

// The queue ids of `topic` an ali-ons consumer currently owns (its rebalance result).
function ownedQueues(consumer, topic) {
  const owned = [];
  for (const { messageQueue } of consumer.processQueueTable.values()) {
    if (messageQueue.topic === topic) owned.push(Number(messageQueue.queueId));
  }
  return owned.sort();
}

async function closeClient(client, what) {
  await withTimeout(client.close(), 20000, `${what}.close()`);
}

// ali-ons asks the name server for the route of %RETRY%<group> before its first heartbeat,
// which is what makes a broker create that topic (a Java broker too), so a brand-new group
// always starts with these errors; the next route poll finds the topic.
const NEW_GROUP_RETRY_ROUTE_ERROR = /No topic route info in name server for the topic: %RETRY%/;

// The errors a consumer reported, except the new group's retry route error and the ones listed
// as expected (regexps on the message).
function unexpectedErrors(client, expected = []) {
  const ignored = [NEW_GROUP_RETRY_ROUTE_ERROR, ...expected];
  return client.errors.filter(err => !ignored.some(pattern => pattern.test(err.message)));
}

function assertNoUnexpectedErrors(client, who, expected = []) {
  const errors = unexpectedErrors(client, expected);
  if (errors.length) {
    throw new Error(`${who} reported errors: ${errors.map(e => e.message).join(' | ')}`);
  }
}

// Checks that `deliveries` are exactly `sent` (by key), each once, with identical body, tags
// and keys. `sent` is a list of ali-ons Messages.
function assertExactlyOnce(deliveries, sent, who) {
  const byKey = new Map();
  for (const delivery of deliveries) {
    const earlier = byKey.get(delivery.keys);
    if (earlier) {
      throw new assert.AssertionError({ message: `${who}: ${delivery.keys} delivered twice ` +
          `(queue ${earlier.queueId}@${earlier.queueOffset} and ` +
          `${delivery.queueId}@${delivery.queueOffset})` });
    }
    byKey.set(delivery.keys, delivery);
  }
  const missing = sent.filter(m => !byKey.has(m.keys)).map(m => m.keys);
  assert.deepStrictEqual(missing, [], `${who}: ${missing.length} messages never delivered`);
  const sentKeys = new Set(sent.map(m => m.keys));
  const unexpected = deliveries.filter(d => !sentKeys.has(d.keys)).map(d => d.keys);
  assert.deepStrictEqual(unexpected, [], `${who}: delivered messages that were not sent`);
  for (const message of sent) {
    const delivery = byKey.get(message.keys);
    assert.ok(delivery.body.equals(message.body),
        `${who}: body of ${message.keys} differs: sent ${message.body.toString('hex')}, ` +
        `got ${delivery.body.toString('hex')}`);
    assert.strictEqual(delivery.tags, message.tags, `${who}: tag of ${message.keys}`);
    assert.strictEqual(delivery.keys, message.keys, `${who}: keys of ${message.keys}`);
  }
}

// Runs the C++ push consumer (examples/push_consumer.cc, $MQPUSHCONSUMER) as its own process
// and parses what it prints: STARTED (client id), QUEUES (its share) and RECEIVED lines
// (with --orderly also when each listener call began and ended, CLOCK_MONOTONIC ns).
// `args` are extra command-line arguments (e.g. ['--orderly', '--consume-ms', '2']).
function startCppConsumer(cluster, group, topic, args = []) {
  const binary = process.env.MQPUSHCONSUMER;
  if (!binary) throw new Error('set MQPUSHCONSUMER to the built example_push_consumer');
  const child = require('child_process').spawn(binary,
      ['-n', cluster.namesrvAddr, '-t', topic, '-g', group, '--from', 'first', ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] });
  const cpp = { child, clientId: null, queues: null, deliveries: [], output: '', exit: null };
  let pending = '';
  child.stdout.on('data', chunk => {
    cpp.output += chunk;
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop();
    for (const line of lines) {
      if (line.startsWith('STARTED ')) cpp.clientId = /client_id=(\S+)/.exec(line)[1];
      if (line.startsWith('QUEUES')) {
        cpp.queues = line.split(' ').slice(1).map(q => Number(q.split(':')[1])).sort();
      }
      if (line.startsWith('RECEIVED ')) {
        const field = name => {
          const match = new RegExp(`${name}=(\\S*)`).exec(line);
          return match ? match[1] : null;
        };
        cpp.deliveries.push({ queueId: Number(field('queue')), queueOffset: Number(field('offset')),
          tags: field('tags'), keys: field('keys'), body: Buffer.from(field('body_hex'), 'hex'),
          reconsumeTimes: Number(field('reconsume')),
          beginNs: field('begin_ns') === null ? null : BigInt(field('begin_ns')),
          endNs: field('end_ns') === null ? null : BigInt(field('end_ns')) });
      }
    }
  });
  child.stderr.on('data', chunk => { cpp.output += chunk; });
  cpp.exited = new Promise(resolve => child.on('exit', (code, signal) => {
    cpp.exit = { code, signal };
    resolve(cpp.exit);
  }));
  return cpp;
}

// Runs the built mqadmin ($MQADMIN) against the cluster's name server: `args` is the
// subcommand and its flags. Returns what it printed; throws when it exits non-zero.
function mqadmin(cluster, args) {
  const binary = process.env.MQADMIN;
  if (!binary) throw new Error('set MQADMIN to the built mqadmin executable');
  return require('child_process').execFileSync(binary,
      [args[0], '-n', cluster.namesrvAddr, ...args.slice(1)], { encoding: 'utf8', timeout: 30000 });
}

// ---------------------------------------------------------------------------------------------
// Scenario runner

// Starts a cluster, runs `body(cluster)` within `timeoutMs`, stops the cluster, prints the
// outcome and exits (0 pass, 1 fail). Server logs and client warnings are printed on failure.
async function runScenario(name, body, { timeoutMs = 90000, brokerSettings = {} } = {}) {
  const started = Date.now();
  let cluster = null;
  let failure = null;
  const onFatal = err => { failure = failure || err; };
  process.on('unhandledRejection', onFatal);
  const hardStop = setTimeout(() => {
    // The scenario and the stop sequence both hung: never leave servers behind.
    console.error(`FAIL ${name}: hard timeout, killing the servers`);
    if (cluster) cluster.killNow();
    process.exit(1);
  }, timeoutMs + 30000);
  try {
    aliOns();
    cluster = await Cluster.start(brokerSettings);
    console.log(`${name}: mqnamesrv pid ${cluster.namesrv.pid} at ${cluster.namesrvAddr}, ` +
        `mqbroker pid ${cluster.broker.pid} at ${cluster.brokerAddr}, dir ${cluster.dir}`);
    await withTimeout(Promise.resolve().then(() => body(cluster)), timeoutMs, `scenario ${name}`);
  } catch (err) {
    failure = failure || err;
  }
  let logs = '';
  if (cluster) {
    if (failure) logs = cluster.logTails(150);  // room for a sanitizer report
    const problems = await cluster.stop();
    if (problems.length && !failure) {
      failure = new Error(`servers did not stop cleanly: ${problems.join('; ')}`);
      logs = cluster.logTails(40);
    }
  }
  clearTimeout(hardStop);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (failure) {
    console.error(`FAIL ${name} (${seconds} s): ${failure.stack || failure}`);
    if (clientLog.length) {
      console.error('---- ali-ons warnings/errors ----');
      for (const [level, args] of clientLog.slice(-40)) {
        console.error(level, ...args.map(a => (a instanceof Error ? a.message : a)));
      }
    }
    if (logs) console.error(logs);
    process.exit(1);
  }
  console.log(`PASS ${name} (${seconds} s)`);
  process.exit(0);
}

module.exports = {
  BROKER_NAME,
  Code,
  MESSAGE_DELAY_LEVELS,
  Cluster,
  RemotingConnection,
  aliOns,
  assertExactlyOnce,
  assertNoUnexpectedErrors,
  buildMessage,
  closeClient,
  runScenario,
  sendAll,
  sleep,
  ownedQueues,
  startConsumer,
  startCppConsumer,
  mqadmin,
  startProducer,
  uniqueName,
  unexpectedErrors,
  waitUntil,
  withTimeout,
};
