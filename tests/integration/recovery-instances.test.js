'use strict';
/*
 * recovery-instances.test.js: connection state recovery across siogate instances sharing one
 * Redis.  A socket that ends uncleanly (or that a SIGTERM drains) has its session written to
 * Redis (<prefix>-recovery#<nsp>#<pid>, SET PX recovery.max_disconnection), with the offsets and
 * content hashes of its last events; a client that reconnects to another instance takes it there
 * (GETDEL) and gets its id, rooms and identity back, with the broadcasts it missed replayed from
 * that instance's own log.  The real socket.io-client is pointed at the other instance the way a
 * load balancer would send it there (Manager.uri).  Also: an oversized backlog falls back and is
 * counted; Redis down during the reconnection falls back promptly and is counted.
 */

const assert = require('node:assert/strict');
const { test } = require('node:test');
const h = require('./lib/harness');
const { joinedClient, cut } = require('./lib/recovery');

const CONFIG = {
	server: { workers: 2, drain_window: '1s' },
	rooms: { allow: ['public-*'] },
	recovery: { enabled: true, max_disconnection: '30s' },
};

const env = h.useSiogate({ redis: true, config: CONFIG });

async function counter(sg, name) {
	return h.metric(await h.metrics(sg), name);
}

async function kept(sg) {
	return counter(sg, 'siogate_recovery_sessions_kept_total');
}

const joined = joinedClient;

/* Points s's next reconnection at sg (a load balancer sending it elsewhere). */
function redirect(s, sg) {
	s.io.uri = sg.url;
}

test('a client cut from instance A recovers on instance B: same id, room, identity, every message once', async () => {
	const a = await h.startSiogate({ redis: env.redis, config: CONFIG });
	try {
		const room = h.uniq('public-x');
		const s = await joined(a, room);
		const id = s.id;
		const got = h.collect(s, 'n');
		const emitter = env.emitter.to(room);
		for (let i = 1; i <= 5; i++)
			emitter.emit('n', i);
		await got.waitFor(5, 5000);
		const keptBefore = await kept(a);
		const recoveredBefore = await counter(env.sg, 'siogate_recovery_total{result="recovered"}');
		redirect(s, env.sg);
		const reconnected = h.once(s, 'connect', 10000);
		cut(s);
		await h.until(async () => (await kept(a)) > keptBefore, 5000, 'the session to be kept');
		for (let i = 6; i <= 15; i++)
			emitter.emit('n', i);
		await env.emitter.redis.ping();
		await reconnected;
		assert.equal(s.recovered, true, 'socket.recovered');
		assert.equal(s.id, id, 'the same socket id');
		/* in its room and authenticated on B without a second authenticate */
		for (let i = 16; i <= 20; i++)
			emitter.emit('n', i);
		await got.waitFor(20, 5000);
		await h.fence(env.emitter, s);
		assert.deepEqual([...got], Array.from({ length: 20 }, (_, i) => i + 1), 'every message once, in order');
		assert.ok((await counter(env.sg, 'siogate_recovery_total{result="recovered"}')) > recoveredBefore,
			'B counted the recovery');
		s.close();
	} finally {
		const exit = await a.stop('SIGTERM');
		h.assertCleanLog(a.log(), exit, 'SIGTERM', { expectCode: 0 });
	}
});

