'use strict';
/*
 * proxies.test.js: the client's real address behind a load balancer (issue 20).  From a peer in
 * server.trusted_proxies only, X-Forwarded-For and Forwarded (RFC 7239) name the client (the
 * right-most address that is not a trusted proxy), and with server.proxy_protocol the PROXY
 * protocol header (v1 text, v2 binary) must open the connection.  The client's address is the
 * handshake's `address` the HTTP verifier receives, the `address` of the admin API's clients,
 * the address in the log lines, and what limits.per_ip counts.  From any other peer (here
 * 127.0.0.2, loopback too) these headers are ignored: nobody can claim another address.
 */

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const tls = require('node:tls');
const { execFileSync } = require('node:child_process');
const { test, describe, before, after, afterEach } = require('node:test');
const h = require('./lib/harness');

/* the per-client close lines these tests read are at level debug */
const DEBUG_LOG = { log: { level: 'debug' } };

const tokenDir = fs.mkdtempSync(path.join(os.tmpdir(), 'siogate-proxies-'));
const tokenFile = path.join(tokenDir, 'admin.token');
const ADMIN_TOKEN = crypto.randomBytes(16).toString('hex');
fs.writeFileSync(tokenFile, ADMIN_TOKEN + '\n', { mode: 0o600 });
after(() => fs.rmSync(tokenDir, { recursive: true, force: true }));

/* 127.0.0.2 is loopback on Linux: a second peer address for the untrusted side. */
const UNTRUSTED = '127.0.0.2';

async function clients(sg) {
	const res = await h.withTimeout(fetch(`http://127.0.0.1:${sg.adminPort}/v1/clients`, {
		headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
	}), 3000, 'GET /v1/clients');
	assert.equal(res.status, 200);
	return res.json();
}

async function addressOf(sg, id) {
	const list = await clients(sg);
	const arr = Array.isArray(list) ? list : list.clients;
	const c = arr.find((x) => x.id === id);
	assert.ok(c, `socket ${id} in /v1/clients: ${JSON.stringify(list)}`);
	return c.address;
}

/*
 * A raw connection (from localAddress) that sends `prefix` (a PROXY header, or nothing), then,
 * with opts.ca, a TLS handshake trusting that CA, then a WebSocket upgrade and the Socket.IO
 * CONNECT; resolves {conn, sid (the socket id)}.  Rejects with the raw answer when there is no
 * 101.
 */
async function wsVia(sg, prefix, { localAddress = '127.0.0.1', headers = {}, ca = null } = {}) {
	const raw = net.connect({ host: '127.0.0.1', port: sg.port, localAddress });
	raw.on('error', () => {});
	await h.withTimeout(new Promise((resolve, reject) => {
		raw.once('connect', resolve);
		raw.once('error', reject);
	}), 3000, 'TCP connect');
	raw.write(prefix);
	let sock = raw;
	if (ca) {
		sock = tls.connect({ socket: raw, ca, servername: 'localhost' });
		sock.on('error', () => {});
		await h.withTimeout(new Promise((resolve, reject) => {
			sock.once('secureConnect', resolve);
			sock.once('error', reject);
		}), 3000, 'the TLS handshake after the PROXY header');
	}
	let buf = Buffer.alloc(0);
	const waiters = new Set();
	sock.on('data', (d) => {
		buf = Buffer.concat([buf, d]);
		for (const w of [...waiters]) w();
	});
	const closed = new Promise((resolve) => sock.on('close', () => {
		resolve(true);
		for (const w of [...waiters]) w();
	}));
	const waitFor = (test, what) => h.withTimeout(new Promise((resolve, reject) => {
		const check = () => {
			if (test(buf)) {
				waiters.delete(check);
				resolve(buf);
			} else if (sock.destroyed) {
				waiters.delete(check);
				reject(new Error(`closed before ${what}: ${JSON.stringify(buf.toString('latin1'))}`));
			}
		};
		waiters.add(check);
		check();
	}), 3000, what);
	const key = crypto.randomBytes(16).toString('base64');
	const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
	sock.write(`GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:${sg.port}\r\n` +
		`Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n` +
		`Sec-WebSocket-Version: 13\r\n${extra}\r\n`);
	const conn = { sock, closed, text: () => buf.toString('latin1'), close: () => sock.destroy() };
	await waitFor((b) => b.includes('\r\n\r\n'), 'the upgrade answer');
	if (!/^HTTP\/1\.1 101 /.test(conn.text())) {
		sock.destroy();
		const err = new Error(`no upgrade: ${conn.text().split('\r\n')[0]}`);
		err.answer = conn.text();
		throw err;
	}
	const headEnd = buf.indexOf('\r\n\r\n') + 4;
	sock.write(h.wsFrame(1, '40'));
	await waitFor((b) => h.wsParseFrames(b.subarray(headEnd)).some((f) => f.text.startsWith('40{')), 'CONNECT');
	const f = h.wsParseFrames(buf.subarray(headEnd)).find((x) => x.text.startsWith('40{'));
	return { conn, sid: JSON.parse(f.text.slice(2)).sid };
}

