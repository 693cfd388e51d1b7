'use strict';
/*
 * emitter.test.js: what @socket.io/redis-emitter 5.1.0 publishes reaches siogate's clients with
 * the Node adapter's semantics: to all (authenticated only), to a room, to a socket id, except,
 * several rooms delivered once, namespaces, and payloads that round-trip exactly through msgpack
 * and back out as JSON.  "Not delivered" is checked with a fence (a later message to the same
 * client through the same Redis connection); only the unauthenticated client and the cross-
 * namespace cases use a short bounded quiet window.
 */

const assert = require('node:assert/strict');
const { test } = require('node:test');
const h = require('./lib/harness');

const QUIET_MS = 250;

const env = h.useSiogate({
	redis: true,
	config: {
		namespaces: ['/', '/other'],
		auth: { timeout: '5s' },
		rooms: { allow: ['public-*'] },
	},
});

/* Two authenticated clients A and B on "/", and C, connected but never authenticated. */
async function trio() {
	const a = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('a') } });
	const b = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('b') } });
	const c = await h.connect(env.sg.url, { auth: { token: h.token({ sub: h.uniq('c') }) } });
	return { a, b, c };
}

async function join(socket, rooms) {
	const ack = await socket.timeout(3000).emitWithAck('join', { rooms });
	assert.deepEqual(ack, { rooms, rejected: [] });
}

test('emit to all reaches every authenticated client and no unauthenticated one', async () => {
	const { a, b, c } = await trio();
	const gotC = h.collect(c, 'all');
	const pa = h.once(a, 'all');
	const pb = h.once(b, 'all');
	env.emitter.emit('all', { x: 1 });
	assert.deepEqual(await pa, { x: 1 });
	assert.deepEqual(await pb, { x: 1 });
	await h.delay(QUIET_MS);
	assert.deepEqual(gotC, [], 'an unauthenticated client receives no broadcast');
	assert.ok(c.connected);
});

test('an unauthenticated client receives nothing, even addressed by its socket id', async () => {
	const { a, c } = await trio();
	const gotC = h.collect(c, 'direct');
	env.emitter.to(c.id).emit('direct', 1);
	env.emitter.to('io-default').emit('direct', 2);
	/* A is on the same namespace; once A has the later message, C's would have been sent too */
	const pa = h.once(a, 'direct');
	env.emitter.to(a.id).emit('direct', 3);
	assert.equal(await pa, 2);
	await h.delay(QUIET_MS);
	assert.deepEqual(gotC, []);
});

test('to(room) reaches the members of the room only', async () => {
	const { a, b } = await trio();
	const room = h.uniq('public');
	await join(a, [room]);
	const gotB = h.collect(b, 'm');
	const pa = h.once(a, 'm');
	env.emitter.to(room).emit('m', 'a-only');
	assert.equal(await pa, 'a-only');
	await h.fence(env.emitter, b);
	assert.deepEqual(gotB, []);
});

test('to(socket id) reaches that socket only', async () => {
	const { a, b } = await trio();
	const gotA = h.collect(a, 'm');
	const pb = h.once(b, 'm');
	env.emitter.to(b.id).emit('m', 'b-only');
	assert.equal(await pb, 'b-only');
	await h.fence(env.emitter, a);
	assert.deepEqual(gotA, []);
});

test('except(room) reaches everyone else', async () => {
	const { a, b } = await trio();
	const room = h.uniq('public');
	await join(a, [room]);
	const gotA = h.collect(a, 'm');
	const pb = h.once(b, 'm');
	env.emitter.except(room).emit('m', 'not-a');
	assert.equal(await pb, 'not-a');
	await h.fence(env.emitter, a);
	assert.deepEqual(gotA, []);
});

test('to(room1).except(room2) excludes members of room2', async () => {
	const { a, b } = await trio();
	const r1 = h.uniq('public-r1');
	const r2 = h.uniq('public-r2');
	await join(a, [r1, r2]);
	await join(b, [r1]);
	const gotA = h.collect(a, 'm');
	const pb = h.once(b, 'm');
	env.emitter.to(r1).except(r2).emit('m', 'b');
	assert.equal(await pb, 'b');
	await h.fence(env.emitter, a);
	assert.deepEqual(gotA, []);
});

test('to([r1, r2]) delivers once to a client in both rooms', async () => {
	const { a, b } = await trio();
	const r1 = h.uniq('public-r1');
	const r2 = h.uniq('public-r2');
	await join(a, [r1, r2]);
	await join(b, [r2]);
	const gotA = h.collect(a, 'm');
	const gotB = h.collect(b, 'm');
	env.emitter.to([r1, r2]).emit('m', 'once');
	await gotA.waitFor(1);
	await gotB.waitFor(1);
	await h.fence(env.emitter, a);
	await h.fence(env.emitter, b);
	assert.deepEqual(gotA, ['once']);
	assert.deepEqual(gotB, ['once']);
});

