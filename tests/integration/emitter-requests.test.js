'use strict';
/*
 * emitter-requests.test.js: what @socket.io/redis-emitter 5.1.0 asks of the servers, on
 * siogate's sockets: socketsJoin, socketsLeave and disconnectSockets (the request forms without
 * uid), per namespace, plus volatile and binary broadcasts.
 */

const assert = require('node:assert/strict');
const { test } = require('node:test');
const h = require('./lib/harness');

const env = h.useSiogate({ redis: true, config: { namespaces: ['/', '/other'] } });


test('socketsJoin and socketsLeave from the emitter move siogate\'s sockets', async () => {
	const s = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('j') } });
	const room = h.uniq('emitted-room');
	env.emitter.in(s.id).socketsJoin(room);
	await h.delay(100); /* a request has no answer to wait for */
	const got = h.once(s, 'in-room');
	await env.emitter.to(room).emit('in-room', 1);
	assert.equal(await got, 1);
	env.emitter.in(s.id).socketsLeave(room);
	await h.delay(100);
	const none = h.nothing(s, 'after-leave', 300);
	await env.emitter.to(room).emit('after-leave', 1);
	await none;
});

test('disconnectSockets from the emitter disconnects with io server disconnect', async () => {
	const s = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('d') } });
	const gone = h.once(s, 'disconnect');
	env.emitter.in(s.id).disconnectSockets();
	assert.equal(await gone, 'io server disconnect');
});

test('of(/other): the requests and broadcasts stay in their namespace', async () => {
	const main = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('m') } });
	const other = await h.connectAuthed(env.sg.url + '/other', { claims: { sub: h.uniq('o') } });
	env.emitter.of('/other').in(other.id).socketsJoin('o-room');
	await h.delay(100);
	const got = h.once(other, 'o-evt');
	const none = h.nothing(main, 'o-evt', 300);
	await env.emitter.of('/other').to('o-room').emit('o-evt', true);
	assert.equal(await got, true);
	await none;
});

test('volatile and binary broadcasts arrive', async () => {
	const s = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('v') } });
	const v = h.once(s, 'vol');
	await env.emitter.volatile.to(s.id).emit('vol', 'v');
	assert.equal(await v, 'v');
	const b = h.once(s, 'bin');
	await env.emitter.to(s.id).emit('bin', Buffer.from([7, 8, 9]));
	assert.deepEqual([...(await b)], [7, 8, 9]);
});
