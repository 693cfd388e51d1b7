'use strict';
/*
 * admin-ui.test.js: the Socket.IO Admin UI's protocol (@socket.io/admin-ui's instrument()) on
 * siogate's admin_ui.namespace, spoken by a plain socket.io-client as the UI speaks it: the login
 * (bcrypt password, then the session id it is given), config, server_stats, all_sockets with the
 * sockets of both workers and their rooms, credentials masked, the live socket_connected /
 * room_joined / socket_disconnected, and the UI's join / leave / _disconnect applied (refused in
 * readonly mode).  Also admin.ui_dir: the UI's files on the admin listener with their content
 * types and caching, and nothing outside the directory.
 */

const assert = require('node:assert/strict');
const { test, after } = require('node:test');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const bcrypt = require('bcryptjs');
const h = require('./lib/harness');

const PASSWORD = 'correct horse battery staple';
const HASH = bcrypt.hashSync(PASSWORD, 8);
const DIST = path.join(path.dirname(require.resolve('@socket.io/admin-ui/package.json')), 'ui', 'dist');

/* a copy of the UI's build, with a symbolic link out of it and a hidden file */
const uiDir = fs.mkdtempSync(path.join(os.tmpdir(), 'siogate-ui-'));
fs.cpSync(DIST, uiDir, { recursive: true });
const outside = path.join(uiDir, '..', path.basename(uiDir) + '-secret.txt');
fs.writeFileSync(outside, 'outside the ui dir\n');
fs.symlinkSync(outside, path.join(uiDir, 'leak.txt'));
fs.writeFileSync(path.join(uiDir, '.hidden'), 'hidden\n');
after(() => {
	fs.rmSync(uiDir, { recursive: true, force: true });
	fs.rmSync(outside, { force: true });
});

const adminUi = (over = {}) => ({
	server: { id: 'gate-a' },
	rooms: { allow: ['team-*'] },
	admin: { ui_dir: uiDir },
	admin_ui: { enabled: true, username: 'ops', password_hash: HASH, ...over },
});
const env = h.useSiogate({ config: adminUi() });

/* Connects to the admin namespace as the UI does; resolves {socket, events} (every event it got,
 * in order, as [name, ...args]) or rejects with the connect_error. */
function adminConnect(sg, auth, opts = {}) {
	const socket = require('socket.io-client').io(`${sg.url}/admin`, {
		auth, forceNew: true, reconnection: false, transports: ['websocket'], ...opts,
	});
	const events = [];
	socket.onAny((...args) => events.push(args));
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error('admin connect timed out')), 5000);
		socket.once('connect', () => {
			clearTimeout(timer);
			resolve({ socket, events });
		});
		socket.once('connect_error', (err) => {
			clearTimeout(timer);
			socket.close();
			reject(err);
		});
	});
}

/* The first event called name after index `from` in events, waiting up to timeoutMs. */
async function nextEvent(events, name, filter = () => true, timeoutMs = 5000) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const e = events.find((ev) => ev[0] === name && filter(...ev.slice(1)));
		if (e)
			return e.slice(1);
		if (Date.now() > deadline)
			throw new Error(`no '${name}' within ${timeoutMs} ms; got ${events.map((ev) => ev[0]).join(', ')}`);
		await h.delay(20);
	}
}

async function clientsInRooms(sg, n, tag) {
	const clients = [];
	for (let i = 0; i < n; i++) {
		const s = await h.connectAuthed(sg.url, { claims: { sub: `${tag}-${i}` } });
		const ack = await s.timeout(3000).emitWithAck('join', { rooms: [`team-${i % 3}`] });
		assert.ok(ack, 'join acknowledged');
		clients.push(s);
	}
	return clients;
}

