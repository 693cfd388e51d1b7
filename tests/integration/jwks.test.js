'use strict';
/*
 * jwks.test.js: keys from the issuer (auth.jwt.jwks_url, OIDC discovery; SPEC section 9) against
 * a real HTTPS identity provider started by the test (Node https, with a CA and a server
 * certificate made by openssl here): the set is fetched at start; a key rotated in at the issuer
 * is fetched once when a token names its kid (not once per client), and old-kid tokens work until
 * a fetch no longer has them; a storm of tokens with bogus kids costs at most one fetch per
 * auth.jwt.jwks_min_refresh; Cache-Control max-age drives the background refresh; /metrics and
 * /readyz show the set's size, age and failures; the start fails clearly when the issuer cannot be
 * reached (or its certificate is not trusted) unless a cached copy (jwks_file) is configured;
 * discovery from an https issuer; `siogate token --verify` fetches the keys too.
 */

const assert = require('node:assert/strict');
const { test, describe, before, after } = require('node:test');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http2 = require('node:http2');
const https = require('node:https');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const jwt = require('jsonwebtoken');
const { io: ioClient } = require('socket.io-client');
const h = require('./lib/harness');

const INVALID = h.MSG_INVALID_TOKEN;
const dir = h.makeTempDir('jwks');

/* A CA, and a certificate for 127.0.0.1 that it signs. */
function makePki() {
	const f = (n) => path.join(dir, n);
	const run = (args) => execFileSync('openssl', args, { stdio: 'ignore' });
	run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
		'-subj', '/CN=siogate test CA', '-keyout', f('ca.key'), '-out', f('ca.crt')]);
	run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=127.0.0.1',
		'-keyout', f('idp.key'), '-out', f('idp.csr')]);
	fs.writeFileSync(f('idp.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
	run(['x509', '-req', '-in', f('idp.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial',
		'-days', '2', '-extfile', f('idp.ext'), '-out', f('idp.crt')]);
	return { ca: f('ca.crt'), key: fs.readFileSync(f('idp.key')), cert: fs.readFileSync(f('idp.crt')) };
}

function makeKey(kid) {
	const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
	const jwk = { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'ES256' };
	return { kid, privateKey, jwk };
}

function sign(key, claims = {}, kid = key.kid) {
	return jwt.sign({ sub: 'alice', ...claims }, key.privateKey, { algorithm: 'ES256', keyid: kid, expiresIn: '1h' });
}

/* The identity provider: its JWK set can change; it counts requests per path. */
async function startIdp(pki) {
	const idp = { keys: [], maxAge: null, hits: { jwks: 0, discovery: 0 }, url: null };
	idp.server = https.createServer({ key: pki.key, cert: pki.cert }, (req, res) => {
		if (req.url === '/.well-known/openid-configuration') {
			idp.hits.discovery++;
			res.writeHead(200, { 'content-type': 'application/json' });
			return res.end(JSON.stringify({ issuer: idp.url, jwks_uri: `${idp.url}/keys` }));
		}
		if (req.url === '/keys') {
			idp.hits.jwks++;
			const headers = { 'content-type': 'application/json' };
			if (idp.maxAge !== null) headers['cache-control'] = `public, max-age=${idp.maxAge}`;
			res.writeHead(200, headers);
			return res.end(JSON.stringify({ keys: idp.keys.map((k) => k.jwk) }));
		}
		res.writeHead(404);
		res.end();
	});
	await new Promise((r) => idp.server.listen(0, '127.0.0.1', r));
	idp.url = `https://127.0.0.1:${idp.server.address().port}`;
	idp.close = () => new Promise((r) => { idp.server.closeAllConnections(); idp.server.close(r); });
	return idp;
}

/* What an io.use() client sees with auth.mode: connect. */
function tryConnect(url, token) {
	const socket = ioClient(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
	return new Promise((resolve) => {
		const timer = setTimeout(() => { socket.close(); resolve({ ok: false, message: 'timeout' }); }, 15000);
		socket.on('connect', () => { clearTimeout(timer); socket.close(); resolve({ ok: true }); });
		socket.on('connect_error', (e) => { clearTimeout(timer); socket.close(); resolve({ ok: false, message: e.message }); });
	});
}

async function metric(sg, name) {
	const res = await h.httpRequest(`http://127.0.0.1:${sg.adminPort}/metrics`);
	const line = res.body.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{') && l.includes(name));
	return line === undefined ? undefined : Number(line.split(' ').pop());
}

async function metricLabelled(sg, name, labels) {
	const res = await h.httpRequest(`http://127.0.0.1:${sg.adminPort}/metrics`);
	const line = res.body.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
	return line === undefined ? undefined : Number(line.split(' ').pop());
}

let pki;
let idp;
before(async () => {
	pki = makePki();
	idp = await startIdp(pki);
});
after(async () => {
	h.closeClients(true);
	if (idp) await idp.close();
	h.removeDir(dir);
});

function jwtConfig(extra = {}) {
	return {
		auth: {
			mode: 'connect',
			jwt: { algorithms: ['ES256'], jwks_url: `${idp.url}/keys`, ca_file: pki.ca, jwks_min_refresh: '1s', ...extra },
		},
		limits: { auth_failures_per_minute: 0 },
	};
}

describe('keys from jwks_url', () => {
	const k1 = makeKey('k1');
	const k2 = makeKey('k2');
	let sg;
	before(async () => {
		idp.keys = [k1];
		idp.maxAge = 3600;
		idp.hits.jwks = 0;
		sg = await h.startSiogate({ config: jwtConfig() });
	});
	after(async () => {
		h.closeClients(true);
		if (sg) {
			const exit = await sg.stop();
			h.assertCleanLog(sg.log(), exit, 'SIGTERM');
		}
	});

	test('fetched at start: a k1 token is accepted; metrics and readiness show the set', async () => {
		assert.equal(idp.hits.jwks, 1);
		assert.deepEqual(await tryConnect(sg.url, sign(k1)), { ok: true });
		assert.equal(await metric(sg, 'siogate_jwks_keys'), 1);
		assert.equal(await metricLabelled(sg, 'siogate_jwks_fetches_total', 'outcome="ok"'), 1);
		assert.equal(await metricLabelled(sg, 'siogate_jwks_fetches_total', 'outcome="error"'), 0);
		const age = await metric(sg, 'siogate_jwks_age_seconds');
		assert.ok(age >= 0 && age < 60, `age ${age}`);
		const ready = await h.httpRequest(`http://127.0.0.1:${sg.adminPort}/readyz`);
		assert.equal(ready.status, 200);
		assert.match(ready.body, /^ready\nkeys: 1 from the issuer, fetched \d+s ago, 0 failed fetches\n$/);
	});

	test('a key rotated in is fetched once for many clients; old-kid tokens work until a fetch drops them', async () => {
		idp.keys = [k1, k2];
		const before = idp.hits.jwks;
		/* 50 clients with the new kid at once: one fetch serves them all */
		const results = await Promise.all(Array.from({ length: 50 }, (_, i) => tryConnect(sg.url, sign(k2, { sub: `n${i}` }))));
		assert.deepEqual(results.filter((r) => !r.ok), []);
		assert.equal(idp.hits.jwks - before, 1, 'one fetch for the new kid');
		assert.deepEqual(await tryConnect(sg.url, sign(k1)), { ok: true }, 'the old kid still works');
		assert.equal(await metric(sg, 'siogate_jwks_keys'), 2);
		/* the issuer drops k1; the next fetch (asked by an unknown kid, after jwks_min_refresh) drops it too */
		idp.keys = [k2];
		await h.delay(1100);
		const bogus = makeKey('bogus');
		const r = await tryConnect(sg.url, sign(bogus));
		assert.deepEqual(r, { ok: false, message: INVALID });
		assert.deepEqual(await tryConnect(sg.url, sign(k1)), { ok: false, message: INVALID });
		assert.deepEqual(await tryConnect(sg.url, sign(k2)), { ok: true });
	});

	test('1,000 tokens with bogus kids cause at most one fetch per jwks_min_refresh', async () => {
		await h.delay(1100);
		const before = idp.hits.jwks;
		const started = Date.now();
		const results = [];
		for (let i = 0; i < 1000; i += 100) {
			results.push(...await Promise.all(Array.from({ length: 100 }, (_, k) =>
				tryConnect(sg.url, sign(k2, {}, `bogus-${i + k}`)))));
		}
		const seconds = (Date.now() - started) / 1000;
		assert.equal(results.length, 1000);
		assert.deepEqual(results.filter((r) => r.ok || r.message !== INVALID), []);
		const fetches = idp.hits.jwks - before;
		assert.ok(fetches >= 1, 'an unknown kid asks for a fetch');
		assert.ok(fetches <= Math.ceil(seconds / 1) + 1,
			`${fetches} fetches in ${seconds.toFixed(1)} s with jwks_min_refresh 1s`);
		/* the clients with good tokens were never disturbed */
		assert.deepEqual(await tryConnect(sg.url, sign(k2)), { ok: true });
	});

	test('a refresh (authenticate {token}) with a new kid waits for the fetch too', async () => {
		const k3 = makeKey('k3');
		const s = await h.connect(sg.url, { auth: { token: sign(k2) } });
		await h.delay(1100);
		idp.keys = [k2, k3];
		/* the fetch may take a while on a loaded machine: the wait is bounded by 10 s */
		const again = await h.authenticate(s, { token: sign(k3) }, 12000);
		assert.equal(again.id, s.id);
	});
});

describe('Cache-Control max-age drives the background refresh', () => {
	const k1 = makeKey('m1');
	let sg;
	before(async () => {
		idp.keys = [k1];
		idp.maxAge = 1;
		sg = await h.startSiogate({ config: jwtConfig() });
	});
	after(async () => {
		idp.maxAge = 3600;
		if (sg) {
			const exit = await sg.stop();
			h.assertCleanLog(sg.log(), exit, 'SIGTERM');
		}
	});

	test('with max-age=1 and no client, the set is fetched again within a few seconds', async () => {
		const before = await metricLabelled(sg, 'siogate_jwks_fetches_total', 'outcome="ok"');
		const k2 = makeKey('m2');
		idp.keys = [k2];
		let now = before;
		for (let i = 0; i < 50 && now < before + 2; i++) {
			await h.delay(100);
			now = await metricLabelled(sg, 'siogate_jwks_fetches_total', 'outcome="ok"');
		}
		assert.ok(now >= before + 2, `fetches went from ${before} to ${now}`);
		/* the rotated set is in use without any unknown-kid fetch */
		assert.deepEqual(await tryConnect(sg.url, sign(k2)), { ok: true });
		assert.deepEqual(await tryConnect(sg.url, sign(k1)), { ok: false, message: INVALID });
	});

	test('an issuer that goes away: the set in use is kept, failures are counted', async () => {
		const k = idp.keys[0];
		const saved = idp.server.listeners('request')[0];
		idp.server.removeAllListeners('request');
		idp.server.on('request', (req, res) => { res.writeHead(503); res.end(); });
		try {
			let errors = 0;
			for (let i = 0; i < 50 && errors < 1; i++) {
				await h.delay(100);
				errors = await metricLabelled(sg, 'siogate_jwks_fetches_total', 'outcome="error"');
			}
			assert.ok(errors >= 1, 'a failed fetch is counted');
			assert.deepEqual(await tryConnect(sg.url, sign(k)), { ok: true });
			const ready = await h.httpRequest(`http://127.0.0.1:${sg.adminPort}/readyz`);
			assert.equal(ready.status, 200);
			assert.match(ready.body, /keys: 1 from the issuer, fetched \d+s ago, [1-9]\d* failed fetches/);
		} finally {
			idp.server.removeAllListeners('request');
			idp.server.on('request', saved);
		}
		await sg.waitForLog(/HTTP status 503; keeping the key set in use/, 5000);
		assert.match(sg.log(), /auth\.jwt\.jwks_url https:\/\/127\.0\.0\.1:\d+\/keys: HTTP status 503; keeping the key set in use/);
	});
});

describe('an HTTP/2-only issuer (the outbound client is libcurl)', () => {
	const k = makeKey('h2');
	let server;
	let versions = [];
	before(async () => {
		server = http2.createSecureServer({ key: pki.key, cert: pki.cert, allowHTTP1: false }, (req, res) => {
			versions.push(req.httpVersion);
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end(JSON.stringify({ keys: [k.jwk] }));
		});
		await new Promise((r) => server.listen(0, '127.0.0.1', r));
	});
	after(async () => {
		h.closeClients(true);
		await new Promise((r) => server.close(r));
	});

	test('the key set is fetched over HTTP/2 and its keys verify tokens', async () => {
		versions = [];
		const url = `https://127.0.0.1:${server.address().port}/keys`;
		const sg = await h.startSiogate({
			config: { auth: { mode: 'connect', jwt: { algorithms: ['ES256'], jwks_url: url, ca_file: pki.ca } } },
		});
		try {
			assert.deepEqual(await tryConnect(sg.url, sign(k)), { ok: true });
			assert.ok(versions.length >= 1);
			assert.ok(versions.every((v) => v === '2.0'), `HTTP versions seen: ${versions}`);
		} finally {
			h.closeClients(true);
			await sg.stop();
		}
	});
});

describe('OIDC discovery from an https issuer', () => {
	const k1 = makeKey('d1');
	let sg;
	before(async () => {
		idp.keys = [k1];
		idp.hits.discovery = 0;
		sg = await h.startSiogate({
			config: {
				auth: { mode: 'connect', jwt: { algorithms: ['ES256'], issuer: idp.url, ca_file: pki.ca } },
				limits: { auth_failures_per_minute: 0 },
			},
		});
	});
	after(async () => {
		if (sg) {
			const exit = await sg.stop();
			h.assertCleanLog(sg.log(), exit, 'SIGTERM');
		}
	});

	test('the jwks_uri of the discovery document is used; iss is checked', async () => {
		assert.equal(idp.hits.discovery, 1);
		assert.match(sg.log(), /the issuer's keys are at https:\/\/127\.0\.0\.1:\d+\/keys \(OIDC discovery\)/);
		assert.deepEqual(await tryConnect(sg.url, sign(k1, { iss: idp.url })), { ok: true });
		assert.deepEqual(await tryConnect(sg.url, sign(k1, { iss: 'https://evil.example' })), { ok: false, message: INVALID });
	});
});

describe('the start, when the issuer cannot be reached', () => {
	function writeConfig(name, over) {
		const cfg = h.mergeConfig(h.defaultConfig({ port: 1, adminPort: 2 }), over);
		cfg.admin = { listen: null };
		const file = path.join(dir, name);
		fs.writeFileSync(file, h.yaml(cfg));
		return file;
	}

	test('unreachable and no cached copy: siogate does not start, and says why', async () => {
		const port = await h.freePort();
		const file = writeConfig('down.yaml', { auth: { jwt: { algorithms: ['ES256'], jwks_url: `https://127.0.0.1:${port}/keys`, ca_file: pki.ca } } });
		const r = await h.runSiogate(['-c', file], { timeoutMs: 20000 });
		assert.notEqual(r.code, 0);
		assert.match(r.stdout + r.stderr, new RegExp(`auth\\.jwt\\.jwks_url https://127\\.0\\.0\\.1:${port}/keys: connection failed`));
	});

	test('a certificate the CA file does not trust: refused, clearly', async () => {
		const file = writeConfig('untrusted.yaml', { auth: { jwt: { algorithms: ['ES256'], jwks_url: `${idp.url}/keys` } } });
		const r = await h.runSiogate(['-c', file], { timeoutMs: 20000 });
		assert.notEqual(r.code, 0);
		assert.match(r.stdout + r.stderr, /auth\.jwt\.jwks_url https:\/\/127\.0\.0\.1:\d+\/keys: TLS/i);
	});

	test('unreachable with a cached copy (jwks_file): it starts from the copy, with a warning', async () => {
		const port = await h.freePort();
		const k = makeKey('cached');
		const cache = path.join(dir, 'cached.json');
		fs.writeFileSync(cache, JSON.stringify({ keys: [k.jwk] }));
		const sg = await h.startSiogate({
			config: {
				auth: { mode: 'connect', jwt: { algorithms: ['ES256'], jwks_url: `https://127.0.0.1:${port}/keys`, ca_file: pki.ca, jwks_file: cache } },
				limits: { auth_failures_per_minute: 0 },
			},
		});
		try {
			assert.match(sg.log(), /connection failed; using the cached copy .*cached\.json until a fetch succeeds/);
			assert.deepEqual(await tryConnect(sg.url, sign(k)), { ok: true });
			const ready = await h.httpRequest(`http://127.0.0.1:${sg.adminPort}/readyz`);
			assert.match(ready.body, /keys: 1 from the cached copy \(auth\.jwt\.jwks_file\)/);
		} finally {
			await sg.stop();
		}
	});

	test('siogate token --verify fetches the issuer\'s keys as the daemon does', async () => {
		const k = makeKey('v1');
		idp.keys = [k];
		const file = writeConfig('verify.yaml', { auth: { jwt: { algorithms: ['ES256'], jwks_url: `${idp.url}/keys`, ca_file: pki.ca } } });
		const ok = await h.runSiogate(['token', '--verify', sign(k, { sub: 'zoe' }), '-c', file]);
		assert.equal(ok.code, 0, ok.stderr);
		assert.equal(JSON.parse(ok.stdout).sub, 'zoe');
		const bad = await h.runSiogate(['token', '--verify', sign(makeKey('other')), '-c', file]);
		assert.equal(bad.code, 1);
		assert.match(bad.stderr, /refused: no key with kid "other"/);
	});
});
