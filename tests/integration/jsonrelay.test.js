'use strict';
/*
 * jsonrelay.test.js: a JSON-channel message in a cluster of siogate instances and a Node.js
 * socket.io server with @socket.io/redis-adapter.  Every siogate delivers the JSON message to
 * its own clients; exactly one of them (the relay, chosen through the members channel)
 * re-publishes it in the adapter format for the Node server.  Each client gets it once, also
 * while the relay leaves (graceful stop), while a new instance joins, and after Redis restarts.
 */

const assert = require('node:assert/strict');
const { test, before, after } = require('node:test');
const ioClient = require('socket.io-client');
const h = require('./lib/harness');
const { startNodePeer } = require('./lib/nodepeer');

let redis, peer;
const gates = [];

/* Waits until every instance in list counts list.length settled members and exactly one
 * relays; returns that one. */
async function settledRelay(list) {
	const deadline = Date.now() + 10000;
	for (;;) {
		const texts = await Promise.all(list.map(h.metrics));
		const relays = list.filter((sg, i) => h.metric(texts[i], 'siogate_json_relay') === 1);
		const counted = texts.every((t) => h.metric(t, 'siogate_cluster_members{state="ready"}') === list.length);
		if (counted && relays.length === 1)
			return relays[0];
		if (Date.now() > deadline)
			throw new Error(`no single relay among ${list.length}: ${texts.map((t) =>
				`members ${h.metric(t, 'siogate_cluster_members{state="ready"}')} relay ${h.metric(t, 'siogate_json_relay')}`).join('; ')}`);
		await h.delay(100);
	}
}

async function startGate(id) {
	const sg = await h.startSiogate({ redis, config: { server: { id } } });
	gates.push(sg);
	return sg;
}

async function nodeClient() {
	const s = ioClient(peer.url, { transports: ['websocket'], forceNew: true, reconnection: false });
	await h.withTimeout(new Promise((r) => s.on('connect', r)), 5000, 'node client');
	return s;
}

function publish(msg) {
	return peer.pub.publish('siogate#send', JSON.stringify(msg));
}

/* Publishes msg, then a closing marker; once every client has the marker, each must have
 * got msg exactly `expect[i]` times (Redis delivers in publish order, and the relay of msg
 * is published before the Node client can have received it). */
async function deliverOnce(clients, msg, expect) {
	const got = clients.map((c) => h.collect(c, msg.event));
	const ends = clients.map((c) => h.collect(c, 'end-of-test'));
	await publish(msg);
	await Promise.all(got.map((g, i) => (expect[i] ? g.waitFor(expect[i], 5000) : null)));
	await publish({ event: 'end-of-test' });
	await Promise.all(ends.map((e) => e.waitFor(1, 5000)));
	for (const g of got.concat(ends))
		g.stop();
	return got.map((g) => g.length);
}

before(async () => {
	redis = await h.startRedis();
	await startGate('gw-a');
	await startGate('gw-b');
	peer = await startNodePeer(redis.url, { servers: 3, onConnection: (s) => s.join('news') });
});

after(async () => {
	h.closeClients(true);
	if (peer) await peer.close();
	for (const sg of gates) {
		if (sg.exitInfo) continue;
		const exit = await sg.stop();
		h.assertCleanLog(sg.log(), exit, 'SIGTERM');
	}
	if (redis) await redis.stop();
});

test('one JSON message reaches the clients of both siogates and of the Node server, once each', async () => {
	const relay = await settledRelay(gates);
	const ca = await h.connectAuthed(gates[0].url, { claims: { sub: h.uniq('a') } });
	const cb = await h.connectAuthed(gates[1].url, { claims: { sub: h.uniq('b') } });
	const cn = await nodeClient();
	try {
		assert.deepEqual(await deliverOnce([ca, cb, cn], { event: 'all', data: { n: 1 } }, [1, 1, 1]),
			[1, 1, 1]);
		/* to a room: only the Node client is in "news" (rules apply on the Node side too) */
		assert.deepEqual(await deliverOnce([ca, cb, cn], { to: ['news'], event: 'room', data: 2 }, [0, 0, 1]),
			[0, 0, 1]);
		/* except: the Node client's room excluded */
		assert.deepEqual(await deliverOnce([ca, cb, cn], { except: ['news'], event: 'exc', data: 3 }, [1, 1, 0]),
			[1, 1, 0]);
		const text = await h.metrics(relay);
		assert.ok(h.metric(text, 'siogate_json_relayed_total') >= 3, 'the relay counted what it re-published');
		const other = gates.find((g) => g !== relay);
		assert.equal(h.metric(await h.metrics(other), 'siogate_json_relayed_total'), 0);
	} finally {
		cn.close();
	}
});

