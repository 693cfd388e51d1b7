'use strict';
/*
 * verifier.test.js: auth.verifier: http against a real Node.js HTTP verifier started by the test.
 * The verifier gets the seed's IHandshake as JSON with the configured headers; its answers map
 * to the helper flow (accept with user, claims and rooms; refuse with its message; 4xx refuses;
 * 5xx, garbage, timeout and refused connections fail with the seed's failure message); identical
 * verifications in flight are coalesced and accepted verdicts cached; and a slow verifier never
 * delays anyone else.
 */

const assert = require('node:assert/strict');
const { test, describe, before, after } = require('node:test');
const http = require('node:http');
const h = require('./lib/harness');

const FAILED = 'Failed to authenticate connection! Please login again!';
const INVALID = 'Invalid token to authenticate! Please login again!';

/* A verifier whose behaviour each test sets by token: the CONNECT auth.token names a case. */
function startVerifier() {
	const calls = [];
	const server = http.createServer((req, res) => {
		let body = '';
		req.on('data', (d) => { body += d; });
		req.on('end', () => {
			let hs = null;
			try { hs = JSON.parse(body); } catch { /* recorded as null */ }
			calls.push({ headers: req.headers, handshake: hs, url: req.url, method: req.method });
			const token = hs && hs.auth && hs.auth.token || '';
			const [kind, arg] = token.split(':');
			const json = (status, obj) => {
				res.writeHead(status, { 'content-type': 'application/json' });
				res.end(JSON.stringify(obj));
			};
			switch (kind) {
			case 'ok': return json(200, { ok: true, user: arg || 'alice', claims: { org: 'acme' }, rooms: ['vip-granted'] });
			case 'no': return json(200, { ok: false, message: `go away "${arg}"` });
			case 'forbidden': return json(403, { error: 'nope' });
			case 'boom': return json(500, { error: 'internal' });
			case 'garbage': res.writeHead(200); return res.end('<html>not json');
			case 'slow': return setTimeout(() => json(200, { ok: true, user: 'late' }), Number(arg));
			case 'delay': return setTimeout(() => json(200, { ok: true, user: 'delayed' }), Number(arg));
			default: return json(200, { ok: false });
			}
		});
	});
	const conns = { opened: 0 };
	server.on('connection', () => { conns.opened++; });
	return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
		url: `http://127.0.0.1:${server.address().port}/socket/auth`,
		calls,
		conns,
		close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
	})));
}

let verifier;
const ctx = { sg: null, redis: null, emitter: null };

before(async () => {
	verifier = await startVerifier();
	ctx.redis = await h.startRedis();
	ctx.sg = await h.startSiogate({
		redis: ctx.redis,
		config: {
			auth: {
				verifier: 'http',
				http: { url: verifier.url, timeout: '500ms', headers: { 'X-Gateway': 'siogate-test' }, cache_ttl: '0s' },
			},
			rooms: { allow: ['org-{org}-*'] },
			/* these tests refuse many tokens from 127.0.0.1, then authenticate 1,000 clients at
			 * once from it: the failed-authentication throttle (throttle.test.js) stays out */
			limits: { auth_failures_per_minute: 0 },
		},
	});
	ctx.emitter = await h.emitterFor(ctx.redis.url);
});

after(async () => {
	h.closeClients(true);
	if (ctx.emitter) await ctx.emitter.close();
	if (ctx.sg) {
		const exit = await ctx.sg.stop();
		h.assertCleanLog(ctx.sg.log(), exit, 'SIGTERM');
	}
	if (ctx.redis) await ctx.redis.stop();
	if (verifier) await verifier.close();
});

async function connectAs(token, opts = {}) {
	return h.connect(ctx.sg.url, { auth: { token }, ...opts });
}

