'use strict';
/*
 * polling.test.js: Engine.IO v4 HTTP long-polling, as the Node server does it (PROTOCOL.md 1.2-1.8):
 * the whole helper flow with socket.io-client held on polling (authenticate, join, emitter
 * messages, binary, refusal), then the raw HTTP exchanges one by one (handshake, POST/GET, the
 * record separator, 413 over server.max_payload, duplicate GETs, unknown sids, octet-stream,
 * garbage, client close, EIO=3, POST handshakes, keep-alive) and, on a second siogate with a
 * 300 ms ping interval, the heartbeat over polling.
 */

const assert = require('node:assert/strict');
const http = require('node:http');
const { describe, test } = require('node:test');
const h = require('./lib/harness');

const MAX_PAYLOAD = 2000;
const ROOM = 'public-poll';

const env = h.useSiogate({
	redis: true,
	config: {
		server: { max_payload: MAX_PAYLOAD },
		rooms: { allow: ['public-*'] },
		/* the per-client lines this file waits for (closed: ...) are debug */
		log: { level: 'debug' },
	},
});

const POLL = { transports: ['polling'] };
const OPEN_KEYS = ['sid', 'upgrades', 'pingInterval', 'pingTimeout', 'maxPayload'];

/* the session of p is gone: a GET gets 400 code 1 */
async function assertGone(p) {
	const res = await p.get();
	assert.equal(res.status, 400, `GET: ${res.status} ${res.body}`);
	assert.deepEqual(errorBody(res), { code: 1, message: 'Session ID unknown' });
}

function errorBody(res) {
	assert.match(res.headers['content-type'] || '', /^application\/json/, `content-type of ${res.body}`);
	return JSON.parse(res.body);
}

/*
 * GETs on a raw polling session until pred(all packets so far) is true (each GET is held by the
 * server until it has something); resolves the packets.  Bounded by timeoutMs overall.
 */
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

/* a raw polling session with the main namespace connected; resolves it with .socketId */
async function openConnected(opts = {}) {
	const p = await h.pollOpen(env.sg, opts);
	const res = await p.post(opts.connect || '40');
	assert.equal(res.status, 200);
	assert.equal(res.body, 'ok');
	const got = await pollUntil(p, (pk) => pk.some((x) => x.startsWith('40')));
	p.socketId = JSON.parse(got.find((x) => x.startsWith('40')).slice(2)).sid;
	return p;
}

/* ---------------------------------------------------------------- socket.io-client on polling */

test('socket.io-client on polling: authenticate, join with ack, room and socket-id messages', async () => {
	const s = await h.connectAuthed(env.sg.url, { ...POLL, claims: { sub: 'poller' } });
	assert.equal(s.io.engine.transport.name, 'polling');
	assert.deepEqual(Object.keys(s.authPayload).sort(), ['id', 'time']);
	assert.equal(s.authPayload.id, s.id);
	assert.match(s.authPayload.time, h.ISO_MS_RE);

	const ack = await s.timeout(3000).emitWithAck('join', { rooms: [ROOM, 'private-x'] });
	assert.deepEqual(ack, { rooms: [ROOM], rejected: ['private-x'] });

	const inRoom = h.once(s, 'to-room');
	env.emitter.to(ROOM).emit('to-room', { n: 1, s: 'é✓' });
	assert.deepEqual(await inRoom, { n: 1, s: 'é✓' });

	const toId = h.onceArgs(s, 'to-id');
	env.emitter.to(s.id).emit('to-id', 'a', 2, [true, null]);
	assert.deepEqual(await toId, ['a', 2, [true, null]]);
	/* still polling: nothing upgraded behind our back */
	assert.equal(s.io.engine.transport.name, 'polling');
});

test('socket.io-client on polling: a binary payload from the emitter arrives as Buffers', async () => {
	const s = await h.connectAuthed(env.sg.url, { ...POLL, claims: { sub: 'poll-bin' } });
	const got = h.onceArgs(s, 'bin');
	env.emitter.to(s.id).emit('bin', Buffer.from([1, 2, 3]), { nested: Buffer.from([0xff, 0]), k: 'v' });
	const [a, b] = await got;
	assert.ok(Buffer.isBuffer(a), `first argument is ${typeof a}`);
	assert.deepEqual([...a], [1, 2, 3]);
	assert.ok(Buffer.isBuffer(b.nested));
	assert.deepEqual([...b.nested], [0xff, 0]);
	assert.equal(b.k, 'v');
});

/*
 * The Engine.IO close must not ride in the payload that carries 41: socket.io-client handles
 * Socket.IO packets on the next tick but an Engine.IO close at once, so it would report
 * `transport close` first.  Node sends `42[…]\x1e41`, then the close on the next GET.
 */
