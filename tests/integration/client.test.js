'use strict';
/*
 * client.test.js: libsiogate-client and siocat (src/client/) end to end.
 *  - siocat against siogate: the helper flow (authenticate, join), events from the Redis
 *    emitter printed as JSON lines, acks, the refused-token message and exit codes, every
 *    transport (websocket, polling, upgrade), usage errors.
 *  - sgc-driver (a C program that drives every public function from JSON commands) against
 *    siogate: states, join acks, subscribe/unsubscribe semantics, the refusal.
 *  - reconnection: siogate stopped and started again on the same port; the client reconnects,
 *    authenticates and joins again (bounded waits).
 *  - interop against Node's `socket.io` 4.8 server (fixtures/node-server.js): connect, emit with
 *    ack, broadcasts, binary both ways, server acks, CONNECT_ERROR, server disconnect, polling
 *    and the upgrade, TLS with a CA file, and a protocol error from a raw WebSocket server.
 * Binaries: SIOCAT_BIN and SGC_DRIVER_BIN, else next to SIOGATE_BIN (build-san/ in a sanitizer
 * build), else src/client/siocat and build/sgc-driver.  Each suite is skipped with a message
 * when its binary is missing (run `make`).  Every process started here is killed by PID at the
 * end, and its stderr must hold no sanitizer report.
 */

const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { after, afterEach, before, describe, test } = require('node:test');
const WebSocket = require('ws');

const h = require('./lib/harness');
const { startNodeServer } = require('./fixtures/node-server');
const {
	SIOCAT, SKIP_SIOCAT, SKIP_DRIVER, SKIP_BOTH, WAIT_MS,
	spawnProc, assertNoSanitizerReport, runSiocat, startDriver, killProcs,
} = require('./lib/clientprocs');

afterEach(killProcs);
after(killProcs);

/* ---------------------------------------------------------------- siocat against siogate */

