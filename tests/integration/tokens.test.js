'use strict';
/*
 * tokens.test.js: tokens that live as long as they should (SPEC section 9).
 *
 * auth.mode: connect, against the unchanged client code of a typical io.use() application,
 * compared with a real Node socket.io server whose io.use() middleware refuses the same way:
 * connect_error's message and socket.active, on WebSocket, polling and the upgrade.  Expiry
 * while connected: token:expiring auth.refresh_window before exp, a refresh by emitting
 * authenticate {token} (authenticated again, rooms re-checked against the new claims), and the
 * end at exp + leeway without one, for 500 clients with staggered exp.  Refreshes refused (a bad
 * token, another user).  The same under the HTTP verifier, whose answer's exp / expires_in
 * sets the deadline.
 */

const assert = require('node:assert/strict');
const { test, describe, before, after } = require('node:test');
const http = require('node:http');
const { Server } = require('socket.io');
const { io: ioClient } = require('socket.io-client');
const h = require('./lib/harness');

const INVALID = h.MSG_INVALID_TOKEN;
const FAILED = 'Failed to authenticate connection! Please login again!';

const nowS = () => Math.floor(Date.now() / 1000);

/*
 * The client side of a typical io.use() application, unchanged: io(url, {auth: {token}}), then
 * either connect or connect_error.  Resolves what the application would see.
 */
function appClient(url, token, transports) {
	const socket = ioClient(url, {
		auth: { token },
		reconnection: false,
		forceNew: true,
		timeout: 5000,
		...(transports ? { transports } : {}),
	});
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => {
			socket.close();
			reject(new Error('neither connect nor connect_error within 5 s'));
		}, 5000);
		const events = [];
		socket.onAny((ev, arg) => events.push([ev, arg]));
		socket.on('connect', () => {
			clearTimeout(timer);
			resolve({ socket, connected: true, events });
		});
		socket.on('connect_error', (err) => {
			clearTimeout(timer);
			resolve({ socket, connected: false, message: err.message, data: err.data, active: socket.active, events });
		});
	});
}

/* A Node socket.io server with the io.use() JWT middleware such an application has. */
function startNodeApp(check) {
	const server = http.createServer();
	const io = new Server(server);
	io.use((socket, next) => {
		const ok = check(socket.handshake.auth && socket.handshake.auth.token);
		if (ok) return next();
		return next(new Error(INVALID));
	});
	return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
		url: `http://127.0.0.1:${server.address().port}`,
		close: () => new Promise((r) => { io.close(); server.closeAllConnections(); server.close(r); }),
	})));
}

