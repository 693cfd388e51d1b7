'use strict';
/*
 * shutdown.test.js: SIGTERM / SIGINT stop siogate gracefully (exit 0, bounded time) and close
 * every client with a transport close, which socket.io-client reconnects from, never with the
 * DISCONNECT packet (`io server disconnect`) that would keep it away.  Each test starts its own
 * siogate, since each one ends it.
 */

const assert = require('node:assert/strict');
const net = require('node:net');
const { after, before, test } = require('node:test');
const h = require('./lib/harness');

const SHUTDOWN_BOUND_MS = 10000;

h.cleanupHooks();

let redis = null;
before(async () => {
	redis = await h.startRedis();
});
after(async () => {
	if (redis)
		await redis.stop();
});

function start() {
	assert.ok(redis, 'redis is started in before()');
	return h.startSiogate({
		redis,
		config: {
			server: { shutdown_timeout: '3s', drain_window: '200ms' },
			auth: { timeout: '5s' },
			log: { level: 'debug' }, /* "closed: server shutting down" is per client: debug */
		},
	});
}

function portRefuses(port) {
	return new Promise((resolve) => {
		const s = net.connect(port, '127.0.0.1');
		s.once('connect', () => {
			s.destroy();
			resolve(false);
		});
		s.once('error', () => resolve(true));
	});
}

async function stopWithClients(signal) {
	const sg = await start();
	const a = await h.connectAuthed(sg.url, { claims: { sub: 'a' } });
	const b = await h.connectAuthed(sg.url, { claims: { sub: 'b' } });
	const c = await h.connect(sg.url, { auth: { token: h.token({ sub: 'c' }) } });
	const reasons = [a, b, c].map((s) => h.once(s, 'disconnect', SHUTDOWN_BOUND_MS + 2000));
	const t0 = Date.now();
	const exit = await sg.stop(signal, SHUTDOWN_BOUND_MS);
	const elapsed = Date.now() - t0;
	h.assertCleanLog(sg.log(), exit, signal, { expectCode: 0 });
	assert.deepEqual(exit, { code: 0, signal: null }, `exit after ${signal}`);
	assert.ok(elapsed < SHUTDOWN_BOUND_MS, `took ${elapsed} ms`);
	const got = await Promise.all(reasons);
	for (const [i, reason] of got.entries()) {
		assert.notEqual(reason, 'io server disconnect', `client ${i}: a shutdown must not send DISCONNECT`);
		assert.notEqual(reason, 'io client disconnect', `client ${i}`);
	}
	assert.ok(await portRefuses(sg.port), 'the listener is closed after exit');
	return sg;
}

test('SIGTERM with clients connected: exit 0, clients see a transport close', async () => {
	const sg = await stopWithClients('SIGTERM');
	assert.match(sg.log(), /closed: server shutting down/);
});

test('SIGINT behaves like SIGTERM', async () => {
	await stopWithClients('SIGINT');
});

test('a client with reconnection on tries to reconnect after the shutdown', async () => {
	const sg = await start();
	const s = await h.connectAuthed(sg.url, {
		claims: { sub: 'r' },
		reconnection: true,
		reconnectionDelay: 50,
		reconnectionDelayMax: 100,
		reconnectionAttempts: 2,
	});
	const attempt = h.once(s.io, 'reconnect_attempt', SHUTDOWN_BOUND_MS + 2000);
	const exit = await sg.stop('SIGTERM', SHUTDOWN_BOUND_MS);
	assert.deepEqual(exit, { code: 0, signal: null });
	await attempt;
	s.close();
});

test('SIGTERM with no clients exits 0 promptly', async () => {
	const sg = await start();
	const t0 = Date.now();
	const exit = await sg.stop('SIGTERM', SHUTDOWN_BOUND_MS);
	h.assertCleanLog(sg.log(), exit, 'SIGTERM', { expectCode: 0 });
	assert.deepEqual(exit, { code: 0, signal: null });
	assert.ok(Date.now() - t0 < 5000, 'an idle daemon stops within 5 s');
});
