'use strict';
/*
 * cors.test.js: server.cors (PROTOCOL.md 1.8, as Node's `cors` middleware answers): no CORS
 * configured -> no Access-Control-* header and no Origin check; origins ["*"] -> "*" on every
 * Engine.IO answer; a listed origin with credentials -> the origin echoed, Vary: Origin,
 * credentials true; preflight OPTIONS -> 204; an Origin not listed -> 403 code 4, on polling and
 * on WebSocket upgrades.  One siogate per configuration.
 */

const assert = require('node:assert/strict');
const { describe, test } = require('node:test');
const h = require('./lib/harness');

const GOOD = 'http://example.test';
const EVIL = 'http://evil.test';
const METHODS = 'GET,HEAD,PUT,PATCH,POST,DELETE';

/* the CORS-related headers of an answer (lower-case names; vary split into tokens) */
function cors(headers) {
	const out = {};
	for (const [k, v] of Object.entries(headers)) {
		if (k.startsWith('access-control-'))
			out[k] = v;
	}
	return out;
}

function varyTokens(headers) {
	const v = headers.vary;
	if (v === undefined)
		return [];
	return (Array.isArray(v) ? v.join(',') : v).split(',').map((x) => x.trim().toLowerCase()).filter(Boolean);
}

function errorBody(res) {
	assert.match(res.headers['content-type'] || '', /^application\/json/, `content-type of ${res.body}`);
	return JSON.parse(res.body);
}

/*
 * Runs the usual polling exchanges on sg with extra request headers and returns every answer:
 * handshake, POST, GET (data), and the error answers (unknown sid, EIO=3, POST handshake).
 */
