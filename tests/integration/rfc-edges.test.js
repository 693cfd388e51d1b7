'use strict';
/*
 * rfc-edges.test.js: the protocol edges issue 20 found off the RFCs.  WebSocket close frames per
 * RFC 6455 sections 5.5.1 and 7.4: a code a client may not send (999, 1004, 1005, 1006, 1015,
 * 1016-2999, 5000) or a 1-byte payload gets 1002, a reason that is not UTF-8 gets 1007, a valid
 * code is echoed; 1005, 1006 and 1015 never go on the wire.  HTTP: every status line has its
 * reason phrase (401 and 202 said "Unknown"), `Expect: 100-continue` is answered with an interim
 * 100 before the body is sent and any other expectation with 417, chunked polling bodies are
 * read (they got 411) up to server.max_payload, and what could smuggle a request stays refused.
 */

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { test, describe, before, after, afterEach } = require('node:test');
const h = require('./lib/harness');

/* the per-client close lines these tests read are at level debug */
const DEBUG_LOG = { log: { level: 'debug' } };

const tokenDir = fs.mkdtempSync(path.join(os.tmpdir(), 'siogate-rfc-'));
const tokenFile = path.join(tokenDir, 'admin.token');
fs.writeFileSync(tokenFile, crypto.randomBytes(16).toString('hex') + '\n', { mode: 0o600 });
after(() => fs.rmSync(tokenDir, { recursive: true, force: true }));

/* A close frame's payload: the code (2 bytes) then the reason bytes. */
function closePayload(code, reason = Buffer.alloc(0)) {
	const b = Buffer.alloc(2);
	b.writeUInt16BE(code, 0);
	return Buffer.concat([b, reason]);
}

/* Opens a raw WebSocket session, sends one close frame with payload, and resolves the server's
 * close frame (or null when it sent none) once the connection is closed. */
async function closeWith(sg, payload) {
	const conn = await h.rawWsUpgrade(sg);
	await conn.waitFrames(1); /* the open packet */
	conn.sendFrame(8, payload);
	await h.withTimeout(conn.closed, 3000, 'siogate to close the connection');
	const closes = conn.frames().filter((f) => f.opcode === 8);
	assert.ok(closes.length <= 1, 'one close frame at most');
	return closes[0] || null;
}

/* A raw HTTP exchange on a fresh connection: writes `text`, resolves the status line. */
async function statusLine(sg, text, port = sg.port) {
	const conn = await h.rawTcpConnect({ port });
	conn.write(text);
	const got = await conn.waitFor(/\r\n/, 3000);
	conn.close();
	return got.slice(0, got.indexOf('\r\n'));
}

describe('WebSocket close frames (RFC 6455 7.4)', () => {
	const env = h.useSiogate({ before, after, afterEach }, { config: DEBUG_LOG });

	for (const code of [999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 0]) {
		test(`a client close with code ${code} is answered with 1002, not echoed`, async () => {
			const mark = env.sg.mark();
			const close = await closeWith(env.sg, closePayload(code));
			assert.ok(close, 'a close frame');
			assert.equal(close.closeCode, 1002);
			await env.sg.waitForLog(/closed: transport error/, 2000, mark);
		});
	}

	test('a close frame with a 1-byte payload is a protocol error: 1002', async () => {
		const close = await closeWith(env.sg, Buffer.from([3]));
		assert.equal(close && close.closeCode, 1002);
	});

	test('a close reason that is not UTF-8 gets 1007', async () => {
		const close = await closeWith(env.sg, closePayload(1000, Buffer.from([0x62, 0x79, 0xff, 0xfe])));
		assert.equal(close && close.closeCode, 1007);
		const surrogate = await closeWith(env.sg, closePayload(1001, Buffer.from([0xed, 0xa0, 0x80])));
		assert.equal(surrogate && surrogate.closeCode, 1007);
	});

	for (const code of [1000, 1001, 1003, 1008, 1011, 1012, 1014, 3000, 4000, 4999]) {
		test(`a valid code ${code} (with a UTF-8 reason) is echoed, and counted as a transport close`, async () => {
			const mark = env.sg.mark();
			const close = await closeWith(env.sg, closePayload(code, Buffer.from('bye \u00e9')));
			assert.equal(close && close.closeCode, code);
			await env.sg.waitForLog(/closed: transport close/, 2000, mark);
		});
	}

	test('a bare close is answered with a bare close (1005 is never sent)', async () => {
		const close = await closeWith(env.sg, Buffer.alloc(0));
		assert.ok(close);
		assert.equal(close.payload.length, 0);
	});

	test('socket.io-client closing normally still gets its close echoed', async () => {
		const s = await h.connect(env.sg.url);
		const mark = env.sg.mark();
		s.disconnect();
		await env.sg.waitForLog(/closed: client namespace disconnect|closed: transport close/, 3000, mark);
	});
});