function proxyV1(src, sport = 51234) {
	const v6 = src.includes(':');
	return Buffer.from(`PROXY ${v6 ? 'TCP6' : 'TCP4'} ${src} ${v6 ? '::1' : '127.0.0.1'} ${sport} 443\r\n`);
}

/* PROXY v2: command 1 (PROXY) over TCP, or 0 (LOCAL) with no addresses. */
function proxyV2(src, sport = 40000) {
	const sig = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
	if (src === null)
		return Buffer.concat([sig, Buffer.from([0x20, 0x00, 0x00, 0x00])]);
	const v6 = src.includes(':');
	const addr = (a) => {
		if (!v6)
			return Buffer.from(a.split('.').map(Number));
		const u = new URL(`http://[${a}]/`).hostname.slice(1, -1); /* normalised */
		const parts = u.split('::');
		const head = parts[0] ? parts[0].split(':') : [];
		const tail = parts.length > 1 && parts[1] ? parts[1].split(':') : [];
		const groups = [...head, ...Array(8 - head.length - tail.length).fill('0'), ...tail];
		const b = Buffer.alloc(16);
		groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
		return b;
	};
	const s = addr(src);
	const d = addr(v6 ? '::1' : '127.0.0.1');
	const ports = Buffer.alloc(4);
	ports.writeUInt16BE(sport, 0);
	ports.writeUInt16BE(3000, 2);
	const body = Buffer.concat([s, d, ports]);
	const hdr = Buffer.from([0x21, v6 ? 0x21 : 0x11, 0, body.length]);
	return Buffer.concat([sig, hdr, body]);
}

