'use strict';
/*
 * client-tokens.test.js: tokens that expire, seen from libsiogate-client and siocat (issue 15,
 * item 2), against a real siogate with auth.refresh_window and short-lived tokens minted here.
 *  - sgc-driver: on_token_expiring, sgc_refresh_token answered by `authenticated` again, the
 *    connection alive past the first token's exp + leeway, /metrics counting the refresh; a
 *    reconnection (the connection cut by a TCP proxy) sends the newest token; without a
 *    refresh, `unauthenticated` and `io server disconnect` at exp + leeway and no reconnection.
 *  - siocat --refresh-cmd and --token-file: the token:expiring line, the refresh, the session
 *    kept; a command that fails, hangs (killed at --refresh-timeout) or prints too much, and a
 *    token file left unchanged: reported, then the session ends at exp + leeway with exit 4.
 *  - auth.mode connect: a refused token is siocat's exit 4 with the server's message and no
 *    reconnection; an accepted one is authenticated without asking, and refreshes too.
 * Every process started here is killed by PID after each test.
 */

const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { after, afterEach, before, describe, test } = require('node:test');

const h = require('./lib/harness');
const {
	SIOCAT, SKIP_SIOCAT, SKIP_DRIVER, WAIT_MS,
	spawnProc, assertNoSanitizerReport, runSiocat, startDriver, killProcs,
} = require('./lib/clientprocs');

afterEach(killProcs);
after(killProcs);

const LEEWAY_S = 1;
const INVALID = h.MSG_INVALID_TOKEN;
const ACCEPTED = 'siogate_token_refresh_total{result="accepted"}';
const EXPIRED = 'siogate_token_expired_total';
const nowS = () => Math.floor(Date.now() / 1000);
const reRegex = (s) => new RegExp(s.replace(/[!.()[\]{}?*+^$|\\]/g, '\\$&'));

/* A token that expires in `secs` seconds: its warning comes secs - 2 s from now. */
function shortToken(sub, secs = 3) {
	const exp = nowS() + secs;
	return { exp, token: h.token({ sub, exp }) };
}

/* Resolves once the wall clock passed `ms` (epoch milliseconds). */
async function untilTime(ms) {
	while (Date.now() < ms)
		await h.delay(Math.min(200, Math.max(1, ms - Date.now())));
}

async function metricValue(sg, name) {
	const v = h.metric(await h.metrics(sg), name);
	return Number.isNaN(v) ? 0 : v;
}

/* A TCP proxy to siogate whose connections the test can cut (a lost transport, not a
 * Socket.IO disconnect: the client reconnects through it). */
