'use strict';
/*
 * multiplex.test.js: several namespaces on one Engine.IO connection, each running the helper
 * flow on its own (its own socket id, its own authentication and rooms), and socket.io-client
 * reconnecting by itself after siogate restarts on the same port.
 */

const assert = require('node:assert/strict');
const { test } = require('node:test');
const { io } = require('socket.io-client');
const h = require('./lib/harness');

const env = h.useSiogate({ redis: true, config: { namespaces: ['/', '/chat'], rooms: { allow: ['public-*'] } } });

test('two namespaces share one connection; each authenticates and joins on its own', async () => {
	const token = h.token({ sub: h.uniq('mx') });
	const manager = new io.Manager(env.sg.url, { transports: ['websocket'], reconnection: false });
	const main = manager.socket('/', { auth: { token } });
	const chat = manager.socket('/chat', { auth: { token } });
	try {
		await Promise.all([main, chat].map((s) => h.withTimeout(new Promise((r) => s.on('connect', r)), 5000, 'connect')));
		assert.notEqual(main.id, chat.id, 'one socket id per namespace');
		assert.equal(manager.engine.id !== undefined, true);
		/* only /chat authenticates: / stays unauthorized */
		const authed = await h.authenticate(chat);
		assert.equal(authed.id, chat.id);
		const ackChat = await chat.timeout(3000).emitWithAck('join', { rooms: ['public-room'] });
		assert.deepEqual(ackChat.rooms, ['public-room']);
		const gotChat = h.once(chat, 'news');
		const none = h.nothing(main, 'news', 300);
		await env.emitter.of('/chat').to('public-room').emit('news', 1);
		assert.equal(await gotChat, 1);
		await none;
		/* / authenticates later, independently */
		await h.authenticate(main);
		const gotMain = h.once(main, 'all');
		await env.emitter.emit('all', 2);
		assert.equal(await gotMain, 2);
		/* leaving one namespace keeps the other */
		chat.disconnect();
		const again = h.once(main, 'still');
		await env.emitter.to(main.id).emit('still', 3);
		assert.equal(await again, 3);
	} finally {
		main.close();
		chat.close();
		manager.engine && manager.engine.close();
	}
});

test('socket.io-client reconnects by itself after siogate restarts on the same port', async () => {
	const sg = await h.startSiogate({});
	const token = h.token({ sub: h.uniq('re') });
	const s = io(sg.url, { forceNew: true, auth: { token }, reconnectionDelay: 100, reconnectionDelayMax: 500 });
	try {
		await h.withTimeout(new Promise((r) => s.on('connect', r)), 5000, 'connect');
		await h.authenticate(s);
		const dropped = h.once(s, 'disconnect');
		await sg.stop();
		assert.equal(await dropped, 'transport close');
		const again = await h.startSiogate({ port: sg.port });
		try {
			await h.withTimeout(new Promise((r) => s.once('connect', r)), 15000, 'the reconnection');
			const authed = await h.authenticate(s);
			assert.equal(authed.id, s.id);
		} finally {
			await again.stop();
		}
	} finally {
		s.close();
	}
});