describe('HTTP status lines, Expect, chunked bodies', () => {
	const env = h.useSiogate({ before, after, afterEach }, {
		config: { ...DEBUG_LOG, admin: { token_file: tokenFile }, server: { max_payload: 1000 } },
	});

	test('every status siogate sends has its reason phrase (401 and 202 said "Unknown")', async () => {
		const sg = env.sg;
		const host = `Host: 127.0.0.1\r\n`;
		assert.equal(await statusLine(sg, `GET /v1/clients HTTP/1.1\r\n${host}\r\n`, sg.adminPort),
			'HTTP/1.1 401 Unauthorized');
		const tok = fs.readFileSync(tokenFile, 'utf8').trim();
		const body = '{"event":"x","data":1}';
		assert.equal(await statusLine(sg, `POST /v1/emit HTTP/1.1\r\n${host}Authorization: Bearer ${tok}\r\n` +
			`Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`, sg.adminPort),
			'HTTP/1.1 202 Accepted');
		assert.equal(await statusLine(sg, `GET /nope HTTP/1.1\r\n${host}\r\n`), 'HTTP/1.1 404 Not Found');
		assert.equal(await statusLine(sg, `GET / HTTP/1.1\r\n${host}Expect: x\r\n\r\n`), 'HTTP/1.1 417 Expectation Failed');
		assert.equal(await statusLine(sg, `GET / HTTP/2.0\r\n${host}\r\n`), 'HTTP/1.1 505 HTTP Version Not Supported');
		const p = await h.pollOpen(sg);
		assert.equal(await statusLine(sg, `POST /socket.io/?EIO=4&transport=polling&sid=${p.sid} HTTP/1.1\r\n` +
			`${host}Content-Length: 5000\r\n\r\n`), 'HTTP/1.1 413 Payload Too Large');
		assert.equal(await statusLine(sg, `GET /socket.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\n${host}\r\n`),
			'HTTP/1.1 400 Bad Request');
		assert.equal(await statusLine(sg, `GET / HTTP/1.1\r\n${host}Transfer-Encoding: gzip, chunked\r\n\r\n`),
			'HTTP/1.1 501 Not Implemented');
	});

	test('Expect: 100-continue gets an interim 100 Continue before the body, then the answer', async () => {
		const p = await h.pollOpen(env.sg);
		const conn = await h.rawTcpConnect(env.sg);
		conn.write(`POST /socket.io/?EIO=4&transport=polling&sid=${p.sid} HTTP/1.1\r\nHost: x\r\n` +
			'Content-Type: text/plain\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n');
		const interim = await conn.waitFor(/\r\n\r\n/, 3000);
		assert.equal(interim, 'HTTP/1.1 100 Continue\r\n\r\n');
		conn.write('40');
		const text = await conn.waitFor(/\r\n\r\nok$/, 3000);
		assert.match(text.slice(interim.length), /^HTTP\/1\.1 200 OK\r\n/);
		const connected = await p.get();
		assert.match(connected.body, /^40\{"sid":"/);
		conn.close();
	});

	test('Node\'s http client with Expect: 100-continue sees the continue event', async () => {
		const p = await h.pollOpen(env.sg);
		const got = await h.withTimeout(new Promise((resolve, reject) => {
			const req = http.request(`${p.url}`, {
				method: 'POST', agent: false,
				headers: { 'Content-Type': 'text/plain', 'Content-Length': 2, Expect: '100-continue' },
			});
			let continued = false;
			req.on('continue', () => {
				continued = true;
				req.end('40');
			});
			req.on('response', (res) => {
				let body = '';
				res.on('data', (d) => { body += d; });
				res.on('end', () => resolve({ continued, status: res.statusCode, body }));
			});
			req.on('error', reject);
		}), 3000, 'the POST with Expect');
		assert.deepEqual(got, { continued: true, status: 200, body: 'ok' });
	});

	test('a chunked polling POST (what Node\'s http client sends without a length) is read', async () => {
		const p = await h.pollOpen(env.sg);
		const res = await h.withTimeout(new Promise((resolve, reject) => {
			const req = http.request(p.url, { method: 'POST', agent: false, headers: { 'Content-Type': 'text/plain' } });
			req.on('response', (r) => {
				let body = '';
				r.on('data', (d) => { body += d; });
				r.on('end', () => resolve({ status: r.statusCode, body, te: req.getHeader('transfer-encoding') }));
			});
			req.on('error', reject);
			req.write('4');
			setTimeout(() => req.end('0'), 50);
		}), 3000, 'the chunked POST');
		assert.equal(res.status, 200);
		assert.equal(res.body, 'ok');
		const connected = await p.get();
		assert.match(connected.body, /^40\{"sid":"/, 'the two chunks made one "40" packet');
	});

	test('raw chunked bodies: extensions and trailers are fine; over max_payload is 413', async () => {
		const p = await h.pollOpen(env.sg);
		const conn = await h.rawTcpConnect(env.sg);
		conn.write(`POST /socket.io/?EIO=4&transport=polling&sid=${p.sid} HTTP/1.1\r\nHost: x\r\n` +
			'Transfer-Encoding: chunked\r\n\r\n1;name="v"\r\n4\r\n1\r\n0\r\n0\r\nX-Trailer: 1\r\n\r\n');
		assert.match(await conn.waitFor(/ok$/, 3000), /^HTTP\/1\.1 200 OK\r\n/);
		assert.match((await p.get()).body, /^40\{"sid":"/);
		conn.close();
		/* max_payload is 1000 here: 600 + 600 bytes of data */
		const big = await h.rawTcpConnect(env.sg);
		const chunk = '258\r\n' + 'x'.repeat(600) + '\r\n';
		big.write(`POST /socket.io/?EIO=4&transport=polling&sid=${p.sid} HTTP/1.1\r\nHost: x\r\n` +
			`Transfer-Encoding: chunked\r\n\r\n${chunk}${chunk}0\r\n\r\n`);
		assert.match(await big.waitFor(/\r\n\r\n/, 3000), /^HTTP\/1\.1 413 Payload Too Large\r\n/);
		await h.withTimeout(big.closed, 3000, 'the 413 connection to close');
	});

	test('smuggling stays refused: CL with TE, bad chunk framing; a request after a chunked body is its own', async () => {
		const sg = env.sg;
		assert.equal(await statusLine(sg, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n' +
			'Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n'), 'HTTP/1.1 400 Bad Request');
		assert.equal(await statusLine(sg, 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n' +
			'5\nhello\r\n0\r\n\r\n'), 'HTTP/1.1 400 Bad Request');
		assert.equal(await statusLine(sg, 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n' +
			'3\r\nhello\r\n0\r\n\r\n'), 'HTTP/1.1 400 Bad Request');
		assert.equal(await statusLine(sg, 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'),
			'HTTP/1.1 400 Bad Request');
		/* a second request after a chunked body is parsed as a request, not swallowed or merged */
		const p = await h.pollOpen(sg);
		const conn = await h.rawTcpConnect(sg);
		conn.write(`POST /socket.io/?EIO=4&transport=polling&sid=${p.sid} HTTP/1.1\r\nHost: x\r\n` +
			'Transfer-Encoding: chunked\r\n\r\n2\r\n40\r\n0\r\n\r\n' +
			'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n');
		const text = await conn.waitFor(/404 Not Found[\s\S]*\r\n\r\nNot Found\n$/, 3000);
		assert.match(text, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nokHTTP\/1\.1 404 Not Found\r\n/);
		conn.close();
	});
});
