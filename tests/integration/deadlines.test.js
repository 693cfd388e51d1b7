'use strict';
/*
 * deadlines.test.js: every phase of an HTTP request has a deadline, and one address cannot hold
 * many connections that are still sending a request (issue 20).  A request body that trickles is
 * cut off by limits.body_min_rate (the attacker: POST with Content-Length: 1000000 and one
 * byte every 5 s, no session needed), one that takes too long in all by limits.body_timeout;
 * both get 408 and are counted in siogate_closes_total.  limits.http_per_ip (on by default)
 * caps the connections of an address still sending their request after a second (slow ones):
 * past it they get 503, and so do its new connections; a burst of connections that send their
 * requests at once is never refused, and upgraded WebSockets and held long-polling GETs do not
 * count; limits.per_ip stays off.  Long-polling keeps working with a header_timeout shorter
 * than the ping interval.
 */

const assert = require('node:assert/strict');
const net = require('node:net');
const { test, describe, before, after, afterEach } = require('node:test');
const h = require('./lib/harness');

/* the per-client close lines these tests read are at level debug */
const DEBUG_LOG = { log: { level: 'debug' } };

/* Opens a raw connection from 127.0.0.1 that sends `head`, then one byte of body every
 * `everyMs`, and resolves {closed, ms, text} when the server closes it (or after maxMs). */
function trickle(sg, head, everyMs, maxMs) {
	return new Promise((resolve) => {
		const sock = net.connect({ host: '127.0.0.1', port: sg.port });
		const t0 = Date.now();
		let text = '';
		let timer = null;
		let done = false;
		const finish = (closed) => {
			if (done)
				return;
			done = true;
			clearTimeout(timer);
			clearTimeout(cap);
			sock.destroy();
			resolve({ closed, ms: Date.now() - t0, text });
		};
		const cap = setTimeout(() => finish(false), maxMs);
		const tick = () => {
			sock.write('x');
			timer = setTimeout(tick, everyMs);
		};
		sock.on('data', (d) => { text += d.toString('latin1'); });
		sock.on('error', () => {});
		sock.on('close', () => finish(true));
		sock.on('connect', () => {
			sock.write(head);
			timer = setTimeout(tick, everyMs);
		});
	});
}

function slowPost(port, length) {
	return 'POST /socket.io/?EIO=4&transport=polling&sid=anything HTTP/1.1\r\n' +
		`Host: 127.0.0.1:${port}\r\nContent-Type: text/plain\r\nContent-Length: ${length}\r\n\r\n`;
}

describe('with the defaults', () => {
	const env = h.useSiogate({ before, after, afterEach }, { config: DEBUG_LOG });

	test('a POST of 1000000 declared bytes sent one byte every 5 s is cut off (body_min_rate), with 408', async () => {
		const mark = env.sg.mark();
		const slow = trickle(env.sg, slowPost(env.sg.port, 1000000), 5000, 30000);
		/* meanwhile a client connects and authenticates as usual */
		const s = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('calm') } });
		assert.ok(s.connected);
		const r = await slow;
		assert.ok(r.closed, `still open after ${r.ms} ms`);
		/* defaults: header_timeout 10s of grace, then 1KB/s; the check runs each second */
		assert.ok(r.ms >= 9000 && r.ms < 16000, `closed after ${r.ms} ms`);
		assert.match(r.text, /^HTTP\/1\.1 408 Request Timeout\r\n/);
		await env.sg.waitForLog(/closed: body too slow/, 2000, mark);
		const m = await h.metrics(env.sg);
		assert.ok(h.metric(m, 'siogate_closes_total{reason="body too slow"}') >= 1);
	});

	test('a burst of 400 connections from one address, each sending its request at once, is served', async () => {
		const answers = await Promise.all(Array.from({ length: 400 }, () =>
			h.httpRequest(`${env.sg.url}/socket.io/?EIO=4&transport=polling`, { timeoutMs: 10000 })));
		assert.ok(answers.every((r) => r.status === 200), `statuses: ${[...new Set(answers.map((r) => r.status))]}`);
	});

	test('limits.http_per_ip is on: 257 slow connections of one address, the 257th gets 503; then new ones too', async () => {
		const conns = [];
		for (let i = 0; i < 257; i++) {
			const c = await h.rawTcpConnect(env.sg);
			c.write('GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n');
			conns.push(c);
		}
		/* counted once a second has passed; the sweep runs each second */
		const deadline = Date.now() + 5000;
		while (conns.filter((c) => c.isClosed()).length < 1 && Date.now() < deadline)
			await h.delay(100);
		const closed = conns.filter((c) => c.isClosed());
		assert.equal(closed.length, 1, `${closed.length} of 257 closed`);
		assert.match(closed[0].text(), /^HTTP\/1\.1 503 Service Unavailable\r\n/);
		/* the address holds its 256 slow ones: a new connection is refused at once */
		const over = await h.rawTcpConnect(env.sg);
		await h.withTimeout(over.closed, 1000, 'a new connection of the address to be refused');
		assert.match(over.text(), /^HTTP\/1\.1 503 Service Unavailable\r\n/);
		const m = await h.metrics(env.sg);
		assert.ok(h.metric(m, 'siogate_closes_total{reason="http per-ip limit"}') >= 2);
		for (const c of conns)
			c.close();
	});
});

