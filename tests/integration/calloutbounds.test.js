'use strict';
/*
 * calloutbounds.test.js: HTTP call-outs are bounded in bytes (README "Redis reliability").  A
 * real Node backend holds every verifier, room validator and forward call until the test
 * releases them; with auth.http.max_pending, rooms.http.max_pending and events.max_pending at
 * 64 KiB, calls of about 19 KiB beyond the third are not queued: the authentication fails at
 * once with the seed's failure message, the join is refused, the forwarded event is acked with
 * the error — each counted in /metrics — while the calls that fit are answered once released.
 */

const assert = require('node:assert/strict');
const { test, before, after } = require('node:test');
const http = require('node:http');
const h = require('./lib/harness');

const FAILED = 'Failed to authenticate connection! Please login again!';
const PAD = 18 * 1024;

/* Answers "ok:N" verifications at once (claims.pad of N bytes); holds every other call. */
function startBackend() {
	const held = [];
	const counts = { verify: 0, rooms: 0, rpc: 0 };
	const server = http.createServer((req, res) => {
		let body = '';
		req.on('data', (d) => { body += d; });
		req.on('end', () => {
			const q = JSON.parse(body);
			const json = (obj) => {
				res.writeHead(200, { 'content-type': 'application/json' });
				res.end(JSON.stringify(obj));
			};
			if (req.url === '/auth') {
				counts.verify++;
				const [kind, arg] = String(q.auth && q.auth.token).split(':');
				if (kind === 'ok')
					return json({ ok: true, user: h.uniq('u'), claims: { pad: 'p'.repeat(Number(arg)) } });
				return held.push(() => json({ ok: true, user: 'held' }));
			}
			if (req.url === '/rooms') {
				counts.rooms++;
				return held.push(() => json({ rooms: q.rooms }));
			}
			counts.rpc++;
			return held.push(() => json({ echoed: q.data.length }));
		});
	});
	return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
		url: `http://127.0.0.1:${server.address().port}`,
		counts,
		release() {
			for (const f of held.splice(0)) f();
		},
		close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
	})));
}

let backend;
let sg;

before(async () => {
	backend = await startBackend();
	sg = await h.startSiogate({
		config: {
			server: { workers: 1 },
			auth: { verifier: 'http', http: { url: `${backend.url}/auth`, timeout: '20s', max_pending: '64KB' } },
			rooms: { http: { url: `${backend.url}/rooms`, timeout: '20s', max_pending: '64KB' } },
			events: { max_pending: '64KB', forward: [{ match: 'rpc', http: `${backend.url}/rpc`, timeout: '20s' }] },
			limits: { events_per_second: 0 },
		},
	});
});

after(async () => {
	h.closeClients(true);
	if (sg) {
		const exit = await sg.stop();
		h.assertCleanLog(sg.log(), exit, 'SIGTERM');
	}
	if (backend) await backend.close();
});

async function metric(name) {
	return h.metric(await h.metrics(sg), name);
}

test('verifications over auth.http.max_pending fail at once with the seed\'s message, counted', async () => {
	const failed0 = await metric('siogate_auth_total{result="failed"}');
	const sockets = [];
	for (let i = 0; i < 6; i++)
		sockets.push(await h.connect(sg.url, { auth: { token: `hold:${i}`, pad: 'q'.repeat(PAD) } }));
	const outcomes = sockets.map((s) => new Promise((resolve) => {
		s.once('authenticated', () => resolve('authenticated'));
		s.once('unauthenticated', (m) => resolve(m.message));
	}));
	const settled = [];
	outcomes.forEach((p, i) => p.then((v) => { settled[i] = v; }));
	for (const s of sockets)
		s.emit('authenticate');
	/* three fit in 64 KiB and wait for the verifier; the others fail without waiting */
	await h.until(async () => settled.filter(Boolean).length >= 3, 5000, 'three refusals');
	await h.delay(200);
	assert.deepEqual(settled.filter(Boolean), [FAILED, FAILED, FAILED]);
	assert.equal(backend.counts.verify, 3, 'the refused ones never reached the verifier');
	assert.equal(await metric('siogate_callouts_refused_total{target="verifier"}'), 3);
	assert.equal(await metric('siogate_auth_total{result="failed"}') - failed0, 3);
	assert.match(sg.log(), /auth\.http\.max_pending \(65536 bytes\) reached/);
	backend.release();
	const all = await h.withTimeout(Promise.all(outcomes), 5000, 'every outcome');
	assert.equal(all.filter((v) => v === 'authenticated').length, 3);
});

test('joins over rooms.http.max_pending are refused at once, counted; the held ones are answered', async () => {
	const s = await h.connectAuthed(sg.url, { token: `ok:${PAD}` });
	const acks = [];
	const settled = [];
	for (let i = 0; i < 6; i++) {
		const p = s.timeout(10000).emitWithAck('join', { rooms: [`r-${i}`] });
		acks.push(p);
		p.then((a) => settled.push(a));
	}
	await h.until(async () => settled.length >= 3, 5000, 'three refused joins');
	await h.delay(200);
	assert.equal(settled.length, 3);
	for (const a of settled)
		assert.deepEqual(a.rooms, []);
	assert.equal(backend.counts.rooms, 3);
	assert.equal(await metric('siogate_callouts_refused_total{target="rooms"}'), 3);
	backend.release();
	const all = await h.withTimeout(Promise.all(acks), 5000, 'every join ack');
	assert.equal(all.filter((a) => a.rooms.length === 1).length, 3);
	assert.ok(s.connected);
});

test('events over events.max_pending are refused with an error ack, counted; the held ones are answered', async () => {
	const s = await h.connectAuthed(sg.url, { token: 'ok:0' });
	const acks = [];
	const settled = [];
	for (let i = 0; i < 6; i++) {
		const p = s.timeout(10000).emitWithAck('rpc', 'e'.repeat(PAD));
		acks.push(p);
		p.then((a) => settled.push(a));
	}
	await h.until(async () => settled.length >= 3, 5000, 'three refused events');
	await h.delay(200);
	assert.equal(settled.length, 3);
	for (const a of settled)
		assert.deepEqual(a, { error: 'the event could not be forwarded', reason: 'overloaded' });
	assert.equal(backend.counts.rpc, 3);
	assert.equal(await metric('siogate_events_forward_total{target="http",outcome="overloaded"}'), 3);
	assert.match(sg.log(), /refusing events until they answer/);
	backend.release();
	const all = await h.withTimeout(Promise.all(acks), 5000, 'every event ack');
	assert.equal(all.filter((a) => a.echoed === PAD).length, 3, 'the held events were answered');
	assert.equal(await metric('siogate_events_forward_total{target="http",outcome="ok"}'), 3);
	/* and the budget is free again */
	const again = s.timeout(10000).emitWithAck('rpc', 'small');
	await h.until(async () => backend.counts.rpc === 4, 5000, 'the next event at the backend');
	backend.release();
	assert.deepEqual(await again, { echoed: 5 });
});