describe('siocat against siogate', { skip: SKIP_SIOCAT }, () => {
	const env = h.useSiogate({ before, after, afterEach }, {
		redis: true,
		config: {
			auth: { timeout: '2s' },
			rooms: { allow: ['public-*'] },
		},
	});

	test('authenticates, joins, prints emitter events as JSON lines, exits 0 after SIGTERM', async () => {
		const tok = h.token({ sub: h.uniq('alice') });
		const room = h.uniq('public');
		const s = spawnProc(SIOCAT, ['-v', '-k', '--token', tok, '--join', `${room},secret`, env.sg.url]);
		await s.waitErr(new RegExp(`joined \\["${room}"\\], rejected \\["secret"\\]`));
		/* stdout and stderr are separate pipes: wait for the line itself */
		const authed = await s.waitLine((l) => l.event === 'authenticated');
		assert.match(authed.data.id, /^[\w-]{20}$/);
		assert.match(authed.data.time, h.ISO_MS_RE);
		/* published first: once the later ones arrived, it would have too */
		env.emitter.to('secret').emit('news', 'never');
		env.emitter.to(room).emit('news', { title: 'hello', n: 0.1, list: [1, 'two', null] });
		env.emitter.emit('many', 'a', 2, { three: true });
		const news = await s.waitLine((l) => l.event === 'news');
		assert.deepEqual(news, { event: 'news', data: { title: 'hello', n: 0.1, list: [1, 'two', null] } });
		const many = await s.waitLine((l) => l.event === 'many');
		assert.deepEqual(many, { event: 'many', data: 'a', args: ['a', 2, { three: true }] });
		/* the helper's `ping` events are not printed without --ping */
		assert.equal(s.lines.filter((l) => l.event === 'ping').length, 0);
		assert.equal(s.lines.filter((l) => l.data === 'never').length, 0);
		s.child.kill('SIGTERM');
		const exit = await s.waitExit();
		assert.deepEqual(exit, { code: 0, signal: null });
		assertNoSanitizerReport(s);
	});

	test('emits stdin lines; --ack prints the answers; exits 0 at the end of input', async () => {
		const tok = h.token({ sub: h.uniq('bob') });
		const room = h.uniq('public');
		const input = [
			`join {"rooms":["${room}","private"]}`,
			'',
			'# a comment',
			`leave {"rooms":["${room}"]}`,
		].join('\n');
		const r = await runSiocat(['--ack=3000', '--token', tok, env.sg.url], input);
		assert.equal(r.code, 0, r.err);
		const acks = r.lines.filter((l) => 'ack' in l);
		assert.deepEqual(acks, [
			{ ack: 'join', args: [{ rooms: [room], rejected: ['private'] }] },
			{ ack: 'leave', args: [{ rooms: [room] }] },
		]);
	});

	test('an event without an ack answer reports a timeout', async () => {
		const tok = h.token({ sub: h.uniq('carol') });
		const r = await runSiocat(['--ack=300', '--token', tok, env.sg.url], 'no-answer {"x":1}\nbad line {\n');
		assert.equal(r.code, 0, r.err);
		assert.deepEqual(r.lines.filter((l) => 'ack' in l), [{ ack: 'no-answer', error: 'timeout' }]);
		assert.match(r.err, /line ignored: invalid JSON for event 'bad'/);
	});

	test('a refused token: the server message on stderr and exit 4', async () => {
		const r = await runSiocat(['--token', h.unsignedToken({ sub: 'mallory' }), env.sg.url]);
		assert.equal(r.code, 4);
		assert.match(r.err, new RegExp(`authentication refused: ${h.MSG_INVALID_TOKEN.replace(/[!.]/g, '\\$&')}`));
		const expired = await runSiocat(['--token', h.token({ sub: 'x', exp: Math.floor(Date.now() / 1000) - 60 }), env.sg.url]);
		assert.equal(expired.code, 4);
		const none = await runSiocat([env.sg.url]);
		assert.equal(none.code, 4);
	});

	test('the token also works as the CONNECT auth payload alone (--auth)', async () => {
		const tok = h.token({ sub: h.uniq('dave') });
		const r = await runSiocat(['--ack=3000', '--auth', JSON.stringify({ token: tok }), env.sg.url],
			'join {"rooms":["public-auth"]}\n');
		assert.equal(r.code, 0, r.err);
		assert.deepEqual(r.lines.filter((l) => 'ack' in l), [{ ack: 'join', args: [{ rooms: ['public-auth'], rejected: [] }] }]);
	});

	for (const transport of ['polling', 'upgrade']) {
		test(`--transport ${transport}: the same flow and events`, async () => {
			const tok = h.token({ sub: h.uniq('erin') });
			const room = h.uniq('public');
			const s = spawnProc(SIOCAT, ['-v', '-k', '-T', transport, '--token', tok, '--join', room, env.sg.url]);
			await s.waitErr(/joined \[/);
			assert.match(s.err(), /transport polling/);
			env.emitter.to(room).emit('t', { transport });
			assert.deepEqual(await s.waitLine((l) => l.event === 't'), { event: 't', data: { transport } });
			s.end();
			/* -k: the end of input does not end the run */
			await h.delay(200);
			assert.equal(s.exit, null);
			s.child.kill('SIGINT');
			assert.equal((await s.waitExit()).code, 0);
			assertNoSanitizerReport(s);
		});
	}

	test('not authenticating in time: disconnected by the server, exit 6', async () => {
		const r = await runSiocat(['--no-auth', '-k', env.sg.url], '', 8000);
		assert.equal(r.code, 6, r.err);
		assert.match(r.err, /disconnected by the server/);
	});

	test('usage errors exit 2; --help and --version exit 0', async () => {
		for (const args of [[], ['a', 'b'], ['-T', 'carrier-pigeon', 'http://x'], ['--auth', '[1]', 'http://x'],
			['--bogus', 'http://x'], ['ftp://x'], ['-H', 'no colon', 'http://x'], ['--ack=0', 'http://x'],
			['--token', 't', '--token-file', '/dev/null', 'http://x'], ['--token-file', '/nonexistent/t', 'http://x'],
			['--token-file', '/dev/null', 'http://x'], ['--refresh-cmd', '', 'http://x'],
			['--refresh-timeout', '0', 'http://x']]) {
			const r = await runSiocat(args);
			assert.equal(r.code, 2, `siocat ${args.join(' ')}: ${r.err}`);
			assert.match(r.err, /siocat: |Try 'siocat --help'/);
		}
		const help = await runSiocat(['--help']);
		assert.equal(help.code, 0);
		assert.match(help.lines.map((l) => l.raw).join('\n'), /usage: siocat \[options\] URL[\s\S]*Exit status/);
		const version = await runSiocat(['--version']);
		assert.equal(version.code, 0);
		assert.match(version.lines[0].raw, /^siocat \d+\.\d+\.\d+/);
	});
});

describe('siocat connection failures', { skip: SKIP_SIOCAT }, () => {
	test('nothing listening: exit 3 at once', async () => {
		const port = await h.freePort();
		const t0 = Date.now();
		const r = await runSiocat([`http://127.0.0.1:${port}`]);
		assert.equal(r.code, 3);
		assert.match(r.err, /cannot connect: .*Connection refused/);
		assert.ok(Date.now() - t0 < 3000);
	});

	test('an unknown host name: exit 3', async () => {
		const r = await runSiocat(['http://no-such-host.invalid:1'], '', 15000);
		assert.equal(r.code, 3, r.err);
		assert.match(r.err, /cannot connect: cannot resolve no-such-host\.invalid/);
	});
});

/* ---------------------------------------------------------------- the C driver against siogate */

describe('libsiogate-client (sgc-driver) against siogate', { skip: SKIP_DRIVER }, () => {
	const env = h.useSiogate({ before, after, afterEach }, {
		redis: true,
		config: { auth: { timeout: '5s' }, rooms: { allow: ['public-*'] } },
	});

	test('states, authenticate, join with ack, events to subscribed handlers, emit ack timeout', async () => {
		const d = startDriver(env.sg.url, ['--token', h.token({ sub: h.uniq('carl') })]);
		await d.cb('ready');
		const authBefore = await d.cmd({ op: 'authenticate' });
		assert.equal(authBefore.rc, -2, 'authenticate needs a connection');
		assert.equal((await d.cmd({ op: 'emit', event: 'x', data: 1 })).rc, -2, 'emit needs a connection');
		assert.equal((await d.cmd({ op: 'subscribe', event: 'news', id: 'h1' })).rc, 0);
		assert.equal((await d.cmd({ op: 'connect' })).rc, 0);
		const conn = await d.cb('connected');
		assert.equal(conn.state, 'unauthorized');
		assert.equal(conn.transport, 'websocket');
		let st = await d.cmd({ op: 'state' });
		assert.deepEqual([st.conn, st.state, st.sid], ['connected', 'unauthorized', conn.sid]);
		assert.equal((await d.cmd({ op: 'authenticate' })).rc, 0);
		assert.equal((await d.cmd({ op: 'authenticate' })).rc, -3, 'only once, from unauthorized');
		const authed = await d.cb('authenticated');
		assert.equal(authed.data.id, conn.sid);
		assert.equal(authed.state, 'authenticated');
		const room = h.uniq('public');
		assert.equal((await d.cmd({ op: 'join', rooms: [room, 'vip'], ack: true, timeout: 3000, tag: 'j1' })).rc, 0);
		const ack = await d.cb('ack', (l) => l.tag === 'j1');
		assert.deepEqual(ack.args, [{ rooms: [room], rejected: ['vip'] }]);
		assert.equal(ack.status, 0);
		env.emitter.to(room).emit('news', { n: 1 }, 'extra');
		const ev = await d.cb('event', (l) => l.event === 'news');
		assert.deepEqual([ev.handler, ev.data, ev.args, ev.ack_id], ['h1', { n: 1 }, [{ n: 1 }, 'extra'], -1]);
		/* siogate answers no ack for ordinary events: the ack times out */
		assert.equal((await d.cmd({ op: 'emit', event: 'hello', data: { a: 1 }, ack: true, timeout: 300, tag: 'e1' })).rc, 0);
		const timeout = await d.cb('ack', (l) => l.tag === 'e1');
		assert.equal(timeout.status, -4);
		/* leave with ack */
		assert.equal((await d.cmd({ op: 'leave', rooms: [room], ack: true, timeout: 3000, tag: 'l1' })).rc, 0);
		assert.deepEqual((await d.cb('ack', (l) => l.tag === 'l1')).args, [{ rooms: [room] }]);
		/* disconnect: the callback, states, pending acks fail */
		assert.equal((await d.cmd({ op: 'emit', event: 'pending', ack: true, tag: 'p1' })).rc, 0);
		assert.equal((await d.cmd({ op: 'disconnect' })).rc, 0);
		const disc = await d.cb('disconnected');
		assert.deepEqual([disc.reason, disc.state], ['io client disconnect', 'unauthorized']);
		assert.equal((await d.cb('ack', (l) => l.tag === 'p1')).status, -5);
		st = await d.cmd({ op: 'state' });
		assert.deepEqual([st.conn, st.state, st.sid], ['disconnected', 'unauthorized', null]);
		await d.cmd({ op: 'quit' });
		assert.equal((await d.waitExit()).code, 0);
		assertNoSanitizerReport(d);
		assert.equal(d.lines.filter((l) => l.cb === 'reconnecting').length, 0);
	});

	test('a refused token: unauthenticated with the message, then io server disconnect, no reconnection', async () => {
		const d = startDriver(env.sg.url, ['--auto-auth', '--delay', '50', '--token', h.unsignedToken({ sub: 'eve' })]);
		await d.cb('ready');
		await d.cmd({ op: 'connect' });
		const un = await d.cb('unauthenticated');
		assert.equal(un.message, h.MSG_INVALID_TOKEN);
		assert.equal(un.state, 'unauthorized');
		const disc = await d.cb('disconnected');
		assert.equal(disc.reason, 'io server disconnect');
		await h.delay(300);
		assert.equal(d.lines.filter((l) => l.cb === 'reconnecting').length, 0);
		assert.equal((await d.cmd({ op: 'state' })).conn, 'disconnected');
		await d.cmd({ op: 'quit' });
		assertNoSanitizerReport(d);
	});

	test('subscribe: duplicate protection, one handler or all removed, contained handler errors', async () => {
		const d = startDriver(env.sg.url, ['--auto-auth', '--token', h.token({ sub: h.uniq('fay') })]);
		await d.cb('ready');
		assert.equal((await d.cmd({ op: 'subscribe', event: 'n', id: 'a' })).rc, 0);
		assert.equal((await d.cmd({ op: 'subscribe', event: 'n', id: 'b' })).rc, 1, 'skipped: n has a handler');
		assert.equal((await d.cmd({ op: 'subscribe', event: 'n', id: 'b', ignoreDuplicate: false })).rc, 0);
		assert.equal((await d.cmd({ op: 'subscribe', event: 'n', id: 'bad', ignoreDuplicate: false, fail: true })).rc, 0);
		assert.equal((await d.cmd({ op: 'count', event: 'n' })).n, 3);
		await d.cmd({ op: 'connect' });
		const authed = await d.cb('authenticated');
		const sid = authed.data.id;
		let from = d.mark();
		env.emitter.to(sid).emit('n', 1);
		await d.cb('event', (l) => l.handler === 'b' && l.data === 1, WAIT_MS, from);
		await d.cb('error', (l) => l.code === -11, WAIT_MS, from);
		assert.deepEqual(d.lines.slice(from).filter((l) => l.cb === 'event').map((l) => l.handler), ['a', 'b', 'bad']);
		/* remove one handler */
		assert.equal((await d.cmd({ op: 'unsubscribe', event: 'n', id: 'b' })).rc, 0);
		assert.equal((await d.cmd({ op: 'unsubscribe', event: 'n', id: 'b' })).rc, 1);
		from = d.mark();
		env.emitter.to(sid).emit('n', 2);
		env.emitter.to(sid).emit('fence', 2);
		assert.equal((await d.cmd({ op: 'subscribe', event: 'fence', id: 'f' })).rc, 0);
		env.emitter.to(sid).emit('fence', 3);
		await d.cb('event', (l) => l.event === 'fence' && l.data === 3, WAIT_MS, from);
		assert.deepEqual(d.lines.slice(from).filter((l) => l.cb === 'event' && l.event === 'n').map((l) => l.handler), ['a', 'bad']);
		/* remove all */
		assert.equal((await d.cmd({ op: 'unsubscribe_many', events: ['n', 'zzz'] })).rc, 1);
		assert.equal((await d.cmd({ op: 'count', event: 'n' })).n, 0);
		from = d.mark();
		env.emitter.to(sid).emit('n', 3);
		env.emitter.to(sid).emit('fence', 4);
		await d.cb('event', (l) => l.event === 'fence' && l.data === 4, WAIT_MS, from);
		assert.equal(d.lines.slice(from).filter((l) => l.event === 'n').length, 0);
		/* subscribe_many, then shutdown drops every subscription and disconnects */
		assert.equal((await d.cmd({ op: 'subscribe_many', events: { x: 'a', y: 'a' } })).rc, 2);
		assert.equal((await d.cmd({ op: 'shutdown' })).rc, 0);
		assert.equal((await d.cb('disconnected')).reason, 'io client disconnect');
		assert.equal((await d.cmd({ op: 'count', event: 'x' })).n, 0);
		assert.equal((await d.cmd({ op: 'free' })).rc, 0);
		await d.cmd({ op: 'quit' });
		assert.equal((await d.waitExit()).code, 0);
		assertNoSanitizerReport(d);
	});

	test('polling and the upgrade to WebSocket', async () => {
		for (const t of ['polling', 'upgrade']) {
			const d = startDriver(env.sg.url, ['-T', t, '--auto-auth', '--token', h.token({ sub: h.uniq('gil') })]);
			await d.cb('ready');
			await d.cmd({ op: 'subscribe', event: 'm', id: 'a' });
			await d.cmd({ op: 'connect' });
			assert.equal((await d.cb('connected')).transport, 'polling');
			const sid = (await d.cb('authenticated')).data.id;
			if (t === 'upgrade') {
				const deadline = Date.now() + 5000;
				while ((await d.cmd({ op: 'state' })).transport !== 'websocket') {
					assert.ok(Date.now() < deadline, 'upgraded to websocket in time');
					await h.delay(50);
				}
			} else {
				await h.delay(300);
				assert.equal((await d.cmd({ op: 'state' })).transport, 'polling');
			}
			env.emitter.to(sid).emit('m', t);
			assert.equal((await d.cb('event', (l) => l.event === 'm')).data, t);
			await d.cmd({ op: 'join', rooms: ['public-p'], ack: true, timeout: 3000, tag: 'j' });
			assert.deepEqual((await d.cb('ack', (l) => l.tag === 'j')).args, [{ rooms: ['public-p'], rejected: [] }]);
			await d.cmd({ op: 'quit' });
			assert.equal((await d.waitExit()).code, 0);
			assertNoSanitizerReport(d);
		}
	});
});

/* ---------------------------------------------------------------- reconnection */

describe('reconnection after siogate restarts', { skip: SKIP_BOTH }, () => {
	let redis = null;
	let emitter = null;
	let sg = null;
	let port = 0;
	before(async () => {
		redis = await h.startRedis();
		emitter = await h.emitterFor(redis.url);
	});
	after(async () => {
		await killProcs();
		if (emitter)
			await emitter.close();
		if (sg)
			await sg.stop();
		if (redis)
			await redis.stop();
	});

	function startSg() {
		return h.startSiogate({
			redis,
			config: {
				...(port ? { server: { listen: [`127.0.0.1:${port}`], shutdown_timeout: '3s', drain_window: '100ms' } } : {}),
				rooms: { allow: ['public-*'] },
			},
		});
	}

	test('the driver and siocat reconnect, authenticate and rejoin (bounded)', async () => {
		sg = await startSg();
		port = sg.port;
		const url = `http://127.0.0.1:${port}`;
		const room = h.uniq('public');
		const d = startDriver(url, ['--auto-auth', '--delay', '100', '--delay-max', '400', '--token', h.token({ sub: 'rec' })]);
		await d.cb('ready');
		await d.cmd({ op: 'subscribe', event: 'after', id: 'a' });
		await d.cmd({ op: 'connect' });
		const first = await d.cb('authenticated');
		const s = spawnProc(SIOCAT, ['-v', '-k', '--token', h.token({ sub: 'rec2' }), '--join', room, url]);
		await s.waitErr(/joined/);

		let from = d.mark();
		const exit = await sg.stop('SIGTERM');
		h.assertCleanLog(sg.log(), exit, 'SIGTERM', { expectCode: 0 });
		const disc = await d.cb('disconnected', () => true, WAIT_MS, from);
		assert.equal(disc.reason, 'transport close');
		await d.cb('reconnecting', () => true, WAIT_MS, from);
		await s.waitErr(/disconnected \(transport close\)/);
		/* a few attempts fail while nothing listens */
		await d.cb('error', (l) => l.code === -6, WAIT_MS, from);

		sg = await startSg();
		const again = await d.cb('authenticated', () => true, 10000, from);
		assert.notEqual(again.data.id, first.data.id, 'a new socket id after reconnecting');
		await d.cb('connected', () => true, WAIT_MS, from);
		from = d.mark();
		emitter.to(again.data.id).emit('after', 'restart');
		assert.equal((await d.cb('event', (l) => l.event === 'after', WAIT_MS, from)).data, 'restart');

		/* siocat joined its room again */
		await h.withTimeout((async () => {
			while ((s.err().match(/joined/g) || []).length < 2)
				await h.delay(50);
		})(), 10000, 'siocat to join again after reconnecting');
		emitter.to(room).emit('back', 1);
		assert.deepEqual(await s.waitLine((l) => l.event === 'back'), { event: 'back', data: 1 });
		await d.cmd({ op: 'quit' });
		s.child.kill('SIGTERM');
		assert.equal((await s.waitExit()).code, 0);
		assertNoSanitizerReport(s);
		assertNoSanitizerReport(d);
	});
});

/* ---------------------------------------------------------------- interop with Node's socket.io */

function haveOpenssl() {
	return spawnSync('openssl', ['version']).status === 0;
}

describe('interop with the Node.js socket.io server', { skip: SKIP_BOTH }, () => {
	let srv = null;
	before(async () => {
		srv = await startNodeServer();
	});
	after(async () => {
		await killProcs();
		if (srv)
			await srv.close();
	});

	test('connect, authenticate, emit with ack, receive broadcasts', async () => {
		const d = startDriver(srv.url, ['--auto-auth']);
		await d.cb('ready');
		await d.cmd({ op: 'subscribe', event: 'broadcast', id: 'b' });
		await d.cmd({ op: 'connect' });
		const conn = await d.cb('connected');
		assert.ok(srv.io.sockets.sockets.has(conn.sid), 'the socket id is the server\'s');
		await d.cb('authenticated');
		assert.equal((await d.cmd({ op: 'emit', event: 'echo', args: [1, 'two', { three: [3.5] }], ack: true, timeout: 3000, tag: 'e' })).rc, 0);
		const ack = await d.cb('ack', (l) => l.tag === 'e');
		assert.deepEqual(ack.args, [1, 'two', { three: [3.5] }]);
		/* a broadcast from the server reaches the C client and siocat */
		const s = spawnProc(SIOCAT, ['-v', '-k', srv.url]);
		await s.waitErr(/authenticated/);
		srv.io.emit('broadcast', { all: true }, 2);
		const ev = await d.cb('event', (l) => l.event === 'broadcast');
		assert.deepEqual(ev.args, [{ all: true }, 2]);
		assert.deepEqual(await s.waitLine((l) => l.event === 'broadcast'), { event: 'broadcast', data: { all: true }, args: [{ all: true }, 2] });
		/* a client-triggered broadcast; what the server received */
		await d.cmd({ op: 'emit', event: 'broadcast', data: 'from-c' });
		assert.deepEqual(await s.waitLine((l) => l.data === 'from-c'), { event: 'broadcast', data: 'from-c' });
		assert.ok(srv.received.some((r) => r.id === conn.sid && r.event === 'broadcast' && r.args[0] === 'from-c'));
		await d.cmd({ op: 'quit' });
		s.child.kill('SIGTERM');
		assert.equal((await s.waitExit()).code, 0);
		assertNoSanitizerReport(d);
		assertNoSanitizerReport(s);
	});

	test('binary payloads both ways, binary acks, the server asking for an ack', async () => {
		const d = startDriver(srv.url, ['--auto-auth']);
		await d.cb('ready');
		await d.cmd({ op: 'subscribe', event: 'echo', id: 'e' });
		await d.cmd({ op: 'subscribe', event: 'question', id: 'q' });
		await d.cmd({ op: 'subscribe', event: 'answer', id: 'a' });
		await d.cmd({ op: 'connect' });
		const sid = (await d.cb('connected')).sid;
		const placeholder = (num) => ({ _placeholder: true, num });
		/* upload: the server gets Buffers where the placeholders were */
		const bytes = Buffer.from([9, 8, 7, 6, 0, 255]);
		assert.equal((await d.cmd({
			op: 'emit', event: 'echo', args: [placeholder(0), { nested: placeholder(1) }, 'text'],
			attachments: [bytes.toString('base64'), ''],
		})).rc, 0);
		const back = await d.cb('event', (l) => l.event === 'echo');
		const rec = srv.received.find((r) => r.id === sid && r.event === 'echo');
		assert.ok(Buffer.isBuffer(rec.args[0]) && rec.args[0].equals(bytes), 'the server got the bytes');
		assert.ok(Buffer.isBuffer(rec.args[1].nested) && rec.args[1].nested.length === 0);
		assert.equal(rec.args[2], 'text');
		/* download: the echo came back as a binary event */
		assert.deepEqual(back.args, [placeholder(0), { nested: placeholder(1) }, 'text']);
		assert.deepEqual(back.attachments, [bytes.toString('base64'), '']);
		/* binary ack */
		assert.equal((await d.cmd({ op: 'emit', event: 'echo', args: [placeholder(0)], attachments: ['AQID'], ack: true, timeout: 3000, tag: 'b' })).rc, 0);
		const ack = await d.cb('ack', (l) => l.tag === 'b');
		assert.deepEqual([ack.args, ack.attachments], [[placeholder(0)], ['AQID']]);
		/* the server asks, the C client answers with sgc_ack */
		await d.cmd({ op: 'emit', event: 'ask' });
		const q = await d.cb('event', (l) => l.event === 'question');
		assert.equal(q.data, 7);
		assert.ok(q.ack_id >= 0);
		assert.equal((await d.cmd({ op: 'reply', ack_id: q.ack_id, args: [{ answer: 42 }] })).rc, 0);
		assert.deepEqual((await d.cb('event', (l) => l.event === 'answer')).data, { answer: 42 });
		/* siocat prints attachments as {"_binary": base64} and sends them the same way */
		const r = await runSiocat(['--no-auth', '--ack=3000', srv.url], 'echo {"blob":{"_binary":"AAEC/w=="},"n":1}\n');
		assert.equal(r.code, 0, r.err);
		assert.deepEqual(r.lines.filter((l) => 'ack' in l), [{ ack: 'echo', args: [{ blob: { _binary: 'AAEC/w==' }, n: 1 }] }]);
		await d.cmd({ op: 'quit' });
		assertNoSanitizerReport(d);
	});

	test('long-polling and the upgrade against Node', async () => {
		for (const t of ['polling', 'upgrade']) {
			const d = startDriver(srv.url, ['-T', t]);
			await d.cb('ready');
			await d.cmd({ op: 'subscribe', event: 'broadcast', id: 'b' });
			await d.cmd({ op: 'connect' });
			const sid = (await d.cb('connected')).sid;
			const sock = srv.io.sockets.sockets.get(sid);
			if (t === 'upgrade') {
				await h.withTimeout((async () => {
					while (sock.conn.transport.name !== 'websocket')
						await h.delay(50);
				})(), 5000, 'the server to see the upgrade');
				assert.equal((await d.cmd({ op: 'state' })).transport, 'websocket');
			} else {
				assert.equal(sock.conn.transport.name, 'polling');
			}
			/* large enough to be gzipped by Node (threshold 1 KiB) if the client asked for it */
			const big = 'x'.repeat(5000);
			srv.io.emit('broadcast', big);
			assert.equal((await d.cb('event', (l) => l.event === 'broadcast')).data, big);
			await d.cmd({ op: 'emit', event: 'echo', args: [placeholder0()], attachments: ['AQID'], ack: true, timeout: 3000, tag: t });
			assert.deepEqual((await d.cb('ack', (l) => l.tag === t)).attachments, ['AQID']);
			await d.cmd({ op: 'disconnect' });
			await d.cb('disconnected');
			await h.withTimeout((async () => {
				while (srv.io.sockets.sockets.has(sid))
					await h.delay(20);
			})(), 3000, 'the server to drop the socket');
			await d.cmd({ op: 'quit' });
			assertNoSanitizerReport(d);
		}
		function placeholder0() {
			return { _placeholder: true, num: 0 };
		}
	});

	test('CONNECT_ERROR from middleware and an unknown namespace; siocat exits 4', async () => {
		const d = startDriver(srv.url, ['--auth', '{"token":"refuse"}', '--delay', '50']);
		await d.cb('ready');
		await d.cmd({ op: 'connect' });
		const err = await d.cb('error');
		assert.deepEqual([err.code, err.message, err.data], [-10, 'not authorized', { code: 42 }]);
		await h.delay(200);
		assert.equal(d.lines.filter((l) => l.cb === 'reconnecting' || l.cb === 'connected').length, 0);
		await d.cmd({ op: 'quit' });
		const admin = await runSiocat(['--no-auth', `${srv.url}/admin`]);
		assert.equal(admin.code, 4);
		assert.match(admin.err, /connection refused by the server: admins only/);
		const unknown = await runSiocat(['--no-auth', '-n', '/nowhere', srv.url]);
		assert.equal(unknown.code, 4);
		assert.match(unknown.err, /Invalid namespace/);
	});

	test('the helper flow against Node: refused token exits 4, a kick exits 6', async () => {
		const refused = await runSiocat(['--token', 'bad', srv.url]);
		assert.equal(refused.code, 4);
		assert.match(refused.err, /authentication refused: Invalid token/);
		const kicked = await runSiocat(['-k', '--token', 'good', srv.url], 'kick\n');
		assert.equal(kicked.code, 6);
		assert.match(kicked.err, /disconnected by the server/);
	});

	test('wss:// with a CA file; an unknown CA is refused (exit 3)', { skip: haveOpenssl() ? false : 'no openssl command' }, async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sgc-tls-'));
		try {
			const key = path.join(dir, 'key.pem');
			const cert = path.join(dir, 'cert.pem');
			const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
				'-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);
			assert.equal(r.status, 0, r.stderr && r.stderr.toString());
			const tls = await startNodeServer({ tls: { key: fs.readFileSync(key), cert: fs.readFileSync(cert) } });
			try {
				const wss = `wss://127.0.0.1:${tls.port}`;
				const ok = await runSiocat(['--ca-file', cert, '--ack=3000', wss], 'echo "secure"\n');
				assert.equal(ok.code, 0, ok.err);
				assert.deepEqual(ok.lines.filter((l) => 'ack' in l), [{ ack: 'echo', args: ['secure'] }]);
				const byName = await runSiocat(['--ca-file', cert, '-T', 'upgrade', '--no-auth', `https://localhost:${tls.port}`], '');
				assert.equal(byName.code, 0, byName.err);
				const bad = await runSiocat([wss]);
				assert.equal(bad.code, 3);
				assert.match(bad.err, /certificate verif/);
				const insecure = await runSiocat(['--insecure', '--no-auth', wss], '');
				assert.equal(insecure.code, 0, insecure.err);
			} finally {
				await tls.close();
			}
		} finally {
			fs.rmSync(dir, { recursive: true, force: true });
		}
	});

	test('heartbeat: answers Node\'s pings on both transports; detects a silent server', async () => {
		const fast = await startNodeServer({ pingInterval: 150, pingTimeout: 100 });
		try {
			for (const t of ['websocket', 'polling']) {
				const d = startDriver(fast.url, ['-T', t, '--no-reconnect']);
				await d.cb('ready');
				await d.cmd({ op: 'connect' });
				const sid = (await d.cb('connected')).sid;
				/* several ping periods: Node would close with "ping timeout" without our pongs */
				await h.delay(1000);
				assert.equal(d.lines.filter((l) => l.cb === 'disconnected').length, 0, `${t}: still connected`);
				assert.ok(fast.io.sockets.sockets.has(sid), `${t}: the server kept the socket`);
				await d.cmd({ op: 'quit' });
				assertNoSanitizerReport(d);
			}
		} finally {
			await fast.close();
		}
		/* a server that never pings: the client gives up after pingInterval + pingTimeout */
		const wss = new WebSocket.Server({ host: '127.0.0.1', port: 0 });
		await new Promise((resolve) => wss.once('listening', resolve));
		wss.on('connection', (ws) => {
			ws.send('0{"sid":"quiet","upgrades":[],"pingInterval":100,"pingTimeout":100,"maxPayload":1000000}');
			ws.on('message', (m) => {
				if (String(m).startsWith('40'))
					ws.send('40{"sid":"quiet-nsp"}');
			});
		});
		try {
			const d = startDriver(`ws://127.0.0.1:${wss.address().port}`, ['--no-reconnect']);
			await d.cb('ready');
			const t0 = Date.now();
			await d.cmd({ op: 'connect' });
			assert.equal((await d.cb('connected')).sid, 'quiet-nsp');
			assert.equal((await d.cb('disconnected', () => true, 3000)).reason, 'ping timeout');
			const took = Date.now() - t0;
			assert.ok(took >= 150 && took < 2000, `gave up after ${took} ms`);
			await d.cmd({ op: 'quit' });
			assertNoSanitizerReport(d);
		} finally {
			for (const c of wss.clients)
				c.terminate();
			await new Promise((resolve) => wss.close(resolve));
		}
	});

	test('a server that breaks the protocol: siocat exits 5', async () => {
		const wss = new WebSocket.Server({ host: '127.0.0.1', port: 0 });
		await new Promise((resolve) => wss.once('listening', resolve));
		wss.on('connection', (ws) => {
			ws.send('0{"sid":"raw","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}');
			ws.on('message', () => ws.send('4this is not socket.io'));
		});
		try {
			const r = await runSiocat(['--no-auth', `ws://127.0.0.1:${wss.address().port}`]);
			assert.equal(r.code, 5, r.err);
			assert.match(r.err, /protocol error/);
		} finally {
			for (const c of wss.clients)
				c.terminate();
			await new Promise((resolve) => wss.close(resolve));
		}
	});
});

