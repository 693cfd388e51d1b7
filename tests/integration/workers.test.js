'use strict';
/*
 * workers.test.js: server.workers (README "Worker threads").  With three workers, connections are
 * spread over all of them, and everything a user sees is the same as with one: emitter messages
 * reach every client once, polling sessions survive requests that land on other workers (handed
 * over to the owner), the admin API and /metrics count every worker, a Node peer sees one
 * server whose fetchSockets covers all workers, limits.per_ip counts for the whole process, and
 * SIGTERM drains every worker.
 */

const assert = require('node:assert/strict');
const { test, after } = require('node:test');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const h = require('./lib/harness');
const { startNodePeer } = require('./lib/nodepeer');

const WORKERS = 3;
const tokenDir = fs.mkdtempSync(path.join(os.tmpdir(), 'siogate-workers-'));
const tokenFile = path.join(tokenDir, 'admin.token');
const ADMIN_TOKEN = crypto.randomBytes(24).toString('hex');
fs.writeFileSync(tokenFile, ADMIN_TOKEN + '\n', { mode: 0o600 });

const env = h.useSiogate({
	redis: true,
	config: {
		server: { workers: WORKERS },
		rooms: { allow: ['team-*'] },
		admin: { token_file: tokenFile },
	},
});

after(() => fs.rmSync(tokenDir, { recursive: true, force: true }));

async function admin(p, { method = 'GET', body } = {}) {
	const res = await h.withTimeout(fetch(`http://127.0.0.1:${env.sg.adminPort}${p}`, {
		method,
		body,
		headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
	}), 3000, `${method} ${p}`);
	return { status: res.status, json: await res.json() };
}

function workerConnections(text) {
	const out = [];
	for (let i = 0; i < WORKERS; i++)
		out.push(h.metric(text, `siogate_worker_connections{worker="${i}"}`));
	return out;
}

/* n authenticated clients (transports as given) that joined room */
async function clients(n, room, transports = ['websocket']) {
	const v = [];
	for (let i = 0; i < n; i++) {
		const s = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('w') }, transports });
		const ack = await s.timeout(3000).emitWithAck('join', { rooms: [room] });
		assert.deepEqual(ack.rooms, [room]);
		v.push(s);
	}
	return v;
}

test('the log names the workers; connections are spread over every one', async () => {
	assert.match(env.sg.log(), new RegExp(`siogate ready: .*${WORKERS} workers`));
	await clients(2 * WORKERS, h.uniq('team-spread'));
	const per = workerConnections(await h.metrics(env.sg));
	assert.equal(per.length, WORKERS);
	for (const [i, n] of per.entries())
		assert.ok(n >= 1, `worker ${i} holds a connection (${per})`);
});

test('an emitter message to a room reaches each member once, whatever its worker', async () => {
	const room = h.uniq('team-once');
	const v = await clients(2 * WORKERS, room);
	const got = v.map((s) => h.collect(s, 'news'));
	await env.emitter.to(room).emit('news', 1);
	await env.emitter.to(room).emit('news', 2);
	for (const s of v) await h.fence(env.emitter, s);
	for (const g of got) assert.deepEqual([...g], [1, 2]);
});

test('polling clients whose requests land on other workers keep working (hand-over)', async () => {
	const before0 = h.metric(await h.metrics(env.sg), 'siogate_handovers_total');
	const room = h.uniq('team-poll');
	const v = await clients(WORKERS, room, ['polling']);
	const got = v.map((s) => h.once(s, 'hello'));
	await env.emitter.to(room).emit('hello', 'p');
	for (const g of got) assert.equal(await g, 'p');
	// a socket-id room works for polling sockets too
	const direct = h.once(v[0], 'direct');
	await env.emitter.to(v[0].id).emit('direct', 7);
	assert.equal(await direct, 7);
	const after0 = h.metric(await h.metrics(env.sg), 'siogate_handovers_total');
	assert.ok(after0 > before0, `polling requests were handed over (${before0} -> ${after0})`);
});

test('socket.io-client upgrades from polling to websocket across workers', async () => {
	const room = h.uniq('team-up');
	const v = await clients(WORKERS, room, ['polling', 'websocket']);
	await Promise.all(v.map((s) => new Promise((resolve) => {
		if (s.io.engine.transport.name === 'websocket') resolve();
		else s.io.engine.once('upgrade', resolve);
	})));
	const got = v.map((s) => h.once(s, 'up'));
	await env.emitter.to(room).emit('up', true);
	for (const g of got) assert.equal(await g, true);
});

