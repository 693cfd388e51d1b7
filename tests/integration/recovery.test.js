'use strict';
/*
 * recovery.test.js: Socket.IO connection state recovery (recovery.enabled) with the real
 * socket.io-client, which needs no option for it: the CONNECT answer carries a pid, every
 * broadcast event an offset as its last argument, and a client whose TCP connection was cut
 * reconnects with {pid, offset} and gets its socket id, rooms and authenticated state back, with
 * the broadcasts it missed first, in order (socket.recovered === true).  An unknown pid or a
 * session older than recovery.max_disconnection gives a new socket, as Node does.  One worker:
 * the sessions are kept by the worker that served the socket (see README.md).
 */

const assert = require('node:assert/strict');
const { test } = require('node:test');
const { createClient } = require('redis');
const h = require('./lib/harness');

const MAX_DISCONNECTION_MS = 3000;

const env = h.useSiogate({
	redis: true,
	config: {
		server: { workers: 1 },
		rooms: { allow: ['public-*'] },
		auth: { jwt: { leeway: 0 } },
		recovery: { enabled: true, max_disconnection: `${MAX_DISCONNECTION_MS}ms` },
	},
});

/* Connects with automatic reconnection (a short delay), authenticates and joins room. */
async function joined(room, opts = {}) {
	const s = await h.connect(env.sg.url, {
		auth: { token: h.token(opts.claims || { sub: h.uniq('rec') }), ...(opts.auth || {}) },
		reconnection: opts.reconnection !== false,
		reconnectionDelay: 300,
		reconnectionDelayMax: 300,
		randomizationFactor: 0,
	});
	await h.authenticate(s);
	const ack = await s.timeout(3000).emitWithAck('join', { rooms: [room] });
	assert.deepEqual(ack.rooms, [room]);
	return s;
}

/* Cuts the client's TCP connection without a WebSocket close. */
function cut(s) {
	s.io.engine.transport.ws._socket.destroy();
}

async function kept() {
	return h.metric(await h.metrics(env.sg), 'siogate_recovery_sessions_kept_total');
}

async function recoveries(result) {
	return h.metric(await h.metrics(env.sg), `siogate_recovery_total{result="${result}"}`);
}

test('a cut connection recovers: same id, rooms and identity, every message once and in order', async () => {
	const sub = createClient({ url: env.redis.url });
	sub.on('error', () => {});
	await sub.connect();
	const lifecycle = [];
	await sub.subscribe('siogate#lifecycle', (m) => lifecycle.push(JSON.parse(m)));
	try {
		const room = h.uniq('public-r');
		const s = await joined(room);
		const id = s.id;
		assert.equal(s.recovered, false);
		const got = h.collect(s, 'n');
		const emitter = env.emitter.to(room);
		for (let i = 1; i <= 5; i++)
			emitter.emit('n', i);
		await got.waitFor(5, 5000);
		/* the offset is the last argument, a string, as Node's SessionAwareAdapter appends it */
		assert.equal(typeof got.all[0][1], 'string');
		const keptBefore = await kept();
		const reconnected = h.once(s, 'connect', 10000);
		cut(s);
		/* published while the client is away: the server sees the cut, then these */
		await h.until(async () => (await kept()) > keptBefore, 5000, 'the session to be kept');
		for (let i = 6; i <= 20; i++)
			emitter.emit('n', i);
		await reconnected;
		assert.equal(s.recovered, true, 'socket.recovered');
		assert.equal(s.id, id, 'the same socket id');
		/* still in its room and authenticated (no second authenticate): new broadcasts arrive */
		for (let i = 21; i <= 25; i++)
			emitter.emit('n', i);
		await got.waitFor(25, 5000);
		await h.fence(env.emitter, s);
		assert.deepEqual([...got], Array.from({ length: 25 }, (_, i) => i + 1), 'every message once, in order');
		const offsets = got.all.map((a) => Number(a[a.length - 1]));
		for (let i = 1; i < offsets.length; i++)
			assert.ok(offsets[i] > offsets[i - 1], 'offsets grow');
		assert.ok((await recoveries('recovered')) >= 1);
		await h.until(() => lifecycle.some((e) => e.type === 'recovered' && e.id === id), 5000,
			'a lifecycle event recovered');
		assert.equal(lifecycle.filter((e) => e.id === id && e.type === 'connected').length, 1,
			'connected once, then recovered');
	} finally {
		await sub.quit();
	}
});

test('a binary broadcast missed while away is replayed with its bytes and its offset', async () => {
	const room = h.uniq('public-b');
	const s = await joined(room, { reconnection: false });
	const seq = [];
	s.onAny((ev, ...args) => seq.push([ev, ...args]));
	env.emitter.to(room).emit('n', 1);
	await h.until(() => seq.length === 1, 5000, 'the first event');
	const keptBefore = await kept();
	cut(s);
	await h.until(async () => (await kept()) > keptBefore, 5000, 'the session to be kept');
	env.emitter.to(room).emit('bin', Buffer.from([1, 2, 3]));
	env.emitter.to(room).emit('n', 2);
	await env.emitter.redis.ping(); /* both published before the reconnection */
	const reconnected = h.once(s, 'connect', 10000);
	s.connect();
	await reconnected;
	assert.equal(s.recovered, true);
	await h.until(() => seq.length === 3, 5000, 'the replayed events');
	assert.deepEqual(seq.map((e) => e[0]), ['n', 'bin', 'n']);
	assert.deepEqual([...seq[1][1]], [1, 2, 3]);
	assert.equal(typeof seq[1][2], 'string', 'the offset after the binary argument');
	assert.equal(seq[2][1], 2);
});