test('an accepting verifier: authenticated, user and claims kept, its rooms joined, rules use the claims', async () => {
	const s = await connectAs('ok:alice', { query: { q: '1' }, extraHeaders: { 'x-client': 'c1' } });
	const authed = await h.authenticate(s);
	assert.equal(authed.id, s.id);
	const call = verifier.calls.at(-1);
	assert.equal(call.method, 'POST');
	assert.equal(call.headers['x-gateway'], 'siogate-test');
	assert.equal(call.headers['content-type'], 'application/json');
	for (const k of ['headers', 'time', 'address', 'xdomain', 'secure', 'issued', 'url', 'query', 'auth'])
		assert.ok(k in call.handshake, `IHandshake has ${k}`);
	assert.equal(call.handshake.auth.token, 'ok:alice');
	assert.equal(call.handshake.query.q, '1');
	assert.equal(call.handshake.headers['x-client'], 'c1');
	const got = h.once(s, 'granted');
	await ctx.emitter.to('vip-granted').emit('granted', 1);
	assert.equal(await got, 1);
	const ack = await s.timeout(3000).emitWithAck('join', { rooms: ['org-acme-news', 'org-evil-news'] });
	assert.deepEqual(ack, { rooms: ['org-acme-news'], rejected: ['org-evil-news'] });
});

for (const [name, token, message] of [
	['a refusal with a message carries that message', 'no:why', 'go away "why"'],
	['a refusal without a message gets the seed\'s message', 'nothing', INVALID],
	['a 4xx answer refuses', 'forbidden', INVALID],
	['a 5xx answer fails', 'boom', FAILED],
	['an answer that is not JSON fails', 'garbage', FAILED],
	['a verifier slower than auth.http.timeout fails', 'slow:2000', FAILED],
]) {
	test(name, async () => {
		const s = await connectAs(token);
		const unauth = h.once(s, 'unauthenticated');
		const gone = h.once(s, 'disconnect');
		s.emit('authenticate');
		assert.equal((await unauth).message, message);
		assert.equal(await gone, 'io server disconnect');
	});
}

test('a slow verifier delays nobody else: messages keep flowing to an authenticated client', async () => {
	const watcher = await connectAs('ok:watcher');
	await h.authenticate(watcher);
	const slow = [];
	for (let i = 0; i < 20; i++) {
		const s = await connectAs('delay:400');
		s.emit('authenticate');
		slow.push(s);
	}
	const t0 = Date.now();
	const got = h.once(watcher, 'tick');
	await ctx.emitter.to(watcher.id).emit('tick', 1);
	await got;
	assert.ok(Date.now() - t0 < 300, `the watcher waited ${Date.now() - t0} ms`);
});

test('identical verifications in flight are coalesced into one call', async () => {
	const before0 = verifier.calls.filter((c) => c.handshake.auth.token === 'delay:300').length;
	const clients = await Promise.all(Array.from({ length: 20 }, () => connectAs('delay:300')));
	const results = await Promise.all(clients.map((s) => h.authenticate(s)));
	assert.equal(results.length, 20);
	const calls = verifier.calls.filter((c) => c.handshake.auth.token === 'delay:300').length - before0;
	assert.ok(calls >= 1 && calls <= 2, `${calls} verifier calls for 20 identical verifications`);
});