describe('limits.body_timeout', () => {
	const env = h.useSiogate({ before, after, afterEach }, { config: { ...DEBUG_LOG, limits: { body_timeout: '2s', body_min_rate: 0 } } });

	test('a body that keeps coming but is not whole within body_timeout is cut off, with 408', async () => {
		const mark = env.sg.mark();
		const r = await trickle(env.sg, slowPost(env.sg.port, 100000), 100, 10000);
		assert.ok(r.closed, `still open after ${r.ms} ms`);
		assert.ok(r.ms >= 1900 && r.ms < 5000, `closed after ${r.ms} ms`);
		assert.match(r.text, /^HTTP\/1\.1 408 Request Timeout\r\n/);
		await env.sg.waitForLog(/closed: body timeout/, 2000, mark);
		const m = await h.metrics(env.sg);
		assert.ok(h.metric(m, 'siogate_closes_total{reason="body timeout"}') >= 1);
	});
});

describe('limits.body_min_rate and long-polling', () => {
	const env = h.useSiogate({ before, after, afterEach }, {
		config: {
			...DEBUG_LOG,
			server: { ping_interval: '3s', ping_timeout: '2s' },
			limits: { header_timeout: '1s', body_min_rate: '1KB' },
		},
	});

	test('a body slower than header_timeout in all but faster than body_min_rate is read whole', async () => {
		const p = await h.pollOpen(env.sg);
		const body = '4' + 'y'.repeat(5999);
		const conn = await h.rawTcpConnect(env.sg);
		conn.write(`POST /socket.io/?EIO=4&transport=polling&sid=${p.sid} HTTP/1.1\r\n` +
			`Host: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n`);
		/* 6000 bytes over 3 s: 2 KB/s, above the 1 KB/s minimum, three times header_timeout */
		for (let i = 0; i < 6; i++) {
			conn.write(body.slice(i * 1000, (i + 1) * 1000));
			await h.delay(500);
		}
		const text = await conn.waitFor(/\r\n\r\nok$/, 3000);
		assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
		conn.close();
	});

	test('a polling GET held longer than header_timeout is answered, and the client stays connected', async () => {
		const s = await h.connectAuthed(env.sg.url, { transports: ['polling'], claims: { sub: h.uniq('poll') } });
		const gone = h.collect(s, 'disconnect');
		/* two ping intervals: every GET is held about 3 s, three times header_timeout */
		await h.delay(7000);
		assert.equal(gone.length, 0, `disconnected: ${JSON.stringify(gone)}`);
		assert.ok(s.connected);
		const ack = await s.timeout(3000).emitWithAck('join', { rooms: [] }).catch((e) => e);
		assert.ok(!(ack instanceof Error), `no answer over polling: ${ack}`);
	});
});

describe('limits.http_per_ip', () => {
	const env = h.useSiogate({ before, after, afterEach }, { config: { ...DEBUG_LOG, limits: { http_per_ip: 3 } } });

	test('counts only connections still sending a request: WebSockets and answered ones do not', async () => {
		/* five upgraded WebSockets from the same address: not in their HTTP phase any more */
		const sockets = [];
		for (let i = 0; i < 5; i++)
			sockets.push(await h.connect(env.sg.url));
		const slow = [];
		for (let i = 0; i < 3; i++) {
			const c = await h.rawTcpConnect(env.sg);
			c.write('GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n');
			slow.push(c);
		}
		await h.delay(2500); /* slow: still in their head after a second, seen by the sweep */
		const over = await h.rawTcpConnect(env.sg);
		await h.withTimeout(over.closed, 1000, 'a fourth connection to be refused');
		assert.match(over.text(), /^HTTP\/1\.1 503 Service Unavailable\r\nContent-Type: text\/plain\r\n/);
		assert.match(over.text(), /\r\nRetry-After: 1\r\n/);
		assert.ok(sockets.every((s) => s.connected), 'the WebSockets are not affected');
		assert.ok(slow.every((c) => !c.isClosed()));
		/* limits.per_ip is off by default: 8 connections of one address are fine */
		slow[0].close();
		await h.delay(300);
		const next = await h.rawTcpConnect(env.sg);
		next.write('GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n');
		const text = await next.waitFor(/\r\n\r\n0\{"sid"/, 3000);
		assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
		await env.sg.waitForLog(/limits\.http_per_ip \(3\) reached/, 1000);
		for (const c of [...slow, next])
			c.close();
		h.closeClients();
		await h.delay(200);
	});

	test('a kept-alive connection whose next request trickles while the address is full gets 503', async () => {
		const kept = await h.rawTcpConnect(env.sg);
		kept.write('GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n');
		await kept.waitFor(/\r\n\r\n0\{"sid"/, 3000);
		/* answered and idle: not counted, so three slow others fit */
		const slow = [];
		for (let i = 0; i < 3; i++) {
			const c = await h.rawTcpConnect(env.sg);
			c.write('GET / HTTP/1.1\r\n');
			slow.push(c);
		}
		await h.delay(2500);
		assert.ok(slow.every((c) => !c.isClosed()));
		assert.ok(!kept.isClosed());
		kept.write('GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n');
		await h.withTimeout(kept.closed, 4000, 'the kept-alive connection to be refused');
		assert.match(kept.text(), /HTTP\/1\.1 503 Service Unavailable\r\n/);
		for (const c of slow)
			c.close();
	});
});