test('admin API: clients, rooms and emit count every worker; one client by id on any worker', async () => {
	const room = h.uniq('team-admin');
	const v = await clients(2 * WORKERS, room);
	const list = await admin('/v1/clients');
	assert.equal(list.status, 200);
	const ids = new Set(list.json.clients.map((c) => c.id));
	for (const s of v) assert.ok(ids.has(s.id), `client ${s.id} listed`);
	const rooms = await admin('/v1/rooms');
	const entry = rooms.json.rooms.filter((r) => r.room === room);
	assert.deepEqual(entry, [{ nsp: '/', room, clients: v.length }]);
	for (const s of v) {
		const one = await admin(`/v1/clients/${s.id}`);
		assert.equal(one.status, 200);
		assert.equal(one.json.id, s.id);
	}
	const got = v.map((s) => h.once(s, 'adm'));
	const res = await admin('/v1/emit', {
		method: 'POST',
		body: JSON.stringify({ to: [room], event: 'adm', data: 'x' }),
	});
	assert.equal(res.status, 202);
	assert.equal(res.json.delivered, v.length);
	for (const g of got) assert.equal(await g, 'x');
	// the copy published to Redis is not delivered a second time by the other workers
	for (const s of v) await h.nothing(s, 'adm', 200);
	const last = v.at(-1);
	const gone = h.once(last, 'disconnect');
	const dis = await admin(`/v1/clients/${last.id}/disconnect`, { method: 'POST' });
	assert.equal(dis.status, 200);
	assert.equal(await gone, 'io server disconnect');
	assert.equal((await admin(`/v1/clients/${last.id}`)).status, 404);
});

test('/metrics adds up the workers: sessions, rooms and authentications', async () => {
	const room = h.uniq('team-metrics');
	const m0 = await h.metrics(env.sg);
	const v = await clients(2 * WORKERS, room);
	const m1 = await h.metrics(env.sg);
	assert.equal(h.metric(m1, 'siogate_auth_total{result="accepted"}') -
		h.metric(m0, 'siogate_auth_total{result="accepted"}'), v.length);
	// a room with members on several workers is one room, as /v1/rooms lists it
	const listed = (await admin('/v1/rooms')).json.rooms;
	assert.equal(listed.filter((r) => r.room === room).length, 1);
	assert.equal(h.metric(m1, 'siogate_rooms'), listed.length);
	const per = workerConnections(m1);
	assert.equal(per.reduce((a, b) => a + b, 0), h.metric(m1, 'siogate_open_connections'));
	assert.equal(h.metric(m1, 'siogate_redis_up{link="subscriber"}'), 1);
});

test('a Node peer sees one siogate server, and fetchSockets covers every worker', async (t) => {
	const peer = await startNodePeer(env.redis.url, { servers: 2, listen: false });
	t.after(() => peer.close());
	assert.equal(await peer.io.of('/').adapter.serverCount(), 2);
	const room = h.uniq('team-peer');
	const v = await clients(2 * WORKERS, room);
	const sockets = await peer.io.in(room).fetchSockets();
	assert.deepEqual(sockets.map((s) => s.id).sort(), v.map((s) => s.id).sort());
	await peer.io.in(room).socketsJoin(room + '-more');
	const again = await peer.io.in(room + '-more').fetchSockets();
	assert.equal(again.length, v.length);
	const got = v.map((s) => h.once(s, 'from-node'));
	peer.io.to(room).emit('from-node', 1);
	for (const g of got) assert.equal(await g, 1);
});

test('a client cannot join the id room of a socket on another worker', async () => {
	const v = await clients(WORKERS, h.uniq('team-ids'));
	for (const other of v.slice(1)) {
		const ack = await v[0].timeout(3000).emitWithAck('join', { rooms: [other.id] });
		assert.deepEqual(ack, { rooms: [], rejected: [other.id] });
	}
});

test('limits.per_ip counts the connections of every worker', async () => {
	const sg = await h.startSiogate({ config: { server: { workers: WORKERS }, limits: { per_ip: 4 } } });
	try {
		for (let i = 0; i < 4; i++)
			await h.connectAuthed(sg.url, { claims: { sub: h.uniq('ip') } });
		await assert.rejects(h.connect(sg.url, { timeoutMs: 2000 }));
		assert.equal(h.metric(await h.metrics(sg), 'siogate_closes_total{reason="per-ip limit"}'), 1);
		h.closeClients();
	} finally {
		const exit = await sg.stop();
		h.assertCleanLog(sg.log(), exit, 'SIGTERM', { expectCode: 0 });
	}
});
