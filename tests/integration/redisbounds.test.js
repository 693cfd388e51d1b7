'use strict';
/*
 * redisbounds.test.js: nothing toward Redis is buffered without bound (README "Redis
 * reliability").  Redis is stopped with SIGSTOP (its socket stays open, nothing is answered)
 * while clients push 1 MiB events forwarded to a stream and the admin API emits 256 KiB
 * messages: siogate's RSS stays under a bound derived from redis.max_pending and
 * events.max_pending, events over the bound are refused at once with an error ack, the drops
 * are counted in /metrics, and after SIGCONT the events in flight are acked with their entry
 * ids and every path works again.  (Before the bounds, the same load took RSS up by 136 MiB.)
 * The RSS bound is not checked in the sanitizer build.
 */

const assert = require('node:assert/strict');
const { test, after } = require('node:test');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { createClient } = require('redis');
const h = require('./lib/harness');

const MiB = 1024 * 1024;
const REDIS_MAX_PENDING = 4 * MiB;
const EVENTS_MAX_PENDING = 3 * MiB;
const WORKERS = 2;
const CLIENTS = 4;
const EVENTS_PER_CLIENT = 30;   /* 120 MiB of events in all */
const EMITS = 100;              /* 25 MiB of admin emits */
/* What the bounds allow to wait per worker: the commands waiting for Redis (the XADDs among
 * them), which hiredis's output buffer may hold twice while it grows, and the forwarded events
 * not answered; plus slack for the messages being read and parsed and for the allocator. */
const SLACK = 48 * MiB;
const BOUND = WORKERS * (2 * REDIS_MAX_PENDING + EVENTS_MAX_PENDING) + SLACK;

const tokenDir = fs.mkdtempSync(path.join(os.tmpdir(), 'siogate-bounds-'));
const tokenFile = path.join(tokenDir, 'admin.token');
const ADMIN_TOKEN = crypto.randomBytes(24).toString('hex');
fs.writeFileSync(tokenFile, ADMIN_TOKEN + '\n', { mode: 0o600 });

/* ASan keeps freed memory in quarantine: RSS says nothing about siogate's buffers there */
const SANITIZED = Boolean(process.env.SIOGATE_SANITIZE);

const running = [];
let stoppedPid = 0;
after(async () => {
	if (stoppedPid) {
		try { process.kill(stoppedPid, 'SIGCONT'); } catch { /* gone */ }
	}
	h.closeClients(true);
	for (const x of running.reverse()) await x.stop().catch(() => {});
	fs.rmSync(tokenDir, { recursive: true, force: true });
});

async function adminEmit(sg, body) {
	const res = await h.withTimeout(fetch(`http://127.0.0.1:${sg.adminPort}/v1/emit`, {
		method: 'POST',
		headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
		body,
	}), 5000, 'POST /v1/emit');
	return { status: res.status, json: await res.json() };
}

