'use strict';
/*
 * redisfault.test.js: Redis is not a single point of failure.  With Redis stopped under traffic
 * clients stay connected and local features keep working, readiness flips, publishes that
 * cannot be made are counted, and once Redis is back siogate re-subscribes and delivery resumes;
 * siogate started while Redis is down serves at once and joins Redis when it appears.
 */

const assert = require('node:assert/strict');
const { test, after } = require('node:test');
const h = require('./lib/harness');

const running = [];
after(async () => {
	h.closeClients(true);
	for (const x of running.reverse()) await x.stop().catch(() => {});
});

async function ready(sg) {
	return (await fetch(`http://127.0.0.1:${sg.adminPort}/readyz`)).status;
}

async function until(fn, ms, what) {
	const deadline = Date.now() + ms;
	for (;;) {
		if (await fn()) return;
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await h.delay(50);
	}
}

test('Redis stopped and restarted under traffic: clients stay, delivery resumes, drops are counted', async () => {
	let redis = await h.startRedis();
	running.push({ stop: () => redis.stop() });
	const sg = await h.startSiogate({ redis, config: { rooms: { allow: ['public-*'] } } });
	running.push(sg);
	const port = redis.port;
	const s = await h.connectAuthed(sg.url, { claims: { sub: h.uniq('rf') } });
	let emitter = await h.emitterFor(redis.url);
	const first = h.once(s, 'before');
	await emitter.to('io-default').emit('before', 1);
	assert.equal(await first, 1);
	await emitter.close();

	let dropped = false;
	s.on('disconnect', () => { dropped = true; });
	await redis.stop();
	await until(async () => (await ready(sg)) === 503, 5000, 'readyz 503');
	/* local features go on without Redis */
	const ack = await s.timeout(3000).emitWithAck('join', { rooms: ['public-offline'] });
	assert.deepEqual(ack.rooms, ['public-offline']);
	const other = await h.connectAuthed(sg.url, { claims: { sub: h.uniq('new') } });
	assert.ok(other.connected, 'new clients are served while Redis is down');
	const m = await h.metrics(sg);
	assert.ok(h.metric(m, 'siogate_redis_publishes_total{outcome="dropped"}') >= 1,
		'lifecycle publishes made while Redis is down are counted as dropped');
	assert.equal(h.metric(m, 'siogate_redis_up{link="subscriber"}'), 0);

	const mark = sg.mark();
	redis = await h.startRedis({ port });
	await sg.waitSubscribed(15000, mark);
	await until(async () => (await ready(sg)) === 200, 5000, 'readyz 200');
	emitter = await h.emitterFor(redis.url);
	const again = h.once(s, 'after');
	await emitter.to('public-offline').emit('after', 2);
	assert.equal(await again, 2);
	await emitter.close();
	assert.equal(dropped, false, 'no client was dropped');
	assert.ok(s.connected);
	const m2 = await h.metrics(sg);
	assert.ok(h.metric(m2, 'siogate_redis_reconnects_total') >= 1);
});

test('siogate started with Redis down serves at once, and joins Redis when it appears', async () => {
	const port = await h.freePort();
	const sg = await h.startSiogate({ redis: `redis://127.0.0.1:${port}`, waitBridge: false });
	running.push(sg);
	const s = await h.connectAuthed(sg.url, { claims: { sub: h.uniq('early') } });
	assert.ok(s.connected);
	assert.equal(await ready(sg), 503);
	const redis = await h.startRedis({ port });
	running.push({ stop: () => redis.stop() });
	await sg.waitSubscribed(15000);
	const emitter = await h.emitterFor(redis.url);
	const got = h.once(s, 'late');
	await emitter.to(s.id).emit('late', true);
	assert.equal(await got, true);
	await emitter.close();
});

/*
 * A TCP proxy in front of Redis that can freeze the connections that subscribed: the socket stays
 * open but nothing Redis sends reaches siogate, which is what a stalled subscriber looks like.
 */
async function stallingProxy(redisPort) {
	const net = require('node:net');
	const pairs = new Set();
	const server = net.createServer((down) => {
		const up = net.connect(redisPort, '127.0.0.1');
		const pair = { down, up, subscriber: false, frozen: false };
		pairs.add(pair);
		down.on('data', (d) => {
			if (/SUBSCRIBE/i.test(d.toString('latin1')))
				pair.subscriber = true;
			up.write(d);
		});
		up.on('data', (d) => {
			if (!pair.frozen)
				down.write(d);
		});
		const end = () => {
			pairs.delete(pair);
			down.destroy();
			up.destroy();
		};
		down.on('error', end).on('close', end);
		up.on('error', end).on('close', end);
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		url: `redis://127.0.0.1:${server.address().port}`,
		freezeSubscribers() {
			let n = 0;
			for (const p of pairs)
				if (p.subscriber) {
					p.frozen = true;
					n++;
				}
			return n;
		},
		async close() {
			for (const p of pairs) {
				p.down.destroy();
				p.up.destroy();
			}
			await new Promise((resolve) => server.close(resolve));
		},
	};
}

test('a subscriber that stays open but stops delivering is found by the canary and reset', async () => {
	const redis = await h.startRedis();
	running.push({ stop: () => redis.stop() });
	const proxy = await stallingProxy(redis.port);
	running.push({ stop: () => proxy.close() });
	const sg = await h.startSiogate({ redis: proxy.url });
	running.push(sg);
	const s = await h.connectAuthed(sg.url, { claims: { sub: h.uniq('stall') } });
	let dropped = false;
	s.on('disconnect', () => { dropped = true; });
	const emitter = await h.emitterFor(redis.url);
	const first = h.once(s, 'before');
	await emitter.to(s.id).emit('before', 1);
	assert.equal(await first, 1);

	const mark = sg.mark();
	// every worker's subscriber goes through the proxy: all of them stall, and each finds out
	const frozen = proxy.freezeSubscribers();
	assert.ok(frozen >= 1, 'the subscribers go through the proxy');
	for (const pattern of [/redis subscriber: resetting .*canary lost/, /bridge: subscribed/]) {
		const deadline = Date.now() + 20000;
		while (sg.countLog(pattern, mark) < frozen) {
			assert.ok(Date.now() < deadline, `${frozen} x ${pattern} in the log`);
			await h.delay(100);
		}
	}
	const again = h.once(s, 'after');
	await emitter.to(s.id).emit('after', 2);
	assert.equal(await again, 2, 'delivery resumes on the new subscriber connection');
	await emitter.close();
	assert.equal(dropped, false, 'no client was dropped');
	assert.ok(s.connected);
});
