'use strict';
/*
 * recovery-workers.test.js: connection state recovery across the workers of one process.  The
 * kernel spreads a reconnecting client's new TCP connection over the workers (the Engine.IO sid's
 * worker byte tells which one took it), and the session it recovers was kept by whichever worker
 * served it before the cut: the worker that gets the CONNECT asks the others for it and replays the
 * missed broadcasts from its own log (every worker logs every broadcast, with its own offsets).
 * A real socket.io-client is cut again and again while broadcasts flow to its room, also while it
 * reconnects; it must end with every message once, in order, the same id, in its room, and at
 * least one recovery must have crossed workers.
 */

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test, after } = require('node:test');
const h = require('./lib/harness');
const { joinedClient, cut } = require('./lib/recovery');

const WORKERS = 3;
const ADMIN_TOKEN = 'recovery-admin-token-0123456789';
const tokenDir = fs.mkdtempSync(path.join(os.tmpdir(), 'siogate-recovery-'));
const tokenFile = path.join(tokenDir, 'admin.token');
fs.writeFileSync(tokenFile, ADMIN_TOKEN + '\n', { mode: 0o600 });
after(() => fs.rmSync(tokenDir, { recursive: true, force: true }));

const env = h.useSiogate({
	redis: true,
	config: {
		server: { workers: WORKERS },
		rooms: { allow: ['public-*'] },
		recovery: { enabled: true, max_disconnection: '30s' },
		admin: { token_file: tokenFile },
	},
});

/* The worker byte of an id made by siogate (src/core/ids.c: byte 12 of the 15 decoded bytes). */
function workerOf(id) {
	return Buffer.from(id, 'base64url')[12];
}

/* A client that reconnects at once, authenticated, in a new room named from prefix. */
async function joined(prefix) {
	const room = h.uniq(prefix);
	return { s: await joinedClient(env.sg, room), room };
}

async function counter(name) {
	return h.metric(await h.metrics(env.sg), name);
}

test('cut again and again, reconnecting to any worker: every message once, in order, same id and room', async () => {
	const { s, room } = await joined('public-w');
	const id = s.id;
	const got = h.collect(s, 'n');
	const emitter = env.emitter.to(room);
	let sent = 0;
	const emitSome = (k) => {
		for (let i = 0; i < k; i++)
			emitter.emit('n', ++sent);
	};
	const workers = [workerOf(s.io.engine.id)];
	let crossed = 0;
	for (let round = 0; round < 20 && !(round >= 8 && crossed >= 2); round++) {
		emitSome(3);
		await got.waitFor(sent, 5000);
		const keptBefore = await counter('siogate_recovery_sessions_kept_total');
		const reconnected = h.once(s, 'connect', 10000);
		cut(s);
		/* the server has seen the cut: what is published now is missed, then replayed */
		await h.until(async () => (await counter('siogate_recovery_sessions_kept_total')) > keptBefore,
			5000, 'the session to be kept');
		emitSome(5);
		/* and a flow while the client reconnects: replayed or delivered live, never both */
		const flow = setInterval(() => emitSome(1), 2);
		try {
			await reconnected;
		} finally {
			clearInterval(flow);
		}
		assert.equal(s.recovered, true, `socket.recovered in round ${round}`);
		assert.equal(s.id, id, 'the same socket id');
		const worker = workerOf(s.io.engine.id);
		if (worker !== workers[workers.length - 1])
			crossed++;
		workers.push(worker);
	}
	emitSome(3);
	await got.waitFor(sent, 5000);
	await h.fence(env.emitter, s);
	assert.deepEqual([...got], Array.from({ length: sent }, (_, i) => i + 1),
		'every message once, in order');
	assert.ok(crossed >= 1, `a recovery crossed workers (workers in turn: ${workers.join(' ')})`);
	assert.ok(new Set(workers).size >= 2, 'more than one worker served the client');
	s.close();
});