function get(sg, p, method = 'GET') {
	return new Promise((resolve, reject) => {
		const req = http.request({ host: '127.0.0.1', port: sg.adminPort, path: p, method }, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => resolve({ status: res.statusCode, headers: res.headers,
				body: Buffer.concat(chunks) }));
		});
		req.setTimeout(3000, () => req.destroy(new Error(`GET ${p} timed out`)));
		req.on('error', reject);
		req.end();
	});
}

test('admin.ui_dir: index.html at /, content types, caching, nothing outside the directory', async () => {
	const sg = env.sg;
	const index = await get(sg, '/');
	assert.equal(index.status, 200);
	assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
	assert.equal(index.headers['cache-control'], 'no-cache');
	assert.deepEqual(index.body, fs.readFileSync(path.join(DIST, 'index.html')));
	const js = fs.readdirSync(path.join(DIST, 'js')).find((f) => f.startsWith('app.') && f.endsWith('.js'));
	const asset = await get(sg, `/js/${js}`);
	assert.equal(asset.status, 200);
	assert.equal(asset.headers['content-type'], 'text/javascript; charset=utf-8');
	assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
	assert.deepEqual(asset.body, fs.readFileSync(path.join(DIST, 'js', js)));
	const css = fs.readdirSync(path.join(DIST, 'css'))[0];
	assert.equal((await get(sg, `/css/${css}`)).headers['content-type'], 'text/css; charset=utf-8');
	assert.equal((await get(sg, '/favicon.png')).headers['content-type'], 'image/png');
	for (const p of ['/../siogate.yaml', '/js/../../siogate.yaml', '/js/%2e%2e/index.html',
		'/%2e%2e/siogate.yaml', '/js/..%2findex.html', '/leak.txt', '/.hidden', '/js/', '/nope.html',
		'/js%2fapp.js', '/index.html%00.js']) {
		const r = await get(sg, p);
		assert.equal(r.status, 404, `${p} answered ${r.status}: ${r.body.toString().slice(0, 80)}`);
		assert.ok(!r.body.toString().includes('outside the ui dir'), p);
	}
	assert.equal((await get(sg, '/index.html', 'POST')).status, 404);
	/* the API is still the API */
	assert.equal((await get(sg, '/healthz')).body.toString(), 'ok\n');
});

test('a wrong password or user, or a forged session, is refused with "invalid credentials"', async () => {
	const sg = env.sg;
	for (const auth of [{ username: 'ops', password: 'wrong' }, { username: 'root', password: PASSWORD },
		{}, { sessionId: 'ffffffffff.00000000000000000000000000000000' }]) {
		await assert.rejects(adminConnect(sg, auth), (err) => {
			assert.equal(err.message, 'invalid credentials');
			return true;
		}, JSON.stringify(auth));
	}
	await sg.waitForLog(/warn admin-ui: invalid credentials/);
});

