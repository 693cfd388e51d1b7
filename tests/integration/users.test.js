'use strict';
/*
 * users.test.js: revocation now, cluster-wide (issue 15 item 4, SPEC section 9).  Two siogate
 * instances (two workers each) on one real Redis; a user with sockets on both instances, both
 * workers and two namespaces (one session multiplexing both) is disconnected by one admin call:
 * each socket hears `unauthenticated` with the invalid-token message, then the DISCONNECT
 * (socket.io-client: `io server disconnect`, no reconnection), while other users keep their
 * sockets and their broadcasts.  GET /v1/users/{sub} counts before and after.  The JSON
 * channel's operations by user and by `to` (real PUBLISH), join and leave, malformed operations
 * (ignored, counted, logged within a limit), the admin API's token and errors, and a standalone
 * instance (no Redis).
 */

const assert = require('node:assert/strict');
const { test, before, after, afterEach } = require('node:test');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { Manager } = require('socket.io-client');
const h = require('./lib/harness');

const tokenDir = fs.mkdtempSync(path.join(os.tmpdir(), 'siogate-users-'));
const tokenFile = path.join(tokenDir, 'admin.token');
const ADMIN_TOKEN = crypto.randomBytes(24).toString('hex');
fs.writeFileSync(tokenFile, ADMIN_TOKEN + '\n', { mode: 0o600 });

const config = (id) => ({
	server: { id, workers: 2 },
	namespaces: ['/', '/chat'],
	rooms: { allow: ['public-*'] },
	admin: { token_file: tokenFile },
});

let redis, emitter, a, b;
const managers = [];

before(async () => {
	redis = await h.startRedis();
	a = await h.startSiogate({ redis, config: config('gw-a') });
	b = await h.startSiogate({ redis, config: config('gw-b') });
	emitter = await h.emitterFor(redis.url);
	/* the instances count each other (the members channel) before the first test */
	await h.until(async () => {
		const texts = await Promise.all([a, b].map(h.metrics));
		return texts.every((t) => h.metric(t, 'siogate_cluster_members{state="ready"}') === 2);
	}, 10000, 'both instances to see each other');
});

afterEach(() => {
	for (const m of managers.splice(0))
		m.engine && m.engine.close();
});

after(async () => {
	h.closeClients(true);
	if (emitter) await emitter.close();
	for (const sg of [a, b]) {
		if (!sg) continue;
		const exit = await sg.stop();
		h.assertCleanLog(sg.log(), exit, 'SIGTERM', { expectCode: 0 });
	}
	if (redis) await redis.stop();
	fs.rmSync(tokenDir, { recursive: true, force: true });
});

async function call(sg, p, { method = 'GET', token = ADMIN_TOKEN } = {}) {
	const headers = token ? { authorization: `Bearer ${token}` } : {};
	const res = await h.withTimeout(fetch(`http://127.0.0.1:${sg.adminPort}${p}`, { method, headers }),
		5000, `${method} ${p}`);
	const text = await res.text();
	let json = null;
	try { json = JSON.parse(text); } catch { /* not JSON */ }
	return { status: res.status, json, text };
}

const userPath = (sub, suffix = '') => `/v1/users/${encodeURIComponent(sub)}${suffix}`;

function publish(msg) {
	return emitter.redis.publish('siogate#send', typeof msg === 'string' ? msg : JSON.stringify(msg));
}

/* The worker that owns a socket: the 13th byte of its id (core/ids.h). */
const workerOf = (id) => Buffer.from(id, 'base64url')[12];

/* Two namespaces on one Engine.IO session (a multiplexing Manager), both authenticated. */
async function multiplexed(sg, sub) {
	const m = new Manager(sg.url, { transports: ['websocket'], reconnection: false, forceNew: true });
	managers.push(m);
	const token = h.token({ sub });
	const sockets = [];
	for (const nsp of ['/', '/chat']) {
		const s = m.socket(nsp, { auth: { token } });
		await h.withTimeout(new Promise((resolve, reject) => {
			s.once('connect', resolve);
			s.once('connect_error', reject);
		}), 5000, `connect ${nsp}`);
		await h.authenticate(s);
		sockets.push(s);
	}
	return sockets;
}

/* Records what a socket hears until its disconnect: [[event, arg]...]. */
function watchEnd(s, ms = 5000) {
	const seen = [];
	s.on('unauthenticated', (p) => seen.push(['unauthenticated', p]));
	return h.withTimeout(new Promise((resolve) => {
		s.on('disconnect', (reason) => {
			seen.push(['disconnect', reason]);
			resolve(seen);
		});
	}), ms, `the disconnect of ${s.nsp} ${s.id}`);
}

