'use strict';
/*
 * cluster3.test.js: two siogate instances and one Node.js socket.io 4.8 server with
 * @socket.io/redis-adapter on the same Redis: broadcasts from any of them reach the clients of
 * all of them, the Node server's fetchSockets() sees both siogates' sockets, and siogate's
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
	a = await h.startSiogate({ redis, config: { server: { id: 'gw-a' }, admin: { token_file: tokenFile } } });
	b = await h.startSiogate({ redis, config: { server: { id: 'gw-b' }, admin: { token_file: tokenFile } } });
	peer = await startNodePeer(redis.url, { servers: 3 });
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

async function nodeClient() {
	const s = ioClient(nodeUrl, { transports: ['websocket'], forceNew: true, reconnection: false });
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