test('login: session, config, server_stats and all_sockets with both workers\' sockets and rooms', async () => {
	const sg = env.sg;
	const clients = await clientsInRooms(sg, 20, 'all');
	const tok = h.token({ sub: 'masked' });
	const secret = await h.connectAuthed(sg.url, {
		token: tok,
		extraHeaders: { authorization: `Bearer ${tok}`, cookie: 'sid=very-secret' },
		query: { token: tok },
	});
	const { socket, events } = await adminConnect(sg, { username: 'ops', password: PASSWORD });
	const [session] = await nextEvent(events, 'session');
	assert.match(session, /^[0-9a-f]+\.[0-9a-f]{32}$/);
	const [config] = await nextEvent(events, 'config');
	assert.deepEqual(config.supportedFeatures.sort(), ['ALL_EVENTS', 'AGGREGATED_EVENTS', 'DISCONNECT',
		'JOIN', 'LEAVE', 'MDISCONNECT', 'MJOIN', 'MLEAVE'].sort());
	const [stats] = await nextEvent(events, 'server_stats');
	assert.equal(stats.serverId, 'gate-a');
	assert.equal(stats.pid, sg.pid);
	assert.equal(typeof stats.hostname, 'string');
	assert.ok(stats.uptime > 0);
	assert.ok(stats.clientsCount >= 22, `clientsCount ${stats.clientsCount}`);
	assert.equal(typeof stats.pollingClientsCount, 'number');
	assert.ok(Array.isArray(stats.aggregatedEvents));
	const nsps = Object.fromEntries(stats.namespaces.map((n) => [n.name, n.socketsCount]));
	assert.ok(nsps['/'] >= 21, JSON.stringify(stats.namespaces));
	assert.equal(nsps['/admin'], 1);

	const [all] = await nextEvent(events, 'all_sockets');
	const byId = new Map(all.map((s) => [s.id, s]));
	for (const [i, c] of clients.entries()) {
		const s = byId.get(c.id);
		assert.ok(s, `client ${i} (${c.id}) in all_sockets`);
		assert.equal(s.nsp, '/');
		assert.ok(s.rooms.includes(c.id) && s.rooms.includes(`team-${i % 3}`), JSON.stringify(s.rooms));
		assert.equal(s.transport, 'websocket');
		assert.equal(s.clientId.length, 12);
		assert.equal(s.handshake.address, '127.0.0.1');
		assert.equal(typeof s.handshake.issued, 'number');
		assert.equal(typeof s.handshake.time, 'string');
		assert.match(s.handshake.url, /^\/socket\.io\/\?EIO=4/);
		assert.equal(s.handshake.query.EIO, '4');
		assert.equal(s.handshake.auth, undefined, 'auth (the token) is not shown');
		assert.deepEqual(s.data, { user: `all-${i}` });
		assert.ok(!s.handshake.url.includes('token='));
	}
	assert.ok(byId.get(socket.id), 'the Admin UI sees its own socket');
	const m = byId.get(secret.id);
	assert.equal(m.handshake.headers.authorization, '[masked]');
	assert.equal(m.handshake.headers.cookie, '[masked]');
	assert.equal(m.handshake.query.token, '[masked]');
	assert.ok(!JSON.stringify(all).includes('very-secret'), 'no cookie anywhere');
	assert.ok(!JSON.stringify(all).includes(tok), 'no token anywhere');

	/* the session id logs in again, without the password (any worker: both know it) */
	for (let i = 0; i < 2; i++) {
		const again = await adminConnect(sg, { sessionId: session });
		await nextEvent(again.events, 'all_sockets');
		assert.equal(again.events.find((e) => e[0] === 'session'), undefined);
		again.socket.close();
	}
	socket.close();
});

