'use strict';
/*
 * observability.test.js: what an operator reads.  The admin listener is not a client (scrapes and
 * admin requests move no connection, close or byte counter and log nothing at info); at info a
 * client's whole life logs nothing; /metrics counts authentication failures by reason, the
 * outcomes and latency of events.forward (to a real Node HTTP backend and a Redis stream) and of
 * rooms.http, the event-loop lag of each worker, file descriptors, start time, build and
 * readiness; log.format: json puts the facts (sid, addr, socket, nsp, user, reason, worker) in
 * fields; and under the journal (JOURNAL_STREAM naming stderr, as systemd sets it) every line
 * starts with its syslog priority and has no time of its own.
 */

const assert = require('node:assert/strict');
const { test, describe, before, after } = require('node:test');
const { spawn, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const h = require('./lib/harness');

const tokenDir = h.makeTempDir('obs-admin');
const tokenFile = path.join(tokenDir, 'admin.token');
const ADMIN_TOKEN = crypto.randomBytes(24).toString('hex');
fs.writeFileSync(tokenFile, ADMIN_TOKEN + '\n', { mode: 0o600 });
after(() => fs.rmSync(tokenDir, { recursive: true, force: true }));

/** Every sample of a Prometheus text as name{labels} -> value. */
function samples(text) {
	const out = new Map();
	for (const line of text.split('\n')) {
		if (line === '' || line.startsWith('#'))
			continue;
		const i = line.lastIndexOf(' ');
		out.set(line.slice(0, i), Number(line.slice(i + 1)));
	}
	return out;
}

/** The samples whose name starts with prefix, as an object (for deepEqual with a clear diff). */
function pick(map, prefix) {
	return Object.fromEntries([...map].filter(([k]) => k.startsWith(prefix)));
}

/** Polls /metrics until pred(samples) holds (bounded); returns the samples. */
async function metricsWhen(sg, pred, what, timeoutMs = 5000) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const m = samples(await h.metrics(sg));
		if (pred(m))
			return m;
		if (Date.now() > deadline)
			throw new Error(`timed out after ${timeoutMs} ms waiting for /metrics: ${what}`);
		await h.delay(50);
	}
}

/** A token that expired an hour ago (beyond auth.jwt.leeway). */
function expiredToken(sub) {
	const now = Math.floor(Date.now() / 1000);
	return h.token({ sub, iat: now - 7200, exp: now - 3600 }, { expiresIn: null });
}