test('SIGTERM deploy: the clients of A reconnect to B and recover, nothing lost or repeated', async () => {
	const a = await h.startSiogate({ redis: env.redis, config: CONFIG });
	const rooms = [h.uniq('public-d'), h.uniq('public-d'), h.uniq('public-d')];
	const clients = [];
	let flow = null;
	let stopped = false;
	try {
		for (let i = 0; i < 30; i++) {
			const room = rooms[i % rooms.length];
			const s = await joined(a, room);
			clients.push({ s, room, id: s.id, got: h.collect(s, 'n'), recovered: false });
		}
		const sent = rooms.map(() => 0);
		const emitOne = (k) => env.emitter.to(rooms[k]).emit('n', ++sent[k]);
		let turn = 0;
		flow = setInterval(() => emitOne(turn++ % rooms.length), 3);
		await h.delay(200);
		for (const c of clients) {
			redirect(c.s, env.sg);
			c.s.once('connect', () => {
				c.recovered = c.s.recovered;
			});
		}
		const exit = await a.stop('SIGTERM');
		stopped = true;
		h.assertCleanLog(a.log(), exit, 'SIGTERM', { expectCode: 0 });
		await h.until(() => clients.every((c) => c.s.connected), 15000, 'every client to reconnect to B');
		await h.delay(200);
		clearInterval(flow);
		flow = null;
		for (const c of clients) {
			await c.got.waitFor(sent[rooms.indexOf(c.room)], 5000);
			await h.fence(env.emitter, c.s);
		}
		const report = clients.map((c) => {
			const seq = [...c.got];
			const want = sent[rooms.indexOf(c.room)];
			const seen = new Set(seq);
			return { lost: want - seen.size, duplicated: seq.length - seen.size, ordered: seq.every((v, i) => v === i + 1) };
		});
		const lost = report.reduce((n, r) => n + r.lost, 0);
		const duplicated = report.reduce((n, r) => n + r.duplicated, 0);
		assert.equal(lost, 0, 'messages lost');
		assert.equal(duplicated, 0, 'messages duplicated');
		assert.ok(report.every((r) => r.ordered), 'each client got its room\'s messages in order');
		for (const c of clients) {
			assert.equal(c.recovered, true, 'recovered on B');
			assert.equal(c.s.id, c.id, 'the same socket id');
		}
	} finally {
		if (flow)
			clearInterval(flow);
		for (const c of clients)
			c.s.close();
		if (!stopped)
			await a.stop('SIGTERM').catch(() => {});
	}
});

test('a backlog over the replay cap falls back to a new socket and is counted', async () => {
	const room = h.uniq('public-o');
	const s = await joined(env.sg, room);
	const id = s.id;
	const got = h.collect(s, 'n');
	env.emitter.to(room).emit('n', 0);
	await got.waitFor(1, 5000);
	const before = await counter(env.sg, 'siogate_recovery_total{result="oversized"}');
	const keptBefore = await kept(env.sg);
	const reconnected = h.once(s, 'connect', 10000);
	s.io.reconnection(false);
	cut(s);
	await h.until(async () => (await kept(env.sg)) > keptBefore, 5000, 'the session to be kept');
	const received = 'siogate_redis_messages_total{outcome="received"}';
	const receivedBefore = await counter(env.sg, received);
	for (let i = 1; i <= 1100; i++) /* over RECOVERY_REPLAY_EVENTS (1000) */
		env.emitter.to(room).emit('n', i);
	await env.emitter.redis.ping();
	/* every worker has taken the whole backlog into its log (a slow, sanitized build included)
	 * before the client comes back: each counted message was handled in the same callback */
	await h.until(async () => (await counter(env.sg, received)) >= receivedBefore + 1100 * env.sg.workers,
		20000, 'siogate to receive the backlog');
	s.io.reconnection(true);
	s.connect();
	await reconnected;
	assert.equal(s.recovered, false, 'not recovered');
	assert.notEqual(s.id, id, 'a new socket');
	assert.ok((await counter(env.sg, 'siogate_recovery_total{result="oversized"}')) > before, 'counted as oversized');
	s.close();
});

test('Redis down during the reconnection: a new socket, promptly, counted', async () => {
	const redis = await h.startRedis();
	const sg = await h.startSiogate({ redis, config: { ...CONFIG, server: { workers: 1 } } });
	try {
		const room = h.uniq('public-r');
		const s = await joined(sg, room);
		const id = s.id;
		/* an offset to give back: a client without one does not ask (nor with Node) */
		const p = h.once(s, 'n', 5000);
		const emitter = await h.emitterFor(redis.url, 'socket.io');
		emitter.to(room).emit('n', 1);
		await p;
		await emitter.close();
		const keptBefore = await kept(sg);
		s.io.reconnection(false);
		cut(s);
		await h.until(async () => (await kept(sg)) > keptBefore, 5000, 'the session to be kept');
		await redis.stop();
		const before = await counter(sg, 'siogate_recovery_total{result="unavailable"}');
		const started = Date.now();
		const reconnected = h.once(s, 'connect', 10000);
		s.io.reconnection(true);
		s.connect();
		await reconnected;
		/* the promise is a short deadline (500 ms), not a hang: generous slack */
		assert.ok(Date.now() - started < 5000, `answered in ${Date.now() - started} ms`);
		assert.equal(s.recovered, false);
		assert.notEqual(s.id, id);
		assert.ok((await counter(sg, 'siogate_recovery_total{result="unavailable"}')) > before, 'counted as unavailable');
		s.close();
	} finally {
		const exit = await sg.stop('SIGTERM');
		h.assertCleanLog(sg.log(), exit, 'SIGTERM', { expectCode: 0 });
	}
});