describe('auth.mode: connect with the JWT verifier', () => {
	const env = h.useSiogate({ before, after }, {
		redis: true,
		config: {
			auth: { mode: 'connect' },
			rooms: { allow: ['public-*'], default: ['io-everyone'] },
		},
	});
	let node;
	before(async () => {
		node = await startNodeApp((t) => t === 'good');
	});
	after(async () => {
		h.closeClients(true);
		if (node) await node.close();
	});

	for (const [name, transports] of [['websocket', ['websocket']], ['polling', ['polling']],
		['polling then upgrade', undefined]]) {
		test(`an io.use() client is connected and authenticated at once (${name})`, async () => {
			await env.starting;
			const r = await appClient(env.sg.url, h.token({ sub: 'alice' }), transports);
			try {
				assert.equal(r.connected, true, `connect_error: ${r.message}`);
				const authed = r.events.find(([ev]) => ev === 'authenticated') ||
					[null, await h.onceArgs(r.socket, 'authenticated').then((a) => a[0])];
				assert.equal(authed[1].id, r.socket.id);
				assert.match(authed[1].time, h.ISO_MS_RE);
				/* it is authenticated: a default room reaches it, and it may join */
				const ack = await r.socket.timeout(3000).emitWithAck('join', { rooms: ['public-a'] });
				assert.deepEqual(ack.rooms, ['public-a']);
				const got = h.onceArgs(r.socket, 'news');
				env.emitter.to('public-a').emit('news', { n: 1 });
				assert.deepEqual((await got)[0], { n: 1 });
				if (!transports) {
					/* the upgrade happens under the authenticated socket */
					for (let i = 0; i < 30 && r.socket.io.engine.transport.name !== 'websocket'; i++)
						await h.delay(100);
					assert.equal(r.socket.io.engine.transport.name, 'websocket');
					const again = h.onceArgs(r.socket, 'news');
					env.emitter.to('public-a').emit('news', { n: 2 });
					assert.deepEqual((await again)[0], { n: 2 });
				}
			} finally {
				r.socket.close();
			}
		});
	}

	test('a refused token is a connect_error with the seed message, as from a Node io.use() app', async () => {
		await env.starting;
		for (const transports of [['websocket'], ['polling']]) {
			const fromNode = await appClient(node.url, 'bad', transports);
			const fromSiogate = await appClient(env.sg.url, 'not-a-jwt', transports);
			fromNode.socket.close();
			fromSiogate.socket.close();
			assert.equal(fromNode.connected, false);
			assert.equal(fromSiogate.connected, false);
			assert.equal(fromSiogate.message, INVALID);
			assert.equal(fromSiogate.message, fromNode.message);
			assert.equal(fromSiogate.active, fromNode.active, 'socket.active as with a Node server');
			assert.deepEqual(fromSiogate.events, [], 'nothing but the connect_error');
		}
	});

	test('no token, an expired token, a wrong secret: connect_error, never connected', async () => {
		await env.starting;
		const cases = [
			undefined,
			h.token({ sub: 'a', exp: nowS() - 3600 }),
			h.token({ sub: 'a' }, { secret: 'another-secret-of-enough-length-0123456789' }),
		];
		for (const t of cases) {
			const r = await appClient(env.sg.url, t, ['websocket']);
			r.socket.close();
			assert.equal(r.connected, false);
			assert.equal(r.message, INVALID);
		}
	});

	test('the application\'s retry after connect_error (socket.connect() with a new token) works', async () => {
		await env.starting;
		const r = await appClient(env.sg.url, 'expired-or-garbage', ['websocket']);
		assert.equal(r.connected, false);
		/* what io.use() apps do: fix the auth and call connect() again */
		r.socket.auth = { token: h.token({ sub: 'bob' }) };
		const authed = h.onceArgs(r.socket, 'authenticated');
		r.socket.connect();
		await h.once(r.socket, 'connect');
		assert.equal((await authed)[0].id, r.socket.id);
		r.socket.close();
	});
});