test('a volatile broadcast gets no offset and is not logged', async () => {
	const room = h.uniq('public-v');
	const s = await joined(room, { reconnection: false });
	const p = h.onceArgs(s, 'v');
	env.emitter.to(room).volatile.emit('v', 1);
	assert.deepEqual(await p, [1]);
});

test('an unknown pid gives a new socket, as Node does', async () => {
	const before = await recoveries('fallback');
	const room = h.uniq('public-u');
	const s = await joined(room, { auth: { pid: 'no-such-session-pid', offset: '1' }, reconnection: false });
	assert.equal(s.recovered, false);
	assert.ok((await recoveries('fallback')) > before, 'the fallback is counted');
	/* it works as a fresh socket */
	const p = h.once(s, 'hi');
	env.emitter.to(room).emit('hi', 'x');
	assert.equal(await p, 'x');
});

test('after recovery.max_disconnection the session is gone: a new socket', async () => {
	const room = h.uniq('public-e');
	const s = await joined(room, { reconnection: false });
	const id = s.id;
	const got = h.collect(s, 'n');
	env.emitter.to(room).emit('n', 1);
	await got.waitFor(1, 5000);
	const keptBefore = await kept();
	const fallbackBefore = await recoveries('fallback');
	cut(s);
	await h.until(async () => (await kept()) > keptBefore, 5000, 'the session to be kept');
	await h.delay(MAX_DISCONNECTION_MS + 500);
	const reconnected = h.once(s, 'connect', 10000);
	s.connect();
	await reconnected;
	assert.equal(s.recovered, false, 'not recovered');
	assert.notEqual(s.id, id, 'a new socket id');
	assert.ok((await recoveries('fallback')) > fallbackBefore, 'the fallback is counted');
	/* a new socket: unauthenticated, out of its room until it authenticates and joins */
	await h.nothing(s, 'n', 300);
});

test('a token that expired while away: recovered unauthenticated, in its rooms, authenticates again', async () => {
	const room = h.uniq('public-x');
	const sub = h.uniq('exp');
	const exp = Math.floor(Date.now() / 1000) + 2;
	const s = await joined(room, { claims: { sub, exp }, reconnection: false });
	const id = s.id;
	const got = h.collect(s, 'n');
	env.emitter.to(room).emit('n', 1);
	await got.waitFor(1, 5000);
	const keptBefore = await kept();
	cut(s);
	await h.until(async () => (await kept()) > keptBefore, 5000, 'the session to be kept');
	/* past exp (leeway 0), within max_disconnection of the cut */
	await h.until(() => Date.now() > exp * 1000 + 100, 5000, 'the token to expire');
	/* the app gives a fresh token on reconnection (auth is read at each CONNECT) */
	s.auth = { token: h.token({ sub }) };
	const reconnected = h.once(s, 'connect', 10000);
	s.connect();
	await reconnected;
	assert.equal(s.recovered, true);
	assert.equal(s.id, id);
	/* unauthenticated: broadcasts do not reach it */
	env.emitter.to(room).emit('n', 2);
	await h.nothing(s, 'n', 300);
	/* it authenticates with the fresh token, and it is still in its room */
	const authed = await h.authenticate(s);
	assert.equal(authed.id, id);
	const p = h.once(s, 'n', 5000, { filter: (v) => v === 3 });
	env.emitter.to(room).emit('n', 3);
	assert.equal(await p, 3);
	assert.deepEqual([...got], [1, 3], 'the event sent while unauthenticated is not replayed');
});

test('the CONNECT answer carries a pid, and a client DISCONNECT keeps no session', async () => {
	const raw = await h.rawConnect(env.sg);
	raw.send('40' + JSON.stringify({ token: h.token({ sub: 'raw' }) }));
	const answer = await raw.next();
	assert.match(answer, /^40\{"sid":"[A-Za-z0-9_-]{20}","pid":"[A-Za-z0-9_-]{20}"\}$/);
	const before = await kept();
	raw.send('41');
	await h.delay(200);
	assert.equal(await kept(), before, 'a client disconnect is not recoverable');
	raw.close();
});

test('with recovery.enabled false nothing changes: no pid, no offsets, a cut gives a new socket', async () => {
	const sg = await h.startSiogate({
		redis: env.redis,
		config: { server: { workers: 1 }, rooms: { allow: ['public-*'] } },
	});
	try {
		const raw = await h.rawConnect(sg);
		raw.send('40');
		assert.match(await raw.next(), /^40\{"sid":"[A-Za-z0-9_-]{20}"\}$/);
		raw.close();
		const room = h.uniq('public-off');
		const s = await h.connect(sg.url, {
			auth: { token: h.token({ sub: h.uniq('off') }) },
			reconnection: true,
			reconnectionDelay: 300,
			reconnectionDelayMax: 300,
			randomizationFactor: 0,
		});
		await h.authenticate(s);
		await s.timeout(3000).emitWithAck('join', { rooms: [room] });
		const p = h.onceArgs(s, 'n');
		env.emitter.to(room).emit('n', 1);
		assert.deepEqual(await p, [1], 'no offset argument');
		const id = s.id;
		const reconnected = h.once(s, 'connect', 10000);
		cut(s);
		await reconnected;
		/* the client computes pid && _pid === pid: undefined without a pid, as with Node */
		assert.ok(!s.recovered);
		assert.notEqual(s.id, id);
		s.close();
	} finally {
		const exit = await sg.stop('SIGTERM');
		h.assertCleanLog(sg.log(), exit, 'SIGTERM', { expectCode: 0 });
	}
});
