'use strict';
/*
 * upgrade.test.js: the polling -> WebSocket upgrade (PROTOCOL.md 1.5): socket.io-client with its
 * default transports ends up on websocket and keeps working; the raw sequence (probe 2probe ->
 * 3probe, the held GET released with 6, 5 switches, queued packets follow on the WebSocket);
 * what is refused after and during an upgrade (polling with the sid -> 400 code 3, a second
 * WebSocket closed at once, a stray packet on the probe closes the probe only); and
 * server.transports limited to one transport.
 */

const assert = require('node:assert/strict');
const { describe, test } = require('node:test');
const h = require('./lib/harness');

const ROOM = 'public-up';

const env = h.useSiogate({
	redis: true,
	config: { rooms: { allow: ['public-*'] } },
});

function errorBody(res) {
	assert.match(res.headers['content-type'] || '', /^application\/json/, `content-type of ${res.body}`);
	return JSON.parse(res.body);
}

/* GETs until pred(packets so far); bounded */
async function pollUntil(p, pred, timeoutMs = 3000) {
	const packets = [];
	const deadline = Date.now() + timeoutMs;
	while (!pred(packets)) {
		const left = deadline - Date.now();
		assert.ok(left > 0, `timed out after ${timeoutMs} ms polling; got ${JSON.stringify(packets)}`);
		const res = await p.get(left);
		assert.equal(res.status, 200, `GET: ${res.status} ${res.body}`);
		packets.push(...h.pollPackets(res.body));
	}
	return packets;
}

/* next WebSocket message that is not an Engine.IO ping (answered with a pong) */
async function nextNonPing(conn, ms = 3000) {
	for (;;) {
		const m = await conn.next(ms);
		if (m !== '2')
			return m;
		conn.send('3');
	}
}

/* A raw polling session, CONNECTed with a token and authenticated: {p, socketId} */
async function authedPolling(sub) {
	const p = await h.pollOpen(env.sg);
	const post = await p.post(`40${JSON.stringify({ token: h.token({ sub }) })}\x1e42["authenticate",{}]`);
	assert.equal(post.body, 'ok');
	const pk = await pollUntil(p, (all) => all.some((x) => x.startsWith('42["authenticated"')));
	p.socketId = JSON.parse(pk.find((x) => x.startsWith('40{')).slice(2)).sid;
	return p;
}

/* Probes and upgrades the polling session p; resolves the WebSocket (the held GET checked) */
async function upgrade(p) {
	const held = p.get();
	const ws = await h.rawWs(env.sg, `EIO=4&transport=websocket&sid=${encodeURIComponent(p.sid)}`);
	ws.send('2probe');
	assert.equal(await ws.next(), '3probe');
	const r = await held;
	assert.equal(r.status, 200);
	assert.equal(r.body, '6');
	ws.send('5');
	return ws;
}

/* ---------------------------------------------------------------- socket.io-client */

test('socket.io-client with the default transports upgrades to websocket and keeps working', async () => {
	const s = await h.connect(env.sg.url, {
		transports: ['polling', 'websocket'],
		auth: { token: h.token({ sub: 'upgrader' }) },
	});
	const engine = s.io.engine;
	const idBefore = s.id;
	const sidBefore = engine.id;
	if (engine.transport.name !== 'websocket')
		await h.once(engine, 'upgrade', 3000);
	assert.equal(engine.transport.name, 'websocket');
	assert.equal(engine.id, sidBefore, 'the Engine.IO sid is kept across the upgrade');
	assert.equal(s.id, idBefore, 'the socket id is kept across the upgrade');
	const auth = await h.authenticate(s);
	assert.equal(auth.id, s.id);
	const ack = await s.timeout(3000).emitWithAck('join', { rooms: [ROOM] });
	assert.deepEqual(ack, { rooms: [ROOM], rejected: [] });
	const got = h.onceArgs(s, 'after-upgrade');
	env.emitter.to(ROOM).emit('after-upgrade', 'x', Buffer.from([9, 8]));
	const [a, b] = await got;
	assert.equal(a, 'x');
	assert.deepEqual([...b], [9, 8]);
	assert.equal(engine.transport.name, 'websocket');
});

/* ---------------------------------------------------------------- the raw sequence */

