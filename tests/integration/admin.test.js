'use strict';
/*
 * admin.test.js: the admin listener (SPEC section 5): health and readiness, /metrics in
 * Prometheus text whose counters move with a scripted scenario, and the bearer-token admin API
 * (clients, one client, disconnect, rooms, emit), refused without or with a wrong token and off
 * without admin.token_file.  Readiness follows Redis: 503 while it is down, 200 once back.
 */

const assert = require('node:assert/strict');
const { test, describe, before, after } = require('node:test');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const h = require('./lib/harness');

const tokenDir = fs.mkdtempSync(path.join(os.tmpdir(), 'siogate-admin-'));
const tokenFile = path.join(tokenDir, 'admin.token');
const ADMIN_TOKEN = crypto.randomBytes(24).toString('hex');
fs.writeFileSync(tokenFile, ADMIN_TOKEN + '\n', { mode: 0o600 });

const env = h.useSiogate({
	redis: true,
	config: { rooms: { allow: ['public-*'] }, admin: { token_file: tokenFile } },
});

after(() => fs.rmSync(tokenDir, { recursive: true, force: true }));

function adminUrl(sg, p) {
	return `http://127.0.0.1:${sg.adminPort}${p}`;
}

async function call(sg, p, { method = 'GET', token = ADMIN_TOKEN, body } = {}) {
	const headers = token ? { authorization: `Bearer ${token}` } : {};
	const res = await h.withTimeout(fetch(adminUrl(sg, p), { method, headers, body }), 3000, `${method} ${p}`);
	const text = await res.text();
	let json = null;
	try { json = JSON.parse(text); } catch { /* text answers */ }
	return { status: res.status, text, json, res };
}

/* Parses Prometheus text into { 'name{labels}': value }. */
function parseMetrics(text) {
	const out = {};
	for (const line of text.split('\n')) {
		if (!line || line.startsWith('#')) continue;
		const i = line.lastIndexOf(' ');
		out[line.slice(0, i)] = Number(line.slice(i + 1));
	}
	return out;
}

test('healthz and readyz answer 200 while serving with Redis up', async () => {
	const health = await call(env.sg, '/healthz', { token: null });
	assert.equal(health.status, 200);
	assert.equal(health.text, 'ok\n');
	const ready = await call(env.sg, '/readyz', { token: null });
	assert.equal(ready.status, 200);
});

