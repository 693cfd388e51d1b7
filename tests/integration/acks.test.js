'use strict';
/*
 * acks.test.js: backends in any language (issue 18 items 1 and 2, SPEC section 9).  Two siogate
 * instances (two workers each) on one real Redis, real socket.io-client sockets.
 *  - Emit with acknowledgements across instances: POST /v1/emit?ack= and the JSON channel's
 *    "ack" (answer published on reply_to) report exactly which sockets answered (with their
 *    arguments) and which did not: one answering client, one slow client (answers after the
 *    timeout), one silent client, one that disconnects instead of answering.
 *  - Room operations by user and by room across instances (admin API and JSON channel), with
 *    except; disconnect with `unauthenticated` or a plain close; emit with except and volatile.
 *  - The bounds: limits.ack_requests (429), a timeout asked past limits.ack_timeout_max.
 */

const assert = require('node:assert/strict');
const { test, before, after } = require('node:test');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { createClient } = require('redis');
const h = require('./lib/harness');

const tokenDir = fs.mkdtempSync(path.join(os.tmpdir(), 'siogate-acks-'));
const tokenFile = path.join(tokenDir, 'admin.token');
const ADMIN_TOKEN = crypto.randomBytes(24).toString('hex');
fs.writeFileSync(tokenFile, ADMIN_TOKEN + '\n', { mode: 0o600 });

const config = (id, limits = {}) => ({
	server: { id, workers: 2 },
	admin: { token_file: tokenFile },
	limits: { ack_requests: 3, ack_timeout_max: '10s', ...limits },
});

let redis, emitter, sub, a, b;

before(async () => {
	redis = await h.startRedis();
	a = await h.startSiogate({ redis, config: config('gw-a') });
	b = await h.startSiogate({ redis, config: config('gw-b') });
	emitter = await h.emitterFor(redis.url);
	sub = createClient({ url: redis.url, socket: { reconnectStrategy: false } });
	sub.on('error', () => {});
	await h.withTimeout(sub.connect(), 5000, 'subscriber connect');
	await h.until(async () => {
		const texts = await Promise.all([a, b].map(h.metrics));
		return texts.every((t) => h.metric(t, 'siogate_cluster_members{state="ready"}') === 2);
	}, 10000, 'both instances to see each other');
});

after(async () => {
	h.closeClients(true);
	if (sub) await sub.quit().catch(() => {});
	if (emitter) await emitter.close();
	for (const sg of [a, b]) {
		if (!sg) continue;
		const exit = await sg.stop();
		h.assertCleanLog(sg.log(), exit, 'SIGTERM', { expectCode: 0 });
	}
	if (redis) await redis.stop();
	fs.rmSync(tokenDir, { recursive: true, force: true });
});

async function call(sg, p, body, { method = 'POST', timeout = 8000 } = {}) {
	const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
	const res = await h.withTimeout(fetch(`http://127.0.0.1:${sg.adminPort}${p}`, {
		method, headers, body: body === undefined ? undefined : JSON.stringify(body),
	}), timeout, `${method} ${p}`);
	const text = await res.text();
	let json = null;
	try { json = JSON.parse(text); } catch { /* not JSON */ }
	return { status: res.status, json, text };
}

const publish = (msg) => emitter.redis.publish('siogate#send', JSON.stringify(msg));

/* The next message on a Redis channel, parsed. */
async function nextOn(channel, ms = 8000) {
	let resolve;
	const got = new Promise((r) => { resolve = r; });
	await sub.subscribe(channel, (m) => resolve(JSON.parse(m)));
	try {
		return await h.withTimeout(got, ms, `a message on ${channel}`);
	} finally {
		await sub.unsubscribe(channel);
	}
}

/* One answering client (on A), a slow one (on B: answers after 3 s), a silent one (on B), one that
 * disconnects when asked (on A); all in room `room` (joined by the admin API, by user). */
async function audience(room) {
	const user = h.uniq('u');
	const fast = await h.connectAuthed(a.url, { claims: { sub: user } });
	const slow = await h.connectAuthed(b.url, { claims: { sub: user } });
	const silent = await h.connectAuthed(b.url, { claims: { sub: user } });
	const quitter = await h.connectAuthed(a.url, { claims: { sub: user } });
	const joined = await call(a, '/v1/rooms/join', { user, rooms: [room] });
	assert.equal(joined.status, 200, joined.text);
	assert.deepEqual(joined.json, { sockets: 2, published: true });
	fast.on('question', (q, cb) => cb('answer', { to: q, by: 'fast' }));
	slow.on('question', (q, cb) => setTimeout(() => cb('late'), 3000));
	silent.on('question', () => {});
	quitter.on('question', () => quitter.disconnect());
	/* both instances applied the join: a broadcast to the room reaches all four */
	const got = [fast, slow, silent, quitter].map((s) => h.once(s, 'ready'));
	emitter.to(room).emit('ready', 1);
	await Promise.all(got);
	/* ids kept: a disconnected socket.io-client socket forgets its own */
	return { fast, slow, silent, quitter, ids: [fast.id, slow.id, silent.id, quitter.id] };
}