test('raw upgrade: 2probe -> 3probe, the held GET gets 6, 5 switches; 40 then answers on the WebSocket', async () => {
	const p = await h.pollOpen(env.sg);
	const ws = await upgrade(p);
	ws.send('40');
	const reply = await nextNonPing(ws);
	assert.match(reply, /^40\{/);
	const data = JSON.parse(reply.slice(2));
	assert.deepEqual(Object.keys(data), ['sid']);
	assert.match(data.sid, /^[A-Za-z0-9_-]{20}$/);
	assert.notEqual(data.sid, p.sid);
	assert.equal(ws.isClosed(), false);
});

test('raw upgrade: what is sent during the probe goes out on the WebSocket after 5, in order', async () => {
	const p = await authedPolling('up-queue');
	const held = p.get();
	const ws = await h.rawWs(env.sg, `EIO=4&transport=websocket&sid=${encodeURIComponent(p.sid)}`);
	ws.send('2probe');
	assert.equal(await ws.next(), '3probe');
	assert.equal((await held).body, '6');
	/* still polling: a GET now gets a noop, and emitter messages wait for the new transport */
	env.emitter.to(p.socketId).emit('queued', 1);
	env.emitter.to(p.socketId).emit('queued', 2);
	await h.delay(200); /* let them reach siogate before the switch */
	ws.send('5');
	assert.equal(await nextNonPing(ws), '42["queued",1]');
	assert.equal(await nextNonPing(ws), '42["queued",2]');
	/* and later ones arrive on the WebSocket too */
	env.emitter.to(p.socketId).emit('later', Buffer.from([1, 2]));
	assert.equal(await nextNonPing(ws), '451-["later",{"_placeholder":true,"num":0}]');
	assert.deepEqual([...(await nextNonPing(ws))], [1, 2]);
});

test('closed by the auth check mid-upgrade: a GET sent before the pause gets a noop, then the upgrade delivers', async () => {
	const p = await h.pollOpen(env.sg);
	assert.equal((await p.post(`40${JSON.stringify({ token: 'not-a-token' })}`)).body, 'ok');
	await pollUntil(p, (all) => all.some((x) => x.startsWith('40{')));
	const held = p.get();
	const ws = await h.rawWs(env.sg, `EIO=4&transport=websocket&sid=${encodeURIComponent(p.sid)}`);
	ws.send('2probe');
	assert.equal(await ws.next(), '3probe');
	assert.equal((await held).body, '6');
	/* the client authenticates with its bad token while the upgrade is under way */
	assert.equal((await p.post('42["authenticate",{}]')).body, 'ok');
	/* a GET it had sent before pausing: a noop, not "Session ID unknown" */
	const late = await p.get();
	assert.equal(late.status, 200, `GET during the upgrade: ${late.status} ${late.body}`);
	assert.equal(late.body, '6');
	ws.send('5');
	assert.match(await nextNonPing(ws), /^42\["unauthenticated",/);
	assert.equal(await nextNonPing(ws), '41');
});

test('after the upgrade, polling with that sid gets 400 code 3 Bad request', async () => {
	const p = await h.pollOpen(env.sg);
	const ws = await upgrade(p);
	ws.send('40');
	assert.match(await nextNonPing(ws), /^40\{/);
	const get = await p.get();
	assert.equal(get.status, 400);
	assert.deepEqual(errorBody(get), { code: 3, message: 'Bad request' });
	const post = await p.post('42["x"]');
	assert.equal(post.status, 400);
	assert.deepEqual(errorBody(post), { code: 3, message: 'Bad request' });
	assert.equal(ws.isClosed(), false);
});

test('after the upgrade, a second WebSocket with the same sid is accepted, then closed at once', async () => {
	const p = await authedPolling('up-dup');
	const ws = await upgrade(p);
	const dup = await h.rawWs(env.sg, `EIO=4&transport=websocket&sid=${encodeURIComponent(p.sid)}`);
	const info = await h.withTimeout(dup.closed, 1000, 'the duplicate WebSocket to be closed');
	assert.equal(info.code, 1005, 'a bare close frame, as Node (ws close() without a code)');
	await assert.rejects(dup.next(100));
	/* the upgraded one still delivers */
	env.emitter.to(p.socketId).emit('still', 'here');
	assert.equal(await nextNonPing(ws), '42["still","here"]');
	assert.equal(ws.isClosed(), false);
});

test('a packet other than 2probe/5 on the probe closes the probe; the polling session keeps working', async () => {
	const p = await h.pollOpen(env.sg);
	const post = await p.post(`40${JSON.stringify({ token: h.token({ sub: 'up-bad-probe' }) })}`);
	assert.equal(post.body, 'ok');
	const pk = await pollUntil(p, (all) => all.some((x) => x.startsWith('40{')));
	const socketId = JSON.parse(pk.find((x) => x.startsWith('40{')).slice(2)).sid;
	for (const stray of ['42["x"]', '2', '3probe']) {
		const probe = await h.rawWs(env.sg, `EIO=4&transport=websocket&sid=${encodeURIComponent(p.sid)}`);
		probe.send(stray);
		await h.withTimeout(probe.closed, 2000, `the probe to be closed after ${stray}`);
	}
	/* also after a successful 2probe: a stray packet instead of 5 */
	const held = p.get();
	const probe = await h.rawWs(env.sg, `EIO=4&transport=websocket&sid=${encodeURIComponent(p.sid)}`);
	probe.send('2probe');
	assert.equal(await probe.next(), '3probe');
	assert.equal((await held).body, '6');
	probe.send('4hello');
	await h.withTimeout(probe.closed, 2000, 'the probe to be closed after 4hello');
	/* polling goes on: authenticate over polling, receive an emitter message */
	const r = await p.post('42["authenticate",{}]');
	assert.equal(r.body, 'ok');
	await pollUntil(p, (all) => all.some((x) => x.startsWith('42["authenticated"')));
	env.emitter.to(socketId).emit('by-polling', 1);
	await pollUntil(p, (all) => all.includes('42["by-polling",1]'));
});

/* ---------------------------------------------------------------- server.transports */

describe('server.transports: [websocket]', () => {
	const only = h.useSiogate({ config: { server: { transports: ['websocket'] } } });

	test('a polling handshake gets 400 code 0 Transport unknown; websocket works', async () => {
		const res = await h.httpRequest(`${only.sg.url}/socket.io/?EIO=4&transport=polling`);
		assert.equal(res.status, 400);
		assert.deepEqual(errorBody(res), { code: 0, message: 'Transport unknown' });
		const conn = await h.rawConnect(only.sg);
		assert.deepEqual(conn.open.upgrades, []);
		conn.send('40');
		assert.match(await conn.next(), /^40\{"sid":/);
		const s = await h.connectAuthed(only.sg.url, { claims: { sub: 'ws-only' } });
		assert.equal(s.io.engine.transport.name, 'websocket');
	});
});

describe('server.transports: [polling]', () => {
	const only = h.useSiogate({ config: { server: { transports: ['polling'] } } });

	test('the open packet offers no upgrade; a WebSocket gets 400 code 0', async () => {
		const p = await h.pollOpen(only.sg);
		assert.deepEqual(p.open.upgrades, []);
		/* a fresh WebSocket, and a WebSocket probe for the polling session: both refused */
		for (const q of ['EIO=4&transport=websocket', `EIO=4&transport=websocket&sid=${p.sid}`]) {
			const err = await h.rawWs(only.sg, q).then(() => null, (e) => e);
			assert.ok(err, `the upgrade ${q} must be refused`);
			assert.equal(err.statusCode, 400, `${q}: ${err.message}`);
			assert.equal(err.body, 'Transport unknown');
		}
		const plain = await h.httpRequest(`${only.sg.url}/socket.io/?EIO=4&transport=websocket`);
		assert.equal(plain.status, 400);
		assert.deepEqual(errorBody(plain), { code: 0, message: 'Transport unknown' });
		/* and the polling session is unharmed */
		assert.equal((await p.post('40')).body, 'ok');
		assert.match((await p.get()).body, /^40\{"sid":/);
	});

	test('socket.io-client with the default transports stays on polling and authenticates', async () => {
		const s = await h.connectAuthed(only.sg.url, {
			transports: ['polling', 'websocket'],
			claims: { sub: 'poll-only' },
		});
		await h.nothing(s.io.engine, 'upgrade', 300, 'no upgrade offered');
		assert.equal(s.io.engine.transport.name, 'polling');
		assert.equal(s.authPayload.id, s.id);
	});
});