test('metrics: every counter of a scripted scenario moves as expected', async () => {
	const before = parseMetrics((await call(env.sg, '/metrics', { token: null })).text);
	const s = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('m') } });
	const ack = await s.timeout(3000).emitWithAck('join', { rooms: ['public-m', 'private-m'] });
	assert.deepEqual(ack.rejected, ['private-m']);
	const got = h.once(s, 'metric-evt');
	await env.emitter.to('public-m').emit('metric-evt', 1);
	await got;
	const bad = await h.connect(env.sg.url, { auth: { token: 'garbage' } });
	const refused = h.once(bad, 'unauthenticated');
	bad.emit('authenticate');
	await refused;
	const res = await call(env.sg, '/metrics', { token: null });
	assert.equal(res.status, 200);
	assert.match(res.res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
	assert.match(res.text, /# TYPE siogate_auth_total counter/);
	assert.match(res.text, /# TYPE siogate_verifier_seconds histogram/);
	const m = parseMetrics(res.text);
	const d = (k) => (m[k] || 0) - (before[k] || 0);
	assert.ok(d('siogate_handshakes_total') >= 2, 'handshakes');
	assert.equal(d('siogate_auth_total{result="accepted"}'), 1);
	assert.equal(d('siogate_auth_total{result="rejected"}'), 1);
	assert.equal(d('siogate_joins_refused_total'), 1);
	assert.ok(d('siogate_broadcast_deliveries_total') >= 1, 'deliveries');
	assert.ok(d('siogate_packets_total{direction="in"}') >= 3, 'packets in');
	assert.ok(d('siogate_bytes_total{direction="out"}') > 0, 'bytes out');
	assert.ok(d('siogate_verifier_seconds_count') >= 2, 'verifier histogram');
	assert.ok(m['siogate_clients{state="authenticated"}'] >= 1);
	assert.equal(m['siogate_redis_up{link="subscriber"}'], 1);
	assert.equal(m['siogate_redis_up{link="publisher"}'], 1);
	assert.ok(d('siogate_redis_messages_total{outcome="received"}') >= 1);
	assert.ok(m['siogate_closes_total{reason="auth rejected"}'] >= 1);
	/* the process itself, as /proc sees it */
	const rssBytes = h.rssKb(env.sg.pid) * 1024;
	assert.ok(Math.abs(m.process_resident_memory_bytes - rssBytes) < rssBytes / 2,
		`process_resident_memory_bytes ${m.process_resident_memory_bytes}, VmRSS ${rssBytes}`);
	assert.ok(m.process_cpu_seconds_total > 0);
});

test('the /v1 API refuses a missing or wrong bearer token', async () => {
	for (const token of [null, 'wrong-token-wrong-token', ADMIN_TOKEN + 'x']) {
		const r = await call(env.sg, '/v1/clients', { token });
		assert.equal(r.status, 401, `token ${token}`);
		assert.equal(r.res.headers.get('www-authenticate'), 'Bearer');
	}
});

test('clients, one client, rooms, emit and disconnect', async () => {
	const user = h.uniq('adm');
	const s = await h.connectAuthed(env.sg.url, { claims: { sub: user } });
	await s.timeout(3000).emitWithAck('join', { rooms: ['public-admin'] });

	const list = await call(env.sg, '/v1/clients');
	assert.equal(list.status, 200);
	const me = list.json.clients.find((c) => c.id === s.id);
	assert.ok(me, 'the client is listed');
	assert.equal(me.user, user);
	assert.equal(me.state, 'authenticated');
	assert.equal(me.nsp, '/');
	assert.ok(me.rooms.includes('public-admin') && me.rooms.includes(s.id));

	const one = await call(env.sg, `/v1/clients/${s.id}`);
	assert.equal(one.status, 200);
	assert.equal(one.json.id, s.id);
	assert.equal((await call(env.sg, '/v1/clients/nope-nope-nope-nope0')).status, 404);

	const rooms = await call(env.sg, '/v1/rooms');
	const room = rooms.json.rooms.find((r) => r.room === 'public-admin');
	assert.deepEqual(room, { nsp: '/', room: 'public-admin', clients: 1 });

	const got = h.once(s, 'from-admin');
	const emitted = await call(env.sg, '/v1/emit', {
		method: 'POST', body: JSON.stringify({ to: ['public-admin'], event: 'from-admin', data: { ok: 1 } }),
	});
	assert.equal(emitted.status, 202);
	assert.deepEqual(await got, { ok: 1 });
	const badEmit = await call(env.sg, '/v1/emit', { method: 'POST', body: '{"event":' });
	assert.equal(badEmit.status, 400);
	assert.match(badEmit.json.error, /bad JSON/);

	const gone = h.once(s, 'disconnect');
	const dc = await call(env.sg, `/v1/clients/${s.id}/disconnect`, { method: 'POST' });
	assert.equal(dc.status, 200);
	assert.equal(await gone, 'io server disconnect');
});

describe('without admin.token_file', () => {
	const plain = h.useSiogate({ before, after }, { config: {} });
	test('the /v1 API is off (403) while health and metrics answer', async () => {
		const r = await call(plain.sg, '/v1/clients');
		assert.equal(r.status, 403);
		assert.match(r.json.error, /admin.token_file/);
		assert.equal((await call(plain.sg, '/healthz', { token: null })).status, 200);
		assert.equal((await call(plain.sg, '/readyz', { token: null })).status, 200);
		assert.equal((await call(plain.sg, '/metrics', { token: null })).status, 200);
	});
});

describe('readiness follows Redis', () => {
	let redis;
	let sg;
	before(async () => {
		redis = await h.startRedis();
		sg = await h.startSiogate({ redis });
	});
	after(async () => {
		if (sg) await sg.stop();
		if (redis) await redis.stop();
	});
	test('503 while Redis is down, 200 again once it is back', async () => {
		assert.equal((await call(sg, '/readyz', { token: null })).status, 200);
		const port = redis.port;
		await redis.stop();
		const deadline = Date.now() + 5000;
		let r;
		do {
			r = await call(sg, '/readyz', { token: null });
			if (r.status === 503) break;
			await h.delay(50);
		} while (Date.now() < deadline);
		assert.equal(r.status, 503);
		assert.match(r.text, /redis/);
		redis = await h.startRedis({ port });
		const deadline2 = Date.now() + 10000;
		do {
			r = await call(sg, '/readyz', { token: null });
			if (r.status === 200) break;
			await h.delay(100);
		} while (Date.now() < deadline2);
		assert.equal(r.status, 200);
	});
});
