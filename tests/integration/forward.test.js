'use strict';
/*
 * forward.test.js: events.forward, client events to backends.  A matching event goes to a Redis
 * stream (read back with XRANGE: id, user, event, data, time, server) or to an HTTP endpoint
 * whose JSON answer becomes the ack the client's callback receives; unmatched events and events
 * of unauthenticated clients go nowhere and are counted.
 */

const assert = require('node:assert/strict');
const { test, before, after } = require('node:test');
const http = require('node:http');
const { createClient } = require('redis');
const h = require('./lib/harness');
const { startNodePeer } = require('./lib/nodepeer');

let backend;
const seen = [];
const ctx = { sg: null, redis: null };
let rc;

before(async () => {
	backend = http.createServer((req, res) => {
		let body = '';
		req.on('data', (d) => { body += d; });
		req.on('end', () => {
			const ev = JSON.parse(body);
			seen.push(ev);
			if (ev.event === 'rpc:fail') {
				res.writeHead(500);
				return res.end();
			}
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end(JSON.stringify({ sum: (ev.data || []).reduce((a, b) => a + b, 0), user: ev.user }));
		});
	});
	await new Promise((r) => backend.listen(0, '127.0.0.1', r));
	ctx.redis = await h.startRedis();
	ctx.sg = await h.startSiogate({
		redis: ctx.redis,
		config: {
			server: { id: 'gw-fwd' },
			events: {
				forward: [
					{ match: 'chat:*', stream: 'siogate:events' },
					{ match: 'rpc:*', http: `http://127.0.0.1:${backend.address().port}/rpc`, timeout: '2s' },
				],
				stream_maxlen: 1000,
			},
		},
	});
	rc = createClient({ url: ctx.redis.url });
	rc.on('error', () => {});
	await rc.connect();
});

after(async () => {
	h.closeClients(true);
	if (rc) await rc.quit().catch(() => {});
	if (ctx.sg) {
		const exit = await ctx.sg.stop();
		h.assertCleanLog(ctx.sg.log(), exit, 'SIGTERM');
	}
	if (ctx.redis) await ctx.redis.stop();
	backend.closeAllConnections();
	await new Promise((r) => backend.close(r));
});

test('a chat:* event is added to the stream with every field, and acked with the entry id', async () => {
	const user = h.uniq('u');
	const s = await h.connectAuthed(ctx.sg.url, { claims: { sub: user } });
	const ack = await s.timeout(3000).emitWithAck('chat:message', { text: 'héllo', n: 0.1 });
	assert.match(ack.id, /^\d+-\d+$/);
	const entries = await rc.xRange('siogate:events', ack.id, ack.id);
	assert.equal(entries.length, 1);
	const f = entries[0].message;
	assert.equal(f.id, s.id);
	assert.equal(f.user, user);
	assert.equal(f.event, 'chat:message');
	assert.deepEqual(JSON.parse(f.data), { text: 'héllo', n: 0.1 });
	assert.equal(f.server, 'gw-fwd');
	assert.match(f.time, /Z$/);
});

test('several arguments arrive as an array; no argument as null; no ack asked, none sent', async () => {
	const s = await h.connectAuthed(ctx.sg.url, { claims: { sub: h.uniq('m') } });
	const a = await s.timeout(3000).emitWithAck('chat:multi', 1, 'two', [3]);
	const b = await s.timeout(3000).emitWithAck('chat:none');
	const entries = await rc.xRange('siogate:events', a.id, b.id);
	assert.deepEqual(JSON.parse(entries[0].message.data), [1, 'two', [3]]);
	assert.equal(entries.at(-1).message.data, 'null');
	s.emit('chat:noack', 'x');
	const fence = await s.timeout(3000).emitWithAck('chat:fence');
	const all = await rc.xRange('siogate:events', '-', fence.id);
	assert.ok(all.some((e) => e.message.event === 'chat:noack'));
});

test('an rpc:* event goes to the HTTP backend and its JSON answer is the ack', async () => {
	const user = h.uniq('r');
	const s = await h.connectAuthed(ctx.sg.url, { claims: { sub: user } });
	const ack = await s.timeout(3000).emitWithAck('rpc:sum', 1, 2, 3);
	assert.deepEqual(ack, { sum: 6, user });
	const call = seen.find((e) => e.id === s.id);
	assert.equal(call.event, 'rpc:sum');
	assert.deepEqual(call.data, [1, 2, 3]);
	assert.equal(call.ack, true);
	assert.equal(call.server, 'gw-fwd');
});

test('a failing backend acks an error instead of leaving the client waiting', async () => {
	const s = await h.connectAuthed(ctx.sg.url, { claims: { sub: h.uniq('f') } });
	const ack = await s.timeout(5000).emitWithAck('rpc:fail', 1);
	assert.match(ack.error, /could not be forwarded/);
});

test('unmatched events and events of unauthenticated clients go nowhere, counted', async () => {
	const metric = async () => h.metric(await h.metrics(ctx.sg), 'siogate_events_dropped_total');
	const d0 = await metric();
	const s = await h.connectAuthed(ctx.sg.url, { claims: { sub: h.uniq('d') } });
	s.emit('other:thing', 1);
	const u = await h.connect(ctx.sg.url, { auth: { token: h.token({ sub: 'x' }) } });
	u.emit('chat:sneaky', 1);
	await h.delay(200);
	assert.ok((await metric()) - d0 >= 2);
	const all = await rc.xRange('siogate:events', '-', '+');
	assert.ok(!all.some((e) => e.message.event === 'chat:sneaky'));
});

test('a Node peer\'s serverSideEmit reaches the backend by the same rules, and its answer comes back', async () => {
	const peer = await startNodePeer(ctx.redis.url, { listen: false });
	const io = peer.io;
	try {
		const answers = await io.serverSideEmitWithAck('rpc:sum', 4, 5);
		assert.deepEqual(answers, [{ sum: 9, user: '' }]);
		const call = seen.find((e) => e.event === 'rpc:sum' && e.from === 'server');
		assert.deepEqual(call.data, [4, 5]);
		/* and a stream rule takes server-side events too */
		io.serverSideEmit('chat:from-node', { hi: 1 });
		const deadline2 = Date.now() + 3000;
		let found;
		while (!(found = (await rc.xRange('siogate:events', '-', '+')).find((e) => e.message.event === 'chat:from-node'))) {
			if (Date.now() > deadline2) throw new Error('the server-side event never reached the stream');
			await h.delay(50);
		}
		assert.deepEqual(JSON.parse(found.message.data), { hi: 1 });
	} finally {
		await peer.close();
	}
});