function assertRevoked(seen, s) {
	assert.equal(seen.length, 2, JSON.stringify(seen));
	assert.equal(seen[0][0], 'unauthenticated');
	assert.equal(seen[0][1].message, h.MSG_INVALID_TOKEN);
	assert.match(seen[0][1].time, h.ISO_MS_RE);
	assert.deepEqual(Object.keys(seen[0][1]).sort(), ['message', 'time']);
	assert.deepEqual(seen[1], ['disconnect', 'io server disconnect']);
	assert.equal(s.active, false, 'socket.io-client does not reconnect');
}

const closesRevoked = async (sg) => h.metric(await h.metrics(sg), 'siogate_closes_total{reason="revoked"}');
const jsonOps = async (sg, op) => h.metric(await h.metrics(sg), `siogate_json_ops_total{op="${op}"}`);

test('POST /v1/users/{sub}/disconnect on one instance revokes the user everywhere: both instances, both workers, every namespace; others untouched', async () => {
	const alice = h.uniq('alice');
	const bob = h.uniq('bob');
	const aliceA = [];
	const aliceB = [];
	for (let i = 0; i < 4; i++)
		aliceA.push(await h.connectAuthed(a.url, { claims: { sub: alice } }));
	for (let i = 0; i < 2; i++)
		aliceB.push(await h.connectAuthed(b.url, { claims: { sub: alice } }));
	aliceA.push(...await multiplexed(a, alice));
	aliceB.push(...await multiplexed(b, alice));
	aliceB.push(await h.connectAuthed(b.url, { claims: { sub: alice }, nsp: '/chat' }));
	/* connections go to the workers in turn: alice is on both workers of each instance */
	for (const list of [aliceA, aliceB])
		assert.deepEqual([...new Set(list.map((s) => workerOf(s.id)))].sort(), [0, 1]);
	const bobA = await h.connectAuthed(a.url, { claims: { sub: bob } });
	const bobB = await h.connectAuthed(b.url, { claims: { sub: bob } });

	const before = await call(b, userPath(alice));
	assert.equal(before.status, 200, before.text);
	assert.deepEqual({ ...before.json, instances: before.json.instances.sort() },
		{ sub: alice, sockets: 11, instances: ['gw-a', 'gw-b'], partial: false });
	assert.deepEqual((await call(a, userPath(alice) + '?scope=local')).json,
		{ sub: alice, sockets: 6, instances: ['gw-a'], partial: false });

	const [revokedA0, revokedB0] = await Promise.all([closesRevoked(a), closesRevoked(b)]);
	const [opsA0, opsB0] = await Promise.all([jsonOps(a, 'disconnect'), jsonOps(b, 'disconnect')]);
	const ends = [...aliceA, ...aliceB].map((s) => watchEnd(s));
	const bobsEnd = [bobA, bobB].map((s) => h.nothing(s, 'disconnect', 500));
	const bobsUnauth = [bobA, bobB].map((s) => h.nothing(s, 'unauthenticated', 500));
	const res = await call(a, userPath(alice, '/disconnect'), { method: 'POST' });
	assert.equal(res.status, 200, res.text);
	assert.deepEqual(res.json, { sub: alice, disconnected: 6, published: true });
	const seen = await Promise.all(ends);
	seen.forEach((s, i) => assertRevoked(s, [...aliceA, ...aliceB][i]));
	await Promise.all([...bobsEnd, ...bobsUnauth]);

	/* bob still gets broadcasts on both instances */
	const got = [bobA, bobB].map((s) => h.once(s, 'after-revoke'));
	emitter.emit('after-revoke', 1);
	assert.deepEqual(await Promise.all(got), [1, 1]);

	const afterAlice = await call(a, userPath(alice));
	assert.deepEqual(afterAlice.json, { sub: alice, sockets: 0, instances: [], partial: false });
	const afterBob = await call(a, userPath(bob));
	assert.deepEqual({ ...afterBob.json, instances: afterBob.json.instances.sort() },
		{ sub: bob, sockets: 2, instances: ['gw-a', 'gw-b'], partial: false });
	/* each session ended once, for the reason "revoked": 4 + 1 multiplexed on A, 2 + 1 + 1 on B */
	await h.until(async () => await closesRevoked(a) - revokedA0 === 5 &&
		await closesRevoked(b) - revokedB0 === 4, 3000, 'the revoked closes counted');
	await a.waitForLog(new RegExp(`admin: revoked user ${alice}: 6 socket\\(s\\) here, the other instances told`), 3000);
	await b.waitForLog(new RegExp(`json channel: disconnect of user ${alice}: \\d socket\\(s\\) on worker`), 3000);
	/* the operation went to the other instance through the JSON channel; the instance that
	 * published it (with its uid as origin) did not apply it a second time */
	await h.fence(emitter, bobA);
	assert.equal(await jsonOps(b, 'disconnect') - opsB0, 1);
	assert.equal(await jsonOps(a, 'disconnect') - opsA0, 0);
	assert.equal(a.countLog(new RegExp(`json channel: disconnect of user ${alice}`)), 0);
});