test('missed traffic from every sender is replayed: emitter, JSON channel, admin API; volatile is not', async () => {
	const { s, room } = await joined('public-s');
	const id = s.id;
	const got = { e: h.collect(s, 'e'), j: h.collect(s, 'j'), a: h.collect(s, 'a'), v: h.collect(s, 'v') };
	const jsonSend = (event, data) =>
		env.emitter.redis.publish('siogate#send', JSON.stringify({ to: [room], event, data }));
	const adminEmit = async (event, data) => {
		const res = await fetch(`http://127.0.0.1:${env.sg.adminPort}/v1/emit`, {
			method: 'POST',
			headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
			body: JSON.stringify({ to: [room], event, data }),
		});
		assert.equal(res.status, 202);
	};
	const sendAll = async (i) => {
		env.emitter.to(room).emit('e', i);
		await jsonSend('j', i);
		await adminEmit('a', i);
	};
	await sendAll(1);
	await Promise.all([got.e.waitFor(1, 5000), got.j.waitFor(1, 5000), got.a.waitFor(1, 5000)]);
	const keptBefore = await counter('siogate_recovery_sessions_kept_total');
	s.io.reconnection(false);
	cut(s);
	await h.until(async () => (await counter('siogate_recovery_sessions_kept_total')) > keptBefore,
		5000, 'the session to be kept');
	for (let i = 2; i <= 4; i++)
		await sendAll(i);
	env.emitter.to(room).volatile.emit('v', 'lost while away');
	await env.emitter.redis.ping();
	const reconnected = h.once(s, 'connect', 10000);
	s.io.reconnection(true);
	s.connect();
	await reconnected;
	assert.equal(s.recovered, true);
	assert.equal(s.id, id);
	await sendAll(5);
	await Promise.all([got.e.waitFor(5, 5000), got.j.waitFor(5, 5000), got.a.waitFor(5, 5000)]);
	await h.fence(env.emitter, s);
	for (const k of ['e', 'j', 'a']) {
		assert.deepEqual([...got[k]], [1, 2, 3, 4, 5], `${k}: every message once, in order`);
		assert.ok(got[k].all.every((args) => typeof args[args.length - 1] === 'string'), `${k}: offsets`);
	}
	assert.deepEqual([...got.v], [], 'a volatile broadcast is not replayed');
	s.close();
});

test('a quiet client cut again and again still recovers: its offset may be another worker\'s', async () => {
	const { s, room } = await joined('public-q');
	const id = s.id;
	const got = h.collect(s, 'n');
	env.emitter.to(room).emit('n', 1);
	await got.waitFor(1, 5000);
	const workers = [workerOf(s.io.engine.id)];
	/* nothing is published between the cuts: the client keeps the offset of event 1 */
	for (let round = 0; round < 8; round++) {
		const keptBefore = await counter('siogate_recovery_sessions_kept_total');
		const reconnected = h.once(s, 'connect', 10000);
		cut(s);
		await h.until(async () => (await counter('siogate_recovery_sessions_kept_total')) > keptBefore,
			5000, 'the session to be kept');
		await reconnected;
		assert.equal(s.recovered, true, `socket.recovered in round ${round} (workers: ${workers.join(' ')})`);
		assert.equal(s.id, id);
		workers.push(workerOf(s.io.engine.id));
	}
	env.emitter.to(room).emit('n', 2);
	await got.waitFor(2, 5000);
	await h.fence(env.emitter, s);
	assert.deepEqual([...got], [1, 2], 'still in its room, nothing repeated');
	/* offsets name the worker that sent them (offset % 256) */
	assert.equal(Number(got.all[1][1]) % 256, workers[workers.length - 1]);
	assert.ok(new Set(workers).size >= 2, `more than one worker served the client (${workers.join(' ')})`);
	s.close();
});

test('a session another worker keeps with an offset that is not in its log falls back', async () => {
	const before = await counter('siogate_recovery_total{result="fallback"}');
	const room = h.uniq('public-f');
	const pidOf = async () => {
		const raw = await h.rawConnect(env.sg);
		raw.send('40' + JSON.stringify({ token: h.token({ sub: 'raw' }) }));
		const answer = JSON.parse((await raw.next()).slice(2));
		return { raw, pid: answer.pid };
	};
	const { raw, pid } = await pidOf();
	const kept = await counter('siogate_recovery_sessions_kept_total');
	raw.ws._socket.destroy();
	await h.until(async () => (await counter('siogate_recovery_sessions_kept_total')) > kept, 5000,
		'the session to be kept');
	/* the right pid, an offset no worker has logged: whichever worker gets it, a new socket */
	const s = await h.connect(env.sg.url, {
		auth: { token: h.token({ sub: h.uniq('f') }), pid, offset: '999999999999' },
	});
	assert.equal(s.recovered, false);
	await h.authenticate(s);
	await s.timeout(3000).emitWithAck('join', { rooms: [room] });
	assert.ok((await counter('siogate_recovery_total{result="fallback"}')) > before, 'counted');
	s.close();
});