function assertAnswer(json, { ids: [fast, slow, silent, quitter] }, q) {
	assert.deepEqual(json.acks, [{ id: fast, args: ['answer', { to: q, by: 'fast' }] }]);
	assert.deepEqual([...json.timeouts].sort(), [slow, silent, quitter].sort());
	assert.deepEqual(Object.keys(json).sort(), ['acks', 'timeouts']);
}

test('POST /v1/emit?ack=1500ms: the acks of every instance, and exactly who did not answer', async () => {
	const room = h.uniq('room');
	const who = await audience(room);
	const t0 = Date.now();
	const res = await call(b, '/v1/emit?ack=1500ms', { to: [room], event: 'question', data: 'q1' });
	assert.equal(res.status, 200, res.text);
	assertAnswer(res.json, who, 'q1');
	assert.ok(Date.now() - t0 >= 1400, 'answered at the timeout, not before');
	/* the slow client's late answer changes nothing, and breaks nothing */
	await h.delay(2000);
	const again = await call(a, '/v1/emit?ack=2s', { to: [who.fast.id], event: 'question', data: 'q2' });
	assert.deepEqual(again.json, { acks: [{ id: who.fast.id, args: ['answer', { to: 'q2', by: 'fast' }] }], timeouts: [] });
});

test('everybody answered: the answer comes before the timeout; nobody selected: at once', async () => {
	const user = h.uniq('u');
	const x = await h.connectAuthed(a.url, { claims: { sub: user } });
	const y = await h.connectAuthed(b.url, { claims: { sub: user } });
	for (const s of [x, y]) s.on('ping?', (cb) => cb('pong', s.id));
	const t0 = Date.now();
	const res = await call(a, '/v1/emit?ack=8s', { to: [x.id, y.id], event: 'ping?' });
	assert.equal(res.status, 200, res.text);
	assert.ok(Date.now() - t0 < 6000, 'did not wait for the timeout');
	assert.deepEqual(res.json.timeouts, []);
	assert.deepEqual(res.json.acks.map((e) => e.id).sort(), [x.id, y.id].sort());
	for (const e of res.json.acks) assert.deepEqual(e.args, ['pong', e.id]);
	const none = await call(a, '/v1/emit?ack=8s', { to: [h.uniq('empty')], event: 'ping?' });
	assert.deepEqual(none.json, { acks: [], timeouts: [] });
	/* the timeout in the body, as on the JSON channel, works the same */
	const inBody = await call(b, '/v1/emit', { to: [x.id], event: 'ping?', ack: { timeout: '8s' } });
	assert.deepEqual(inBody.json, { acks: [{ id: x.id, args: ['pong', x.id] }], timeouts: [] });
});

test('the JSON channel: "ack" with reply_to publishes the same answer there', async () => {
	const room = h.uniq('room');
	const who = await audience(room);
	const replyTo = h.uniq('replies');
	const answer = nextOn(replyTo);
	await h.delay(100); /* subscribed */
	await publish({ to: [room], event: 'question', data: 'q3', ack: { timeout: '1500ms', reply_to: replyTo } });
	assertAnswer(await answer, who, 'q3');
	/* one instance (the relay) gathered it: exactly one answer */
	assert.equal(a.countLog(/emit with acks refused/) + b.countLog(/emit with acks refused/), 0);
	/* to a stream, with the backend's id: a backend that was not listening finds it there */
	const stream = h.uniq('answers');
	await publish({ to: [room], event: 'question', data: 'q4', ack: { timeout: '1500ms', reply_stream: stream, id: 'q-4' } });
	let entries = [];
	await h.until(async () => (entries = await emitter.redis.xRange(stream, '-', '+')).length > 0, 5000, 'the answer in the stream');
	assert.equal(entries.length, 1);
	const streamed = JSON.parse(entries[0].message.answer);
	assert.equal(streamed.id, 'q-4');
	delete streamed.id;
	/* the quitter is gone since the first question */
	assert.deepEqual(streamed.acks, [{ id: who.ids[0], args: ['answer', { to: 'q4', by: 'fast' }] }]);
	assert.deepEqual([...streamed.timeouts].sort(), [who.ids[1], who.ids[2]].sort());
});