test('a sub with reserved characters is %-decoded; scope=local leaves the other instances out', async () => {
	const sub = `auth0|${h.uniq('x')}/é +`;
	const s = await h.connectAuthed(b.url, { claims: { sub } });
	assert.deepEqual((await call(a, userPath(sub))).json,
		{ sub, sockets: 1, instances: ['gw-b'], partial: false });
	assert.deepEqual((await call(a, userPath(sub) + '?scope=local')).json,
		{ sub, sockets: 0, instances: [], partial: false });
	const end = watchEnd(s);
	const res = await call(a, userPath(sub, '/disconnect'), { method: 'POST' });
	assert.deepEqual(res.json, { sub, disconnected: 0, published: true });
	assertRevoked(await end, s);
});

test('JSON channel {"op":"disconnect","user"} revokes the user on every instance; counted once per instance', async () => {
	const carol = h.uniq('carol');
	const sockets = [
		await h.connectAuthed(a.url, { claims: { sub: carol } }),
		await h.connectAuthed(a.url, { claims: { sub: carol } }),
		await h.connectAuthed(b.url, { claims: { sub: carol }, nsp: '/chat' }),
	];
	const dave = await h.connectAuthed(a.url, { claims: { sub: h.uniq('dave') } });
	const [opsA, opsB] = await Promise.all([jsonOps(a, 'disconnect'), jsonOps(b, 'disconnect')]);
	const ends = sockets.map((s) => watchEnd(s));
	await publish({ op: 'disconnect', user: carol });
	(await Promise.all(ends)).forEach((seen, i) => assertRevoked(seen, sockets[i]));
	await h.fence(emitter, dave);
	assert.equal(dave.connected, true);
	assert.equal(await jsonOps(a, 'disconnect') - opsA, 1);
	assert.equal(await jsonOps(b, 'disconnect') - opsB, 1);
	assert.equal((await call(b, userPath(carol))).json.sockets, 0);
});

test('JSON channel {"op":"disconnect","to"}: rooms and socket ids, per namespace, a plain disconnect', async () => {
	const inRoom = [
		await h.connectAuthed(a.url, { claims: { sub: h.uniq('e') } }),
		await h.connectAuthed(b.url, { claims: { sub: h.uniq('e') } }),
	];
	for (const s of inRoom)
		await s.timeout(3000).emitWithAck('join', { rooms: ['public-kick'] });
	const outside = await h.connectAuthed(b.url, { claims: { sub: h.uniq('f') } });
	const chat = await h.connectAuthed(a.url, { claims: { sub: h.uniq('g') }, nsp: '/chat' });
	const ends = inRoom.map((s) => watchEnd(s));
	await publish({ op: 'disconnect', to: 'public-kick' });
	for (const seen of await Promise.all(ends))
		assert.deepEqual(seen, [['disconnect', 'io server disconnect']]);
	await h.fence(emitter, outside);
	assert.equal(outside.connected, true);

	/* a socket id is a namespace's: without nsp, "/" is meant and the /chat socket stays */
	await publish({ op: 'disconnect', to: [chat.id] });
	await h.fence(emitter.of('/chat'), chat);
	assert.equal(chat.connected, true);
	const end = watchEnd(chat);
	await publish({ op: 'disconnect', nsp: '/chat', to: [chat.id] });
	assert.deepEqual(await end, [['disconnect', 'io server disconnect']]);
	assert.equal(outside.connected, true);
});