describe('metrics and a quiet log at info', () => {
	const ctx = { sg: null, redis: null, emitter: null };
	let backend;
	let startedAt;

	before(async () => {
		backend = http.createServer((req, res) => {
			let body = '';
			req.on('data', (d) => { body += d; });
			req.on('end', () => {
				const q = JSON.parse(body);
				const answer = (status, obj) => {
					res.writeHead(status, { 'content-type': 'application/json' });
					res.end(obj === undefined ? '' : JSON.stringify(obj));
				};
				if (req.url === '/rooms') {
					if (q.rooms.includes('boom'))
						return answer(500);
					return setTimeout(() => answer(200, { rooms: q.rooms }), q.rooms.includes('slow') ? 1500 : 0);
				}
				if (q.event === 'obs:fail')
					return answer(500);
				return setTimeout(() => answer(200, { got: q.data }), q.event === 'obs:slow' ? 1500 : 0);
			});
		});
		await new Promise((r) => backend.listen(0, '127.0.0.1', r));
		const base = `http://127.0.0.1:${backend.address().port}`;
		const closed = await h.freePort(); /* nothing listens there: connection refused */
		ctx.redis = await h.startRedis();
		startedAt = Date.now() / 1000;
		ctx.sg = await h.startSiogate({
			redis: ctx.redis,
			config: {
				admin: { token_file: tokenFile },
				rooms: { http: { url: `${base}/rooms`, timeout: '500ms' } },
				events: {
					forward: [
						{ match: 'obs:ok', http: `${base}/fwd`, timeout: '2s' },
						{ match: 'obs:fail', http: `${base}/fwd`, timeout: '2s' },
						{ match: 'obs:slow', http: `${base}/fwd`, timeout: '300ms' },
						{ match: 'obs:down', http: `http://127.0.0.1:${closed}/fwd`, timeout: '2s' },
						{ match: 'obs:stream', stream: 'siogate:obs' },
					],
				},
				log: { level: 'info' },
			},
		});
	});

	after(async () => {
		h.closeClients(true);
		h.closeRawSockets();
		try {
			await h.teardown(ctx);
		} finally {
			backend.closeAllConnections();
			await new Promise((r) => backend.close(r));
		}
	});

	test('scrapes, health checks and admin API requests are not clients: no counter moves, no log line', async () => {
		const { sg } = ctx;
		const admin = (p, opts = {}) => h.httpRequest(`http://127.0.0.1:${sg.adminPort}${p}`, opts);
		const before0 = samples(await h.metrics(sg));
		const mark = sg.mark();
		for (let i = 0; i < 20; i++) {
			assert.equal((await admin('/metrics')).status, 200);
			assert.equal((await admin('/healthz')).status, 200);
			assert.equal((await admin('/readyz')).status, 200);
			const clients = await admin('/v1/clients', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
			assert.equal(clients.status, 200);
		}
		/* and keep-alive connections, closed by the client */
		const agent = new http.Agent({ keepAlive: true });
		for (let i = 0; i < 5; i++)
			assert.equal((await admin('/metrics', { agent })).status, 200);
		agent.destroy();
		await h.delay(200);
		const after0 = samples(await h.metrics(sg));
		for (const prefix of ['siogate_connections_accepted_total', 'siogate_handshakes_total', 'siogate_closes_total',
			'siogate_bytes_total', 'siogate_packets_total'])
			assert.deepEqual(pick(after0, prefix), pick(before0, prefix), `${prefix} moved`);
		/* the scrape that asks is not an open client connection either */
		assert.equal(after0.get('siogate_open_connections'), 0);
		assert.deepEqual(Object.values(pick(after0, 'siogate_worker_connections{')), [0, 0]);
		assert.equal(sg.log().slice(mark), '', 'nothing is logged at info for admin requests');
	});

	test('at info, a client that connects, authenticates, is refused or leaves logs nothing', async () => {
		const { sg } = ctx;
		const closes = (m) => [...m].filter(([k]) => k.startsWith('siogate_closes_total')).reduce((a, [, v]) => a + v, 0);
		const before0 = samples(await h.metrics(sg));
		const mark = sg.mark();
		const s = await h.connectAuthed(sg.url, { claims: { sub: h.uniq('quiet') } });
		await s.timeout(3000).emitWithAck('join', { rooms: ['quiet-room'] });
		s.close();
		const refused = await h.connect(sg.url, { auth: { token: expiredToken('late') } });
		await assert.rejects(h.authenticate(refused), /unauthenticated/);
		await metricsWhen(sg, (m) => closes(m) >= closes(before0) + 2 && m.get('siogate_open_connections') === 0,
			'both clients closed');
		assert.equal(sg.log().slice(mark), '', 'no per-client line at info');
	});

	test('authentication failures are counted by reason', async () => {
		const { sg } = ctx;
		const reason = (m, r) => m.get(`siogate_auth_failures_total{reason="${r}"}`);
		const before0 = samples(await h.metrics(sg));
		const refuse = async (opts) => {
			const s = await h.connect(sg.url, opts);
			await assert.rejects(h.authenticate(s), /unauthenticated/);
		};
		await refuse({ auth: { token: expiredToken('e') } });
		await refuse({ auth: { token: h.token({ sub: 'b' }, { secret: 'another-secret-of-enough-length-0123456789' }) } });
		await refuse({});
		await refuse({ auth: { token: 'not-a-jwt' } });
		await refuse({ auth: { token: h.token({ sub: 'a' }, { alg: 'HS384' }) } }); /* not in auth.jwt.algorithms */
		const after0 = samples(await h.metrics(sg));
		const moved = {};
		for (const r of ['expired', 'bad_signature', 'no_token', 'malformed', 'algorithm', 'no_key', 'verifier_timeout'])
			moved[r] = reason(after0, r) - reason(before0, r);
		assert.deepEqual(moved, { expired: 1, bad_signature: 1, no_token: 1, malformed: 1, algorithm: 1, no_key: 0,
			verifier_timeout: 0 });
		assert.equal(after0.get('siogate_auth_total{result="rejected"}') - before0.get('siogate_auth_total{result="rejected"}'), 5);
	});

	test('events.forward: outcomes and latency by target', async () => {
		const { sg } = ctx;
		const before0 = samples(await h.metrics(sg));
		const s = await h.connectAuthed(sg.url, { claims: { sub: h.uniq('fwd') } });
		assert.deepEqual(await s.timeout(3000).emitWithAck('obs:ok', 7), { got: 7 });
		for (const ev of ['obs:fail', 'obs:slow', 'obs:down'])
			assert.equal((await s.timeout(3000).emitWithAck(ev, 1)).error, 'the event could not be forwarded', ev);
		assert.match((await s.timeout(3000).emitWithAck('obs:stream', 1)).id, /^\d+-\d+$/);
		const after0 = samples(await h.metrics(sg));
		const d = (k) => after0.get(k) - before0.get(k);
		const fwd = (t, o) => d(`siogate_events_forward_total{target="${t}",outcome="${o}"}`);
		assert.deepEqual(
			{ ok: fwd('http', 'ok'), error: fwd('http', 'error'), timeout: fwd('http', 'timeout'), unavailable: fwd('http', 'unavailable') },
			{ ok: 1, error: 1, timeout: 1, unavailable: 1 });
		assert.equal(fwd('stream', 'ok'), 1);
		assert.equal(fwd('stream', 'error') + fwd('stream', 'unavailable') + fwd('stream', 'overloaded'), 0);
		/* timed: what reached the target or timed out, not the refused call */
		assert.equal(d('siogate_events_forward_seconds_count{target="http"}'), 3);
		assert.equal(d('siogate_events_forward_seconds_count{target="stream"}'), 1);
		/* the immediate answers below 250 ms, the 300 ms timeout above */
		assert.equal(d('siogate_events_forward_seconds_bucket{target="http",le="0.25"}'), 2);
		assert.equal(d('siogate_events_forward_seconds_bucket{target="http",le="+Inf"}'), 3);
	});

	test('rooms.http: outcomes and latency', async () => {
		const { sg } = ctx;
		const before0 = samples(await h.metrics(sg));
		const s = await h.connectAuthed(sg.url, { claims: { sub: h.uniq('rooms') } });
		assert.deepEqual(await s.timeout(3000).emitWithAck('join', { rooms: ['acme-1'] }), { rooms: ['acme-1'], rejected: [] });
		assert.deepEqual(await s.timeout(3000).emitWithAck('join', { rooms: ['boom'] }), { rooms: [], rejected: ['boom'] });
		assert.deepEqual(await s.timeout(3000).emitWithAck('join', { rooms: ['slow'] }), { rooms: [], rejected: ['slow'] });
		const after0 = samples(await h.metrics(sg));
		const d = (k) => after0.get(k) - before0.get(k);
		assert.deepEqual(['ok', 'error', 'timeout', 'unavailable', 'overloaded'].map((o) => d(`siogate_rooms_http_total{outcome="${o}"}`)), [1, 1, 1, 0, 0]);
		assert.equal(d('siogate_rooms_http_seconds_count'), 3);
		/* the immediate answers below 250 ms, the 500 ms timeout above */
		assert.equal(d('siogate_rooms_http_seconds_bucket{le="0.25"}'), 2);
		assert.equal(d('siogate_rooms_http_seconds_bucket{le="+Inf"}'), 3);
	});

	test('process metrics, build info, readiness and the loop lag of each worker', async () => {
		const { sg } = ctx;
		const m0 = samples(await h.metrics(sg));
		const fds = fs.readdirSync(`/proc/${sg.pid}/fd`).length;
		const limit = Number(fs.readFileSync(`/proc/${sg.pid}/limits`, 'utf8').match(/^Max open files\s+(\d+)/m)[1]);
		assert.ok(Math.abs(m0.get('process_open_fds') - fds) <= 4, `process_open_fds ${m0.get('process_open_fds')} vs ${fds} in /proc`);
		assert.equal(m0.get('process_max_fds'), limit);
		const start = m0.get('process_start_time_seconds');
		assert.ok(start >= startedAt - 5 && start <= Date.now() / 1000, `start time ${start}, started at ${startedAt}`);
		const version = execFileSync(h.SIOGATE_BIN, ['--version'], { encoding: 'utf8' }).split('\n')[0].split(' ')[1];
		const build = [...m0].find(([k]) => k.startsWith('siogate_build_info{'));
		assert.ok(build, 'siogate_build_info is there');
		assert.match(build[0], new RegExp(`version="${version.replace(/\./g, '\\.')}"`));
		assert.equal(build[1], 1);
		assert.equal(m0.get('siogate_ready'), 1);
		/* every worker's 250 ms timer keeps firing */
		const lag = (m, w) => m.get(`siogate_event_loop_lag_seconds_count{worker="${w}"}`);
		const m1 = await metricsWhen(sg, (m) => lag(m, 0) >= lag(m0, 0) + 2 && lag(m, 1) >= lag(m0, 1) + 2,
			'two more lag observations on both workers', 5000);
		assert.equal(m1.get('siogate_event_loop_lag_seconds_bucket{worker="1",le="+Inf"}'), lag(m1, 1));
	});
});

describe('siogate_ready follows Redis', () => {
	const env = h.useSiogate({ before, after }, { redis: true });

	test('0 while Redis is down (and /readyz says 503), 1 before', async () => {
		assert.equal(h.metric(await h.metrics(env.sg), 'siogate_ready'), 1);
		await env.emitter.close();
		env.emitter = null;
		await env.redis.stop();
		await metricsWhen(env.sg, (m) => m.get('siogate_ready') === 0, 'siogate_ready 0', 10000);
		const r = await h.httpRequest(`http://127.0.0.1:${env.sg.adminPort}/readyz`);
		assert.equal(r.status, 503);
		assert.equal(h.metric(await h.metrics(env.sg), 'siogate_redis_up{link="subscriber"}'), 0);
	});
});

describe('log.format: json', () => {
	const env = h.useSiogate({ before, after }, { config: { log: { level: 'debug', format: 'json' } } });

	test('every line is a JSON object, and a client\'s lines carry sid, addr, socket, nsp, user, reason, worker', async () => {
		const mark = env.sg.mark();
		const user = h.uniq('json-alice');
		const s = await h.connectAuthed(env.sg.url, { claims: { sub: user } });
		const socketId = s.id;
		s.close();
		const refused = await h.connect(env.sg.url, { auth: { token: expiredToken('json-late') } });
		await assert.rejects(h.authenticate(refused), /unauthenticated/);
		await env.sg.waitForLog(/"msg":"not authenticated: expired"/, 3000, mark);
		await env.sg.waitForLog(new RegExp(`"msg":"authenticated",.*"socket":"${socketId}"`), 3000, mark);
		const recs = env.sg.log().split('\n').filter((l) => l !== '').map((l) => {
			try {
				return JSON.parse(l);
			} catch {
				throw new Error(`not a JSON line: ${l}`);
			}
		});
		for (const r of recs) {
			assert.match(r.time, h.ISO_MS_RE);
			assert.ok(['error', 'warn', 'info', 'debug'].includes(r.level), r.level);
			assert.equal(typeof r.msg, 'string');
		}
		const mine = recs.filter((r) => r.socket === socketId);
		const authed = mine.find((r) => r.msg === 'authenticated');
		assert.ok(authed, `an "authenticated" record for ${socketId}: ${JSON.stringify(mine)}`);
		assert.equal(authed.level, 'debug');
		assert.equal(authed.user, user);
		assert.equal(authed.nsp, '/');
		assert.match(authed.addr, /^127\.0\.0\.1:\d+$/);
		assert.equal(typeof authed.sid, 'string');
		assert.ok(Number.isInteger(authed.worker) && authed.worker >= 0 && authed.worker < env.sg.workers);
		/* the Engine.IO session's close names the same sid and address */
		await env.sg.waitForLog(new RegExp(`"msg":"client closed: [^"]*","addr":"[^"]*","sid":"${authed.sid}"`), 3000, mark);
		const closeRec = env.sg.log().slice(mark).split('\n').filter((l) => l.includes(authed.sid)).map((l) => JSON.parse(l))
			.find((r) => r.msg.startsWith('client closed: '));
		assert.ok(closeRec, 'a close record for the session');
		assert.equal(closeRec.addr, authed.addr);
		assert.equal(closeRec.reason, closeRec.msg.slice('client closed: '.length));
		assert.equal(closeRec.worker, authed.worker);
		const late = recs.find((r) => r.msg === 'not authenticated: expired');
		assert.ok(late, 'the refused client\'s record');
		assert.equal(late.reason, 'expired');
		assert.equal(late.user, undefined);
	});
});

describe('under the journal (JOURNAL_STREAM)', () => {
	const runs = [];
	after(() => {
		for (const r of runs) {
			if (r.exit === null) {
				try {
					process.kill(r.child.pid, 'SIGKILL');
				} catch {
					/* gone */
				}
			}
			h.removeDir(r.dir);
		}
	});

	/*
	 * Runs siogate with stderr redirected to a file by sh, JOURNAL_STREAM set to that file's
	 * device:inode (as systemd sets it for the journal's stream), or to another inode when
	 * `other`; requests /v1/clients without the token (a warning); stops it with SIGTERM and
	 * resolves the log's lines.
	 */
	async function runJournaled(other) {
		const dir = h.makeTempDir('journal');
		const port = await h.freePort();
		const adminPort = await h.freePort();
		const cfg = path.join(dir, 'siogate.yaml');
		const log = path.join(dir, 'stderr');
		fs.writeFileSync(cfg, h.yaml(h.mergeConfig(h.defaultConfig({ port, adminPort }),
			{ admin: { token_file: tokenFile } })), { mode: 0o600 });
		/* stat -c %d:%i: st_dev and st_ino in decimal, the format of systemd.exec(5) */
		const script = `log=$1; shift; : >"$log"
			set -- "$@" $(stat -c '%d %i' "$log")
			dev=$4; ino=$5; [ "$OTHER" = 1 ] && ino=$((ino + 1))
			JOURNAL_STREAM=$dev:$ino; export JOURNAL_STREAM
			exec "$1" "$2" "$3" 2>>"$log"`;
		const child = spawn('sh', ['-c', script, 'sh', log, h.SIOGATE_BIN, '-c', cfg], {
			stdio: 'ignore', env: { ...process.env, OTHER: other ? '1' : '0' },
		});
		const run = { child, dir, exit: null };
		runs.push(run);
		const exited = new Promise((resolve) => child.on('exit', (code, signal) => {
			run.exit = { code, signal };
			resolve(run.exit);
		}));
		const text = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '');
		const deadline = Date.now() + 10000;
		while (!text().includes('siogate ready')) {
			if (run.exit !== null || Date.now() > deadline)
				throw new Error(`siogate did not start under the wrapper:\n${text()}`);
			await h.delay(50);
		}
		const r = await h.httpRequest(`http://127.0.0.1:${adminPort}/v1/clients`);
		assert.equal(r.status, 401);
		process.kill(child.pid, 'SIGTERM');
		const exit = await h.withTimeout(exited, 10000, 'siogate to exit after SIGTERM');
		assert.equal(exit.code, 0, text());
		h.assertCleanLog(text());
		return text().split('\n').filter((l) => l !== '');
	}

	test('lines start with their syslog priority and carry no time of their own', async () => {
		const lines = await runJournaled(false);
		for (const l of lines)
			assert.match(l, /^<[3467]>(error|warn|info|debug) /, `every line has a priority prefix: ${l}`);
		assert.ok(lines.some((l) => /^<6>info siogate ready: listening on /.test(l)), lines.join('\n'));
		assert.ok(lines.some((l) => /^<4>warn admin: refused a request from 127\.0\.0\.1/.test(l)), lines.join('\n'));
		assert.ok(lines.some((l) => l === '<6>info siogate stopped'), lines.join('\n'));
		assert.ok(!lines.some((l) => /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(l)), 'no timestamp');
	});

	test('a JOURNAL_STREAM that names another file changes nothing', async () => {
		const lines = await runJournaled(true);
		for (const l of lines)
			assert.match(l, /^\d{4}-\d{2}-\d{2}T[\d:.]+Z (error|warn|info|debug) /, l);
		assert.ok(lines.some((l) => / warn admin: refused a request/.test(l)));
	});
});

test('--help names the signals: SIGTERM and SIGINT stop, SIGHUP reloads', async () => {
	const r = await h.runSiogate(['--help']);
	assert.equal(r.code, 0, r.stderr);
	assert.match(r.stdout, /SIGTERM\/SIGINT stop gracefully/);
	assert.match(r.stdout, /SIGHUP reloads the configuration/);
});