describe('token lifetime: token:expiring, refresh, expiry', () => {
	const LEEWAY_S = 1;
	const env = h.useSiogate({ before, after }, {
		redis: true,
		config: {
			auth: { refresh_window: '2s', jwt: { leeway: `${LEEWAY_S}s` } },
			rooms: { allow: ['org-{org}-*', 'public-*'] },
			limits: { auth_failures_per_minute: 0 },
		},
	});
	after(() => h.closeClients(true));

	test('500 clients with staggered exp: each warned, the refreshed stay, the others end at exp + leeway', async () => {
		await env.starting;
		const N = 500;
		/* the first warning (exp - 2 s) comes after the 500 are connected */
		const base = nowS() + 8;
		const clients = [];
		for (let i = 0; i < N; i += 50) {
			const batch = [];
			for (let k = i; k < i + 50; k++) {
				const exp = base + (k % 4); /* four exp seconds, 8 to 11 s from now */
				batch.push(h.connectAuthed(env.sg.url, { token: h.token({ sub: `u${k}`, exp }) })
					.then((socket) => ({ socket, exp, k, warned: null, end: null })));
			}
			clients.push(...await Promise.all(batch));
		}
		const refreshed = (c) => c.k % 2 === 0;
		for (const c of clients) {
			c.socket.on('token:expiring', (p) => {
				c.warned = { p, at: Date.now() };
				if (refreshed(c))
					c.socket.emit('authenticate', { token: h.token({ sub: `u${c.k}`, exp: nowS() + 3600 }) });
			});
			c.socket.on('unauthenticated', (p) => { c.end = { p, at: Date.now() }; });
			c.socket.on('disconnect', (reason) => { c.reason = reason; });
		}
		/* the last exp is base + 3; its end comes by base + 3 + leeway + 1 s */
		const deadline = Date.now() + ((base + 3 + LEEWAY_S + 2) * 1000 - Date.now());
		while (Date.now() < deadline && clients.some((c) => !refreshed(c) && c.reason === undefined))
			await h.delay(100);
		for (const c of clients) {
			assert.ok(c.warned, `client ${c.k} got token:expiring`);
			assert.deepEqual(c.warned.p, { exp: c.exp });
			assert.ok(c.warned.at >= (c.exp - 2) * 1000 - 1000, `client ${c.k} warned no earlier than the window`);
			if (refreshed(c)) {
				assert.equal(c.end, null, `refreshed client ${c.k} stays`);
				assert.ok(c.socket.connected, `refreshed client ${c.k} is connected`);
			} else {
				assert.ok(c.end, `client ${c.k} heard unauthenticated`);
				assert.equal(c.end.p.message, INVALID);
				assert.equal(c.reason, 'io server disconnect');
				assert.ok(c.end.at >= (c.exp + LEEWAY_S) * 1000 - 300,
					`client ${c.k} ended ${(c.exp + LEEWAY_S) * 1000 - c.end.at} ms before exp + leeway`);
				assert.ok(c.end.at <= (c.exp + LEEWAY_S + 1) * 1000 + 500,
					`client ${c.k} ended ${c.end.at - (c.exp + LEEWAY_S) * 1000} ms after exp + leeway`);
			}
		}
		/* the refreshed ones still receive broadcasts */
		const alive = clients.filter(refreshed).slice(0, 5);
		const got = alive.map((c) => h.onceArgs(c.socket, 'still'));
		env.emitter.emit('still', 1);
		await Promise.all(got);
		for (const c of clients) c.socket.close();
	});

	test('a refresh answers authenticated again; rooms the new claims no longer allow are left', async () => {
		await env.starting;
		const s = await h.connectAuthed(env.sg.url, { claims: { sub: 'carol', org: 'a' } });
		const ack = await s.timeout(3000).emitWithAck('join', { rooms: ['org-a-x', 'public-1'] });
		assert.deepEqual(ack.rooms, ['org-a-x', 'public-1']);
		const again = await h.authenticate(s, { token: h.token({ sub: 'carol', org: 'b' }) });
		assert.equal(again.id, s.id);
		assert.match(again.time, h.ISO_MS_RE);
		/* org-a-x is no longer allowed: left; public-1 stays */
		const pub = h.onceArgs(s, 'p');
		env.emitter.to('org-a-x').emit('o', 1);
		env.emitter.to('public-1').emit('p', 2);
		assert.deepEqual(await pub, [2]);
		await h.nothing(s, 'o', 300);
		/* the new claims allow org-b-* */
		const ack2 = await s.timeout(3000).emitWithAck('join', { rooms: ['org-b-y', 'org-a-x'] });
		assert.deepEqual(ack2.rooms, ['org-b-y']);
		assert.ok(s.connected);
	});

	test('a refresh with a bad token, or another user\'s, is unauthenticated and a disconnect', async () => {
		await env.starting;
		for (const t of ['garbage', h.token({ sub: 'mallory' }), h.token({ sub: 'dave', exp: nowS() - 3600 })]) {
			const s = await h.connectAuthed(env.sg.url, { claims: { sub: 'dave' } });
			const un = h.onceArgs(s, 'unauthenticated');
			const gone = h.onceArgs(s, 'disconnect');
			s.emit('authenticate', { token: t });
			assert.equal((await un)[0].message, INVALID);
			assert.equal((await gone)[0], 'io server disconnect');
		}
	});

	test('authenticate without a token while authenticated is ignored, as the seed did', async () => {
		await env.starting;
		const s = await h.connectAuthed(env.sg.url, { claims: { sub: 'erin' } });
		s.emit('authenticate', {});
		await h.nothing(s, 'unauthenticated', 300);
		await h.nothing(s, 'authenticated', 1);
		assert.ok(s.connected);
	});

	test('a token without exp never expires (no warning)', async () => {
		await env.starting;
		const s = await h.connectAuthed(env.sg.url, { token: h.token({ sub: 'frank' }, { expiresIn: null }) });
		await h.nothing(s, 'token:expiring', 500);
		assert.ok(s.connected);
	});
});

