'use strict';
/*
 * roomcheck.test.js: rooms.http, the room validator call-out.  A join's rooms go to a real Node
 * HTTP service as {id, nsp, user, claims, rooms}; its {"rooms": [...]} answer is what is joined;
 * a failing or slow validator refuses every room; other sockets' ids stay refused whatever the
 * validator says.
 */

const assert = require('node:assert/strict');
const { test, before, after } = require('node:test');
const http = require('node:http');
const h = require('./lib/harness');

let validator;
const calls = [];
let sg;

before(async () => {
	validator = http.createServer((req, res) => {
		let body = '';
		req.on('data', (d) => { body += d; });
		req.on('end', () => {
			const q = JSON.parse(body);
			calls.push(q);
			if (q.rooms.includes('boom')) {
				res.writeHead(500);
				return res.end();
			}
			const delay = q.rooms.includes('slow') ? 1500 : 0;
			setTimeout(() => {
				res.writeHead(200, { 'content-type': 'application/json' });
				/* allow the rooms that start with the user's org, and whatever was asked as "any-*" */
				res.end(JSON.stringify({ rooms: q.rooms.filter((r) => r.startsWith(`${q.claims.org}-`) || r.startsWith('any-')) }));
			}, delay);
		});
	});
	await new Promise((r) => validator.listen(0, '127.0.0.1', r));
	sg = await h.startSiogate({
		config: { rooms: { http: { url: `http://127.0.0.1:${validator.address().port}/rooms`, timeout: '500ms' } } },
	});
});

after(async () => {
	h.closeClients(true);
	if (sg) {
		const exit = await sg.stop();
		h.assertCleanLog(sg.log(), exit, 'SIGTERM');
	}
	validator.closeAllConnections();
	await new Promise((r) => validator.close(r));
});

test('the validator decides: its answer is joined, the rest refused, with what it was asked', async () => {
	const user = h.uniq('v');
	const s = await h.connectAuthed(sg.url, { claims: { sub: user, org: 'acme' } });
	const ack = await s.timeout(3000).emitWithAck('join', { rooms: ['acme-news', 'evil-news', 'any-x'] });
	assert.deepEqual(ack, { rooms: ['acme-news', 'any-x'], rejected: ['evil-news'] });
	const q = calls.at(-1);
	assert.equal(q.id, s.id);
	assert.equal(q.user, user);
	assert.equal(q.nsp, '/');
	assert.equal(q.claims.org, 'acme');
	assert.deepEqual(q.rooms, ['acme-news', 'evil-news', 'any-x']);
});

test('another socket\'s id is refused even when the validator allows it', async () => {
	const a = await h.connectAuthed(sg.url, { claims: { sub: h.uniq('a'), org: 'acme' } });
	const b = await h.connectAuthed(sg.url, { claims: { sub: h.uniq('b'), org: 'acme' } });
	const victim = `any-${b.id}`.slice(4);
	const ack = await a.timeout(3000).emitWithAck('join', { rooms: [victim] });
	assert.deepEqual(ack.rooms, []);
});

test('a failing or slow validator refuses every room, and the client stays connected', async () => {
	const s = await h.connectAuthed(sg.url, { claims: { sub: h.uniq('f'), org: 'acme' } });
	let ack = await s.timeout(3000).emitWithAck('join', { rooms: ['acme-a', 'boom'] });
	assert.deepEqual(ack, { rooms: [], rejected: ['acme-a', 'boom'] });
	ack = await s.timeout(3000).emitWithAck('join', { rooms: ['acme-b', 'slow'] });
	assert.deepEqual(ack, { rooms: [], rejected: ['acme-b', 'slow'] });
	assert.ok(s.connected);
});

test('rooms.http.max_in_flight bounds the validator requests at once; the others wait their turn', async () => {
	let now = 0;
	let most = 0;
	const paced = http.createServer((req, res) => {
		now++;
		most = Math.max(most, now);
		req.resume();
		req.on('end', () => setTimeout(() => {
			now--;
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end('{"rooms":["any-paced"]}');
		}, 100));
	});
	await new Promise((r) => paced.listen(0, '127.0.0.1', r));
	const one = await h.startSiogate({
		config: {
			server: { workers: 1 },
			rooms: { http: { url: `http://127.0.0.1:${paced.address().port}/rooms`, timeout: '5s', max_in_flight: 2 } },
		},
	});
	try {
		const clients = await Promise.all(Array.from({ length: 6 }, () =>
			h.connectAuthed(one.url, { claims: { sub: h.uniq('p'), org: 'acme' } })));
		const acks = await Promise.all(clients.map((s) => s.timeout(5000).emitWithAck('join', { rooms: ['any-paced'] })));
		for (const ack of acks) assert.deepEqual(ack, { rooms: ['any-paced'], rejected: [] });
		assert.equal(most, 2);
	} finally {
		h.closeClients(true);
		await one.stop();
		paced.closeAllConnections();
		await new Promise((r) => paced.close(r));
	}
});
