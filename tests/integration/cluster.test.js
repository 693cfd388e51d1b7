'use strict';
/*
 * cluster.test.js: siogate in a mixed cluster with a Node.js socket.io 4.8 server that uses
 * @socket.io/redis-adapter 8.3 on the same Redis and prefix.  The Node server's own cluster
 * operations include siogate's sockets and complete without the adapter's 5 s requests timeout
 * (siogate answers every request type), its broadcasts reach siogate's clients, and an admin emit
 * on siogate reaches the Node server's clients.
 */

const assert = require('node:assert/strict');
const { test, before, after } = require('node:test');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const ioClient = require('socket.io-client');
const h = require('./lib/harness');
const { startNodePeer } = require('./lib/nodepeer');

const tokenDir = fs.mkdtempSync(path.join(os.tmpdir(), 'siogate-cluster-'));
const tokenFile = path.join(tokenDir, 'admin.token');
const ADMIN_TOKEN = crypto.randomBytes(24).toString('hex');
fs.writeFileSync(tokenFile, ADMIN_TOKEN, { mode: 0o600 });

let peer;
let io;

/* Registered before useSiogate's hooks so that it runs first, while Redis is still up. */
after(async () => {
	if (peer) await peer.close();
	fs.rmSync(tokenDir, { recursive: true, force: true });
});

const env = h.useSiogate({
	redis: true,
	config: { rooms: { allow: ['public-*'] }, admin: { token_file: tokenFile } },
});


before(async () => {
	await env.starting;
	peer = await startNodePeer(env.redis.url);
	io = peer.io;
});

async function timed(promise) {
	const t0 = Date.now();
	const value = await promise;
	return { value, ms: Date.now() - t0 };
}

test('the Node server counts siogate: serverCount() is 2', async () => {
	assert.equal(await io.of('/').adapter.serverCount(), 2);
});

test('fetchSockets() on the Node server includes siogate\'s socket with its user, rooms and handshake', async () => {
	const user = h.uniq('fetch');
	const s = await h.connectAuthed(env.sg.url, { claims: { sub: user } });
	await s.timeout(3000).emitWithAck('join', { rooms: ['public-fetch'] });
	const { value: sockets, ms } = await timed(io.in('public-fetch').fetchSockets());
	assert.ok(ms < 2000, `fetchSockets took ${ms} ms`);
	const remote = sockets.find((x) => x.id === s.id);
	assert.ok(remote, 'siogate socket listed');
	assert.equal(remote.data.user, user);
	assert.equal(remote.data.state, 'authenticated');
	assert.ok(remote.rooms.has('public-fetch') && remote.rooms.has(s.id));
	assert.equal(remote.handshake.auth.token !== undefined, true);
	assert.match(remote.handshake.url, /^\/socket\.io\/\?/);
	assert.equal(typeof remote.handshake.issued, 'number');
});

test('allRooms() includes siogate\'s rooms and socket id rooms', async () => {
	const s = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('rooms') } });
	await s.timeout(3000).emitWithAck('join', { rooms: ['public-allrooms'] });
	const rooms = await io.of('/').adapter.allRooms();
	assert.ok(rooms.has('public-allrooms'));
	assert.ok(rooms.has(s.id));
});

test('socketsJoin() and socketsLeave() from the Node server move siogate\'s sockets', async () => {
	const s = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('join') } });
	const room = h.uniq('remote-joined');
	io.in(s.id).socketsJoin(room);
	const deadline = Date.now() + 3000;
	for (;;) {
		const sockets = await io.in(room).fetchSockets();
		if (sockets.some((x) => x.id === s.id)) break;
		if (Date.now() > deadline) throw new Error('socketsJoin not applied');
		await h.delay(50);
	}
	const got = h.once(s, 'in-remote-room');
	io.to(room).emit('in-remote-room', 'yes');
	assert.equal(await got, 'yes');
	io.in(s.id).socketsLeave(room);
	const deadline2 = Date.now() + 3000;
	for (;;) {
		const sockets = await io.in(room).fetchSockets();
		if (!sockets.some((x) => x.id === s.id)) break;
		if (Date.now() > deadline2) throw new Error('socketsLeave not applied');
		await h.delay(50);
	}
});

test('a broadcast from the Node server reaches siogate\'s authenticated clients', async () => {
	const s = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('b') } });
	const got = h.once(s, 'from-node');
	io.emit('from-node', { n: 1 }, 'two');
	assert.deepEqual(await got, { n: 1 });
});

test('emitWithAck() from the Node server collects siogate clients\' acks, without a timeout', async () => {
	const room = 'public-ack';
	const a = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('a') } });
	const b = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('b') } });
	for (const s of [a, b]) {
		await s.timeout(3000).emitWithAck('join', { rooms: [room] });
		s.on('question', (q, cb) => cb(`${q}:${s.id}`));
	}
	const { value: answers, ms } = await timed(io.to(room).timeout(3000).emitWithAck('question', 'q'));
	assert.ok(ms < 2500, `emitWithAck took ${ms} ms`);
	assert.deepEqual([...answers].sort(), [`q:${a.id}`, `q:${b.id}`].sort());
});

test('emitWithAck() to a room without siogate members still completes (CLIENT_COUNT 0)', async () => {
	const { value: answers, ms } = await timed(io.to(h.uniq('nobody')).timeout(3000).emitWithAck('x'));
	assert.deepEqual(answers, []);
	assert.ok(ms < 2500, `took ${ms} ms`);
});

test('disconnectSockets() from the Node server disconnects siogate\'s socket (io server disconnect)', async () => {
	const s = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('dc') } });
	const gone = h.once(s, 'disconnect');
	io.in(s.id).disconnectSockets(true);
	assert.equal(await gone, 'io server disconnect');
});

