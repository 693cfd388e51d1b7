'use strict';
/*
 * cluster3.test.js: two siogate instances and one Node.js socket.io 4.8 server with
 * @socket.io/redis-adapter on the same Redis: broadcasts from any of them reach the clients of
 * all of them (to all, to a room, to a socket id, except), the Node server's fetchSockets()
 * sees both siogates' sockets, and siogate's
 * cluster-wide admin view (/v1/clients?scope=cluster) sees the other siogate's and the Node
 * server's sockets.
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

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'siogate-c3-'));
const tokenFile = path.join(dir, 'admin.token');
const ADMIN = crypto.randomBytes(20).toString('hex');
fs.writeFileSync(tokenFile, ADMIN, { mode: 0o600 });

let redis, a, b, peer, io, nodeUrl;

before(async () => {
	redis = await h.startRedis();
	const config = (id) => ({ server: { id }, admin: { token_file: tokenFile }, rooms: { allow: ['public-*'] } });
	a = await h.startSiogate({ redis, config: config('gw-a') });
	b = await h.startSiogate({ redis, config: config('gw-b') });
	/* a Node client asking for ?room=... is put in it by its server */
	peer = await startNodePeer(redis.url, {
		servers: 3,
		onConnection: (s) => { if (s.handshake.query.room) s.join(String(s.handshake.query.room)); },
	});
	io = peer.io;
	nodeUrl = peer.url;
});

after(async () => {
	h.closeClients(true);
	if (peer) await peer.close();
	for (const sg of [a, b]) {
		if (!sg) continue;
		const exit = await sg.stop();
		h.assertCleanLog(sg.log(), exit, 'SIGTERM');
	}
	if (redis) await redis.stop();
	fs.rmSync(dir, { recursive: true, force: true });
});

async function nodeClient(query = {}) {
	const s = ioClient(nodeUrl, { transports: ['websocket'], forceNew: true, reconnection: false, query });
	await h.withTimeout(new Promise((r) => s.on('connect', r)), 5000, 'node client');
	return s;
}

test('a broadcast from any of the three reaches the clients of all three', async () => {
	const ca = await h.connectAuthed(a.url, { claims: { sub: h.uniq('a') } });
	const cb = await h.connectAuthed(b.url, { claims: { sub: h.uniq('b') } });
	const cn = await nodeClient();
	try {
		let all = Promise.all([h.once(ca, 'n'), h.once(cb, 'n')]);
		io.emit('n', 1);
		assert.deepEqual(await all, [1, 1]);
		all = Promise.all([h.once(cb, 'x'), new Promise((r) => cn.once('x', r)), h.once(ca, 'x')]);
		const res = await fetch(`http://127.0.0.1:${a.adminPort}/v1/emit`, {
			method: 'POST', headers: { authorization: `Bearer ${ADMIN}` },
			body: JSON.stringify({ event: 'x', data: 'from-a' }),
		});
		assert.equal(res.status, 202);
		assert.deepEqual(await h.withTimeout(all, 3000, 'admin emit everywhere'), ['from-a', 'from-a', 'from-a']);
	} finally {
		cn.close();
	}
});

test('the Node server\'s fetchSockets sees both siogates\' sockets; siogate\'s cluster view sees the others', async () => {
	const ca = await h.connectAuthed(a.url, { claims: { sub: h.uniq('a') } });
	const cb = await h.connectAuthed(b.url, { claims: { sub: h.uniq('b') } });
	const cn = await nodeClient();
	try {
		const ids = (await io.fetchSockets()).map((s) => s.id);
		assert.ok(ids.includes(ca.id) && ids.includes(cb.id) && ids.includes(cn.id));
		const t0 = Date.now();
		const res = await fetch(`http://127.0.0.1:${a.adminPort}/v1/clients?scope=cluster`,
			{ headers: { authorization: `Bearer ${ADMIN}` } });
		const body = await res.json();
		assert.equal(res.status, 200);
		assert.ok(Date.now() - t0 < 1900, 'every member answered before the timeout');
		assert.equal(body.server, 'gw-a');
		assert.equal(body.partial, false);
		assert.ok(body.clients.some((c) => c.id === ca.id), 'its own client, with full detail');
		const remote = body.remote.map((s) => s.id);
		assert.ok(remote.includes(cb.id), 'the other siogate\'s client');
		assert.ok(remote.includes(cn.id), 'the Node server\'s client');
		assert.ok(!remote.includes(ca.id), 'not itself again');
		const fromB = body.remote.find((s) => s.id === cb.id);
		assert.equal(fromB.data.state, 'authenticated');
	} finally {
		cn.close();
	}
});

async function adminEmit(sg, body) {
	const res = await fetch(`http://127.0.0.1:${sg.adminPort}/v1/emit`, {
		method: 'POST', headers: { authorization: `Bearer ${ADMIN}` }, body: JSON.stringify(body),
	});
	assert.equal(res.status, 202);
}

test('to a room, to a socket id and except, from the Node server and from siogate, across all three', async () => {
	const ca = await h.connectAuthed(a.url, { claims: { sub: h.uniq('a') } });
	const cb = await h.connectAuthed(b.url, { claims: { sub: h.uniq('b') } });
	const cn = await nodeClient({ room: 'public-r' });
	try {
		assert.deepEqual(await ca.timeout(3000).emitWithAck('join', { rooms: ['public-r'] }),
			{ rooms: ['public-r'], rejected: [] });
		const clients = [ca, cb, cn];
		/* fire(), then a marker to everyone from the same source: Redis keeps their order, so
		 * once every client has the marker, what each got of `event` is final */
		const counts = async (event, fire, marker) => {
			const got = clients.map((c) => h.collect(c, event));
			const ends = clients.map((c) => h.collect(c, 'end-mark'));
			await fire();
			await marker();
			await Promise.all(ends.map((e) => e.waitFor(1, 5000)));
			for (const g of got.concat(ends))
				g.stop();
			return got.map((g) => g.length);
		};
		const fromNode = () => io.emit('end-mark');
		const fromA = () => adminEmit(a, { event: 'end-mark' });
		const fromB = () => adminEmit(b, { event: 'end-mark' });
		assert.deepEqual(await counts('n-room', () => io.to('public-r').emit('n-room', 1), fromNode), [1, 0, 1]);
		assert.deepEqual(await counts('n-id', () => io.to(cb.id).emit('n-id', 1), fromNode), [0, 1, 0]);
		assert.deepEqual(await counts('n-exc', () => io.except('public-r').emit('n-exc', 1), fromNode), [0, 1, 0]);
		assert.deepEqual(await counts('a-room', () => adminEmit(a, { to: ['public-r'], event: 'a-room' }), fromA),
			[1, 0, 1]);
		assert.deepEqual(await counts('a-id', () => adminEmit(a, { to: [cn.id], event: 'a-id' }), fromA), [0, 0, 1]);
		assert.deepEqual(await counts('b-exc', () => adminEmit(b, { except: ['public-r'], event: 'b-exc' }), fromB),
			[0, 1, 0]);
	} finally {
		cn.close();
	}
});
