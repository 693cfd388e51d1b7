'use strict';
/*
 * drain.test.js: SIGTERM under 1,000 clients.  Every client sees a close it would reconnect from
 * (a transport close, never io server disconnect), the closes are spread over
 * server.drain_window rather than all at once, and the process exits 0 within
 * server.shutdown_timeout.
 */

const assert = require('node:assert/strict');
const { test } = require('node:test');
const h = require('./lib/harness');

test('SIGTERM with 1,000 clients: reconnectable closes spread over the drain window, exit 0', async () => {
	const sg = await h.startSiogate({ config: { server: { drain_window: '1s', shutdown_timeout: '8s' } } });
	const N = 1000;
	const clients = [];
	try {
		for (let i = 0; i < N; i += 100) {
			const batch = await Promise.all(Array.from({ length: 100 }, () =>
				h.connect(sg.url, { auth: { token: h.token({ sub: 'd' }) } })));
			clients.push(...batch);
		}
		await Promise.all(clients.map((s) => h.authenticate(s, {}, 20000)));
		const closes = clients.map((s) => new Promise((resolve) => {
			s.on('disconnect', (reason) => resolve({ reason, at: Date.now() }));
		}));
		const t0 = Date.now();
		const exit = await sg.stop('SIGTERM', 15000);
		const seen = await h.withTimeout(Promise.all(closes), 15000, 'every client to see the close');
		assert.equal(exit.code, 0);
		const reasons = new Set(seen.map((x) => x.reason));
		assert.ok(!reasons.has('io server disconnect'), `reasons: ${[...reasons]}`);
		const times = seen.map((x) => x.at - t0).sort((a, b) => a - b);
		const spread = times[N - 1] - times[0];
		assert.ok(spread >= 300, `closes spread over ${spread} ms only`);
		assert.ok(times[N - 1] < 8000, `last close after ${times[N - 1]} ms`);
		h.assertCleanLog(sg.log(), exit, 'SIGTERM');
		assert.match(sg.log(), /closing 1000 session\(s\) over 1000 ms/);
	} finally {
		for (const s of clients) s.close();
	}
});