/* ---------------------------------------------------------------- raw HTTP answers */

/*
 * A raw TCP server that reads one HTTP request per connection (the client sends
 * "Connection: close" on polling requests) and hands {method, url, headers, body} and the
 * socket to answer(req, sock), which writes whatever bytes the test wants.  Resolves
 * {port, close()}; close() destroys every socket still open.
 */
async function rawHttpServer(answer) {
	const socks = new Set();
	const srv = net.createServer((sock) => {
		socks.add(sock);
		sock.on('close', () => socks.delete(sock));
		sock.on('error', () => { /* the client may reset */ });
		let buf = Buffer.alloc(0);
		let handled = false;
		sock.on('data', (d) => {
			if (handled) {
				sock.emit('after', d);
				return;
			}
			buf = Buffer.concat([buf, d]);
			const end = buf.indexOf('\r\n\r\n');
			if (end < 0)
				return;
			const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
			const [method, url] = lines[0].split(' ');
			const headers = {};
			for (const l of lines.slice(1)) {
				const i = l.indexOf(':');
				headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
			}
			const len = Number(headers['content-length'] || 0);
			if (buf.length < end + 4 + len)
				return;
			handled = true;
			const rest = buf.subarray(end + 4 + len);
			answer({ method, url, headers, body: buf.subarray(end + 4, end + 4 + len).toString('utf8') }, sock);
			if (rest.length > 0)
				sock.emit('after', rest);
		});
	});
	await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
	return {
		port: srv.address().port,
		close: () => {
			for (const s of socks)
				s.destroy();
			return new Promise((resolve) => srv.close(resolve));
		},
	};
}