test('the bounds: limits.ack_requests (429, an error on reply_to), a bad duration (400), the timeout capped', async () => {
	const user = h.uniq('u');
	const s = await h.connectAuthed(a.url, { claims: { sub: user } });
	s.on('question', () => {});
	const count = async (result) => h.metric(await h.metrics(a), `siogate_ack_emits_total{result="${result}"}`);
	const [answered0, refused0] = [await count('answered'), await count('refused')];
	const waiting = [1, 2, 3].map(() => call(a, '/v1/emit?ack=1s', { to: [s.id], event: 'question' }));
	await h.delay(200);
	const refused = await call(a, '/v1/emit?ack=1s', { to: [s.id], event: 'question' });
	assert.equal(refused.status, 429, refused.text);
	assert.match(refused.json.error, /limits\.ack_requests/);
	for (const r of await Promise.all(waiting))
		assert.deepEqual(r.json, { acks: [], timeouts: [s.id] });
	const bad = await call(a, '/v1/emit?ack=soon', { event: 'question' });
	assert.equal(bad.status, 400, bad.text);
	const zero = await call(a, '/v1/emit?ack=0s', { event: 'question' });
	assert.equal(zero.status, 400, zero.text);
	/* counted: three answered, the 429 and the two bad timeouts refused */
	assert.equal(await count('answered') - answered0, 3);
	assert.equal(await count('refused') - refused0, 3);
	/* an hour asked, ack_timeout_max (10s) given: the answer still comes when everyone answered */
	s.on('q2', (cb) => cb(1));
	const capped = await call(a, '/v1/emit?ack=1h', { to: [s.id], event: 'q2' });
	assert.deepEqual(capped.json, { acks: [{ id: s.id, args: [1] }], timeouts: [] });
	/* bad JSON-channel acks: no reply_to is ignored and logged; a bad timeout answers an error */
	const replyTo = h.uniq('replies');
	const answer = nextOn(replyTo);
	await h.delay(100);
	await publish({ event: 'question', ack: { timeout: 'never', reply_to: replyTo } });
	assert.match((await answer).error, /never/);
});

test('room operations by user and by room across instances, with except', async () => {
	const user = h.uniq('u');
	const room = h.uniq('room');
	const other = h.uniq('room');
	const ua = await h.connectAuthed(a.url, { claims: { sub: user } });
	const ub = await h.connectAuthed(b.url, { claims: { sub: user } });
	const oa = await h.connectAuthed(a.url);
	const ob = await h.connectAuthed(b.url);
	/* by user, on the JSON channel: the user's sockets on both instances */
	await publish({ op: 'join', user, rooms: [room] });
	await h.until(async () => (await call(b, '/v1/rooms', undefined, { method: 'GET' })).text.includes(room),
		3000, 'the join applied');
	let got = [ua, ub].map((s) => h.once(s, 'r1'));
	let not = [oa, ob].map((s) => h.nothing(s, 'r1', 300));
	emitter.to(room).emit('r1', 1);
	assert.deepEqual(await Promise.all(got), [1, 1]);
	await Promise.all(not);
	/* by room, through the admin API: the room's members join another, except ub */
	const res = await call(b, '/v1/rooms/join', { to: [room], rooms: [other], except: [ub.id] });
	assert.deepEqual(res.json, { sockets: 0, published: true });
	got = [h.once(ua, 'r2')];
	not = [ub, oa, ob].map((s) => h.nothing(s, 'r2', 300));
	await h.until(async () => (await call(a, '/v1/rooms', undefined, { method: 'GET' })).text.includes(other),
		3000, 'the join by room applied on A');
	emitter.to(other).emit('r2', 2);
	assert.deepEqual(await Promise.all(got), [2]);
	await Promise.all(not);
	/* leave by room on the JSON channel: nobody gets the room's broadcasts any more */
	await publish({ op: 'leave', to: [room], rooms: [room] });
	await h.fence(emitter, ua);
	await h.fence(emitter, ub);
	not = [ua, ub].map((s) => h.nothing(s, 'r3', 300));
	emitter.to(room).emit('r3', 3);
	await Promise.all(not);
});