async function exchanges(sg, headers) {
	const p = await h.pollOpen(sg, { headers });
	const post = await p.post('40');
	const get = await p.get();
	assert.match(get.body, /^40\{/);
	const base = `${sg.url}/socket.io/`;
	const unknownSid = await h.httpRequest(`${base}?EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA`, { headers });
	const eio3 = await h.httpRequest(`${base}?EIO=3&transport=polling`, { headers });
	const postHandshake = await h.httpRequest(`${base}?EIO=4&transport=polling`, { method: 'POST', body: '40', headers });
	assert.deepEqual(errorBody(unknownSid).code, 1);
	assert.deepEqual(errorBody(eio3).code, 5);
	assert.deepEqual(errorBody(postHandshake).code, 2);
	return { handshake: p.handshake, post, get, unknownSid, eio3, postHandshake };
}

function preflight(sg, headers) {
	return h.httpRequest(`${sg.url}/socket.io/?EIO=4&transport=polling`, {
		method: 'OPTIONS',
		headers: { 'Access-Control-Request-Method': 'POST', ...headers },
	});
}

/* ---------------------------------------------------------------- no cors */

describe('no server.cors', () => {
	const env = h.useSiogate({});

	test('no Access-Control-* header on any answer, and any Origin is served', async () => {
		for (const headers of [{}, { Origin: GOOD }, { Origin: EVIL }]) {
			const all = await exchanges(env.sg, headers);
			for (const [name, res] of Object.entries(all)) {
				assert.deepEqual(cors(res.headers), {}, `${name} with ${JSON.stringify(headers)}`);
				assert.ok(!varyTokens(res.headers).includes('origin'), `${name}: Vary`);
			}
		}
		const ws = await h.rawWs(env.sg, 'EIO=4&transport=websocket', { origin: EVIL });
		assert.deepEqual(cors(ws.upgradeHeaders), {});
		assert.match(await ws.next(), /^0\{/);
	});

	test('OPTIONS is not a CORS preflight: 400 Bad handshake method, no CORS headers', async () => {
		const res = await preflight(env.sg, { Origin: GOOD, 'Access-Control-Request-Headers': 'authorization' });
		assert.equal(res.status, 400);
		assert.deepEqual(errorBody(res), { code: 2, message: 'Bad handshake method' });
		assert.deepEqual(cors(res.headers), {});
	});
});

/* ---------------------------------------------------------------- origins: ["*"] */

describe('server.cors origins ["*"]', () => {
	const env = h.useSiogate({ config: { server: { cors: { origins: ['*'] } } } });

	test('Access-Control-Allow-Origin: * on the handshake, POST, GET and error answers', async () => {
		for (const headers of [{}, { Origin: GOOD }, { Origin: EVIL }]) {
			const all = await exchanges(env.sg, headers);
			for (const [name, res] of Object.entries(all)) {
				assert.deepEqual(cors(res.headers), { 'access-control-allow-origin': '*' },
					`${name} with ${JSON.stringify(headers)}`);
			}
		}
	});

	test('the 101 of a WebSocket upgrade carries Access-Control-Allow-Origin: *', async () => {
		const ws = await h.rawWs(env.sg, 'EIO=4&transport=websocket', { origin: EVIL });
		assert.equal(ws.upgradeHeaders['access-control-allow-origin'], '*');
		assert.match(await ws.next(), /^0\{/);
	});

	test('a Transport unknown error also carries Access-Control-Allow-Origin: *, as Node', async () => {
		const res = await h.httpRequest(`${env.sg.url}/socket.io/?EIO=4&transport=carrier-pigeon`,
			{ headers: { Origin: GOOD } });
		assert.equal(res.status, 400);
		assert.equal(errorBody(res).code, 0);
		assert.equal(res.headers['access-control-allow-origin'], '*');
	});

	test('preflight OPTIONS: 204 with the methods and the requested headers echoed', async () => {
		const res = await preflight(env.sg, { Origin: GOOD, 'Access-Control-Request-Headers': 'authorization' });
		assert.equal(res.status, 204);
		assert.equal(res.body, '');
		assert.deepEqual(cors(res.headers), {
			'access-control-allow-origin': '*',
			'access-control-allow-methods': METHODS,
			'access-control-allow-headers': 'authorization',
		});
		assert.ok(varyTokens(res.headers).includes('access-control-request-headers'), `Vary: ${res.headers.vary}`);
	});
});

/* ---------------------------------------------------------------- one origin, credentials */

describe(`server.cors origins [${GOOD}], credentials true`, () => {
	const env = h.useSiogate({ config: { server: { cors: { origins: [GOOD], credentials: true } } } });

	test('the origin is echoed with Vary: Origin and credentials on every answer', async () => {
		const all = await exchanges(env.sg, { Origin: GOOD });
		for (const [name, res] of Object.entries(all)) {
			assert.deepEqual(cors(res.headers), {
				'access-control-allow-origin': GOOD,
				'access-control-allow-credentials': 'true',
			}, name);
			assert.ok(varyTokens(res.headers).includes('origin'), `${name}: Vary ${res.headers.vary}`);
		}
	});

	test('a request without Origin gets the configured origin too (as the cors package)', async () => {
		const all = await exchanges(env.sg, {});
		for (const [name, res] of Object.entries(all)) {
			assert.deepEqual(cors(res.headers), {
				'access-control-allow-origin': GOOD,
				'access-control-allow-credentials': 'true',
			}, name);
			assert.ok(varyTokens(res.headers).includes('origin'), `${name}: Vary ${res.headers.vary}`);
		}
	});

	test('preflight OPTIONS: 204, methods, headers echoed, Vary on both', async () => {
		const res = await preflight(env.sg, { Origin: GOOD, 'Access-Control-Request-Headers': 'authorization' });
		assert.equal(res.status, 204);
		assert.deepEqual(cors(res.headers), {
			'access-control-allow-origin': GOOD,
			'access-control-allow-credentials': 'true',
			'access-control-allow-methods': METHODS,
			'access-control-allow-headers': 'authorization',
		});
		const vary = varyTokens(res.headers);
		assert.ok(vary.includes('origin') && vary.includes('access-control-request-headers'), `Vary: ${res.headers.vary}`);
	});

	test('the 101 of a WebSocket upgrade echoes the origin with credentials', async () => {
		const ws = await h.rawWs(env.sg, 'EIO=4&transport=websocket', { origin: GOOD });
		assert.equal(ws.upgradeHeaders['access-control-allow-origin'], GOOD);
		assert.equal(ws.upgradeHeaders['access-control-allow-credentials'], 'true');
		assert.ok(varyTokens(ws.upgradeHeaders).includes('origin'));
		assert.match(await ws.next(), /^0\{/);
	});

	test(`an Origin not listed (${EVIL}) gets 403 code 4 Forbidden on polling`, async () => {
		const base = `${env.sg.url}/socket.io/?EIO=4&transport=polling`;
		const hs = await h.httpRequest(base, { headers: { Origin: EVIL } });
		assert.equal(hs.status, 403);
		assert.deepEqual(errorBody(hs), { code: 4, message: 'Forbidden' });
		/* on an existing session too, which the refusal leaves alone */
		const p = await h.pollOpen(env.sg, { headers: { Origin: GOOD } });
		for (const method of ['GET', 'POST']) {
			const res = await h.httpRequest(p.url, { method, headers: { Origin: EVIL }, body: method === 'POST' ? '40' : undefined });
			assert.equal(res.status, 403, method);
			assert.deepEqual(errorBody(res), { code: 4, message: 'Forbidden' }, method);
		}
		const pre = await preflight(env.sg, { Origin: EVIL });
		assert.equal(pre.status, 403);
		assert.equal((await p.post('40')).body, 'ok');
		assert.match((await p.get()).body, /^40\{"sid":/);
	});

	test(`a WebSocket upgrade with Origin ${EVIL} is refused with 403`, async () => {
		const err = await h.rawWs(env.sg, 'EIO=4&transport=websocket', { origin: EVIL }).then(() => null, (e) => e);
		assert.ok(err, 'the upgrade must be refused');
		assert.equal(err.statusCode, 403, err.message);
		assert.equal(err.body, 'Forbidden');
		/* and a probe for a polling session, too */
		const p = await h.pollOpen(env.sg, { headers: { Origin: GOOD } });
		const probeErr = await h.rawWs(env.sg, `EIO=4&transport=websocket&sid=${p.sid}`, { origin: EVIL })
			.then(() => null, (e) => e);
		assert.ok(probeErr, 'the probe must be refused');
		assert.equal(probeErr.statusCode, 403);
	});

	test('socket.io-client in Node with extraHeaders origin (polling) connects and authenticates', async () => {
		const s = await h.connectAuthed(env.sg.url, {
			transports: ['polling'],
			extraHeaders: { origin: GOOD },
			claims: { sub: 'cors-client' },
		});
		assert.equal(s.io.engine.transport.name, 'polling');
		assert.equal(s.authPayload.id, s.id);
		/* and with the default transports it upgrades (the Origin header goes on the upgrade too) */
		const s2 = await h.connectAuthed(env.sg.url, {
			transports: ['polling', 'websocket'],
			extraHeaders: { origin: GOOD },
			claims: { sub: 'cors-client-2' },
		});
		if (s2.io.engine.transport.name !== 'websocket')
			await h.once(s2.io.engine, 'upgrade', 3000);
		assert.equal(s2.io.engine.transport.name, 'websocket');
	});

	test(`socket.io-client with extraHeaders origin ${EVIL} gets a connect_error`, async () => {
		await assert.rejects(h.connect(env.sg.url, { transports: ['polling'], extraHeaders: { origin: EVIL } }),
			(err) => {
				assert.match(err.message, /xhr poll error/);
				return true;
			});
	});
});

/* ---------------------------------------------------------------- several origins, no credentials */

describe(`server.cors origins [http://a.test, ${GOOD}]`, () => {
	const env = h.useSiogate({ config: { server: { cors: { origins: ['http://a.test', GOOD] } } } });

	test('a listed origin is echoed with Vary: Origin and no credentials header', async () => {
		const all = await exchanges(env.sg, { Origin: GOOD });
		for (const [name, res] of Object.entries(all)) {
			assert.deepEqual(cors(res.headers), { 'access-control-allow-origin': GOOD }, name);
			assert.ok(varyTokens(res.headers).includes('origin'), `${name}: Vary ${res.headers.vary}`);
		}
	});

	test('without Origin: no Access-Control-Allow-Origin, Vary: Origin (as the cors package)', async () => {
		const all = await exchanges(env.sg, {});
		for (const [name, res] of Object.entries(all)) {
			assert.deepEqual(cors(res.headers), {}, name);
			assert.ok(varyTokens(res.headers).includes('origin'), `${name}: Vary ${res.headers.vary}`);
		}
	});
});
