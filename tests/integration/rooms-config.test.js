'use strict';
/*
 * rooms-config.test.js: a config without rooms.allow refuses every join (the seed's secure
 * default), and rooms.default replaces io-default / io-notification.
 */

const assert = require('node:assert/strict');
const { test } = require('node:test');
const h = require('./lib/harness');

const LOBBY = 'lobby-main';

const env = h.useSiogate({
	redis: true,
	config: {
		auth: { timeout: '5s' },
		rooms: { default: [LOBBY] },
	},
});

test('without rooms.allow every join is refused', async () => {
	const s = await h.connectAuthed(env.sg.url, { claims: { sub: 'alice' } });
	const pub = h.uniq('public');
	const ack = await s.timeout(3000).emitWithAck('join', { rooms: [pub, 'user-alice', 'anything'] });
	assert.deepEqual(ack, { rooms: [], rejected: [pub, 'user-alice', 'anything'] });
	const got = h.collect(s, 'msg');
	env.emitter.to(pub).emit('msg', 1);
	env.emitter.to('user-alice').emit('msg', 2);
	await h.fence(env.emitter, s);
	assert.deepEqual(got, []);
});

test('rooms.default replaces the built-in default rooms', async () => {
	const s = await h.connectAuthed(env.sg.url, { claims: { sub: 'alice' } });
	const got = h.collect(s, 'msg');
	const p = h.once(s, 'lobby');
	env.emitter.to(LOBBY).emit('lobby', 'welcome');
	assert.equal(await p, 'welcome');
	env.emitter.to('io-default').emit('msg', 'default');
	env.emitter.to('io-notification').emit('msg', 'notification');
	await h.fence(env.emitter, s);
	assert.deepEqual(got, [], 'io-default and io-notification are not joined when rooms.default is set');
});