test('an admin emit on siogate reaches the Node server\'s clients and siogate\'s own', async () => {
	const nodeClient = ioClient(peer.url, { transports: ['websocket'], forceNew: true });
	try {
		await h.withTimeout(new Promise((r) => nodeClient.on('connect', r)), 3000, 'node client connect');
		const s = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('adm') } });
		const onNode = new Promise((r) => nodeClient.on('admin-news', r));
		const onSiogate = h.once(s, 'admin-news');
		const res = await fetch(`http://127.0.0.1:${env.sg.adminPort}/v1/emit`, {
			method: 'POST',
			headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
			body: JSON.stringify({ event: 'admin-news', data: { v: 2 } }),
		});
		assert.equal(res.status, 202);
		assert.deepEqual(await res.json(), { delivered: 1, published: true });
		assert.deepEqual(await h.withTimeout(onNode, 3000, 'node client gets admin-news'), { v: 2 });
		assert.deepEqual(await onSiogate, { v: 2 });
	} finally {
		nodeClient.close();
	}
});


test('GET /v1/users/{sub} with a Node server in the cluster: it ignores siogate\'s request, the answer is whole (not partial)', async () => {
	const user = h.uniq('who');
	await h.connectAuthed(env.sg.url, { claims: { sub: user } });
	const headers = { authorization: `Bearer ${ADMIN_TOKEN}` };
	const admin = `http://127.0.0.1:${env.sg.adminPort}`;
	const server = (await (await fetch(`${admin}/v1/clients`, { headers })).json()).server;
	const res = await fetch(`${admin}/v1/users/${user}`, { headers });
	assert.equal(res.status, 200);
	/* siogate waits for siogate instances only (the members channel): a Node server, which
	 * never answers "siogate:user", would make it wait for its 2 s timeout and say partial */
	assert.deepEqual(await res.json(), { sub: user, sockets: 1, instances: [server], partial: false });
	/* and the Node server is still fine: its own requests complete */
	assert.equal(await io.of('/').adapter.serverCount(), 2);
});

/* ---- issue 18: operations and emits with acks reach the Node server's sockets ---- */

async function adminPost(p, body) {
	const res = await h.withTimeout(fetch(`http://127.0.0.1:${env.sg.adminPort}${p}`, {
		method: 'POST',
		headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
		body: JSON.stringify(body),
	}), 8000, `POST ${p}`);
	return { status: res.status, json: await res.json() };
}

async function nodeClientIn(room) {
	const c = ioClient(peer.url, { transports: ['websocket'], forceNew: true, reconnection: false });
	await h.withTimeout(new Promise((r) => c.on('connect', r)), 3000, 'node client connect');
	if (room) {
		/* the redis adapter's socketsJoin() goes through Redis, even for a local socket */
		io.in(c.id).socketsJoin(room);
		await h.until(async () => (io.of('/').adapter.rooms.get(room) || new Set()).has(c.id), 3000,
			'the Node socket in its room');
	}
	return c;
}

test('POST /v1/emit?ack=: the Node server\'s clients answer too (id null, first argument), its silent ones are counted', async () => {
	const room = h.uniq('public-ack');
	const s = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('a') } });
	await s.timeout(3000).emitWithAck('join', { rooms: [room] });
	s.on('q', (cb) => cb('sg', 2));
	const talker = await nodeClientIn(room);
	const silent = await nodeClientIn(room);
	try {
		talker.on('q', (cb) => cb('node', 'dropped by the adapter protocol'));
		silent.on('q', () => {});
		const res = await adminPost('/v1/emit?ack=1500ms', { to: [room], event: 'q' });
		assert.equal(res.status, 200);
		const acks = [...res.json.acks].sort((x, y) => String(x.id).localeCompare(String(y.id)));
		assert.deepEqual(res.json.timeouts, []);
		assert.equal(res.json.unnamed, 1);
		assert.deepEqual(acks, [{ id: s.id, args: ['sg', 2] }, { id: null, args: ['node'] }]
			.sort((x, y) => String(x.id).localeCompare(String(y.id))));
	} finally {
		talker.close();
		silent.close();
	}
});

test('the admin API\'s and the JSON channel\'s operations by room reach the Node server\'s sockets', async () => {
	const room = h.uniq('public-op');
	const other = h.uniq('public-op');
	const c = await nodeClientIn(room);
	try {
		const nodeRooms = () => [...(io.of('/').adapter.rooms.get(other) || [])];
		let res = await adminPost('/v1/rooms/join', { to: [room], rooms: [other] });
		assert.deepEqual(res.json, { sockets: 0, published: true });
		await h.until(async () => nodeRooms().includes(c.id), 3000, 'the Node socket joined');
		/* the JSON channel: siogate (the relay) re-publishes it for Node */
		await h.until(async () => h.metric(await h.metrics(env.sg), 'siogate_cluster_members{state="ready"}') >= 1,
			10000, 'siogate settled');
		await peer.pub.publish('siogate#send', JSON.stringify({ op: 'leave', to: [c.id], rooms: [other] }));
		await h.until(async () => !nodeRooms().includes(c.id), 3000, 'the Node socket left');
		const gone = new Promise((r) => c.on('disconnect', r));
		res = await adminPost('/v1/disconnect', { to: [room] });
		assert.deepEqual(res.json, { sockets: 0, published: true });
		assert.equal(await h.withTimeout(gone, 3000, 'the Node socket disconnected'), 'io server disconnect');
	} finally {
		c.close();
	}
});