test('disconnect: "unauthenticated": true says so first; a plain close does not; except spares', async () => {
	const room = h.uniq('room');
	const user = h.uniq('u');
	const s1 = await h.connectAuthed(a.url, { claims: { sub: user } });
	const s2 = await h.connectAuthed(b.url, { claims: { sub: user } });
	const s3 = await h.connectAuthed(b.url, { claims: { sub: user } });
	await call(a, '/v1/rooms/join', { user, rooms: [room] });
	await h.fence(emitter, s3);
	const seen = (s) => {
		const events = [];
		s.on('unauthenticated', (p) => events.push(['unauthenticated', p.message]));
		return h.withTimeout(new Promise((resolve) => s.on('disconnect', (r) => {
			events.push(['disconnect', r]);
			resolve(events);
		})), 5000, `the disconnect of ${s.id}`);
	};
	const end2 = seen(s2);
	const res = await call(a, '/v1/disconnect', { to: [s2.id], unauthenticated: true });
	assert.equal(res.status, 200, res.text);
	assert.deepEqual(await end2, [['unauthenticated', h.MSG_INVALID_TOKEN], ['disconnect', 'io server disconnect']]);
	/* plain, on the JSON channel, by room, except s3 */
	const end1 = seen(s1);
	const spared = h.nothing(s3, 'disconnect', 500);
	await publish({ op: 'disconnect', to: [room], except: [s3.id] });
	assert.deepEqual(await end1, [['disconnect', 'io server disconnect']]);
	await spared;
	/* a user's sockets with "unauthenticated": false: a plain close */
	const end3 = seen(s3);
	await call(b, '/v1/disconnect', { user, unauthenticated: false });
	assert.deepEqual(await end3, [['disconnect', 'io server disconnect']]);
	/* bad bodies: 400 with the reason */
	for (const body of [{ rooms: ['x'] }, { to: [], rooms: ['x'] }, { to: ['x'], user: 'y', rooms: ['x'] }]) {
		const r = await call(a, '/v1/rooms/join', body);
		assert.equal(r.status, 400, r.text);
	}
	const r = await call(a, '/v1/rooms/join', { to: ['x'], rooms: ['y'], unauthenticated: true });
	assert.equal(r.status, 400, r.text);
});

test('emit with except and volatile, on the JSON channel and the admin API', async () => {
	const user = h.uniq('u');
	const room = h.uniq('room');
	const x = await h.connectAuthed(a.url, { claims: { sub: user } });
	const y = await h.connectAuthed(b.url, { claims: { sub: user } });
	const z = await h.connectAuthed(b.url, { claims: { sub: user } });
	await call(a, '/v1/rooms/join', { user, rooms: [room] });
	await h.fence(emitter, z);
	let got = [x, y].map((s) => h.once(s, 'v1'));
	let not = h.nothing(z, 'v1', 300);
	await publish({ to: [room], except: [z.id], volatile: true, event: 'v1', data: 'hi' });
	assert.deepEqual(await Promise.all(got), ['hi', 'hi']);
	await not;
	got = [y, z].map((s) => h.once(s, 'v2'));
	not = h.nothing(x, 'v2', 300);
	const res = await call(a, '/v1/emit', { to: [room], except: [x.id], volatile: true, event: 'v2', data: 2 });
	assert.equal(res.status, 202, res.text);
	assert.deepEqual(await Promise.all(got), [2, 2]);
	await not;
	const bad = await call(a, '/v1/emit', { event: 'v3', volatile: 'yes' });
	assert.equal(bad.status, 400, bad.text);
});

test('standalone, two workers: acks gathered across workers; a shutdown with an emit still waiting is clean', async () => {
	const sg = await h.startSiogate({ config: config('solo') });
	try {
		const user = h.uniq('u');
		const sockets = [];
		for (let i = 0; i < 4; i++) sockets.push(await h.connectAuthed(sg.url, { claims: { sub: user } }));
		const ids = sockets.map((s) => s.id);
		sockets.forEach((s, i) => s.on('n?', (cb) => (i % 2 ? undefined : cb(i))));
		const res = await call(sg, '/v1/emit?ack=1s', { to: ids, event: 'n?' });
		assert.deepEqual([...res.json.acks].sort((x, y) => x.args[0] - y.args[0]),
			[{ id: ids[0], args: [0] }, { id: ids[2], args: [2] }]);
		assert.deepEqual([...res.json.timeouts].sort(), [ids[1], ids[3]].sort());
		/* the answer is bounded: 9 answers of 950,000 bytes pass 8 MiB; the last ones lose
		 * their args, every socket is still listed */
		const big = [];
		for (let i = 0; i < 9; i++) {
			const s = await h.connectAuthed(sg.url, { claims: { sub: user } });
			s.on('big?', (cb) => cb('x'.repeat(950000)));
			big.push(s);
		}
		const huge = await call(sg, '/v1/emit?ack=5s', { to: big.map((s) => s.id), event: 'big?' });
		assert.equal(huge.status, 200);
		assert.equal(huge.json.truncated, true);
		assert.deepEqual(huge.json.timeouts, []);
		assert.deepEqual(huge.json.acks.map((e) => e.id).sort(), big.map((s) => s.id).sort());
		const kept = huge.json.acks.filter((e) => e.args !== null);
		assert.equal(kept.length, 8);
		for (const e of kept) assert.equal(e.args[0].length, 950000);
		for (const s of big) s.disconnect();
		/* an emit still waiting for the silent sockets (on both workers) when SIGTERM comes */
		const pending = call(sg, '/v1/emit?ack=8s', { to: ids, event: 'n?' }).catch((err) => err);
		await h.delay(300);
		const exit = await sg.stop();
		h.assertCleanLog(sg.log(), exit, 'SIGTERM', { expectCode: 0 });
		await pending;
	} finally {
		await sg.stop();
	}
});