test('the relay stops (SIGTERM): the other instance takes over at once, nothing lost or doubled', async () => {
	const relay = await settledRelay(gates);
	const other = gates.find((g) => g !== relay);
	const co = await h.connectAuthed(other.url, { claims: { sub: h.uniq('o') } });
	const cn = await nodeClient();
	try {
		const exit = await relay.stop();
		h.assertCleanLog(relay.log(), exit, 'SIGTERM');
		/* no wait: the leaving announcement precedes this message in Redis's order */
		assert.deepEqual(await deliverOnce([co, cn], { event: 'after-stop', data: 'x' }, [1, 1]), [1, 1]);
		assert.equal(h.metric(await h.metrics(other), 'siogate_json_relay'), 1);
		assert.ok(other.log().includes('this instance now relays'));
	} finally {
		cn.close();
	}
});

test('a new instance joins: after it settled there is still one relay, and one copy each', async () => {
	const live = gates.filter((g) => !g.exitInfo);
	const c = await startGate('gw-c');
	const cc = await h.connectAuthed(c.url, { claims: { sub: h.uniq('c') } });
	const co = await h.connectAuthed(live[0].url, { claims: { sub: h.uniq('o') } });
	const cn = await nodeClient();
	try {
		/* while it settles, and after */
		assert.deepEqual(await deliverOnce([cc, co, cn], { event: 'settling', data: 1 }, [1, 1, 1]), [1, 1, 1]);
		await settledRelay([live[0], c]);
		assert.deepEqual(await deliverOnce([cc, co, cn], { event: 'settled', data: 2 }, [1, 1, 1]), [1, 1, 1]);
	} finally {
		cn.close();
	}
});

test('Redis restarts: the instances settle again and exactly one relays', async () => {
	const { createClient } = require('redis');
	let redis2 = await h.startRedis();
	const port = redis2.port;
	const c = await h.startSiogate({ redis: redis2, config: { server: { id: 'gw-r1' } } });
	const d = await h.startSiogate({ redis: redis2, config: { server: { id: 'gw-r2' } } });
	const clients = [];
	try {
		await settledRelay([c, d]);
		const marks = [c.mark(), d.mark()];
		await redis2.stop();
		redis2 = await h.startRedis({ port });
		/* both subscribed again (the table was cleared with the lost link), then settled */
		await Promise.all([c, d].map((sg, i) => sg.waitSubscribed(10000, marks[i])));
		await settledRelay([c, d]);
		const sub = createClient({ url: redis2.url, socket: { reconnectStrategy: false } });
		const pub2 = sub.duplicate();
		for (const x of [sub, pub2]) { x.on('error', () => {}); clients.push(x); }
		await Promise.all([sub.connect(), pub2.connect()]);
		const seen = [];
		await sub.pSubscribe('socket.io#/#*', (msg) => seen.push(msg), true);
		await pub2.publish('siogate#send', JSON.stringify({ event: 'after-restart-1' }));
		await pub2.publish('siogate#send', JSON.stringify({ event: 'after-restart-2' }));
		const has = (m, s) => m.includes(Buffer.from(s));
		const deadline = Date.now() + 5000;
		while (!seen.some((m) => has(m, 'after-restart-2')) && Date.now() < deadline)
			await h.delay(50);
		assert.equal(seen.filter((m) => has(m, 'after-restart-2')).length, 1, 'the marker relayed once');
		assert.equal(seen.filter((m) => has(m, 'after-restart-1')).length, 1, 'relayed exactly once');
		assert.ok(seen.every((m) => has(m, 'siogate-relay:')));
	} finally {
		for (const x of clients) await h.withTimeout(x.quit(), 3000, 'quit').catch(() => x.disconnect());
		for (const sg of [c, d]) {
			const exit = await sg.stop();
			h.assertCleanLog(sg.log(), exit, 'SIGTERM');
		}
		await redis2.stop();
	}
});