test('socket.io-client on polling: a refused token gets unauthenticated, then io server disconnect', async () => {
	const s = await h.connect(env.sg.url, { ...POLL, auth: { token: h.token({ sub: 'x' }, { secret: 'wrong' }) } });
	const events = [];
	s.on('unauthenticated', (p) => events.push(['unauthenticated', p]));
	s.on('authenticated', (p) => events.push(['authenticated', p]));
	const disc = h.once(s, 'disconnect', 3000);
	disc.then((r) => events.push(['disconnect', r]), () => {});
	s.emit('authenticate', {});
	await disc;
	assert.equal(events.length, 2, JSON.stringify(events));
	assert.equal(events[0][0], 'unauthenticated');
	assert.equal(events[0][1].message, h.MSG_INVALID_TOKEN);
	assert.match(events[0][1].time, h.ISO_MS_RE);
	assert.deepEqual(events[1], ['disconnect', 'io server disconnect']);
	assert.equal(s.connected, false);
});

/* ---------------------------------------------------------------- raw HTTP */

test('raw polling refusal: unauthenticated and 41 in one answer, the Engine.IO close only after it', async () => {
	const p = await h.pollOpen(env.sg);
	assert.equal((await p.post('40{"token":"not-a-jwt"}')).body, 'ok');
	assert.match((await p.get()).body, /^40\{"sid":/);
	assert.equal((await p.post('42["authenticate",{}]')).body, 'ok');
	const pk = await pollUntil(p, (all) => all.includes('41'));
	assert.equal(pk.length, 2, JSON.stringify(pk));
	const [ev, payload] = JSON.parse(pk[0].slice(2));
	assert.equal(ev, 'unauthenticated');
	assert.equal(payload.message, h.MSG_INVALID_TOKEN);
	assert.equal(pk[1], '41');
	/* then the close packet (Node: 6\x1e1), or the session is already gone */
	const next = await p.get();
	if (next.status === 200)
		assert.deepEqual(h.pollPackets(next.body).filter((x) => x !== '6'), ['1'], next.body);
	else
		assert.deepEqual(errorBody(next), { code: 1, message: 'Session ID unknown' });
	await assertGone(p);
});

test('handshake GET: 200 text/plain; charset=UTF-8 with only the open packet (5 keys)', async () => {
	const res = await h.httpRequest(`${env.sg.url}/socket.io/?EIO=4&transport=polling&t=abc123`);
	assert.equal(res.status, 200);
	assert.equal(res.headers['content-type'], 'text/plain; charset=UTF-8');
	assert.equal(Number(res.headers['content-length']), Buffer.byteLength(res.body));
	assert.ok(res.body.startsWith('0{'), res.body);
	assert.ok(!res.body.includes('\x1e'), 'the handshake answers the open packet alone');
	const open = JSON.parse(res.body.slice(1));
	assert.deepEqual(Object.keys(open), OPEN_KEYS);
	assert.match(open.sid, /^[A-Za-z0-9_-]{20}$/);
	assert.deepEqual(open.upgrades, ['websocket']);
	assert.equal(open.pingInterval, 25000);
	assert.equal(open.pingTimeout, 20000);
	assert.equal(open.maxPayload, MAX_PAYLOAD);
	/* no CORS configured: no CORS headers */
	assert.deepEqual(Object.keys(res.headers).filter((k) => k.startsWith('access-control-')), []);
});

test('POST 40 answers ok (text/html), then GET answers 40{"sid"} with a new 20-char id', async () => {
	const p = await h.pollOpen(env.sg);
	const post = await p.post('40');
	assert.equal(post.status, 200);
	assert.equal(post.headers['content-type'], 'text/html');
	assert.equal(post.headers['content-length'], '2');
	assert.equal(post.body, 'ok');
	const get = await p.get();
	assert.equal(get.status, 200);
	assert.equal(get.headers['content-type'], 'text/plain; charset=UTF-8');
	assert.match(get.body, /^40\{/);
	const data = JSON.parse(get.body.slice(2));
	assert.deepEqual(Object.keys(data), ['sid']);
	assert.match(data.sid, /^[A-Za-z0-9_-]{20}$/);
	assert.notEqual(data.sid, p.sid);
});

test('every polling answer carries Cache-Control: no-store, as Node', async () => {
	const p = await h.pollOpen(env.sg);
	assert.equal(p.handshake.headers['cache-control'], 'no-store', 'handshake');
	const post = await p.post('40');
	const get = await p.get();
	assert.equal(get.headers['cache-control'], 'no-store', 'GET');
	assert.equal(post.headers['cache-control'], 'no-store', 'POST');
});

test('one POST carrying two packets joined by \\x1e: both are processed, in order', async () => {
	const tok = h.token({ sub: 'raw-two' });
	const p = await h.pollOpen(env.sg);
	const post = await p.post(`40${JSON.stringify({ token: tok })}\x1e42["authenticate",{}]`);
	assert.equal(post.body, 'ok');
	const pk = await pollUntil(p, (all) => all.some((x) => x.startsWith('42["authenticated"')));
	assert.match(pk[0], /^40\{"sid":"[A-Za-z0-9_-]{20}"\}$/);
	const sid = JSON.parse(pk[0].slice(2)).sid;
	const auth = JSON.parse(pk.find((x) => x.startsWith('42["authenticated"')).slice(2));
	assert.equal(auth[1].id, sid);
	assert.match(auth[1].time, h.ISO_MS_RE);
	/* then a binary emitter message reaches this polling client as b<base64> */
	env.emitter.to(sid).emit('bin', Buffer.from([1, 2, 3]));
	const more = await pollUntil(p, (all) => all.some((x) => x.startsWith('b')));
	const i = more.findIndex((x) => x.startsWith('451-'));
	assert.ok(i >= 0, JSON.stringify(more));
	assert.equal(more[i], '451-["bin",{"_placeholder":true,"num":0}]');
	assert.equal(more[i + 1], 'bAQID');
});

test('a POST body over server.max_payload gets 413 at once; the session survives', async () => {
	const p = await h.pollOpen(env.sg);
	const big = `42["big","${'x'.repeat(MAX_PAYLOAD)}"]`;
	const t0 = Date.now();
	const res = await p.post(big);
	assert.equal(res.status, 413);
	assert.equal(res.body, '');
	assert.ok(Date.now() - t0 < 1000, `413 took ${Date.now() - t0} ms`);
	/* exactly max_payload bytes is not over it */
	const fits = await p.post(`40\x1e${'6'.repeat(MAX_PAYLOAD - 3)}`);
	assert.equal(fits.status, 200);
	assert.equal(fits.body, 'ok');
	const get = await p.get();
	assert.equal(get.status, 200);
	assert.match(get.body, /^40\{"sid":/);
});

test('two concurrent GETs: the second gets 400, the first gets 1, the session is gone', async () => {
	const p = await h.pollOpen(env.sg);
	const first = p.get();
	await h.delay(150); /* let the first GET be held */
	const second = await p.get();
	assert.equal(second.status, 400);
	const r1 = await first;
	assert.equal(r1.status, 200);
	/* siogate answers 1; Node 6.6.12 answers 6\x1e1 (a noop, then the close): the same to a client */
	assert.deepEqual(h.pollPackets(r1.body).filter((x) => x !== '6'), ['1'], r1.body);
	const later = await p.get();
	assert.equal(later.status, 400);
	assert.deepEqual(errorBody(later), { code: 1, message: 'Session ID unknown' });
});

test('an unknown sid gets 400 code 1 Session ID unknown (GET and POST)', async () => {
	const url = `${env.sg.url}/socket.io/?EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA`;
	const get = await h.httpRequest(url);
	assert.equal(get.status, 400);
	assert.deepEqual(errorBody(get), { code: 1, message: 'Session ID unknown' });
	const post = await h.httpRequest(url, { method: 'POST', body: '40' });
	assert.equal(post.status, 400);
	assert.deepEqual(errorBody(post), { code: 1, message: 'Session ID unknown' });
});

test('a POST with Content-Type application/octet-stream gets 400 and closes the session', async () => {
	const p = await h.pollOpen(env.sg);
	const mark = env.sg.mark();
	const res = await p.post('40', { 'Content-Type': 'application/octet-stream' });
	assert.equal(res.status, 400);
	await env.sg.waitForLog(/closed: parse error/, 3000, mark);
	const get = await p.get();
	assert.equal(get.status, 400);
	assert.deepEqual(errorBody(get), { code: 1, message: 'Session ID unknown' });
});

test('a POST body that is not an Engine.IO payload (abc) closes the session', async () => {
	const p = await h.pollOpen(env.sg);
	const mark = env.sg.mark();
	const res = await p.post('abc');
	/* Node answers ok and closes the session with "parse error" */
	assert.equal(res.status, 200);
	await env.sg.waitForLog(/closed: parse error/, 3000, mark);
	const get = await p.get();
	assert.equal(get.status, 400);
	assert.deepEqual(errorBody(get), { code: 1, message: 'Session ID unknown' });
});

test('POST 1 (close) while a GET is held: ok, the GET gets 6, a later GET gets 400', async () => {
	const p = await openConnected();
	const held = p.get();
	await h.delay(150);
	const mark = env.sg.mark();
	const post = await p.post('1');
	assert.equal(post.status, 200);
	assert.equal(post.body, 'ok');
	const r = await held;
	assert.equal(r.status, 200);
	assert.equal(r.body, '6');
	await env.sg.waitForLog(/closed: transport close/, 3000, mark);
	const later = await p.get();
	assert.equal(later.status, 400);
	assert.deepEqual(errorBody(later), { code: 1, message: 'Session ID unknown' });
});

test('an EIO=3 (or missing EIO) polling handshake gets 400 code 5', async () => {
	for (const q of ['EIO=3&transport=polling', 'transport=polling', 'EIO=5&transport=polling']) {
		const res = await h.httpRequest(`${env.sg.url}/socket.io/?${q}`);
		assert.equal(res.status, 400, q);
		assert.deepEqual(errorBody(res), { code: 5, message: 'Unsupported protocol version' }, q);
	}
});

test('a POST (or PUT) handshake without sid gets 400 code 2 Bad handshake method', async () => {
	for (const method of ['POST', 'PUT']) {
		const res = await h.httpRequest(`${env.sg.url}/socket.io/?EIO=4&transport=polling`,
			{ method, body: '40' });
		assert.equal(res.status, 400, method);
		assert.deepEqual(errorBody(res), { code: 2, message: 'Bad handshake method' }, method);
	}
});

test('one keep-alive HTTP/1.1 connection carries the handshake, POSTs and GETs in a row', async () => {
	const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
	try {
		const p = await h.pollOpen(env.sg, { agent });
		assert.equal(p.handshake.headers.connection, 'keep-alive');
		const port = p.handshake.localPort;
		const answers = [];
		answers.push(await p.post(`40${JSON.stringify({ token: h.token({ sub: 'keepalive' }) })}`));
		answers.push(await p.get());
		assert.match(answers[1].body, /^40\{"sid":/);
		answers.push(await p.post('42["authenticate",{}]'));
		const pk = [];
		while (!pk.some((x) => x.startsWith('42["authenticated"'))) {
			const g = await p.get();
			answers.push(g);
			pk.push(...h.pollPackets(g.body));
		}
		for (const [i, a] of answers.entries()) {
			assert.equal(a.status, 200, `answer ${i}: ${a.body}`);
			assert.equal(a.headers.connection, 'keep-alive', `answer ${i}`);
			assert.equal(a.reusedSocket, true, `answer ${i} on the same connection`);
			assert.equal(a.localPort, port, `answer ${i} from the same local port`);
		}
	} finally {
		agent.destroy();
	}
});

/* ---------------------------------------------------------------- heartbeat */

describe('heartbeat over polling (ping_interval 300ms, ping_timeout 200ms)', () => {
	const PI = 300;
	const PT = 200;
	const hb = h.useSiogate({
		config: { server: { ping_interval: `${PI}ms`, ping_timeout: `${PT}ms` }, log: { level: 'debug' } },
	});

	test('the server ping arrives on a held GET as 2 within pingInterval; pongs keep the session', async () => {
		const p = await h.pollOpen(hb.sg);
		assert.equal(p.open.pingInterval, PI);
		assert.equal(p.open.pingTimeout, PT);
		for (let i = 0; i < 3; i++) {
			const t0 = Date.now();
			const res = await p.get(PI + 1000);
			assert.equal(res.status, 200);
			assert.equal(res.body, '2', `ping ${i}`);
			assert.ok(Date.now() - t0 < PI + 250, `ping ${i} came after ${Date.now() - t0} ms`);
			const pong = await p.post('3');
			assert.equal(pong.body, 'ok');
		}
		/* leave, so that this session's ping timeout cannot be mistaken for the next test's */
		assert.equal((await p.post('1')).body, 'ok');
		await assertGone(p);
	});

	test('a ping left unanswered ends the session: ping timeout, then 400 code 1', async () => {
		const p = await h.pollOpen(hb.sg);
		const mark = hb.sg.mark();
		const res = await p.get(PI + 1000);
		assert.equal(res.body, '2');
		/* no pong: a GET now is either held until the timeout and answered with the close packet,
		 * or (once the session is gone) refused */
		const t0 = Date.now();
		const next = await p.get(PT + 1500);
		if (next.status === 200)
			assert.equal(next.body, '1', `held GET: ${next.body}`);
		else
			assert.deepEqual(errorBody(next), { code: 1, message: 'Session ID unknown' });
		assert.ok(Date.now() - t0 < PT + 500, `the session ended after ${Date.now() - t0} ms`);
		await hb.sg.waitForLog(/closed: ping timeout/, 1000, mark);
		await assertGone(p);
	});

	test('socket.io-client on polling answers the pings and stays connected over several intervals', async () => {
		const s = await h.connect(hb.sg.url, POLL);
		await h.nothing(s, 'disconnect', PI * 4, 'polling client across 4 ping intervals');
		assert.ok(s.connected);
		assert.equal(s.io.engine.transport.name, 'polling');
	});
});