describe('token lifetime under the HTTP verifier, and auth.mode: connect', () => {
	const calls = [];
	let verifier;
	const ctx = { sg: null };
	before(async () => {
		verifier = http.createServer((req, res) => {
			let body = '';
			req.on('data', (d) => { body += d; });
			req.on('end', () => {
				const hs = JSON.parse(body);
				calls.push(hs);
				const [kind, user, arg] = String(hs.auth && hs.auth.token || '').split(':');
				res.writeHead(200, { 'content-type': 'application/json' });
				if (kind === 'exp')
					return res.end(JSON.stringify({ ok: true, user, exp: nowS() + Number(arg) }));
				if (kind === 'in')
					return res.end(JSON.stringify({ ok: true, user, expires_in: Number(arg) }));
				return res.end(JSON.stringify({ ok: false, message: `no entry for ${kind}` }));
			});
		});
		await new Promise((r) => verifier.listen(0, '127.0.0.1', r));
		ctx.sg = await h.startSiogate({
			config: {
				auth: {
					mode: 'connect',
					verifier: 'http',
					refresh_window: '1s',
					http: { url: `http://127.0.0.1:${verifier.address().port}/v`, timeout: '2s' },
					jwt: { leeway: '0s' },
				},
				limits: { auth_failures_per_minute: 0 },
			},
		});
	});
	after(async () => {
		h.closeClients(true);
		if (ctx.sg) {
			const exit = await ctx.sg.stop();
			h.assertCleanLog(ctx.sg.log(), exit, 'SIGTERM');
		}
		if (verifier) await new Promise((r) => { verifier.closeAllConnections(); verifier.close(r); });
	});

	test('the verifier\'s refusal message is the connect_error message', async () => {
		const r = await appClient(ctx.sg.url, 'nope', ['websocket']);
		r.socket.close();
		assert.equal(r.connected, false);
		assert.equal(r.message, 'no entry for nope');
	});

	test('expires_in from the verifier: warned, refreshed through the verifier, then ended', async () => {
		const r = await appClient(ctx.sg.url, 'in:gina:2', ['websocket']);
		assert.equal(r.connected, true, r.message);
		const s = r.socket;
		const warn = await h.onceArgs(s, 'token:expiring', 3000);
		assert.equal(typeof warn[0].exp, 'number');
		/* refresh: the verifier sees the new token as the handshake's auth */
		const again = await h.authenticate(s, { token: 'exp:gina:2' });
		assert.equal(again.id, s.id);
		assert.deepEqual(calls.at(-1).auth, { token: 'exp:gina:2' });
		/* no second refresh: the end comes */
		const un = await h.onceArgs(s, 'unauthenticated', 5000);
		assert.equal(un[0].message, INVALID);
		await h.once(s, 'disconnect', 2000).catch(() => {});
		assert.equal(s.connected, false);
		s.close();
	});

	test('a refresh the verifier refuses ends the client', async () => {
		const r = await appClient(ctx.sg.url, 'in:hank:3600', ['websocket']);
		assert.equal(r.connected, true, r.message);
		const un = h.onceArgs(r.socket, 'unauthenticated');
		r.socket.emit('authenticate', { token: 'revoked' });
		assert.equal((await un)[0].message, 'no entry for revoked');
		r.socket.close();
	});

	test('a verifier that is down: connect_error with the seed\'s failure message', async () => {
		/* a second siogate whose verifier URL refuses connections */
		const port = await h.freePort();
		const sg2 = await h.startSiogate({
			config: {
				auth: { mode: 'connect', verifier: 'http', http: { url: `http://127.0.0.1:${port}/v`, timeout: '1s' } },
				limits: { auth_failures_per_minute: 0 },
			},
		});
		try {
			const r = await appClient(sg2.url, 'in:x:10', ['websocket']);
			r.socket.close();
			assert.equal(r.connected, false);
			assert.equal(r.message, FAILED);
		} finally {
			h.closeClients();
			await sg2.stop();
		}
	});
});
