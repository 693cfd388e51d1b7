'use strict';
/*
 * rooms.test.js: default rooms, `join` / `leave` with rooms.allow rules (wildcards and {claim}
 * templates), the socket-id rule, and that nothing is joined before authentication.  Delivery is
 * checked with @socket.io/redis-emitter; "not delivered" is checked with a fence (a later message
 * to the same client through the same Redis connection), so no check depends on a sleep.
 */

const assert = require('node:assert/strict');
const { test } = require('node:test');
const h = require('./lib/harness');

const env = h.useSiogate({
	redis: true,
	config: {
		auth: { timeout: '5s' },
		/* {nick} is a custom claim: it lets a token name any room, to test the socket-id rule. */
		rooms: { allow: ['public-*', 'user-{sub}', '{nick}'] },
	},
});

function join(socket, rooms) {
	return socket.timeout(3000).emitWithAck('join', { rooms });
}

function leave(socket, rooms) {
	return socket.timeout(3000).emitWithAck('leave', { rooms });
}

/* Emits `ev` to room and asserts socket receives exactly that payload. */
async function expectDelivered(socket, room, ev = 'msg') {
	const payload = { room, n: Math.random() };
	const p = h.once(socket, ev, 3000, { label: `to(${room})` });
	env.emitter.to(room).emit(ev, payload);
	assert.deepEqual(await p, payload);
}

/* Emits `ev` to room and asserts socket does not receive it (fenced). */
async function expectNotDelivered(socket, room, ev = 'msg') {
	const got = h.collect(socket, ev);
	env.emitter.to(room).emit(ev, { room });
	await h.fence(env.emitter, socket);
	got.stop();
	assert.deepEqual(got, [], `to(${room}) must not reach ${socket.id}`);
}

test('an authenticated client is in io-default and io-notification', async () => {
	const s = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('alice') } });
	await expectDelivered(s, 'io-default', 'hello');
	await expectDelivered(s, 'io-notification', 'alert');
});

test('an authenticated client is in its own socket id room', async () => {
	const s = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('alice') } });
	await expectDelivered(s, s.id);
});

test('join: allowed rooms are joined, others refused, the ack says which', async () => {
	const s = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('alice') } });
	const pub = h.uniq('public');
	const ack = await join(s, [pub, 'secret-room']);
	assert.deepEqual(ack, { rooms: [pub], rejected: ['secret-room'] });
	await expectDelivered(s, pub);
	await expectNotDelivered(s, 'secret-room');
});

test('join: several allowed rooms at once keep their order', async () => {
	const s = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('alice') } });
	const a = h.uniq('public-a');
	const b = h.uniq('public-b');
	const ack = await join(s, [a, 'nope-1', b, 'nope-2']);
	assert.deepEqual(ack, { rooms: [a, b], rejected: ['nope-1', 'nope-2'] });
	await expectDelivered(s, a);
	await expectDelivered(s, b);
});

test('join: user-{sub} allows the own user room only', async () => {
	const sub = h.uniq('alice');
	const other = h.uniq('bob');
	const s = await h.connectAuthed(env.sg.url, { claims: { sub } });
	const ack = await join(s, [`user-${sub}`, `user-${other}`]);
	assert.deepEqual(ack, { rooms: [`user-${sub}`], rejected: [`user-${other}`] });
	await expectDelivered(s, `user-${sub}`);
	await expectNotDelivered(s, `user-${other}`);
});

test('join: a {claim} rule allows the room its claim names (control for the next test)', async () => {
	const club = h.uniq('club');
	const s = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('carol'), nick: club } });
	assert.deepEqual(await join(s, [club]), { rooms: [club], rejected: [] });
	await expectDelivered(s, club);
});

test("join: another socket's id is refused even when a rule allows it", async () => {
	const victim = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('bob') } });
	const attacker = await h.connectAuthed(env.sg.url, {
		claims: { sub: h.uniq('mallory'), nick: victim.id },
	});
	const ack = await join(attacker, [victim.id]);
	assert.deepEqual(ack, { rooms: [], rejected: [victim.id] });
	const got = h.collect(attacker, 'private');
	const p = h.once(victim, 'private');
	env.emitter.to(victim.id).emit('private', 'for the victim only');
	assert.equal(await p, 'for the victim only');
	await h.fence(env.emitter, attacker);
	assert.deepEqual(got, []);
});

test('leave: the ack lists the rooms left and the room no longer reaches the client', async () => {
	const s = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('alice') } });
	const pub = h.uniq('public');
	assert.deepEqual(await join(s, [pub]), { rooms: [pub], rejected: [] });
	await expectDelivered(s, pub);
	assert.deepEqual(await leave(s, [pub]), { rooms: [pub] });
	await expectNotDelivered(s, pub);
	/* the other rooms are unaffected */
	await expectDelivered(s, 'io-default');
});

test('leave: the own socket id room is never left', async () => {
	const s = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('alice') } });
	const ack = await leave(s, [s.id]);
	assert.ok(Array.isArray(ack.rooms), `ack ${JSON.stringify(ack)}`);
	assert.ok(!ack.rooms.includes(s.id), `the ack must not list the own id room: ${JSON.stringify(ack)}`);
	await expectDelivered(s, s.id);
});

test('join before authentication is ignored: no ack, no room', async () => {
	const pub = h.uniq('public');
	const s = await h.connect(env.sg.url, { auth: { token: h.token({ sub: h.uniq('alice') }) } });
	let acked = null;
	s.emit('join', { rooms: [pub] }, (ack) => {
		acked = ack;
	});
	/* authenticated is sent after the server handled the join, so any ack would be here by now */
	await h.authenticate(s);
	assert.equal(acked, null, `join before authentication must not be acked: ${JSON.stringify(acked)}`);
	await expectNotDelivered(s, pub);
	assert.equal(acked, null);
	/* and the client can still join once authenticated */
	assert.deepEqual(await join(s, [pub]), { rooms: [pub], rejected: [] });
	await expectDelivered(s, pub);
});

test('malformed join and leave payloads do not break the connection', async () => {
	const s = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('alice') } });
	const disconnects = h.collect(s, 'disconnect');
	s.emit('join');
	s.emit('join', 'public-string');
	s.emit('join', { rooms: 'public-string' });
	s.emit('join', { rooms: [1, null, {}, ['public-x']] });
	s.emit('join', null);
	s.emit('leave');
	s.emit('leave', { rooms: 42 });
	s.emit('leave', [1, 2]);
	await h.fence(env.emitter, s);
	assert.deepEqual(disconnects, []);
	assert.ok(s.connected);
	/* still fully working */
	const pub = h.uniq('public');
	assert.deepEqual(await join(s, [pub]), { rooms: [pub], rejected: [] });
	await expectDelivered(s, pub);
});