test('payload types round-trip exactly', async () => {
	const { a } = await trio();
	const args = [
		{ nested: { a: [1, { b: null }], s: 'x', t: true, f: false }, empty: {}, list: [] },
		'héllo wörld ✓ 日本語 😀 Ελληνικά',
		/* floats: notepack writes every non-integer as float64 (an integer-valued double such as
		 * 1e21 is written as uint64 and wraps above 2^64 in notepack itself, so it cannot be
		 * carried by the emitter; the JSON channel will test it) */
		0.1,
		-1.5,
		3.141592653589793,
		4503599627370495.5,
		123456.789,
		1e-7,
		-0.000001,
		2.2250738585072014e-308,
		5e-324,
		0,
		-1,
		127, 128, 255, 256, 65535, 65536,
		4294967295, 4294967296,
		-32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649,
		Number.MAX_SAFE_INTEGER,
		-Number.MAX_SAFE_INTEGER,
		2 ** 60, 2 ** 63, -(2 ** 60), -(2 ** 63), /* uint64 / int64, exact as doubles */
		null,
		true,
		false,
		[],
		{},
		[1, 'two', [3, [4, [5]]], { six: 6 }],
		'',
		'x'.repeat(300),
		'y'.repeat(70000),
		Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])),
		Array.from({ length: 20 }, (_, i) => i * 1.5),
	];
	const p = h.onceArgs(a, 'types', 5000);
	env.emitter.to(a.id).emit('types', ...args);
	assert.deepStrictEqual(await p, args);
});

test('strings with quotes, backslashes and control characters round-trip', async () => {
	const { a } = await trio();
	const s = 'quote " backslash \\ slash / newline \n tab \t cr \r bell \u0007 esc \u001b del \u007f ' +
		'ls \u2028 ps \u2029 bom \ufeff nul \u0000 end';
	const key = s.replace('\u0000', ''); /* a NUL in a value, not in an object key */
	const p = h.onceArgs(a, 'str');
	env.emitter.to(a.id).emit('str', s, { [key]: s });
	assert.deepStrictEqual(await p, [s, { [key]: s }]);
});

test('event names are delivered as published, unicode included', async () => {
	const { a } = await trio();
	const p = h.onceArgs(a, 'événement:été/✓');
	env.emitter.to(a.id).emit('événement:été/✓', 1, 2);
	assert.deepStrictEqual(await p, [1, 2]);
	/* an event with no arguments */
	const q = h.onceArgs(a, 'bare');
	env.emitter.to(a.id).emit('bare');
	assert.deepStrictEqual(await q, []);
});

test('non-finite numbers arrive as null, as JSON.stringify makes them on a Node server', async () => {
	const { a } = await trio();
	const p = h.onceArgs(a, 'nf');
	env.emitter.to(a.id).emit('nf', NaN, Infinity, -Infinity, { v: NaN });
	assert.deepStrictEqual(await p, [null, null, null, { v: null }]);
});

test('binary payloads arrive as binary (SPEC 4: with binary payloads)', async () => {
	const { a } = await trio();
	const p = h.onceArgs(a, 'bin');
	env.emitter.to(a.id).emit('bin', Buffer.from([1, 2, 3]), { nested: Buffer.from([0xde, 0xad]) });
	const [b1, obj] = await p;
	assert.deepEqual([...Buffer.from(b1)], [1, 2, 3]);
	assert.deepEqual([...Buffer.from(obj.nested)], [0xde, 0xad]);
});

test("of('/other') reaches clients authenticated on /other, not those on /", async () => {
	const { a } = await trio();
	const d = await h.connectAuthed(env.sg.url, { nsp: '/other', claims: { sub: h.uniq('d') } });
	assert.equal(d.authPayload.id, d.id);
	const e = await h.connect(`${env.sg.url}/other`, { auth: { token: h.token({ sub: h.uniq('e') }) } });
	const other = env.emitter.of('/other');
	const gotA = h.collect(a, 'o');
	const gotE = h.collect(e, 'o');
	const pd = h.once(d, 'o');
	other.emit('o', 'for /other');
	assert.equal(await pd, 'for /other');
	/* a later message to D's id on /other, and one to A on / */
	const pd2 = h.once(d, 'o2');
	other.to(d.id).emit('o2', 'direct');
	assert.equal(await pd2, 'direct');
	await h.fence(env.emitter, a);
	await h.delay(QUIET_MS);
	assert.deepEqual(gotA, [], "a client on / does not receive /other's broadcast");
	assert.deepEqual(gotE, [], 'an unauthenticated client on /other receives nothing');
});

test("a broadcast on / does not reach a client on /other", async () => {
	const { a } = await trio();
	const d = await h.connectAuthed(env.sg.url, { nsp: '/other', claims: { sub: h.uniq('d') } });
	const gotD = h.collect(d, 'root');
	const pa = h.once(a, 'root');
	env.emitter.emit('root', 1);
	assert.equal(await pa, 1);
	await h.fence(env.emitter.of('/other'), d);
	await h.delay(QUIET_MS);
	assert.deepEqual(gotD, []);
});

test('an unknown namespace gets connect_error Invalid namespace', async () => {
	await assert.rejects(h.connect(`${env.sg.url}/nope`), (err) => {
		assert.equal(err.message, 'Invalid namespace');
		return true;
	});
});
