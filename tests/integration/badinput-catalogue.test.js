'use strict';
/*
 * badinput-catalogue.test.js: the bad-input catalogue of issue 3, one test per entry, over both
 * transports and at the HTTP and WebSocket framing levels (raw `net` sockets and hand-built
 * frames where a client library would refuse to send the input).  Each entry must be answered
 * as the Node server answers it, or end that client with a `closed:` log line; after each one an
 * authenticated watcher (socket.io-client, in a room, kept for the whole file) still receives
 * emitter messages and siogate still accepts a new session.
 */

const assert = require('node:assert/strict');
const net = require('node:net');
const { test } = require('node:test');
const h = require('./lib/harness');

const MAX_PAYLOAD = 100000;
const WATCH_ROOM = 'public-catalogue-watch';
let watcher = null;
let watchSeq = 0;

const env = h.useSiogate({
	redis: true,
	async setup(ctx) {
		watcher = await h.connectAuthed(ctx.sg.url, { keep: true, claims: { sub: 'catalogue-watcher' } });
		const ack = await watcher.timeout(3000).emitWithAck('join', { rooms: [WATCH_ROOM] });
		assert.deepEqual(ack, { rooms: [WATCH_ROOM], rejected: [] });
	},
	config: {
		server: { max_payload: MAX_PAYLOAD },
		rooms: { allow: ['public-*'] },
		/* the per-client lines this file waits for (closed: ...) are debug */
		log: { level: 'debug' },
	},
});

/* The watcher still gets a room message, and a new polling session can be opened. */
async function assertHealthy() {
	watchSeq += 1;
	const n = watchSeq;
	const p = h.once(watcher, 'watch', 3000, { filter: (v) => v === n, label: 'the watcher' });
	env.emitter.to(WATCH_ROOM).emit('watch', n);
	await p;
	assert.ok(watcher.connected, 'the watcher is still connected');
	const fresh = await h.pollOpen(env.sg);
	assert.match(fresh.sid, /^[A-Za-z0-9_-]{20}$/);
	assert.equal(env.sg.exitInfo, null, 'siogate is still running');
}

function errorBody(res) {
	assert.match(res.headers['content-type'] || '', /^application\/json/, `content-type of ${res.body}`);
	return JSON.parse(res.body);
}

/* Path and query (no origin) of a polling session's URL, for raw requests. */
function pathOf(p) {
	return p.url.slice(env.sg.url.length);
}

