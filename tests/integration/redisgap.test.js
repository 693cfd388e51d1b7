'use strict';
/*
 * redisgap.test.js: a Redis outage is visible (README "Redis reliability").  Redis is killed
 * (SIGKILL) and restarted on the same port under siogate with two workers: /readyz stays 503
 * until every worker has subscribed again, and a broadcast made the moment it turns 200 reaches
 * the clients of both workers; one redis_gap lifecycle event per process tells backends when
 * the subscriptions were down, and siogate_redis_gap_seconds_total grew by that time.
 */

const assert = require('node:assert/strict');
const { test, after } = require('node:test');
const { createClient } = require('redis');
const h = require('./lib/harness');

const running = [];
after(async () => {
	h.closeClients(true);
	for (const x of running.reverse()) await x.stop().catch(() => {});
});


/* A lifecycle subscriber that reconnects (and subscribes again) 50 ms after a loss. */
async function lifecycleListener(url) {
	const events = [];
	const c = createClient({ url, socket: { reconnectStrategy: () => 50 } });
	c.on('error', () => {});
	await c.connect();
	await c.subscribe('siogate#lifecycle', (m) => events.push(JSON.parse(m)));
	return { events, async stop() { await c.disconnect().catch(() => {}); } };
}

test('Redis killed and restarted: readiness waits for every worker, one redis_gap event, gap seconds counted', async () => {
	let redis = await h.startRedis();
	running.push({ stop: () => redis.stop() });
	const port = redis.port;
	const sg = await h.startSiogate({ redis, config: { server: { id: 'gw-gap', workers: 2 } } });
	running.push(sg);
	assert.equal(sg.workers, 2);
	const lc = await lifecycleListener(redis.url);
	running.push(lc);

	/* clients on both workers (connections go to the workers in turn) */
	const clients = [];
	for (let i = 0; i < 4; i++)
		clients.push(await h.connectAuthed(sg.url, { claims: { sub: h.uniq('gap') } }));
	const m0 = await h.metrics(sg);
	for (const w of [0, 1])
		assert.ok(h.metric(m0, `siogate_worker_connections{worker="${w}"}`) >= 1, `worker ${w} has clients`);
	assert.equal(h.metric(m0, 'siogate_redis_gap_seconds_total'), 0);
	assert.equal(h.metric(m0, 'siogate_redis_gaps_total'), 0);
	assert.equal((await h.readyz(sg)).status, 200);

	const killedAt = Date.now();
	process.kill(redis.pid, 'SIGKILL');
	await redis.stop().catch(() => {});
	await h.until(async () => (await h.readyz(sg)).status === 503, 5000, 'readyz 503 after the kill');
	await h.delay(500);
	const down = await h.readyz(sg);
	assert.equal(down.status, 503);
	assert.match(down.text, /redis (subscriber|publisher) down/);
	const mDown = await h.metrics(sg);
	assert.ok(h.metric(mDown, 'siogate_redis_gap_seconds_total') > 0, 'the open gap already counts');

	const mark = sg.mark();
	redis = await h.startRedis({ port });
	const restartedAt = Date.now();
	/* poll readiness tightly: the first 200 must mean every worker delivers */
	let polls503 = 0;
	await h.until(async () => {
		const r = await h.readyz(sg);
		if (r.status === 503) polls503++;
		return r.status === 200;
	}, 20000, 'readyz 200 after the restart');
	const emitter = await h.emitterFor(redis.url);
	const got = clients.map((s) => h.once(s, 'back'));
	await emitter.to('io-default').emit('back', 42);
	const values = await h.withTimeout(Promise.all(got), 5000, 'the broadcast on every client');
	assert.deepEqual(values, [42, 42, 42, 42], 'clients of both workers got it');
	await emitter.close();
	/* both workers logged their new subscription before readiness turned green */
	await sg.waitSubscribed(2000, mark);
	assert.ok(polls503 >= 1, 'readiness was 503 while the workers subscribed again');

	/* one redis_gap event for the process (not one per worker) */
	await h.until(async () => lc.events.some((e) => e.type === 'redis_gap'), 10000, 'the redis_gap event');
	await h.delay(1500);
	const gaps = lc.events.filter((e) => e.type === 'redis_gap');
	assert.equal(gaps.length, 1, `one redis_gap event: ${JSON.stringify(gaps)}`);
	const g = gaps[0];
	assert.deepEqual(Object.keys(g).sort(), ['seconds', 'server', 'since', 'time', 'type', 'until']);
	assert.equal(g.server, 'gw-gap');
	for (const k of ['since', 'until', 'time'])
		assert.match(g[k], h.ISO_MS_RE, k);
	const since = Date.parse(g.since), until_ = Date.parse(g.until), time = Date.parse(g.time);
	assert.ok(since >= killedAt - 1000 && since <= restartedAt, `since ${g.since} is around the kill`);
	assert.ok(until_ >= restartedAt - 1000 && until_ <= Date.now(), `until ${g.until} is after the restart`);
	assert.ok(time >= until_, 'time is not before until');
	assert.equal(typeof g.seconds, 'number');
	assert.ok(g.seconds > 0);
	assert.ok(Math.abs(g.seconds - (until_ - since) / 1000) < 0.05,
		`seconds ${g.seconds} matches until - since (${(until_ - since) / 1000})`);

	const m1 = await h.metrics(sg);
	assert.equal(h.metric(m1, 'siogate_redis_gaps_total'), 1);
	const total = h.metric(m1, 'siogate_redis_gap_seconds_total');
	assert.ok(Math.abs(total - g.seconds) < 0.01, `gap seconds total ${total} = the event's ${g.seconds}`);
	assert.match(sg.log(), /bridge: Redis subscriptions were down [\d.]+ s in all/);
});