test('JSON channel join and leave, by user and by to: the sockets move, with lifecycle events', async () => {
	const frank = h.uniq('frank');
	const room = h.uniq('vip');
	const f1 = await h.connectAuthed(a.url, { claims: { sub: frank } });
	const f2 = await h.connectAuthed(b.url, { claims: { sub: frank } });
	const other = await h.connectAuthed(a.url, { claims: { sub: h.uniq('o') } });
	const lifecycle = emitter.redis.duplicate();
	await lifecycle.connect();
	const events = [];
	await lifecycle.subscribe('siogate#lifecycle', (m) => events.push(JSON.parse(m)));
	try {
		await publish({ op: 'join', user: frank, rooms: [room] });
		const got = [f1, f2].map((s) => h.once(s, 'vip-news'));
		const notOther = h.nothing(other, 'vip-news', 300);
		emitter.to(room).emit('vip-news', 'hi');
		assert.deepEqual(await Promise.all(got), ['hi', 'hi']);
		await notOther;
		/* another socket's id room is never joined */
		await publish({ op: 'join', to: [other.id], rooms: [f1.id] });
		const notPrivate = h.nothing(other, 'private', 300);
		emitter.to(f1.id).emit('private', 1);
		await notPrivate;
		await h.until(() => events.filter((e) => e.type === 'joined' && e.user === frank).length === 2,
			3000, 'two joined lifecycle events');
		assert.ok(events.filter((e) => e.type === 'joined' && e.user === frank)
			.every((e) => JSON.stringify(e.rooms) === JSON.stringify([room])));

		await publish({ op: 'leave', to: [room], rooms: [room] });
		await h.until(() => events.filter((e) => e.type === 'left' && e.user === frank).length === 2,
			3000, 'two left lifecycle events');
		const none = [f1, f2].map((s) => h.nothing(s, 'vip-news', 300));
		emitter.to(room).emit('vip-news', 'gone');
		await Promise.all(none);
	} finally {
		await lifecycle.quit();
	}
});

test('malformed and unknown operations are ignored, counted once per instance and logged within a limit; the instance still serves', async () => {
	const victim = h.uniq('x');
	const s = await h.connectAuthed(a.url, { claims: { sub: victim } });
	const bad = [
		{ op: 'explode', user: victim },
		{ op: 'disconnect' },
		{ op: 'disconnect', user: victim, to: ['r'] },
		{ op: 5, user: victim },
		{ op: 'join', user: victim },
		{ op: 'disconnect', to: [] },
		{ op: 'disconnect', user: '' },
		{ op: 'disconnect', nsp: 'chat', user: victim },
		{ op: 'leave', to: [1], rooms: ['r'] },
	];
	const before = await jsonOps(a, 'invalid');
	const mark = a.mark();
	const noEnd = h.nothing(s, 'disconnect', 300);
	for (const m of bad)
		await publish(m);
	await h.fence(emitter, s);
	await noEnd;
	assert.equal(s.connected, true);
	const got = h.once(s, 'still');
	await publish({ event: 'still', to: [s.id], data: 'serving' });
	assert.equal(await got, 'serving');
	assert.equal(await jsonOps(a, 'invalid') - before, bad.length);
	await a.waitForLog(/bridge: ignored an operation on siogate#send: /, 3000, mark);
	const lines = a.countLog(/bridge: ignored an operation on siogate#send/, mark);
	assert.ok(lines >= 1 && lines < bad.length, `${lines} log lines for ${bad.length} bad operations`);
	assert.equal((await call(a, userPath(victim))).json.sockets, 1);
});

test('the users API needs the bearer token, and refuses what it does not know', async () => {
	for (const token of [null, 'wrong-token-0123456789abcdef']) {
		for (const [p, method] of [[userPath('alice'), 'GET'], [userPath('alice', '/disconnect'), 'POST']]) {
			const r = await call(a, p, { method, token });
			assert.equal(r.status, 401, `${method} ${p} with ${token}`);
		}
	}
	assert.equal((await call(a, userPath('alice', '/disconnect'))).status, 405);
	assert.equal((await call(a, userPath('alice'), { method: 'POST' })).status, 405);
	assert.equal((await call(a, '/v1/users/')).status, 404);
	assert.equal((await call(a, '/v1/users/a/b')).status, 404);
	assert.equal((await call(a, '/v1/users/%zz')).status, 400);
	assert.equal((await call(a, '/v1/users/a%00b')).status, 400);
	assert.equal((await call(a, userPath('alice') + '?scope=everywhere')).status, 400);
});

test('standalone (no Redis): this instance only, nothing published', async (t) => {
	const sg = await h.startSiogate({ config: { server: { id: 'solo' }, admin: { token_file: tokenFile } } });
	t.after(async () => {
		const exit = await sg.stop();
		h.assertCleanLog(sg.log(), exit, 'SIGTERM', { expectCode: 0 });
	});
	const sub = h.uniq('solo');
	const s1 = await h.connectAuthed(sg.url, { claims: { sub } });
	const s2 = await h.connectAuthed(sg.url, { claims: { sub } });
	assert.deepEqual((await call(sg, userPath(sub))).json,
		{ sub, sockets: 2, instances: ['solo'], partial: false });
	const ends = [s1, s2].map((s) => watchEnd(s));
	const res = await call(sg, userPath(sub, '/disconnect'), { method: 'POST' });
	assert.equal(res.status, 200);
	assert.deepEqual(res.json, { sub, disconnected: 2, published: false });
	(await Promise.all(ends)).forEach((seen, i) => assertRevoked(seen, [s1, s2][i]));
	assert.equal((await call(sg, userPath(sub))).json.sockets, 0);
});
