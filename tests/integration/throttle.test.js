'use strict';
/*
 * throttle.test.js: failed authentications are throttled per client address
 * (limits.auth_failures_per_minute, limits.auth_failures_burst).  1,000 bad tokens from one address
 * reach a real HTTP verifier (a Node http server counting its calls) only as often as the bucket
 * allows, in flight ones included; the rest get `unauthenticated` with the seed's invalid-token
 * message at once, without a call, counted in siogate_auth_throttled_total.  The bucket is shared
 * by the workers, and once it refills a good token authenticates again; a clean address is not
 * limited (verifier.test.js authenticates 1,000 clients at once from one address).
 */

const assert = require('node:assert/strict');
const http = require('node:http');
const { test } = require('node:test');
const h = require('./lib/harness');

h.cleanupHooks();

const VERIFIER_NO = 'refused by the verifier';

/* An HTTP verifier that accepts the token "good" and refuses anything else with its own message. */
function startVerifier() {
	let calls = 0;
	const server = http.createServer((req, res) => {
		let body = '';
		req.on('data', (d) => { body += d; });
		req.on('end', () => {
			calls++;
			let token = '';
			try {
				token = JSON.parse(body).auth.token;
			} catch {
				/* refused below */
			}
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end(JSON.stringify(token === 'good' ? { ok: true, user: 'alice' } : { ok: false, message: VERIFIER_NO }));
		});
	});
	return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
		url: `http://127.0.0.1:${server.address().port}/auth`,
		calls: () => calls,
		close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
	})));
}

/* Connects with token, authenticates; resolves 'ok' or the `unauthenticated` message. */
async function attempt(sg, token) {
	const s = await h.connect(sg.url, { auth: { token }, timeoutMs: 10000 });
	try {
		await h.authenticate(s, {}, 10000);
		return 'ok';
	} catch (err) {
		if (!err.payload)
			throw err;
		return err.payload.message;
	} finally {
		s.disconnect();
	}
}

async function metric(sg, name) {
	return h.metric(await h.metrics(sg), name);
}

test('1,000 bad tokens from one address: the verifier sees the burst, the rest are refused unverified', async () => {
	const verifier = await startVerifier();
	const sg = await h.startSiogate({
		config: {
			auth: { verifier: 'http', http: { url: verifier.url, timeout: '3s' } },
			/* one a minute after a burst of 20: nothing refills during the test */
			limits: { auth_failures_per_minute: 1, auth_failures_burst: 20 },
		},
	});
	try {
		assert.equal(sg.workers, 2, 'the bucket is shared by the workers');
		const started = Date.now();
		/* the first failure makes the address a failing one; from then on attempts take their
		 * token before the verifier runs, in flight or not (a clean address is not limited:
		 * clients behind one NAT may all authenticate at once) */
		const answers = [await attempt(sg, 'bad-first')];
		assert.equal(answers[0], VERIFIER_NO);
		for (let batch = 0; batch < 20; batch++) {
			/* 50 at once: attempts in flight count against the bucket too */
			answers.push(...await Promise.all(Array.from({ length: batch === 0 ? 49 : 50 },
				(_, i) => attempt(sg, `bad-${batch}-${i}`))));
		}
		const elapsed = Date.now() - started;
		const verified = answers.filter((m) => m === VERIFIER_NO).length;
		const throttled = answers.filter((m) => m === h.MSG_INVALID_TOKEN).length;
		assert.equal(verified + throttled, 1000, `every attempt refused: ${JSON.stringify([...new Set(answers)])}`);
		/* the verifier was called exactly for the attempts it refused, and no more often than the
		 * bucket allows: its depth, plus one a minute */
		assert.equal(verifier.calls(), verified);
		assert.ok(verified >= 20, `the burst of 20 is verified (got ${verified})`);
		assert.ok(verified <= 20 + Math.floor(elapsed / 60000), `${verified} verified in ${elapsed} ms`);
		assert.equal(await metric(sg, 'siogate_auth_throttled_total'), throttled);
		assert.equal(await metric(sg, 'siogate_auth_total{result="rejected"}'), 1000);
		assert.equal(await metric(sg, 'siogate_closes_total{reason="auth throttled"}'), throttled);
		/* a good token from the same address is refused too while the bucket is empty, and the
		 * verifier is not asked */
		const calls = verifier.calls();
		assert.equal(await attempt(sg, 'good'), h.MSG_INVALID_TOKEN);
		assert.equal(verifier.calls(), calls);
	} finally {
		h.assertCleanLog(sg.log(), await sg.stop(), 'SIGTERM', { expectCode: 0 });
		await verifier.close();
	}
});

test('once the bucket refills, a good token authenticates again; successes cost nothing', async () => {
	const sg = await h.startSiogate({
		/* a burst of 2, then one every 5 s */
		config: { limits: { auth_failures_per_minute: 12, auth_failures_burst: 2 } },
	});
	try {
		/* good tokens never drain it */
		for (let i = 0; i < 10; i++)
			assert.equal(await attempt(sg, h.token({ sub: `ok-${i}` })), 'ok');
		const bad = h.token({ sub: 'x' }, { secret: 'not-the-configured-secret-0123456789' });
		assert.equal(await attempt(sg, bad), h.MSG_INVALID_TOKEN);
		assert.equal(await attempt(sg, bad), h.MSG_INVALID_TOKEN);
		assert.equal(await metric(sg, 'siogate_auth_throttled_total'), 0);
		/* empty: the next attempt, good or not, is refused without verifying */
		assert.equal(await attempt(sg, h.token({ sub: 'early' })), h.MSG_INVALID_TOKEN);
		assert.equal(await metric(sg, 'siogate_auth_throttled_total'), 1);
		/* one token comes back within 5 s: then a good token gets in */
		const deadline = Date.now() + 15000;
		let result;
		do {
			await h.delay(500);
			result = await attempt(sg, h.token({ sub: 'later' }));
		} while (result !== 'ok' && Date.now() < deadline);
		assert.equal(result, 'ok');
		assert.equal(await metric(sg, 'siogate_auth_total{result="rejected"}'),
			2 + await metric(sg, 'siogate_auth_throttled_total'));
	} finally {
		h.assertCleanLog(sg.log(), await sg.stop(), 'SIGTERM', { expectCode: 0 });
	}
});