test('live: socket_connected, room_joined, room_left, socket_disconnected; join, leave, _disconnect', async () => {
	const sg = env.sg;
	const { socket, events } = await adminConnect(sg, { username: 'ops', password: PASSWORD });
	await nextEvent(events, 'all_sockets');
	/* new clients, on both workers */
	const clients = [];
	for (let i = 0; i < 4; i++)
		clients.push(await h.connectAuthed(sg.url, { claims: { sub: `live-${i}` } }));
	for (const c of clients) {
		const [s, when] = await nextEvent(events, 'socket_connected', (s) => s.id === c.id);
		assert.equal(s.nsp, '/');
		assert.match(when, h.ISO_MS_RE);
	}
	const c = clients[3];
	await c.timeout(3000).emitWithAck('join', { rooms: ['team-x'] });
	const joined = await nextEvent(events, 'room_joined', (nsp, room, id) => id === c.id && room === 'team-x');
	assert.equal(joined[0], '/');
	/* the UI's own requests, for a socket of either worker */
	for (const target of clients.slice(0, 2)) {
		socket.emit('join', '/', 'team-admin', target.id);
		await nextEvent(events, 'room_joined', (nsp, room, id) => id === target.id && room === 'team-admin');
		socket.emit('leave', '/', 'team-admin', target.id);
		await nextEvent(events, 'room_left', (nsp, room, id) => id === target.id && room === 'team-admin');
	}
	/* a request without a room is refused */
	socket.emit('join', '/', '', clients[0].id);
	await sg.waitForLog(/admin-ui: join refused \(bad arguments\)/);
	/* every member of a room at once */
	socket.emit('join', '/', 'team-y', 'team-x');
	await nextEvent(events, 'room_joined', (nsp, room, id) => id === c.id && room === 'team-y');
	for (const target of clients.slice(0, 2)) {
		const tid = target.id; /* the client forgets it once disconnected */
		const gone = h.once(target, 'disconnect');
		socket.emit('_disconnect', '/', false, tid);
		assert.equal(await gone, 'io server disconnect');
		const [nsp, id, reason] = await nextEvent(events, 'socket_disconnected', (nsp, id) => id === tid);
		assert.equal(nsp, '/');
		assert.equal(id, tid);
		assert.equal(reason, 'forced close');
		await nextEvent(events, 'room_left', (nsp, room, id) => id === tid && room === tid);
	}
	/* a client going away by itself */
	const id2 = clients[2].id;
	clients[2].close();
	const [, , reason] = await nextEvent(events, 'socket_disconnected', (nsp, id) => id === id2);
	assert.equal(reason, 'client namespace disconnect');
	const [stats] = await nextEvent(events, 'server_stats', (s) => s.aggregatedEvents.length > 0, 6000);
	const types = new Set(stats.aggregatedEvents.map((e) => e.type));
	assert.ok(types.has('packetsIn') && types.has('bytesOut'), JSON.stringify(stats.aggregatedEvents));
	for (const e of stats.aggregatedEvents) {
		assert.equal(e.timestamp % 1000, 0);
		assert.ok(e.count > 0);
	}
	await sg.waitForLog(/info admin-ui: _disconnect \/ /);
	socket.close();
});

test('polling clients: transport polling, then socket_updated on the upgrade', async () => {
	const sg = env.sg;
	const { socket, events } = await adminConnect(sg, { username: 'ops', password: PASSWORD });
	await nextEvent(events, 'all_sockets');
	const c = await h.connect(sg.url, { transports: ['polling', 'websocket'] });
	const [s] = await nextEvent(events, 'socket_connected', (s) => s.id === c.id);
	assert.equal(s.transport, 'polling');
	const [u] = await nextEvent(events, 'socket_updated', (u) => u.id === c.id);
	assert.deepEqual(u, { id: c.id, nsp: '/', transport: 'websocket' });
	socket.close();
});

test('admin_ui.readonly: no actions in config, and _disconnect / join are refused', async () => {
	const sg = await h.startSiogate({ config: adminUi({ readonly: true }) });
	try {
		const target = await h.connectAuthed(sg.url, { claims: { sub: 'ro' } });
		const { socket, events } = await adminConnect(sg, { username: 'ops', password: PASSWORD });
		const [config] = await nextEvent(events, 'config');
		assert.deepEqual(config.supportedFeatures.sort(), ['AGGREGATED_EVENTS', 'ALL_EVENTS']);
		await nextEvent(events, 'all_sockets');
		socket.emit('_disconnect', '/', true, target.id);
		socket.emit('join', '/', 'team-ro', target.id);
		await sg.waitForLog(/admin-ui: join refused \(admin_ui.readonly\)/);
		await h.nothing(target, 'disconnect', 300, 'readonly');
		assert.ok(target.connected);
		assert.equal(events.find((e) => e[0] === 'room_joined'), undefined);
		socket.close();
		target.close();
	} finally {
		await sg.stop();
	}
});

