'use strict';
/*
 * fdlimit.test.js: the descriptor ceiling (issue 20).  siogate runs under a small open-file limit
 * (prlimit --nofile=N:N), so a hundred sockets reach it.  server.max_connections: auto is the
 * limit minus a reserve (64 + 16 per worker here); an explicit value above it is lowered, with a
 * warning naming both numbers.  Past it a client is refused at once (503, then closed) and
 * counted, the log says so once per 10 s with a count, and /metrics and /readyz keep answering.
 * When the table fills anyway (the limit lowered under a running siogate with prlimit --pid,
 * as if something else took the descriptors), accept() fails with EMFILE: waiting clients are
 * refused at once with the spare-descriptor trick, EMFILE is logged once per interval with a
 * count, the admin listener still serves, nothing spins, and once descriptors are free again
 * clients are accepted.
 */

const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const { test, describe, before, after } = require('node:test');
const h = require('./lib/harness');

const NOFILE = 160;
/* workers: 2, the JWT verifier: 64 + 16 x 2 */
const RESERVE = 96;
const MAX = NOFILE - RESERVE;

const havePrlimit = spawnSync('prlimit', ['--version']).status === 0;

/* The descriptor the kernel would give pid next: a limit of that many leaves none free. */
function lowestFreeFd(pid) {
	const used = new Set(fs.readdirSync(`/proc/${pid}/fd`).map(Number));
	let fd = 0;
	while (used.has(fd))
		fd++;
	return fd;
}

/* utime + stime of pid, in clock ticks */
function cpuTicks(pid) {
	const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
	const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
	return Number(rest[11]) + Number(rest[12]);
}

async function adminGet(sg, p) {
	const res = await h.withTimeout(fetch(`http://127.0.0.1:${sg.adminPort}${p}`), 3000, `GET ${p}`);
	return { status: res.status, text: await res.text() };
}

/* A raw connection that the server is expected to refuse: resolves once closed, with what it
 * received. */
async function refused(sg, ms = 2000) {
	const c = await h.rawTcpConnect(sg);
	c.write(`GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1:${sg.port}\r\n\r\n`);
	await h.withTimeout(c.closed, ms, 'a connection over the ceiling to be refused');
	return c.text();
}