describe('1,000 clients at once', () => {
	let sg;
	before(async () => {
		sg = await h.startSiogate({
			redis: ctx.redis,
			config: { auth: { verifier: 'http', http: { url: verifier.url, timeout: '5s' } } },
		});
	});
	after(async () => { h.closeClients(true); if (sg) await sg.stop(); });

	test('1,000 clients authenticating at once against a 200 ms verifier, while another client keeps receiving', async () => {
		const watcher = await h.connect(sg.url, { auth: { token: 'ok:watcher2' } });
		await h.authenticate(watcher);
		let ticks = 0;
		watcher.on('tick2', () => { ticks++; });
		const timer = setInterval(() => ctx.emitter.to(watcher.id).emit('tick2'), 50);
		const n0 = verifier.calls.length;
		const c0 = verifier.conns.opened;
		try {
			/* distinct tokens: 1,000 real verifier calls, auth.http.max_in_flight at a time */
			const clients = await Promise.all(Array.from({ length: 1000 }, (_, i) =>
				h.connect(sg.url, { auth: { token: `delay:200:${i}` } })));
			const done = await Promise.all(clients.map((s) => h.authenticate(s, {}, 30000).then(() => 1)));
			assert.equal(done.length, 1000);
		} finally {
			clearInterval(timer);
		}
		assert.equal(verifier.calls.length - n0, 1000);
		/* kept alive: at most auth.http.max_in_flight (256) connections per worker for 1,000 calls */
		const opened = verifier.conns.opened - c0;
		console.log(`# 1,000 verifications over ${opened} connections (${sg.workers} workers)`);
		assert.ok(opened <= 256 * sg.workers, `${opened} connections opened`);
		assert.ok(ticks >= 3, `the watcher got ${ticks} messages meanwhile`);
		assert.ok(watcher.connected);
	});
});

describe('a proxy from the environment (http_proxy), as libcurl reads it', () => {
	let sg;
	let proxy;
	const seen = [];
	before(async () => {
		/* a forward proxy: absolute-form requests, passed on to their target */
		proxy = http.createServer((req, res) => {
			seen.push(req.url);
			const up = http.request(req.url, { method: req.method, headers: req.headers }, (ur) => {
				res.writeHead(ur.statusCode, ur.headers);
				ur.pipe(res);
			});
			up.on('error', () => { res.writeHead(502); res.end(); });
			req.pipe(up);
		});
		await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
		sg = await h.startSiogate({
			env: { http_proxy: `http://127.0.0.1:${proxy.address().port}`, no_proxy: '' },
			config: { auth: { verifier: 'http', http: { url: verifier.url, timeout: '2s' } } },
		});
	});
	after(async () => {
		h.closeClients(true);
		if (sg) await sg.stop();
		if (proxy) { proxy.closeAllConnections(); await new Promise((r) => proxy.close(r)); }
	});
	test('the verifier is called through the proxy', async () => {
		const s = await h.connect(sg.url, { auth: { token: 'ok:proxied' } });
		const ok = await h.authenticate(s);
		assert.ok(ok);
		assert.ok(seen.includes(verifier.url), `the proxy saw ${JSON.stringify(seen)}`);
	});
});

describe('a verifier that refuses connections', () => {
	let sg;
	before(async () => {
		const port = await h.freePort();
		sg = await h.startSiogate({
			config: { auth: { verifier: 'http', http: { url: `http://127.0.0.1:${port}/auth`, timeout: '1s' } } },
		});
	});
	after(async () => { if (sg) await sg.stop(); });
	test('every client gets the seed\'s failure message', async () => {
		const s = await h.connect(sg.url, { auth: { token: 'x' } });
		const unauth = h.once(s, 'unauthenticated');
		s.emit('authenticate');
		assert.equal((await unauth).message, FAILED);
	});
});

describe('auth.http.cache_ttl', () => {
	let sg;
	before(async () => {
		sg = await h.startSiogate({
			// one worker: each worker keeps its own cache (README, siogate.yaml(5))
			config: {
				server: { workers: 1 },
				auth: { verifier: 'http', http: { url: verifier.url, cache_ttl: '10s' } },
			},
		});
	});
	after(async () => { if (sg) await sg.stop(); });
	test('an accepted verdict is reused for the same token within the TTL', async () => {
		const n0 = verifier.calls.filter((c) => c.handshake.auth.token === 'ok:cached').length;
		for (let i = 0; i < 3; i++) {
			const s = await h.connect(sg.url, { auth: { token: 'ok:cached' } });
			await h.authenticate(s);
			s.disconnect();
		}
		const n = verifier.calls.filter((c) => c.handshake.auth.token === 'ok:cached').length - n0;
		assert.equal(n, 1);
	});
});
