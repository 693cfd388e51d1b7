'use strict';
/*
 * memory.test.js: after a wave of clients leaves, siogate gives the freed memory back to the
 * system (glibc keeps freed heap pages otherwise, and RSS would stay at the peak of a spike).
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