describe('server.max_connections: auto, from the open-file limit', { skip: !havePrlimit && 'no prlimit' }, () => {
	const env = h.useSiogate({ before, after }, {
		wrap: ['prlimit', `--nofile=${NOFILE}:${NOFILE}`, '--'],
		config: { auth: { timeout: '60s' } },
	});

	test(`${MAX} clients fit; the next ones are refused at once, counted, logged once; /metrics answers`, async () => {
		await env.sg.waitForLog(new RegExp(`open-file limit ${NOFILE}, ${RESERVE} descriptors kept .*at most ${MAX} clients`), 1000);
		const clients = [];
		for (let i = 0; i < MAX; i++)
			clients.push(await h.connect(env.sg.url));
		const mark = env.sg.mark();
		const answers = [];
		for (let i = 0; i < 30; i++)
			answers.push(await refused(env.sg));
		for (const a of answers)
			assert.match(a, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
		/* a socket.io-client is told at once too, not left to its own timeout */
		const t0 = Date.now();
		const err = await h.connect(env.sg.url, { timeoutMs: 5000 }).then(() => null, (e) => e);
		assert.ok(err, 'the client over the ceiling must not connect');
		assert.ok(Date.now() - t0 < 2000, `refused after ${Date.now() - t0} ms`);
		assert.ok(clients.every((s) => s.connected), 'the clients within the ceiling stay');
		const m = await adminGet(env.sg, '/metrics');
		assert.equal(m.status, 200);
		assert.ok(h.metric(m.text, 'siogate_closes_total{reason="connection limit"}') >= 31);
		assert.equal((await adminGet(env.sg, '/readyz')).status, 200);
		const lines = env.sg.countLog(/refusing a connection/, mark);
		assert.ok(lines >= 1 && lines <= 2, `${lines} refusal lines for 31 refusals`);
		/* a slot freed is a slot usable */
		clients.pop().close();
		await h.delay(300);
		clients.push(await h.connect(env.sg.url));
		h.closeClients();
	});
});

describe('an explicit server.max_connections above the open-file limit', { skip: !havePrlimit && 'no prlimit' }, () => {
	const env = h.useSiogate({ before, after }, {
		wrap: ['prlimit', `--nofile=${NOFILE}:${NOFILE}`, '--'],
		config: { server: { max_connections: 100000 } },
	});

	test('is lowered to what the limit allows, with a warning naming both numbers', async () => {
		await env.sg.waitForLog(new RegExp(`warn server\\.max_connections \\(100000\\) is more than the ` +
			`open-file limit allows \\(${NOFILE} descriptors, ${RESERVE} kept .*at most ${MAX} clients`), 1000);
		const conns = [];
		for (let i = 0; i < MAX; i++)
			conns.push(await h.rawWs(env.sg, 'EIO=4&transport=websocket'));
		assert.match(await refused(env.sg), /^HTTP\/1\.1 503 /);
		for (const c of conns)
			c.close();
	});
});

describe('the descriptor table full (EMFILE)', { skip: !havePrlimit && 'no prlimit' }, () => {
	const env = h.useSiogate({ before, after }, {
		wrap: ['prlimit', `--nofile=${NOFILE}:${NOFILE}`, '--'],
		config: { auth: { timeout: '60s' } },
	});

	test('clients are refused at once, EMFILE is logged once with a count, admin answers, no spinning', async () => {
		const pid = env.sg.pid;
		const clients = [];
		for (let i = 0; i < 10; i++)
			clients.push(await h.connect(env.sg.url));
		/* something else took every free descriptor: no new one below the limit */
		const lowered = spawnSync('prlimit', [`--pid=${pid}`, `--nofile=${lowestFreeFd(pid)}:${NOFILE}`]);
		assert.equal(lowered.status, 0, `prlimit --pid: ${lowered.stderr}`);
		const mark = env.sg.mark();
		const m0 = h.metric((await adminGet(env.sg, '/metrics')).text, 'siogate_closes_total{reason="descriptor limit"}');
		for (let i = 0; i < 40; i++)
			await refused(env.sg);
		const metrics = await adminGet(env.sg, '/metrics');
		assert.equal(metrics.status, 200, '/metrics answers with the table full');
		const refusedCount = h.metric(metrics.text, 'siogate_closes_total{reason="descriptor limit"}') - m0;
		assert.ok(refusedCount >= 40, `${refusedCount} refusals counted`);
		assert.ok(h.metric(metrics.text, 'siogate_accept_errors_total') >= 40);
		assert.equal((await adminGet(env.sg, '/readyz')).status, 200, '/readyz answers with the table full');
		const lines = env.sg.countLog(/accept on .* failed: Too many open files/, mark);
		assert.ok(lines >= 1 && lines <= 3, `${lines} EMFILE lines for 40 refused clients`);
		assert.ok(clients.every((s) => s.connected), 'the connected clients are not affected');
		/* at the ceiling with nobody knocking: idle, not spinning on accept */
		const c0 = cpuTicks(pid);
		await h.delay(2000);
		const used = (cpuTicks(pid) - c0) / 100;
		assert.ok(used < 0.5, `${used} s of CPU in 2 s at the ceiling`);
		/* descriptors free again: clients get in */
		const raised = spawnSync('prlimit', [`--pid=${pid}`, `--nofile=${NOFILE}:${NOFILE}`]);
		assert.equal(raised.status, 0);
		await h.delay(300);
		const s = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('back') } });
		assert.ok(s.connected);
		h.closeClients();
	});
});