/* An unmasked WebSocket text frame from the server (payloads under 126 bytes). */
function wsText(s) {
	const p = Buffer.from(s, 'utf8');
	assert.ok(p.length < 126);
	return Buffer.concat([Buffer.from([0x81, p.length]), p]);
}

/* The payloads of the masked frames a client sent (short frames only): [{opcode, text}]. */
function wsClientFrames(buf) {
	const out = [];
	let i = 0;
	while (i + 6 <= buf.length) {
		const opcode = buf[i] & 0x0f;
		const len = buf[i + 1] & 0x7f;
		if (len >= 126 || i + 6 + len > buf.length)
			break;
		const mask = buf.subarray(i + 2, i + 6);
		const p = Buffer.from(buf.subarray(i + 6, i + 6 + len));
		for (let k = 0; k < p.length; k++)
			p[k] ^= mask[k % 4];
		out.push({ opcode, text: p.toString('utf8') });
		i += 6 + len;
	}
	return out;
}

function wsAccept(key) {
	return crypto.createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

const OPEN_PACKET = '0{"sid":"raw1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}';

describe('the client reads HTTP answers as proto/http_resp_parser.c parses them', { skip: SKIP_SIOCAT }, () => {
	test('polling: an interim 100, a chunked handshake, a close-delimited poll, Content-Length POST answers', async () => {
		const posts = [];
		let polls = 0;
		const srv = await rawHttpServer((req, sock) => {
			if (req.method === 'POST') {
				posts.push(req.body);
				sock.end('HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nok');
			} else if (!/[?&]sid=/.test(req.url)) {
				sock.end('HTTP/1.1 100 Continue\r\n\r\n' +
					'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n' +
					`5;x=1\r\n${OPEN_PACKET.slice(0, 5)}\r\n` +
					`${(OPEN_PACKET.length - 5).toString(16)}\r\n${OPEN_PACKET.slice(5)}\r\n0\r\nX-Trailer: 1\r\n\r\n`);
			} else if (polls++ === 0) {
				/* no length: the body ends with the connection */
				sock.end('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n40{"sid":"s1"}');
			}
			/* later polls are held open */
		});
		try {
			const r = await runSiocat(['--no-auth', '-T', 'polling', '--no-reconnect', `http://127.0.0.1:${srv.port}`], 'hello 1\n');
			assert.equal(r.code, 0, r.err);
			const sent = posts.join('\x1e').split('\x1e');
			assert.ok(sent.includes('40'), JSON.stringify(posts));
			assert.ok(sent.includes('42["hello",1]'), JSON.stringify(posts));
		} finally {
			await srv.close();
		}
	});

	test('WebSocket: an interim 100, then the 101 and the first frames in one segment', async () => {
		let got = Buffer.alloc(0);
		const srv = await rawHttpServer((req, sock) => {
			sock.on('after', (d) => {
				got = Buffer.concat([got, d]);
			});
			sock.write(Buffer.concat([
				Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching Protocols\r\n' +
					'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
					`Sec-WebSocket-Accept: ${wsAccept(req.headers['sec-websocket-key'])}\r\n\r\n`),
				wsText(OPEN_PACKET),
				wsText('40{"sid":"s1"}'),
			]));
		});
		try {
			const r = await runSiocat(['--no-auth', '--no-reconnect', `ws://127.0.0.1:${srv.port}`], 'hello 2\n');
			assert.equal(r.code, 0, r.err);
			const frames = wsClientFrames(got);
			/* CONNECT, the event, DISCONNECT at the end of input, then the close frame */
			assert.deepEqual(frames.filter((f) => f.opcode === 1).map((f) => f.text), ['40', '42["hello",2]', '41']);
			assert.equal(frames[frames.length - 1].opcode, 8, 'a close frame last');
		} finally {
			await srv.close();
		}
	});

	test('a wrong Sec-WebSocket-Accept: cannot connect (exit 3)', async () => {
		const srv = await rawHttpServer((req, sock) => {
			sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
				`Sec-WebSocket-Accept: ${wsAccept('not the key')}\r\n\r\n`);
		});
		try {
			const r = await runSiocat(['--no-auth', `ws://127.0.0.1:${srv.port}`]);
			assert.equal(r.code, 3, r.err);
			assert.match(r.err, /invalid WebSocket upgrade answer/);
		} finally {
			await srv.close();
		}
	});

	test('a 101 to a polling request, and a malformed header: protocol error (exit 5)', async () => {
		for (const head of ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n',
			'HTTP/1.1 200 OK\r\nBad Header: x\r\nContent-Length: 0\r\n\r\n']) {
			const srv = await rawHttpServer((req, sock) => sock.end(head));
			try {
				const r = await runSiocat(['--no-auth', '-T', 'polling', `http://127.0.0.1:${srv.port}`]);
				assert.equal(r.code, 5, r.err);
				assert.match(r.err, /protocol error: bad HTTP response: (unexpected 101|malformed header name)/);
			} finally {
				await srv.close();
			}
		}
	});

	test('a response cut short: cannot connect (exit 3), the reason on stderr', async () => {
		const srv = await rawHttpServer((req, sock) => sock.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0{"sid"'));
		try {
			const r = await runSiocat(['--no-auth', '-T', 'polling', `http://127.0.0.1:${srv.port}`]);
			assert.equal(r.code, 3, r.err);
			assert.match(r.err, /closed the connection mid-response/);
		} finally {
			await srv.close();
		}
	});
});