describe('X-Forwarded-For and Forwarded from a trusted proxy', () => {
	const calls = [];
	let verifier;
	const env = h.useSiogate({ before, after, afterEach }, {
		config: {
			...DEBUG_LOG,
			server: { trusted_proxies: ['127.0.0.1', '10.0.0.0/8'] },
			limits: { per_ip: 2 },
			admin: { token_file: tokenFile },
			auth: { verifier: 'http', http: { url: 'http://127.0.0.1:1/unused', cache_ttl: '0s' } },
		},
		setup: async (ctx) => {
			/* the verifier records each handshake and accepts; siogate is pointed at it by a reload */
			verifier = http.createServer((req, res) => {
				let body = '';
				req.on('data', (d) => { body += d; });
				req.on('end', () => {
					calls.push(JSON.parse(body));
					res.writeHead(200, { 'content-type': 'application/json' });
					res.end(JSON.stringify({ ok: true, user: 'u' }));
				});
			});
			await new Promise((r) => verifier.listen(0, '127.0.0.1', r));
			const text = fs.readFileSync(ctx.sg.file, 'utf8').replace('http://127.0.0.1:1/unused',
				`http://127.0.0.1:${verifier.address().port}/auth`);
			fs.writeFileSync(ctx.sg.file, text);
			const mark = ctx.sg.mark();
			process.kill(ctx.sg.pid, 'SIGHUP');
			await ctx.sg.waitForLog(/reload: configuration applied/, 5000, mark);
		},
	});
	after(() => verifier && new Promise((r) => { verifier.closeAllConnections(); verifier.close(r); }));

	test('the right-most untrusted X-Forwarded-For entry is the handshake\'s address, the admin API\'s and the log\'s', async () => {
		const s = await h.connect(env.sg.url, {
			auth: { token: 'x' }, extraHeaders: { 'X-Forwarded-For': '6.6.6.6, 203.0.113.7, 10.1.2.3' },
		});
		await h.authenticate(s);
		assert.equal(calls.at(-1).address, '203.0.113.7', 'IHandshake.address sent to the verifier');
		assert.equal(await addressOf(env.sg, s.id), '203.0.113.7');
		const mark = env.sg.mark();
		s.disconnect();
		await env.sg.waitForLog(/client closed: .*addr=203\.0\.113\.7 /, 3000, mark);
	});

	test('Forwarded (RFC 7239) wins over X-Forwarded-For; an IPv6 client with a port', async () => {
		const s = await h.connect(env.sg.url, {
			auth: { token: 'x' },
			extraHeaders: { Forwarded: 'for="[2001:db8:cafe::17]:4711";proto=https', 'X-Forwarded-For': '6.6.6.6' },
		});
		await h.authenticate(s);
		assert.equal(calls.at(-1).address, '2001:db8:cafe::17');
		assert.equal(await addressOf(env.sg, s.id), '2001:db8:cafe::17');
	});

	test('long-polling: each request\'s forwarded client is the session\'s address', async () => {
		const s = await h.connect(env.sg.url, {
			auth: { token: 'x' }, transports: ['polling'], extraHeaders: { 'X-Forwarded-For': '192.0.2.44' },
		});
		await h.authenticate(s);
		assert.equal(calls.at(-1).address, '192.0.2.44');
	});

	test('from an untrusted peer the headers are ignored: no spoofing', async () => {
		const s = await h.connect(env.sg.url, {
			auth: { token: 'x' }, localAddress: UNTRUSTED,
			extraHeaders: { 'X-Forwarded-For': '203.0.113.99', Forwarded: 'for=203.0.113.98' },
		});
		await h.authenticate(s);
		assert.equal(calls.at(-1).address, UNTRUSTED);
		assert.equal(await addressOf(env.sg, s.id), UNTRUSTED);
	});

	test('limits.per_ip counts the forwarded client, not the proxy', async () => {
		const as = (ip) => h.connect(env.sg.url, { auth: { token: 'x' }, extraHeaders: { 'X-Forwarded-For': ip } });
		const a1 = await as('198.51.100.1');
		const a2 = await as('198.51.100.1');
		const err = await as('198.51.100.1').then(() => null, (e) => e);
		assert.ok(err, 'a third connection of 198.51.100.1 is over limits.per_ip (2)');
		/* the proxy's other clients are not affected: 5 connections from 127.0.0.1 in all */
		const b1 = await as('198.51.100.2');
		const b2 = await as('198.51.100.3');
		assert.ok([a1, a2, b1, b2].every((s) => s.connected));
		await env.sg.waitForLog(/198\.51\.100\.1 \(via 127\.0\.0\.1:\d+\): limits\.per_ip reached/, 1000);
	});

	test('a reload that drops 127.0.0.1 from trusted_proxies: its headers are ignored from then on', async () => {
		const text = fs.readFileSync(env.sg.file, 'utf8');
		assert.match(text, /\n {4}- 127\.0\.0\.1\n/);
		fs.writeFileSync(env.sg.file, text.replace(/\n {4}- 127\.0\.0\.1\n/, '\n'));
		const mark = env.sg.mark();
		process.kill(env.sg.pid, 'SIGHUP');
		await env.sg.waitForLog(/reload: configuration applied/, 5000, mark);
		const s = await h.connect(env.sg.url, { auth: { token: 'x' }, extraHeaders: { 'X-Forwarded-For': '203.0.113.77' } });
		await h.authenticate(s);
		assert.equal(calls.at(-1).address, '127.0.0.1');
	});
});