test('config: enabled without a login, a bad hash, or a namespace that is taken are refused', async () => {
	const cases = [
		[{ admin_ui: { enabled: true } }, /admin_ui: enabled needs username and password_hash/],
		[{ admin_ui: { enabled: true, username: 'a', password_hash: 'plain' } }, /not a bcrypt hash/],
		[{ namespaces: ['/admin'], admin_ui: { enabled: true, username: 'a', password_hash: HASH } },
			/admin_ui.namespace: must start with \/ and not be one of namespaces/],
	];
	for (const [config, re] of cases) {
		const dir = h.makeTempDir('aui');
		const file = path.join(dir, 'siogate.yaml');
		const port = await h.freePort();
		fs.writeFileSync(file, h.yaml(h.mergeConfig(h.defaultConfig({ port, adminPort: await h.freePort() }), config)));
		const r = await h.runSiogate(['--check', '-c', file]);
		assert.notEqual(r.code, 0);
		assert.match(r.stderr + r.stdout, re);
		h.removeDir(dir);
	}
});

test('two instances on one Redis: the Admin UI of one gets both servers\' server_stats', async () => {
	const redis = await h.startRedis();
	const a = await h.startSiogate({ redis, config: { ...adminUi(), server: { id: 'gate-1' } } });
	const b = await h.startSiogate({ redis, config: { ...adminUi(), server: { id: 'gate-2' } } });
	try {
		await h.connectAuthed(b.url, { claims: { sub: 'on-b' } });
		const { socket, events } = await adminConnect(a, { username: 'ops', password: PASSWORD });
		const [mine] = await nextEvent(events, 'server_stats', (s) => s.serverId === 'gate-1');
		assert.equal(mine.pid, a.pid);
		const [other] = await nextEvent(events, 'server_stats', (s) => s.serverId === 'gate-2', 6000);
		assert.equal(other.pid, b.pid);
		assert.ok(other.clientsCount >= 1);
		assert.ok(other.namespaces.some((n) => n.name === '/' && n.socketsCount >= 1));
		socket.close();
	} finally {
		h.closeClients();
		await a.stop();
		await b.stop();
		await redis.stop();
	}
});

test('password guesses are throttled per address like bad tokens (limits.auth_failures_*)', async () => {
	const sg = await h.startSiogate({
		config: { ...adminUi(), limits: { auth_failures_per_minute: 1, auth_failures_burst: 2 } },
	});
	try {
		for (let i = 0; i < 2; i++)
			await assert.rejects(adminConnect(sg, { username: 'ops', password: `guess ${i}` }), /invalid credentials/);
		/* the bucket is empty: even the right password is refused, without a bcrypt */
		await assert.rejects(adminConnect(sg, { username: 'ops', password: PASSWORD }), /invalid credentials/);
		await sg.waitForLog(/warn admin-ui: login throttled/);
	} finally {
		await sg.stop();
	}
});

test('the admin API lists an Admin UI socket as an unauthorized socket of no user', async () => {
	const TOKEN = 'admin-ui-test-token-0123456789';
	const sg = await h.startSiogate({
		config: { ...adminUi(), admin: { ui_dir: uiDir, token_file: 'admin.token' } },
		files: { 'admin.token': TOKEN + '\n' },
	});
	try {
		const c = await h.connectAuthed(sg.url, { claims: { sub: 'listed' } });
		const { socket } = await adminConnect(sg, { username: 'ops', password: PASSWORD });
		const res = await fetch(`http://127.0.0.1:${sg.adminPort}/v1/clients`,
			{ headers: { authorization: `Bearer ${TOKEN}` } });
		assert.equal(res.status, 200);
		const { clients } = await res.json();
		const ui = clients.find((x) => x.id === socket.id);
		assert.ok(ui, JSON.stringify(clients));
		assert.equal(ui.nsp, '/admin');
		assert.equal(ui.state, 'unauthorized');
		assert.equal(ui.user, null);
		assert.equal(clients.find((x) => x.id === c.id).user, 'listed');
		const users = await fetch(`http://127.0.0.1:${sg.adminPort}/v1/users/listed`,
			{ headers: { authorization: `Bearer ${TOKEN}` } });
		assert.equal((await users.json()).sockets, 1);
		socket.close();
		c.close();
	} finally {
		await sg.stop();
	}
});
