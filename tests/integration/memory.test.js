'use strict';
/*
 * memory.test.js: after a wave of clients leaves, siogate gives the freed memory back to the
 * system (glibc keeps freed heap pages otherwise, and RSS would stay at the peak of a spike):
 * 1,000 socket.io-client clients, then 5,000 clients on raw WebSockets spread over two workers,
 * each worker trimming after its share of the wave.
 * Skipped in the sanitizer build: ASan's allocator does not return memory the same way.
 */

const assert = require('node:assert/strict');
const { test } = require('node:test');
const h = require('./lib/harness');

const env = h.useSiogate({});
const SANITIZED = Boolean(process.env.SIOGATE_SANITIZE);

test('1,000 clients come and go: at least a quarter of the memory they took is returned', {
	skip: SANITIZED ? 'sanitizer build: ASan has its own allocator' : false,
}, async (t) => {
	const base = h.rssKb(env.sg.pid);
	const clients = [];
	for (let i = 0; i < 10; i++) {
		const batch = await Promise.all(Array.from({ length: 100 }, () =>
			h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('m') } })));
		clients.push(...batch);
	}
	const peak = h.rssKb(env.sg.pid);
	const grown = peak - base;
	assert.ok(grown > 1024, `1,000 clients took ${grown} kB`);
	for (const c of clients)
		c.close();
	/* the closes are reaped, then the trim follows a short delay */
	const deadline = Date.now() + 15000;
	let now = peak;
	while (Date.now() < deadline) {
		await h.delay(250);
		now = h.rssKb(env.sg.pid);
		if (now < peak - grown * 0.25)
			break;
	}
	assert.ok(now < peak - grown * 0.25,
		`RSS ${base} kB before, ${peak} kB with 1,000 clients, still ${now} kB after they left`);
	t.diagnostic(`RSS ${base} kB, ${peak} kB with 1,000 clients, ${now} kB after they left`);
	/* and it still serves */
	const again = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('m') } });
	assert.ok(again.connected);
});

/* A Socket.IO client on a raw WebSocket, authenticated: a few KB on the test's side, where a
 * socket.io-client costs far more, so that thousands fit in the test process. */
async function rawAuthed(sg, token) {
	const c = await h.rawConnect(sg, 'EIO=4&transport=websocket');
	c.ws.on('message', (d) => {
		if (d.toString() === '2')
			c.ws.send('3'); /* Engine.IO pong */
	});
	c.send(`40${JSON.stringify({ token })}`);
	let m;
	do
		m = await c.next(10000);
	while (!String(m).startsWith('40'));
	c.send('42["authenticate"]');
	do
		m = await c.next(10000);
	while (!String(m).startsWith('42["authenticated"') && !String(m).startsWith('42["unauthenticated"'));
	assert.match(String(m), /^42\["authenticated"/);
	return c;
}

test('5,000 clients on two workers come and go: RSS falls back below half of what they took', {
	skip: SANITIZED ? 'sanitizer build: ASan has its own allocator' : false,
	timeout: 180000,
}, async (t) => {
	assert.ok(env.sg.workers >= 2, `${env.sg.workers} worker(s): this is about several`);
	const token = h.token({ sub: h.uniq('wave') });
	/* a first small wave, so that the baseline has the buffers any serving process keeps */
	const warm = [];
	for (let i = 0; i < 2; i++)
		warm.push(...await Promise.all(Array.from({ length: 100 }, () => rawAuthed(env.sg, token))));
	for (const c of warm)
		c.close();
	await h.delay(3000);
	const base = h.rssKb(env.sg.pid);
	const clients = [];
	for (let i = 0; i < 20; i++)
		clients.push(...await Promise.all(Array.from({ length: 250 }, () => rawAuthed(env.sg, token))));
	const peak = h.rssKb(env.sg.pid);
	const grown = peak - base;
	assert.ok(grown > 10 * 1024, `5,000 clients took ${grown} kB`);
	for (const c of clients)
		c.close();
	/* the closes are reaped on both workers, then each trims after a short delay */
	const deadline = Date.now() + 30000;
	let now = peak;
	while (Date.now() < deadline) {
		await h.delay(250);
		now = h.rssKb(env.sg.pid);
		if (now < base + grown / 2)
			break;
	}
	t.diagnostic(`RSS ${base} kB before, ${peak} kB with 5,000 clients (+${grown} kB), ${now} kB after ` +
		`they left (${Math.round((100 * (peak - now)) / grown)}% of the growth returned)`);
	assert.ok(now < base + grown / 2,
		`RSS ${base} kB before, ${peak} kB with 5,000 clients, still ${now} kB after they left`);
	const again = await rawAuthed(env.sg, token);
	again.close();
});
