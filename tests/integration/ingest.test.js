'use strict';
/*
 * ingest.test.js: durable ingestion and a lifecycle stream.  A backend XADDs JSON-channel
 * messages to redis.ingest_stream; every worker of every instance reads it in a consumer group
 * of its own and delivers each entry once to its sockets; an idempotency key skips a repeat;
 * entries added while siogate's connection is gone (its process stopped, the connection killed)
 * are delivered when it is back, where a PUBLISH of the same moment is lost.  Lifecycle events
 * also go to redis.lifecycle_stream, which a backend that restarts reads from where it stopped.
 */

const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const { test, after } = require('node:test');
const h = require('./lib/harness');

const running = [];
after(async () => {
	h.closeClients(true);
	for (const x of running.reverse()) await x.stop().catch(() => {});
});

function cli(redis, ...args) {
	return execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(redis.port), ...args],
		{ encoding: 'utf8', timeout: 5000 }).trim();
}

const STREAM = 'siogate#ingest';

test('every instance and worker delivers each stream entry once; a repeated key is skipped', async () => {
	const redis = await h.startRedis();
	running.push(redis);
	const a = await h.startSiogate({ redis, config: { server: { id: 'ing-a', workers: 2 }, redis: { ingest_stream: STREAM } } });
	const b = await h.startSiogate({ redis, config: { server: { id: 'ing-b' }, redis: { ingest_stream: STREAM } } });
	running.push(a, b);
	await a.waitForLog(/ingest: reading stream siogate#ingest as group siogate:ing-a:1/, 5000);
	await b.waitForLog(/ingest: reading stream siogate#ingest as group siogate:ing-b:0/, 5000);
	const clients = [];
	for (let i = 0; i < 6; i++)
		clients.push(await h.connectAuthed(i < 4 ? a.url : b.url, { claims: { sub: h.uniq('ing') } }));
	const got = clients.map((s) => h.collect(s, 'news'));
	cli(redis, 'XADD', STREAM, '*', 'message', '{"event":"news","data":1}');
	cli(redis, 'XADD', STREAM, '*', 'message', '{"event":"news","data":2}', 'key', 'order-7');
	cli(redis, 'XADD', STREAM, '*', 'message', '{"event":"news","data":3}', 'key', 'order-7');
	cli(redis, 'XADD', STREAM, '*', 'message', '{"event":"news","data":4}');
	cli(redis, 'XADD', STREAM, '*', 'nothing', 'here');
	await Promise.all(got.map((g) => g.waitFor(3, 5000)));
	await h.delay(300);
	for (const g of got)
		assert.deepEqual([...g], [1, 2, 4]);
	/* each group acknowledged everything it read */
	for (const group of ['siogate:ing-a:0', 'siogate:ing-a:1', 'siogate:ing-b:0'])
		assert.equal(cli(redis, 'XPENDING', STREAM, group).split('\n')[0], '0', group);
	const m = await h.metrics(a);
	assert.equal(h.metric(m, 'siogate_ingest_entries_total{outcome="delivered"}'), 2 * 3);
	assert.equal(h.metric(m, 'siogate_ingest_entries_total{outcome="duplicate"}'), 2 * 1);
	assert.equal(h.metric(m, 'siogate_ingest_entries_total{outcome="malformed"}'), 2 * 1);
	/* the connections are named for operators */
	assert.match(cli(redis, 'CLIENT', 'LIST'), /name=siogate-ingest /);
});

test('entries added while siogate is cut off are delivered when it is back; a PUBLISH is lost', async () => {
	const redis = await h.startRedis();
	running.push(redis);
	const sg = await h.startSiogate({ redis, config: { server: { id: 'ing-c', workers: 1 }, redis: { ingest_stream: STREAM } } });
	running.push(sg);
	await sg.waitForLog(/ingest: reading stream/, 5000);
	const s = await h.connectAuthed(sg.url, { claims: { sub: h.uniq('cut') } });
	const got = h.collect(s, 'late');
	const mark = sg.mark();
	process.kill(sg.pid, 'SIGSTOP');
	try {
		/* e1 is taken by the blocked read (pending for the group) just before its connection dies */
		cli(redis, 'XADD', STREAM, '*', 'message', '{"event":"late","data":"e1"}', 'key', 'e1');
		/* its subscriber and its stream reader lose their connections */
		const ids = cli(redis, 'CLIENT', 'LIST').split('\n')
			.filter((l) => / name=siogate-(ingest|subscriber) /.test(l)).map((l) => l.match(/^id=(\d+)/)[1]);
		assert.equal(ids.length, 2);
		for (const id of ids) cli(redis, 'CLIENT', 'KILL', 'ID', id);
		cli(redis, 'XADD', STREAM, '*', 'message', '{"event":"late","data":"e2"}');
		cli(redis, 'PUBLISH', 'siogate#send', '{"event":"late","data":"published"}');
	} finally {
		process.kill(sg.pid, 'SIGCONT');
	}
	await sg.waitForLog(/redis ingest: connected/, 5000, mark);
	await sg.waitSubscribed(5000, mark);
	await got.waitFor(2, 5000);
	await h.delay(300);
	assert.deepEqual([...got], ['e1', 'e2']);
});

test('lifecycle events go to redis.lifecycle_stream too, capped, for a backend that resumes', async () => {
	const redis = await h.startRedis();
	running.push(redis);
	const sg = await h.startSiogate({
		redis,
		config: { redis: { lifecycle_stream: 'siogate#lifecycle-log', lifecycle_stream_maxlen: 1000 } },
	});
	running.push(sg);
	const sub = h.uniq('life');
	const s = await h.connectAuthed(sg.url, { claims: { sub } });
	const id = s.id;
	s.disconnect();
	await h.until(() => {
		const out = cli(redis, 'XRANGE', 'siogate#lifecycle-log', '-', '+');
		return out.includes('"type":"disconnected"') && out.includes(id);
	}, 5000, 'the disconnected event in the stream');
	const events = cli(redis, 'XRANGE', 'siogate#lifecycle-log', '-', '+').split('\n')
		.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((e) => e.id === id);
	assert.deepEqual(events.map((e) => e.type), ['connected', 'authenticated', 'disconnected']);
	assert.equal(events[1].user, sub);
});