test('Redis stopped (SIGSTOP) under 1 MiB forwarded events and large admin emits: memory stays bounded, drops are counted and acked, all resumes after SIGCONT', async (t) => {
	const redis = await h.startRedis();
	running.push({ stop: () => redis.stop() });
	const sg = await h.startSiogate({
		redis,
		config: {
			server: { workers: WORKERS, max_payload: '2MB' },
			redis: { max_pending: '4MB' },
			events: { max_pending: '3MB', forward: [{ match: 'big', stream: 'sg-bounds' }] },
			limits: { events_per_second: 0, output_hard: '64MB', output_soft: '64MB' },
			admin: { token_file: tokenFile },
		},
	});
	running.push(sg);
	const rc = createClient({ url: redis.url });
	rc.on('error', () => {});
	await rc.connect();
	running.push({ stop: () => rc.disconnect() });

	const clients = [];
	for (let i = 0; i < CLIENTS; i++)
		clients.push(await h.connectAuthed(sg.url, { claims: { sub: h.uniq('big') } }));
	const big = 'x'.repeat(MiB);
	const emitBody = JSON.stringify({ to: ['nobody-here'], event: 'large', data: 'y'.repeat(256 * 1024) });
	/* warm up every path once with Redis running */
	for (const s of clients) {
		const ack = await s.timeout(10000).emitWithAck('big', big);
		assert.match(ack.id, /^\d+-\d+$/);
	}
	assert.equal((await adminEmit(sg, emitBody)).status, 202);
	await h.delay(300);
	const before = h.rssKb(sg.pid) * 1024;

	process.kill(redis.pid, 'SIGSTOP');
	stoppedPid = redis.pid;
	let peak = before;
	const sampler = setInterval(() => {
		try { peak = Math.max(peak, h.rssKb(sg.pid) * 1024); } catch { /* exiting */ }
	}, 50);
	const acks = [];
	const settled = [];
	for (const s of clients)
		for (let i = 0; i < EVENTS_PER_CLIENT; i++) {
			const p = s.timeout(120000).emitWithAck('big', big);
			acks.push(p);
			p.then((a) => settled.push(a), () => {});
		}
	const emits = [];
	for (let i = 0; i < EMITS; i++)
		emits.push(await adminEmit(sg, emitBody));
	/* the events over the bounds are refused at once; at most a few per worker wait for Redis */
	const total = CLIENTS * EVENTS_PER_CLIENT;
	const maxWaiting = WORKERS * Math.floor(REDIS_MAX_PENDING / MiB);
	await h.until(async () => settled.length >= total - maxWaiting, 60000,
		`${total - maxWaiting} refusals (have ${settled.length})`);
	await h.delay(500);
	peak = Math.max(peak, h.rssKb(sg.pid) * 1024);
	const m = await h.metrics(sg);
	clearInterval(sampler);

	const grown = peak - before;
	t.diagnostic(`RSS ${(before / MiB).toFixed(1)} MiB before, peak ${(peak / MiB).toFixed(1)} MiB with Redis ` +
		`stopped (+${(grown / MiB).toFixed(1)} MiB; bound +${(BOUND / MiB).toFixed(0)} MiB) after ` +
		`${total} x 1 MiB events and ${EMITS} x 256 KiB emits`);
	if (!SANITIZED)
		assert.ok(grown < BOUND, `RSS grew ${(grown / MiB).toFixed(1)} MiB, over the bound of ${(BOUND / MiB).toFixed(0)} MiB`);

	/* refused events are acked with the error, at once */
	const refused = settled.filter((a) => a.error);
	assert.ok(refused.length >= total - maxWaiting);
	assert.deepEqual(refused[0], { error: 'the event could not be forwarded', reason: 'overloaded' });
	/* admin emits Redis could not take were answered 503, published false */
	const dropped = emits.filter((e) => e.status === 503);
	assert.ok(dropped.length >= EMITS - WORKERS * (REDIS_MAX_PENDING / (256 * 1024)),
		`${dropped.length} of ${EMITS} emits refused`);
	assert.equal(dropped[0].json.published, false);
	/* and everything is counted */
	assert.ok(h.metric(m, 'siogate_redis_dropped_total{reason="pending"}') >= dropped.length,
		'publishes over redis.max_pending counted');
	assert.equal(h.metric(m, 'siogate_events_forward_total{target="stream",outcome="overloaded"}'), refused.length);
	assert.ok(h.metric(m, 'siogate_redis_pending_bytes') <= WORKERS * 2 * REDIS_MAX_PENDING);
	assert.ok(h.metric(m, 'siogate_redis_pending_bytes') > 0);
	assert.ok(h.metric(m, 'siogate_redis_publishes_total{outcome="dropped"}') >=
		h.metric(m, 'siogate_redis_dropped_total{reason="pending"}'));
	assert.match(sg.log(), /dropping publishes until it answers/);
	assert.match(sg.log(), /refusing events until they answer/);

	/* SIGCONT: what waited is answered, and every path works again */
	process.kill(redis.pid, 'SIGCONT');
	stoppedPid = 0;
	const all = await h.withTimeout(Promise.all(acks), 60000, 'every ack after SIGCONT');
	const ids = all.filter((a) => a.id);
	assert.equal(ids.length + refused.length, total);
	assert.ok(ids.length >= 1, 'the events that waited were added to the stream');
	for (const a of ids)
		assert.match(a.id, /^\d+-\d+$/);
	await h.until(async () => (await h.readyz(sg)).status === 200,
		20000, 'readyz 200 after SIGCONT');
	const after_ = await clients[0].timeout(10000).emitWithAck('big', big);
	assert.match(after_.id, /^\d+-\d+$/);
	const entries = await rc.xRange('sg-bounds', after_.id, after_.id);
	assert.equal(entries[0].message.data.length, MiB + 2);
	const ok = await adminEmit(sg, JSON.stringify({ to: [clients[1].id], event: 'again', data: 1 }));
	assert.equal(ok.status, 202);
	assert.equal(ok.json.published, true);
	const emitter = await h.emitterFor(redis.url);
	const got = h.once(clients[2], 'delivered');
	await emitter.to(clients[2].id).emit('delivered', 'yes');
	assert.equal(await got, 'yes', 'a new publish is delivered');
	await emitter.close();
	const m2 = await h.metrics(sg);
	assert.equal(h.metric(m2, 'siogate_redis_pending_bytes') < 64 * 1024, true, 'nothing waits any more');
	assert.match(sg.log(), /publisher is below redis.max_pending again/);
});