async function cuttableProxy(port) {
	const socks = new Set();
	const server = net.createServer((down) => {
		const up = net.connect(port, '127.0.0.1');
		socks.add(down).add(up);
		down.pipe(up);
		up.pipe(down);
		const end = () => {
			down.destroy();
			up.destroy();
			socks.delete(down);
			socks.delete(up);
		};
		down.on('error', end).on('close', end);
		up.on('error', end).on('close', end);
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		url: `http://127.0.0.1:${server.address().port}`,
		cut() {
			for (const s of socks)
				s.destroy();
		},
		close() {
			this.cut();
			return new Promise((resolve) => server.close(resolve));
		},
	};
}

/* True while a process of that PID exists. */
function alive(pid) {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

describe('refresh before exp (auth.refresh_window) with the C client', () => {
	const env = h.useSiogate({ before, after, afterEach }, {
		redis: true,
		config: {
			auth: { timeout: '5s', refresh_window: '2s', jwt: { leeway: `${LEEWAY_S}s` } },
			rooms: { allow: ['public-*'] },
			limits: { auth_failures_per_minute: 0 },
		},
	});
	const tmp = [];
	after(() => {
		for (const d of tmp)
			h.removeDir(d);
	});
	const tempDir = () => {
		const d = h.makeTempDir('siocat-tok');
		tmp.push(d);
		return d;
	};

	test('sgc-driver: warned, refreshed, alive past exp + leeway; a reconnection sends the new token',
		{ skip: SKIP_DRIVER }, async () => {
			await env.starting;
			const proxy = await cuttableProxy(env.sg.port);
			try {
				const sub = h.uniq('drv');
				const first = shortToken(sub);
				const accepted = await metricValue(env.sg, ACCEPTED);
				const d = startDriver(proxy.url, ['--auto-auth', '--delay', '100', '--delay-max', '200',
					'--token', first.token, '--auth', JSON.stringify({ token: first.token })]);
				await d.cb('ready');
				await d.cmd({ op: 'subscribe', event: 'token:expiring', id: 'w' });
				await d.cmd({ op: 'connect' });
				const authed = await d.cb('authenticated');
				const warn = await d.cb('token_expiring', () => true, 5000);
				assert.deepEqual([warn.exp, warn.state], [first.exp, 'authenticated']);
				/* subscribers of the event receive it too */
				assert.deepEqual((await d.cb('event', (l) => l.event === 'token:expiring')).data, { exp: first.exp });
				let from = d.mark();
				const next = h.token({ sub, exp: nowS() + 3600 });
				assert.equal((await d.cmd({ op: 'refresh', token: next })).rc, 0);
				assert.equal((await d.cmd({ op: 'refresh', token: next })).rc, -3, 'one refresh at a time');
				const again = await d.cb('authenticated', () => true, WAIT_MS, from);
				assert.equal(again.data.id, authed.data.id, 'the same socket');
				assert.equal(again.state, 'authenticated');
				await h.until(async () => await metricValue(env.sg, ACCEPTED) === accepted + 1, WAIT_MS,
					'siogate_token_refresh_total{result="accepted"} to count the refresh');
				/* past the first token's end: still connected, still receiving */
				await untilTime((first.exp + LEEWAY_S + 1) * 1000 + 300);
				assert.deepEqual(d.lines.filter((l) => l.cb === 'unauthenticated' || l.cb === 'disconnected'), []);
				const st = await d.cmd({ op: 'state' });
				assert.deepEqual([st.conn, st.state], ['connected', 'authenticated']);
				await d.cmd({ op: 'subscribe', event: 'after', id: 'a' });
				env.emitter.to(authed.data.id).emit('after', 1);
				assert.equal((await d.cb('event', (l) => l.event === 'after')).data, 1);
				/* the transport is cut: the reconnection sends the refreshed token (the first
				 * one has expired, siogate would refuse it) */
				from = d.mark();
				proxy.cut();
				assert.equal((await d.cb('disconnected', () => true, WAIT_MS, from)).reason, 'transport close');
				const back = await d.cb('authenticated', () => true, WAIT_MS, from);
				assert.notEqual(back.data.id, authed.data.id, 'a new socket after reconnecting');
				assert.deepEqual(d.lines.slice(from).filter((l) => l.cb === 'unauthenticated'), []);
				await d.cmd({ op: 'quit' });
				assert.equal((await d.waitExit()).code, 0);
				assertNoSanitizerReport(d);
			} finally {
				await proxy.close();
			}
		});

	test('sgc-driver without a refresh: unauthenticated at exp + leeway, io server disconnect, no reconnection',
		{ skip: SKIP_DRIVER }, async () => {
			await env.starting;
			const expired = await metricValue(env.sg, EXPIRED);
			const t = shortToken(h.uniq('late'));
			const d = startDriver(env.sg.url, ['--auto-auth', '--delay', '50', '--token', t.token]);
			await d.cb('ready');
			await d.cmd({ op: 'connect' });
			await d.cb('authenticated');
			assert.equal((await d.cb('token_expiring', () => true, 5000)).exp, t.exp);
			const un = await d.cb('unauthenticated', () => true, (LEEWAY_S + 4) * 1000);
			const at = Date.now();
			assert.equal(un.message, INVALID);
			assert.ok(at >= (t.exp + LEEWAY_S) * 1000 - 300, `ended ${(t.exp + LEEWAY_S) * 1000 - at} ms before exp + leeway`);
			assert.ok(at <= (t.exp + LEEWAY_S + 1) * 1000 + 1000, `ended ${at - (t.exp + LEEWAY_S) * 1000} ms after exp + leeway`);
			assert.equal((await d.cb('disconnected')).reason, 'io server disconnect');
			await h.delay(1000);
			assert.equal(d.lines.filter((l) => l.cb === 'reconnecting').length, 0, 'no reconnection');
			assert.equal((await d.cmd({ op: 'state' })).conn, 'disconnected');
			assert.equal(await metricValue(env.sg, EXPIRED), expired + 1);
			await d.cmd({ op: 'quit' });
			assertNoSanitizerReport(d);
		});

	test('siocat --refresh-cmd: the warning printed, the command run once with the expiry, the session kept',
		{ skip: SKIP_SIOCAT }, async () => {
			await env.starting;
			const dir = tempDir();
			const sub = h.uniq('cmd');
			const first = shortToken(sub);
			fs.writeFileSync(path.join(dir, 'next'), `${h.token({ sub, exp: nowS() + 3600 })}\n`);
			const script = path.join(dir, 'refresh.sh');
			fs.writeFileSync(script, `echo "$SIOCAT_TOKEN_EXP" >> '${dir}/calls'\ncat '${dir}/next'\n`);
			const room = h.uniq('public');
			const accepted = await metricValue(env.sg, ACCEPTED);
			const s = spawnProc(SIOCAT, ['-v', '-k', '--token', first.token, '--join', room,
				'--refresh-cmd', `sh '${script}'`, env.sg.url]);
			await s.waitErr(/joined/);
			const warn = await s.waitLine((l) => l.event === 'token:expiring', 5000);
			assert.deepEqual(warn, { event: 'token:expiring', data: { exp: first.exp } });
			await s.waitErr(/token refreshed/);
			/* the server's answer is printed as every event is (stdout and stderr are two pipes:
			 * wait for the line itself) */
			await h.until(() => s.lines.filter((l) => l.event === 'authenticated').length === 2, WAIT_MS,
				'the second authenticated line');
			assert.equal(fs.readFileSync(path.join(dir, 'calls'), 'utf8'), `${first.exp}\n`);
			assert.equal(await metricValue(env.sg, ACCEPTED), accepted + 1);
			await untilTime((first.exp + LEEWAY_S + 1) * 1000 + 300);
			assert.equal(s.exit, null, `siocat still runs:\n${s.err()}`);
			env.emitter.to(room).emit('still', 'here');
			assert.deepEqual(await s.waitLine((l) => l.event === 'still'), { event: 'still', data: 'here' });
			/* rooms are not joined again after a refresh */
			assert.equal((s.err().match(/joined/g) || []).length, 1);
			assert.doesNotMatch(s.err(), /refresh failed/);
			s.child.kill('SIGTERM');
			assert.equal((await s.waitExit()).code, 0);
			assertNoSanitizerReport(s);
		});

	test('siocat --token-file: read at start, read again at the warning', { skip: SKIP_SIOCAT }, async () => {
		await env.starting;
		const file = path.join(tempDir(), 'token');
		const sub = h.uniq('file');
		const first = shortToken(sub);
		fs.writeFileSync(file, `  ${first.token}\r\n`);
		const s = spawnProc(SIOCAT, ['-v', '-k', '--token-file', file, env.sg.url]);
		await s.waitErr(/siocat: authenticated/);
		/* what a token agent does: the file gets the next token before the warning */
		fs.writeFileSync(file, h.token({ sub, exp: nowS() + 3600 }));
		await s.waitLine((l) => l.event === 'token:expiring', 5000);
		await s.waitErr(/token refreshed/);
		assert.match(s.err(), reRegex(`refreshing the token (from ${file})`));
		await untilTime((first.exp + LEEWAY_S + 1) * 1000 + 300);
		assert.equal(s.exit, null, `siocat still runs:\n${s.err()}`);
		s.child.kill('SIGTERM');
		assert.equal((await s.waitExit()).code, 0);
		assertNoSanitizerReport(s);
	});

	test('siocat refreshes that fail are reported; the session then ends at exp + leeway (exit 4)',
		{ skip: SKIP_SIOCAT }, async () => {
			await env.starting;
			const dir = tempDir();
			const pidFile = path.join(dir, 'pid');
			const unchanged = path.join(dir, 'same');
			const sameToken = shortToken(h.uniq('same'));
			fs.writeFileSync(unchanged, sameToken.token);
			/* a refresh whose token expires at the same second: accepted, warned again at once */
			const soonSub = h.uniq('soon');
			const soon = shortToken(soonSub);
			const soonFile = path.join(dir, 'soon');
			fs.writeFileSync(soonFile, h.token({ sub: soonSub, exp: soon.exp, jti: 'second' }));
			const cases = [
				{ name: 'a command that fails', args: ['--refresh-cmd', 'echo no-idp >&2; exit 3'],
					report: /token refresh failed: the refresh command exited with status 3/, stderr: /no-idp/ },
				{ name: 'a command that hangs', args: ['--refresh-timeout', '500', '--refresh-cmd', `echo $$ > '${pidFile}'; exec sleep 30`],
					report: /token refresh failed: the refresh command did not finish within 500 ms \(killed\)/ },
				{ name: 'a command that prints too much', args: ['--refresh-cmd', "head -c 20000 /dev/zero | tr '\\0' a"],
					report: /token refresh failed: the refresh command printed more than 16384 bytes/ },
				{ name: 'a command that prints two words', args: ['--refresh-cmd', 'echo two words'],
					report: /token refresh failed: the refresh command's output: more than one word/ },
				{ name: 'a token file left unchanged', token: sameToken, fromFile: true, args: ['--token-file', unchanged],
					report: reRegex(`token refresh failed: ${unchanged} gave the token already in use`) },
				{ name: 'a new token that expires as soon', token: soon, args: ['--refresh-cmd', `cat '${soonFile}'`],
					report: /token refresh failed: the new token expires no later than the old one/, warnings: 2 },
				{ name: 'no refresher', args: [], report: null },
			];
			const runs = cases.map(async (c) => {
				const t = c.token || shortToken(h.uniq('fail'));
				const args = c.fromFile ? ['-k', ...c.args, env.sg.url] : ['-k', '--token', t.token, ...c.args, env.sg.url];
				const r = await runSiocat(args, '', (t.exp - nowS() + LEEWAY_S + 6) * 1000);
				return { c, t, r, at: Date.now() };
			});
			for (const { c, t, r, at } of await Promise.all(runs)) {
				assert.equal(r.code, 4, `${c.name}: exit ${r.code}\n${r.err}`);
				if (c.report)
					assert.match(r.err, c.report, c.name);
				if (c.stderr)
					assert.match(r.err, c.stderr, `${c.name}: the command's stderr reaches siocat's`);
				assert.match(r.err, reRegex(`authentication refused: ${INVALID} (the token expired without a refresh)`), c.name);
				const warnings = r.lines.filter((l) => l.event === 'token:expiring');
				assert.equal(warnings.length, c.warnings || 1, c.name);
				for (const w of warnings)
					assert.deepEqual(w, { event: 'token:expiring', data: { exp: t.exp } }, c.name);
				/* the first answer, plus one per accepted refresh: never a loop */
				assert.equal(r.lines.filter((l) => l.event === 'authenticated').length, c.warnings || 1, c.name);
				assert.ok(at >= (t.exp + LEEWAY_S) * 1000 - 300, `${c.name}: ended before exp + leeway`);
			}
			/* the hanging command was killed, not left behind */
			const pid = Number(fs.readFileSync(pidFile, 'utf8'));
			assert.ok(pid > 0);
			assert.equal(alive(pid), false, `the refresh command (pid ${pid}) was killed`);
		});
});

describe('auth.mode connect with the C client', () => {
	const env = h.useSiogate({ before, after, afterEach }, {
		config: {
			auth: { mode: 'connect', refresh_window: '2s', jwt: { leeway: `${LEEWAY_S}s` } },
			limits: { auth_failures_per_minute: 0 },
		},
	});

	test('siocat with a refused token: exit 4 with the server\'s message, no reconnection', { skip: SKIP_SIOCAT }, async () => {
		await env.starting;
		for (const t of ['not-a-jwt', h.token({ sub: 'x', exp: nowS() - 3600 })]) {
			const t0 = Date.now();
			const r = await runSiocat(['-v', '--token', t, env.sg.url]);
			assert.equal(r.code, 4, r.err);
			assert.match(r.err, reRegex(`connection refused by the server: ${INVALID}`));
			assert.doesNotMatch(r.err, /reconnecting/);
			assert.deepEqual(r.lines, [], 'no event printed');
			assert.ok(Date.now() - t0 < WAIT_MS, 'ended at once');
		}
	});

	test('siocat with a good token: authenticated without asking, and refreshes', { skip: SKIP_SIOCAT }, async () => {
		await env.starting;
		const sub = h.uniq('conn');
		const first = shortToken(sub);
		const file = path.join(h.makeTempDir('siocat-conn'), 'token');
		fs.writeFileSync(file, first.token);
		try {
			const s = spawnProc(SIOCAT, ['-v', '-k', '--token-file', file, env.sg.url]);
			const authed = await s.waitLine((l) => l.event === 'authenticated');
			assert.match(authed.data.time, h.ISO_MS_RE);
			await s.waitErr(/siocat: ready/);
			fs.writeFileSync(file, h.token({ sub, exp: nowS() + 3600 }));
			await s.waitLine((l) => l.event === 'token:expiring', 5000);
			await s.waitErr(/token refreshed/);
			await untilTime((first.exp + LEEWAY_S + 1) * 1000 + 300);
			assert.equal(s.exit, null, `siocat still runs:\n${s.err()}`);
			assert.equal((s.err().match(/siocat: ready/g) || []).length, 1);
			s.child.kill('SIGTERM');
			assert.equal((await s.waitExit()).code, 0);
			assertNoSanitizerReport(s);
		} finally {
			h.removeDir(path.dirname(file));
		}
	});

	test('sgc-driver: authenticated unasked after CONNECT; a refusal is on_error with the message, once',
		{ skip: SKIP_DRIVER }, async () => {
			await env.starting;
			const d = startDriver(env.sg.url, ['--delay', '50', '--token', h.token({ sub: h.uniq('u') })]);
			await d.cb('ready');
			await d.cmd({ op: 'connect' });
			const conn = await d.cb('connected');
			const authed = await d.cb('authenticated');
			assert.deepEqual([authed.data.id, authed.state], [conn.sid, 'authenticated']);
			assert.equal((await d.cmd({ op: 'authenticate' })).rc, -3, 'already authenticated');
			await d.cmd({ op: 'quit' });
			assertNoSanitizerReport(d);

			const bad = startDriver(env.sg.url, ['--delay', '50', '--token', 'garbage']);
			await bad.cb('ready');
			await bad.cmd({ op: 'connect' });
			const err = await bad.cb('error');
			assert.deepEqual([err.code, err.message], [-10, INVALID]);
			await h.delay(500);
			assert.deepEqual(bad.lines.filter((l) => l.cb === 'reconnecting' || l.cb === 'connected'), []);
			assert.equal((await bad.cmd({ op: 'state' })).conn, 'disconnected');
			await bad.cmd({ op: 'quit' });
			assertNoSanitizerReport(bad);
		});
});
