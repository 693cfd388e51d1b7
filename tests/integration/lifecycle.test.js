'use strict';
/*
 * lifecycle.test.js: lifecycle events on redis.lifecycle_channel, observed with a real Redis
 * SUBSCRIBE as a backend keeping presence would: connected, authenticated (with the default
 * rooms), joined, left, disconnected (with the reason), each with the socket id, the server id,
 * the user (the token's sub) and an ISO time.
 */

const assert = require('node:assert/strict');
const { test } = require('node:test');
const { createClient } = require('redis');
const h = require('./lib/harness');

const env = h.useSiogate({
	redis: true,
	config: { server: { id: 'gw-test-1' }, rooms: { allow: ['public-*'] } },
});

async function subscriber() {
	const events = [];
	const waiters = [];
	const client = createClient({ url: env.redis.url });
	client.on('error', () => {});
	await client.connect();
	await client.subscribe('siogate#lifecycle', (message) => {
		const ev = JSON.parse(message);
		events.push(ev);
		for (const w of waiters.splice(0)) w();
	});
	const until = async (pred, what) => {
		const deadline = Date.now() + 5000;
		for (;;) {
			const found = events.find(pred);
			if (found) return found;
			if (Date.now() > deadline) throw new Error(`no lifecycle event: ${what}; got ${JSON.stringify(events)}`);
			await new Promise((r) => { waiters.push(r); setTimeout(r, 100); });
		}
	};
	return { events, until, close: () => client.quit() };
}

test('a client\'s life is published: connected, authenticated, joined, left, disconnected', async () => {
	const sub = await subscriber();
	try {
		const user = h.uniq('alice');
		const s = await h.connectAuthed(env.sg.url, { claims: { sub: user } });
		const id = s.id;
		const connected = await sub.until((e) => e.id === id && e.type === 'connected', 'connected');
		assert.equal(connected.server, 'gw-test-1');
		assert.equal(connected.nsp, '/');
		assert.equal(connected.user, null);
		assert.match(connected.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

		const authed = await sub.until((e) => e.id === id && e.type === 'authenticated', 'authenticated');
		assert.equal(authed.user, user);
		assert.deepEqual([...authed.rooms].sort(), ['io-default', 'io-notification']);

		await s.timeout(3000).emitWithAck('join', { rooms: ['public-a', 'nope'] });
		const joined = await sub.until((e) => e.id === id && e.type === 'joined', 'joined');
		assert.deepEqual(joined.rooms, ['public-a']);

		await s.timeout(3000).emitWithAck('leave', { rooms: ['public-a'] });
		const left = await sub.until((e) => e.id === id && e.type === 'left', 'left');
		assert.deepEqual(left.rooms, ['public-a']);

		s.disconnect();
		const gone = await sub.until((e) => e.id === id && e.type === 'disconnected', 'disconnected');
		assert.equal(gone.user, user);
		assert.equal(gone.reason, 'client namespace disconnect');
		assert.deepEqual([...gone.rooms].sort(), ['io-default', 'io-notification']);

		const order = sub.events.filter((e) => e.id === id).map((e) => e.type);
		assert.deepEqual(order, ['connected', 'authenticated', 'joined', 'left', 'disconnected']);
	} finally {
		await sub.close();
	}
});

test('a refused client is published as connected then disconnected with the reason', async () => {
	const sub = await subscriber();
	try {
		const s = await h.connect(env.sg.url, { auth: { token: 'not-a-jwt' } });
		const id = s.id;
		s.emit('authenticate');
		const gone = await sub.until((e) => e.id === id && e.type === 'disconnected', 'disconnected');
		assert.equal(gone.reason, 'auth rejected');
		assert.equal(gone.user, null);
		assert.deepEqual(sub.events.filter((e) => e.id === id).map((e) => e.type), ['connected', 'disconnected']);
	} finally {
		await sub.close();
	}
});
