'use strict';
/*
 * auth.test.js: the helper's authentication flow (SPEC section 2 and 3, jwt verifier) over the
 * real socket.io-client: where the token may come from, what an accepted and a refused client
 * receive and in which order, the auth timeout, and the application-level `ping`.
 */

const assert = require('node:assert/strict');
const { test } = require('node:test');
const jwt = require('jsonwebtoken');
const h = require('./lib/harness');

const AUTH_TIMEOUT_MS = 600;
const PING_INTERVAL_MS = 300;

const env = h.useSiogate({
	config: {
		auth: { timeout: `${AUTH_TIMEOUT_MS}ms` },
		ping: { interval: `${PING_INTERVAL_MS}ms` },
	},
});

function assertIsoNow(time, what) {
	assert.equal(typeof time, 'string', `${what}: time must be a string`);
	assert.match(time, h.ISO_MS_RE, `${what}: time must be ISO-8601 with milliseconds and Z`);
	const skew = Math.abs(Date.parse(time) - Date.now());
	assert.ok(skew < 60000, `${what}: time ${time} is ${skew} ms away from now`);
}

/* Authenticates socket and checks what an accepted client receives. */
async function expectAccepted(socket) {
	const pings = h.collect(socket, 'ping');
	let pingsBeforeAuthenticated = -1;
	socket.once('authenticated', () => {
		pingsBeforeAuthenticated = pings.length;
	});
	const payload = await h.authenticate(socket);
	assert.deepEqual(Object.keys(payload).sort(), ['id', 'time']);
	assert.equal(payload.id, socket.id);
	assertIsoNow(payload.time, 'authenticated');
	/* SPEC 2: the first ping is emitted at once, before `authenticated`. */
	assert.ok(pingsBeforeAuthenticated >= 1, 'a ping must arrive before (or with) authenticated');
	assert.deepEqual(Object.keys(pings[0]), ['time']);
	assertIsoNow(pings[0].time, 'ping');
	assert.ok(socket.connected);
}

/* Authenticates a socket that must be refused; checks unauthenticated comes before disconnect. */
async function expectRefused(socket) {
	const order = [];
	socket.on('unauthenticated', (p) => order.push(['unauthenticated', p]));
	socket.on('authenticated', (p) => order.push(['authenticated', p]));
	const disconnected = h.onceArgs(socket, 'disconnect', 3000);
	socket.on('disconnect', (reason) => order.push(['disconnect', reason]));
	socket.emit('authenticate', {});
	await disconnected;
	assert.ok(order.length >= 2, `expected unauthenticated then disconnect, got ${JSON.stringify(order)}`);
	assert.equal(order[0][0], 'unauthenticated', `first event: ${JSON.stringify(order)}`);
	assert.equal(order[0][1].message, h.MSG_INVALID_TOKEN);
	assertIsoNow(order[0][1].time, 'unauthenticated');
	assert.deepEqual(order[1], ['disconnect', 'io server disconnect']);
	assert.equal(order.length, 2, `unexpected events: ${JSON.stringify(order)}`);
	assert.equal(socket.connected, false);
	assert.equal(socket.active, false, 'after io server disconnect the client must not reconnect');
}

test('token in the CONNECT auth payload is accepted', async () => {
	const socket = await h.connect(env.sg.url, { auth: { token: h.token({ sub: 'alice' }) } });
	await expectAccepted(socket);
});

test('token in the Authorization: Bearer header is accepted', async () => {
	const socket = await h.connect(env.sg.url, {
		extraHeaders: { Authorization: `Bearer ${h.token({ sub: 'alice' })}` },
	});
	await expectAccepted(socket);
});

test('token in the query parameter is accepted', async () => {
	const socket = await h.connect(env.sg.url, { query: { token: h.token({ sub: 'alice' }) } });
	await expectAccepted(socket);
});

test('authenticate with no payload at all is accepted (any payload)', async () => {
	const socket = await h.connect(env.sg.url, { auth: { token: h.token({ sub: 'alice' }) } });
	const p = h.once(socket, 'authenticated');
	socket.emit('authenticate');
	const payload = await p;
	assert.equal(payload.id, socket.id);
});

test('a token printed by `siogate token` is accepted', async () => {
	const r = await h.runSiogate(['token', '--sub', 'carol', '-c', env.sg.file]);
	assert.equal(r.code, 0, r.stderr);
	const socket = await h.connect(env.sg.url, { auth: { token: r.stdout.trim() } });
	await expectAccepted(socket);
});

const refusedCases = [
	['a bad signature', () => h.token({ sub: 'alice' }, { secret: 'not-the-right-secret-0123456789' })],
	['an expired token', () => h.token({ sub: 'alice', exp: Math.floor(Date.now() / 1000) - 3600 })],
	['a token not valid before an hour from now',
		() => h.token({ sub: 'alice', nbf: Math.floor(Date.now() / 1000) + 3600 })],
	['an unsigned alg:none token', () => h.unsignedToken({ sub: 'alice' })],
	['HS512 when only HS256 is allowed', () => h.token({ sub: 'alice' }, { alg: 'HS512' })],
	['a malformed token', () => 'not.a.jwt'],
	['no token at all', () => null],
];