/* A raw polling session with the main namespace connected. */
async function pollConnected() {
	const p = await h.pollOpen(env.sg);
	assert.equal((await p.post('40')).body, 'ok');
	const get = await p.get();
	assert.match(get.body, /^40\{"sid":/);
	return p;
}

/* The session of p is gone: a GET gets 400 code 1. */
async function assertSessionGone(p) {
	const res = await p.get();
	assert.equal(res.status, 400, `GET after the close: ${res.status} ${res.body}`);
	assert.deepEqual(errorBody(res), { code: 1, message: 'Session ID unknown' });
}

/* POSTs body on p, expects the session closed with log reason re (default parse error). */
async function postExpectClosed(p, body, re = /closed: parse error/) {
	const mark = env.sg.mark();
	const res = await p.post(body);
	/* Node answers ok to a POST whose payload it then refuses, and closes the session */
	assert.equal(res.status, 200, `POST answer: ${res.status} ${res.body}`);
	assert.equal(res.body, 'ok');
	await env.sg.waitForLog(re, 3000, mark);
	await assertSessionGone(p);
}

/* A raw WebSocket session (ws package) with the main namespace connected. */
async function wsConnected() {
	const conn = await h.rawConnect(env.sg);
	conn.send('40');
	assert.match(await conn.next(), /^40\{"sid":/);
	return conn;
}

/* Sends inputs on a raw ws session, expects the server to close it (code if given) and log it. */
async function wsExpectClosed(conn, inputs, { code } = {}) {
	const mark = env.sg.mark();
	for (const input of inputs)
		conn.send(input);
	const closed = await h.withTimeout(conn.closed, 3000, 'the server to close the connection');
	if (code !== undefined)
		assert.equal(closed.code, code, `close code (reason ${JSON.stringify(closed.reason)})`);
	await env.sg.waitForLog(/closed: /, 3000, mark);
}

/* ---------------------------------------------------------------- truncated and mis-length polling */

test('polling: a POST body shorter than its Content-Length, then FIN: the bytes are never processed', async () => {
	const p = await h.pollOpen(env.sg);
	const t = await h.rawTcpConnect(env.sg);
	const mark = env.sg.mark();
	t.write(`POST ${pathOf(p)} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain;charset=UTF-8\r\n` +
		'Content-Length: 100\r\n\r\n40');
	await h.delay(100);
	t.sock.end();
	await h.withTimeout(t.closed, 3000, 'siogate to close the truncated POST');
	assert.equal(t.text(), '', 'no answer to an incomplete request');
	await env.sg.waitForLog(/closed: transport close/, 3000, mark);
	/*
	 * The partial body (a CONNECT) was not delivered.  Node closes the session here ("data request
	 * connection closed prematurely"); siogate keeps it.  Either way no CONNECT happened: a GET is
	 * refused (Node) or held with nothing to send (siogate).
	 */
	const res = await p.get(300).catch(() => null);
	if (res !== null) {
		assert.equal(res.status, 400, `GET after the truncated POST: ${res.body}`);
		assert.equal(errorBody(res).code, 1);
	}
	await assertHealthy();
});

test('polling: a body longer than its Content-Length: the declared bytes count, the rest is a bad request', async () => {
	const p = await h.pollOpen(env.sg);
	const t = await h.rawTcpConnect(env.sg);
	t.write(`POST ${pathOf(p)} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain;charset=UTF-8\r\n` +
		'Content-Length: 2\r\n\r\n40\x1e42["smuggled"]\r\n\r\n');
	await h.withTimeout(t.closed, 3000, 'siogate to close the connection');
	const text = t.text();
	assert.match(text, /^HTTP\/1\.1 200 [^]*\r\n\r\nok/, text);
	assert.match(text.slice(text.indexOf('\r\n\r\nok') + 6), /^HTTP\/1\.1 400 /, `then a 400: ${text}`);
	/* only the declared bytes reached the session: one CONNECT, nothing smuggled */
	const get = await p.get();
	assert.match(get.body, /^40\{"sid":"[A-Za-z0-9_-]{20}"\}$/);
	await assertHealthy();
});

for (const c of [
	{ name: 'an empty packet between separators', body: '40\x1e\x1e42["x"]' },
	{ name: 'a trailing separator', body: '40\x1e' },
	{ name: 'an empty body', body: '' },
	{ name: 'a v3 length-prefixed payload (2:40 is a ping from the client in v4)', body: '2:40' },
	{ name: 'a Socket.IO packet cut in the middle', body: '42["x",{"a":', connected: true },
	{ name: 'a b packet whose base64 is broken', body: 'b!!*', connected: true },
	{ name: 'an unknown Engine.IO type', body: '40\x1e9xyz' },
]) {
	test(`polling: a payload with ${c.name} closes the session`, async () => {
		const p = c.connected ? await pollConnected() : await h.pollOpen(env.sg);
		await postExpectClosed(p, c.body);
		await assertHealthy();
	});
}

/* ---------------------------------------------------------------- WebSocket framing */

test('WebSocket: invalid UTF-8 in a text frame closes with 1007', async () => {
	const c = await h.rawWsUpgrade(env.sg);
	const [open] = await c.waitFrames(1);
	assert.match(open.text, /^0\{"sid":/);
	const mark = env.sg.mark();
	c.sendFrame(1, Buffer.from([0xff, 0xfe]));
	await h.withTimeout(c.closed, 3000, 'siogate to close the connection');
	const close = c.frames().find((f) => f.opcode === 8);
	assert.ok(close, `a close frame, got ${JSON.stringify(c.frames().map((f) => f.opcode))}`);
	assert.equal(close.closeCode, 1007);
	await env.sg.waitForLog(/closed: /, 3000, mark);
	await assertHealthy();
});

test('WebSocket: an unmasked client frame closes the connection (1002)', async () => {
	const c = await h.rawWsUpgrade(env.sg);
	await c.waitFrames(1);
	const mark = env.sg.mark();
	c.sendFrame(1, '40', { mask: false });
	await h.withTimeout(c.closed, 3000, 'siogate to close the connection');
	const close = c.frames().find((f) => f.opcode === 8);
	/* a close frame with 1002, or a plain TCP close */
	if (close)
		assert.equal(close.closeCode, 1002);
	assert.ok(!c.frames().some((f) => f.text.startsWith('40{')), 'the unmasked CONNECT was not processed');
	await env.sg.waitForLog(/closed: /, 3000, mark);
	await assertHealthy();
});

/* ---------------------------------------------------------------- binary attachments */

test('WebSocket: a BINARY_EVENT whose attachment never comes, then text, closes the connection', async () => {
	const conn = await wsConnected();
	await wsExpectClosed(conn, ['451-["x",{"_placeholder":true,"num":0}]', '42["y"]']);
	await assertHealthy();
});

test('polling: a BINARY_EVENT then text in the same payload closes the session', async () => {
	const p = await pollConnected();
	await postExpectClosed(p, '451-["x",{"_placeholder":true,"num":0}]\x1e42["y"]');
	await assertHealthy();
});

test('polling: a BINARY_EVENT in one POST, text in the next, closes the session', async () => {
	const p = await pollConnected();
	assert.equal((await p.post('451-["x",{"_placeholder":true,"num":0}]')).body, 'ok');
	await postExpectClosed(p, '42["y"]');
	await assertHealthy();
});

for (const c of [
	{ name: '11 attachments (over the limit of 10)', input: '4511-["x",{"_placeholder":true,"num":0}]' },
	{ name: '10000 attachments', input: '4510000-["x",{"_placeholder":true,"num":0}]' },
	{ name: 'a placeholder num out of range', input: '451-["x",{"_placeholder":true,"num":1}]' },
	{ name: 'a negative placeholder num', input: '451-["x",{"_placeholder":true,"num":-1}]' },
	{ name: 'zero attachments announced', input: '450-["x"]' },
]) {
	test(`WebSocket: a BINARY_EVENT with ${c.name} closes the connection`, async () => {
		const conn = await wsConnected();
		await wsExpectClosed(conn, [c.input]);
		await assertHealthy();
	});
}

/* ---------------------------------------------------------------- deep JSON */

test('WebSocket: an EVENT with JSON nested 10000 deep closes the connection, the daemon lives', async () => {
	const conn = await wsConnected();
	const deep = `42["deep",${'['.repeat(10000)}${']'.repeat(10000)}]`;
	assert.ok(deep.length < MAX_PAYLOAD);
	await wsExpectClosed(conn, [deep]);
	const objs = await wsConnected();
	await wsExpectClosed(objs, [`42["deep",${'{"a":'.repeat(10000)}1${'}'.repeat(10000)}]`]);
	await assertHealthy();
});

test('polling: a CONNECT whose auth payload is nested 10000 deep closes the session', async () => {
	const p = await h.pollOpen(env.sg);
	await postExpectClosed(p, `40${'{"a":'.repeat(10000)}1${'}'.repeat(10000)}`);
	await assertHealthy();
});

/* ---------------------------------------------------------------- a huge POST body */

test('polling: a POST declaring 100 MB gets 413 at once; RSS does not jump; the session survives', async () => {
	const p = await pollConnected();
	const rssBefore = h.rssKb(env.sg.pid);
	const t = await h.rawTcpConnect(env.sg);
	const t0 = Date.now();
	t.write(`POST ${pathOf(p)} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain;charset=UTF-8\r\n` +
		'Content-Length: 100000000\r\n\r\n');
	const chunk = Buffer.alloc(64 * 1024, 0x61);
	t.write(chunk);
	await t.waitFor(/^HTTP\/1\.1 413 /, 1000);
	assert.ok(Date.now() - t0 < 1000, `413 after ${Date.now() - t0} ms`);
	/* keep streaming, with backpressure, until siogate drops the connection (bounded: 16 MB, 3 s) */
	let sent = chunk.length;
	const deadline = Date.now() + 3000;
	while (!t.isClosed() && sent < 16 * 1024 * 1024 && Date.now() < deadline) {
		if (!t.sock.write(chunk))
			await Promise.race([new Promise((r) => t.sock.once('drain', r)), t.closed, h.delay(200)]);
		sent += chunk.length;
	}
	await h.withTimeout(t.closed, 6000, 'siogate to close the 413 connection');
	const rssAfter = h.rssKb(env.sg.pid);
	assert.ok(rssAfter - rssBefore < 50 * 1024,
		`RSS grew by ${rssAfter - rssBefore} kB (before ${rssBefore} kB, after ${rssAfter} kB)`);
	/* the session is kept, as Node keeps it (a POST to a closed session would get 400 code 1) */
	const after = await p.post('6');
	assert.equal(after.status, 200);
	assert.equal(after.body, 'ok');
	await assertHealthy();
});

/* ---------------------------------------------------------------- slow and idle request heads */

/*
 * The slow sender of the next test is started here, so that both idle-timeout checks share one
 * 10-second wait: an idle connection must be closed after 10 s; the slow one (one header byte a
 * second) is checked by the next test.
 */
let slowResult = null;

/*
 * Writes head one byte a second on its own socket (not tracked by the harness, so that the
 * afterEach cleanup of the test that starts it does not close it) for at most maxMs; resolves
 * {closed (by siogate), ms, text (what siogate answered)} and destroys the socket at the end.
 */
function slowSender(head, maxMs) {
	return new Promise((resolve) => {
		const sock = net.connect({ host: '127.0.0.1', port: env.sg.port });
		let text = '';
		let closed = false;
		let t0 = null;
		let i = 0;
		let timer = null;
		const finish = () => {
			clearTimeout(timer);
			resolve({ closed, ms: Date.now() - t0, text });
			sock.destroy();
		};
		const tick = () => {
			if (closed || Date.now() - t0 >= maxMs) {
				finish();
				return;
			}
			sock.write(head[i++ % head.length]);
			timer = setTimeout(tick, 1000);
		};
		sock.on('data', (d) => { text += d.toString('latin1'); });
		sock.on('error', () => {});
		sock.on('close', () => {
			if (t0 === null)
				t0 = Date.now();
			closed = true;
			finish();
		});
		sock.on('connect', () => {
			t0 = Date.now();
			tick();
		});
	});
}

test('HTTP: a connection that sends a partial head, then nothing, is closed by the 10 s idle timeout', async () => {
	slowResult = slowSender(`GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(64)}`,
		13000);
	const idle = await h.rawTcpConnect(env.sg);
	const mark = env.sg.mark();
	const t0 = Date.now();
	idle.write('GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n');
	/* meanwhile the watcher is served as usual */
	await assertHealthy();
	await h.withTimeout(idle.closed, 12000, 'the idle connection to be closed');
	const ms = Date.now() - t0;
	assert.ok(ms >= 9000 && ms < 12000, `closed after ${ms} ms`);
	assert.equal(idle.text(), '', 'nothing answered to a head that never ended');
	await env.sg.waitForLog(/closed: idle timeout/, 1000, mark);
	await assertHealthy();
});

test('HTTP: request headers sent one byte a second are cut off by the idle timeout', async () => {
	assert.ok(slowResult, 'the slow sender was started by the previous test');
	const r = await h.withTimeout(slowResult, 15000, 'the slow sender to finish');
	assert.ok(r.closed, `still open after ${r.ms} ms of one byte a second`);
	assert.equal(r.text, '', 'nothing answered to a head that never ended');
	assert.ok(r.ms < 12500, `closed after ${r.ms} ms`);
	await assertHealthy();
});

/* ---------------------------------------------------------------- sids */

test('an unknown sid gets 400 code 1, on polling and on a WebSocket upgrade', async () => {
	const sid = 'AAAAAAAAAAAAAAAAAAAA';
	const get = await h.httpRequest(`${env.sg.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`);
	assert.equal(get.status, 400);
	assert.deepEqual(errorBody(get), { code: 1, message: 'Session ID unknown' });
	const err = await h.rawWs(env.sg, `EIO=4&transport=websocket&sid=${sid}`).then(() => null, (e) => e);
	assert.ok(err, 'the upgrade must be refused');
	assert.equal(err.statusCode, 400);
	assert.equal(err.body, 'Session ID unknown');
	await assertHealthy();
});

test('a stale sid (its session closed) gets 400 code 1 by GET, POST and WebSocket', async () => {
	const p = await pollConnected();
	assert.equal((await p.post('1')).body, 'ok');
	await assertSessionGone(p);
	const post = await p.post('40');
	assert.equal(post.status, 400);
	assert.deepEqual(errorBody(post), { code: 1, message: 'Session ID unknown' });
	const err = await h.rawWs(env.sg, `EIO=4&transport=websocket&sid=${p.sid}`).then(() => null, (e) => e);
	assert.ok(err, 'the upgrade must be refused');
	assert.equal(err.statusCode, 400);
	/* the sid of a closed WebSocket session, used for polling */
	const conn = await h.rawConnect(env.sg);
	const wsSid = conn.open.sid;
	const mark = env.sg.mark();
	conn.close();
	await h.withTimeout(conn.closed, 3000, 'the WebSocket to close');
	await env.sg.waitForLog(/closed: transport close/, 3000, mark);
	const res = await h.httpRequest(`${env.sg.url}/socket.io/?EIO=4&transport=polling&sid=${wsSid}`);
	assert.equal(res.status, 400);
	assert.equal(errorBody(res).code, 1);
	await assertHealthy();
});

test('a second concurrent GET on one sid: 400, the first gets the close, the session ends', async () => {
	const p = await pollConnected();
	const first = p.get();
	await h.delay(150); /* let the first GET be held */
	const second = await p.get();
	assert.equal(second.status, 400);
	const r1 = await first;
	assert.equal(r1.status, 200);
	assert.deepEqual(h.pollPackets(r1.body).filter((x) => x !== '6'), ['1']);
	await assertSessionGone(p);
	await assertHealthy();
});

/* ---------------------------------------------------------------- HTTP framing */

test('HTTP: a request head over 16 KB gets 431; one just under it is served', async () => {
	const t = await h.rawTcpConnect(env.sg);
	t.write(`GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17000)}\r\n\r\n`);
	await h.withTimeout(t.closed, 3000, 'siogate to close after 431');
	assert.match(t.text(), /^HTTP\/1\.1 431 /);
	/* many header lines adding up to more than 16 KB, too */
	const lines = Array.from({ length: 400 }, (_, i) => `X-H${i}: ${'b'.repeat(40)}`).join('\r\n');
	const t2 = await h.rawTcpConnect(env.sg);
	t2.write(`GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n${lines}\r\n\r\n`);
	await h.withTimeout(t2.closed, 3000, 'siogate to close after 431');
	assert.match(t2.text(), /^HTTP\/1\.1 431 /);
	const ok = await h.httpRequest(`${env.sg.url}/socket.io/?EIO=4&transport=polling`,
		{ headers: { 'X-Big': 'a'.repeat(15000) } });
	assert.equal(ok.status, 200);
	assert.match(ok.body, /^0\{"sid":/);
	await assertHealthy();
});

test('HTTP: garbage pipelined after a valid request: the request is answered, then 400 and close', async () => {
	const t = await h.rawTcpConnect(env.sg);
	t.write('GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n' +
		'\x00\x01\x02 not HTTP at all\r\n\r\n');
	await h.withTimeout(t.closed, 3000, 'siogate to close the connection');
	const text = t.text();
	assert.match(text, /^HTTP\/1\.1 200 [^]*\r\n\r\n0\{"sid":"[A-Za-z0-9_-]{20}"/, text);
	const second = text.indexOf('HTTP/1.1', 8);
	assert.ok(second > 0, `a second answer: ${JSON.stringify(text)}`);
	assert.match(text.slice(second), /^HTTP\/1\.1 400 /);
	await assertHealthy();
});

test('HTTP: two valid handshakes pipelined on one keep-alive connection get two answers, in order', async () => {
	const t = await h.rawTcpConnect(env.sg);
	const req = 'GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n';
	t.write(req + req);
	const text = await t.waitFor((s) => (s.match(/0\{"sid":"[^"]+"/g) || []).length === 2);
	const sids = text.match(/0\{"sid":"([^"]+)"/g);
	assert.notEqual(sids[0], sids[1]);
	assert.equal((text.match(/HTTP\/1\.1 200 /g) || []).length, 2);
	t.close();
	await assertHealthy();
});