describe('the PROXY protocol (server.proxy_protocol)', () => {
	const env = h.useSiogate({ before, after, afterEach }, {
		config: {
			...DEBUG_LOG,
			server: { trusted_proxies: ['127.0.0.1'], proxy_protocol: true },
			limits: { per_ip: 1 },
			admin: { token_file: tokenFile },
		},
	});

	test('v1 (text): the client it names is the socket\'s address', async () => {
		const { sid, conn } = await wsVia(env.sg, proxyV1('203.0.113.20'));
		assert.equal(await addressOf(env.sg, sid), '203.0.113.20');
		const mark = env.sg.mark();
		conn.close();
		await env.sg.waitForLog(/client closed: .*addr=203\.0\.113\.20:51234/, 3000, mark);
	});

	test('v1 with IPv6, and v2 (binary) with IPv4 and IPv6', async () => {
		const a = await wsVia(env.sg, proxyV1('2001:db8::21'));
		assert.equal(await addressOf(env.sg, a.sid), '2001:db8::21');
		const b = await wsVia(env.sg, proxyV2('198.51.100.22'));
		assert.equal(await addressOf(env.sg, b.sid), '198.51.100.22');
		const c = await wsVia(env.sg, proxyV2('2001:db8::23'));
		assert.equal(await addressOf(env.sg, c.sid), '2001:db8::23');
	});

	test('v2 LOCAL (the balancer\'s own check) and v1 UNKNOWN: the proxy\'s own address', async () => {
		const a = await wsVia(env.sg, proxyV2(null));
		assert.equal(await addressOf(env.sg, a.sid), '127.0.0.1');
		const b = await wsVia(env.sg, Buffer.from('PROXY UNKNOWN\r\n'));
		assert.equal(await addressOf(env.sg, b.sid), '127.0.0.1');
	});

	test('the header is required from a trusted proxy: without it the connection is closed, counted', async () => {
		const mark = env.sg.mark();
		const err = await wsVia(env.sg, Buffer.alloc(0)).then(() => null, (e) => e);
		assert.ok(err, 'an upgrade without a PROXY header is not served');
		assert.equal(err.answer || '', '', 'and not answered');
		await env.sg.waitForLog(/proxy 127\.0\.0\.1: not a PROXY protocol header/, 2000, mark);
		const m = await h.metrics(env.sg);
		assert.ok(h.metric(m, 'siogate_closes_total{reason="bad proxy header"}') >= 1);
	});

	test('from an untrusted peer a PROXY header is not taken: it is a bad request; plain HTTP works', async () => {
		const err = await wsVia(env.sg, proxyV1('203.0.113.66'), { localAddress: UNTRUSTED }).then(() => null, (e) => e);
		assert.ok(err);
		assert.match(err.answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
		/* another untrusted address (per_ip is 1 here, and the first may still be closing) */
		const { sid } = await wsVia(env.sg, Buffer.alloc(0), { localAddress: '127.0.0.3' });
		assert.equal(await addressOf(env.sg, sid), '127.0.0.3');
	});

	test('limits.per_ip counts the named client (1 here); other clients of the proxy still get in', async () => {
		const a = await wsVia(env.sg, proxyV1('203.0.113.30'));
		const m0 = h.metric(await h.metrics(env.sg), 'siogate_closes_total{reason="per-ip limit"}');
		const second = await wsVia(env.sg, proxyV1('203.0.113.30', 51235)).then(() => null, (e) => e);
		assert.ok(second, 'a second connection of 203.0.113.30 is over limits.per_ip');
		const m1 = h.metric(await h.metrics(env.sg), 'siogate_closes_total{reason="per-ip limit"}');
		assert.ok(m1 > m0);
		const b = await wsVia(env.sg, proxyV1('203.0.113.31'));
		assert.equal(await addressOf(env.sg, b.sid), '203.0.113.31');
		assert.ok(!a.conn.sock.destroyed);
	});
});

describe('the PROXY header before TLS', () => {
	const crt = path.join(tokenDir, 'tls.crt');
	const key = path.join(tokenDir, 'tls.key');
	execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
		'-nodes', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
		'-keyout', key, '-out', crt], { stdio: 'ignore' });
	fs.chmodSync(key, 0o600);
	const env = h.useSiogate({ before, after, afterEach }, {
		config: {
			...DEBUG_LOG,
			server: { trusted_proxies: ['127.0.0.1'], proxy_protocol: true, tls: { cert: crt, key } },
			admin: { token_file: tokenFile },
		},
	});

	test('the header is read from the socket before the TLS handshake, and not a byte more', async () => {
		const ca = fs.readFileSync(crt, 'utf8');
		const { sid } = await wsVia(env.sg, proxyV2('203.0.113.50'), { ca });
		assert.equal(await addressOf(env.sg, sid), '203.0.113.50');
		const v1 = await wsVia(env.sg, proxyV1('2001:db8::50'), { ca });
		assert.equal(await addressOf(env.sg, v1.sid), '2001:db8::50');
	});
});