for (const [name, make] of refusedCases) {
	test(`refused: ${name} gets unauthenticated, then io server disconnect`, async () => {
		const tok = make();
		const socket = await h.connect(env.sg.url, tok === null ? {} : { auth: { token: tok } });
		await expectRefused(socket);
	});
}

test('refused: a bad token in the header is not rescued by a good one in auth (header first)', async () => {
	/* auth.jwt.token_from defaults to [header, auth, query]: the first place that has a token wins. */
	const socket = await h.connect(env.sg.url, {
		extraHeaders: { Authorization: `Bearer ${h.token({ sub: 'alice' }, { secret: 'wrong-secret-0123456789abcdef' })}` },
		auth: { token: h.token({ sub: 'alice' }) },
	});
	await expectRefused(socket);
});

test('a good token in the header wins over a bad one in auth and query', async () => {
	const bad = h.token({ sub: 'alice' }, { secret: 'wrong-secret-0123456789abcdef' });
	const socket = await h.connect(env.sg.url, {
		extraHeaders: { Authorization: `Bearer ${h.token({ sub: 'alice' })}` },
		auth: { token: bad },
		query: { token: bad },
	});
	await expectAccepted(socket);
});

test('a good token in auth wins over a bad one in the query', async () => {
	const socket = await h.connect(env.sg.url, {
		auth: { token: h.token({ sub: 'alice' }) },
		query: { token: h.token({ sub: 'alice' }, { secret: 'wrong-secret-0123456789abcdef' }) },
	});
	await expectAccepted(socket);
});

test('auth timeout: a client that never authenticates is disconnected (io server disconnect)', async () => {
	const socket = await h.connect(env.sg.url, { auth: { token: h.token({ sub: 'alice' }) } });
	const t0 = Date.now();
	const [reason] = await h.onceArgs(socket, 'disconnect', AUTH_TIMEOUT_MS + 4000);
	const elapsed = Date.now() - t0;
	assert.equal(reason, 'io server disconnect');
	assert.ok(elapsed >= AUTH_TIMEOUT_MS - 200, `disconnected after ${elapsed} ms, before auth.timeout`);
	assert.ok(elapsed <= AUTH_TIMEOUT_MS + 3000, `disconnected only after ${elapsed} ms`);
	assert.equal(socket.active, false);
});

test('auth timeout: events other than authenticate do not keep a client alive', async () => {
	const socket = await h.connect(env.sg.url, { auth: { token: h.token({ sub: 'alice' }) } });
	const timer = setInterval(() => socket.emit('chatter', 'x'), 100);
	try {
		const [reason] = await h.onceArgs(socket, 'disconnect', AUTH_TIMEOUT_MS + 4000);
		assert.equal(reason, 'io server disconnect');
	} finally {
		clearInterval(timer);
	}
});

test('a second authenticate after success is ignored', async () => {
	const socket = await h.connect(env.sg.url, { auth: { token: h.token({ sub: 'alice' }) } });
	await h.authenticate(socket);
	const again = h.collect(socket, 'authenticated');
	const refused = h.collect(socket, 'unauthenticated');
	socket.emit('authenticate', {});
	/* The join ack is a fence: the server handles events in order, so an answer to the second
	 * authenticate would arrive before it.  No rooms.allow here, so the join is refused. */
	const ack = await socket.timeout(3000).emitWithAck('join', { rooms: ['fence-room'] });
	assert.deepEqual(ack, { rooms: [], rejected: ['fence-room'] });
	await h.delay(200);
	assert.equal(again.length, 0, 'no second authenticated');
	assert.equal(refused.length, 0, 'no unauthenticated');
	assert.ok(socket.connected);
});

test('periodic pings arrive every ping.interval and the auth timer no longer applies', async () => {
	const socket = await h.connect(env.sg.url, { auth: { token: h.token({ sub: 'alice' }) } });
	await h.authenticate(socket);
	const pings = h.collect(socket, 'ping');
	const t0 = Date.now();
	/* 3 intervals of 300 ms outlast auth.timeout (600 ms). */
	await pings.waitFor(3, PING_INTERVAL_MS * 3 + 3000);
	const elapsed = Date.now() - t0;
	assert.ok(elapsed >= PING_INTERVAL_MS * 2 - 100, `3 pings within ${elapsed} ms: too fast`);
	for (const p of pings)
		assertIsoNow(p.time, 'ping');
	assert.ok(socket.connected, 'an authenticated client outlives auth.timeout');
});

test('jsonwebtoken sanity: the test secret verifies the minted tokens', () => {
	/* Guards the suite itself: a broken token() would make every refusal test pass vacuously. */
	const claims = jwt.verify(h.token({ sub: 'alice' }), h.SECRET, { algorithms: ['HS256'] });
	assert.equal(claims.sub, 'alice');
	assert.throws(() => jwt.verify(h.token({ sub: 'a' }, { alg: 'HS512' }), h.SECRET, { algorithms: ['HS256'] }));
});
