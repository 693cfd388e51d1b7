'use strict';
/*
 * soak.js: the chaos soak of siogate (`make soak`; tests/soak/README.md).  Two siogate instances
 * on one private Redis, real clients, and on a schedule everything that goes wrong in production:
 * Redis killed and stopped, a verifier that hangs and fails, reloads, slow consumers, a slow-body
 * attacker.  At the end, a report with one PASS/FAIL line per check; exit 1 if any failed (2 if
 * the soak itself could not run).
 *
 * Environment: SOAK (the duration, default 30m) and the SOAK_* settings of lib/options.js;
 * SIOGATE_BIN (the binary), SIOGATE_SANITIZE (set by `make soak SANITIZE=...`).
 */

const { fork } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { createRequire } = require('node:module');
const { monitorEventLoopDelay } = require('node:perf_hooks');

const h = require('../integration/lib/harness');
const { readOptions, fmtDuration } = require('./lib/options');
const { startVerifier } = require('./lib/verifier');
const { makePublisher, startStable, account, ROOM } = require('./lib/stream');
const { slowConsumerWave, slowBodyAttack, closeReasons } = require('./lib/attackers');
const { startSampler, writeCsv } = require('./lib/sampler');
const { redisChaos, sighup, waitReady } = require('./lib/chaos');
const { buildReport } = require('./lib/report');
const { rng } = require('./lib/rng');

const req = createRequire(path.resolve(__dirname, '..', 'integration', 'package.json'));
const { createClient } = req('redis');
const { Emitter } = req('@socket.io/redis-emitter');

const NAMES = ['A', 'B'];

function say(msg) {
	process.stdout.write(`soak: ${msg}\n`);
}

/* Keys this binary knows (siogate --list-keys), to relax limits the soak's shared address trips. */
async function knownKeys() {
	const r = await h.runSiogate(['--list-keys']);
	return new Set(r.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0]).filter(Boolean));
}

/*
 * Every soak client comes from 127.0.0.1, so limits per client address would count the whole
 * soak as one client: those this binary has are turned off (and the report says so).
 */
const PER_ADDRESS_KEYS = {
	'limits.http_per_ip': 0,
	'limits.auth_failures_per_minute': 0,
};

function instanceConfig(o, i, verifierUrl, keys) {
	const limits = { output_soft: '64KB', output_soft_time: '1s', output_hard: '256KB' };
	const relaxed = [];
	for (const [k, v] of Object.entries(PER_ADDRESS_KEYS)) {
		if (keys.has(k)) {
			limits[k.split('.')[1]] = v;
			relaxed.push(`${k}: ${v}`);
		}
	}
	const cfg = h.mergeConfig({
		server: { id: `soak-${NAMES[i].toLowerCase()}`, workers: o.workers, shutdown_timeout: '10s', drain_window: '1s' },
		auth: { verifier: 'http', timeout: '10s', http: { url: verifierUrl, timeout: `${o.authTimeout}ms`, cache_ttl: '0s' } },
		rooms: { allow: ['soak-*'] },
		limits,
		log: { level: 'info' },
	}, o.extraConfig);
	return { cfg, relaxed };
}

/* A node-redis client that reconnects every 200 ms; offline commands fail at once. */
async function redisClient(url) {
	const c = createClient({ url, disableOfflineQueue: true,
		socket: { connectTimeout: 3000, reconnectStrategy: () => 200 } });
	c.on('error', () => {});
	await h.withTimeout(c.connect(), 10000, `connecting to ${url}`);
	return c;
}

/* Subscribes to the lifecycle channel: counts events by type, keeps the redis_gap ones and the
 * reason of every `disconnected` one, by socket id. */
async function lifecycleListener(url) {
	const c = createClient({ url, socket: { connectTimeout: 3000, reconnectStrategy: () => 100 } });
	c.on('error', () => {});
	await h.withTimeout(c.connect(), 10000, 'the lifecycle listener');
	const lc = { byType: {}, gaps: [], bad: 0, disconnected: new Map() };
	await c.subscribe('siogate#lifecycle', (m) => {
		try {
			const e = JSON.parse(m);
			lc.byType[e.type] = (lc.byType[e.type] || 0) + 1;
			if (e.type === 'redis_gap')
				lc.gaps.push({ ...e, receivedAt: Date.now() });
			else if (e.type === 'disconnected')
				lc.disconnected.set(e.id, e.reason);
		} catch {
			lc.bad++;
		}
	});
	lc.close = () => c.disconnect().catch(() => {});
	return lc;
}

function startChurn(o, urls) {
	const child = fork(path.join(__dirname, 'lib', 'churn.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
	const churn = { child, progress: null, final: null };
	child.on('message', (m) => {
		if (m.type === 'progress')
			churn.progress = m.stats;
		else if (m.type === 'final')
			churn.final = m.stats;
	});
	churn.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
	process.on('exit', () => {
		try {
			child.kill('SIGKILL');
		} catch {
			/* gone */
		}
	});
	child.send({ cmd: 'start', urls, secret: h.SECRET, concurrency: o.churn, lifetime: o.churnLifetime,
		badTokens: o.badTokens, seed: o.seed + 1 });
	churn.stop = async () => {
		if (child.exitCode === null)
			child.send({ cmd: 'stop' });
		await h.withTimeout(churn.exited, 60000, 'the churn process to exit').catch(() => child.kill('SIGKILL'));
		return churn.final || churn.progress;
	};
	return churn;
}

async function main() {
	const o = readOptions();
	const wallStart = Date.now();
	const lag = monitorEventLoopDelay({ resolution: 20 });
	lag.enable();
	fs.mkdirSync(path.dirname(o.report), { recursive: true });
	say(`${fmtDuration(o.duration)} against ${h.SIOGATE_BIN}${o.sanitized ? ` (sanitizer: ${process.env.SIOGATE_SANITIZE})` : ''}, ` +
		`seed ${o.seed}, report ${o.report}`);
	const rnd = rng(o.seed);
	const mkToken = (sub, kind = 'stable') => h.token({ sub: String(sub), kind }, { expiresIn: null });

	/* ---- processes */
	const verifier = await startVerifier(h.SECRET);
	const redis0 = await h.startRedis();
	const keys = await knownKeys();
	const instances = [];
	let relaxed = [];
	for (let i = 0; i < 2; i++) {
		const { cfg, relaxed: r } = instanceConfig(o, i, verifier.url, keys);
		relaxed = r;
		instances.push(await h.startSiogate({ redis: redis0, config: cfg }));
	}
	/* an instance that exits before the end is reported with the time */
	const diedAt = instances.map(() => null);
	let stopping = false;
	instances.forEach((sg, i) => sg.exited.then(() => {
		if (!stopping) {
			diedAt[i] = Date.now();
			say(`siogate ${NAMES[i]} exited during the load (${JSON.stringify(sg.exitInfo)})`);
		}
	}));
	const chaos = redisChaos(redis0, instances, o);
	say(`siogate A pid ${instances[0].pid} on ${instances[0].port}, B pid ${instances[1].pid} on ${instances[1].port}, ` +
		`redis pid ${redis0.pid} on ${redis0.port}, verifier ${verifier.url}`);
	const lc = await lifecycleListener(redis0.url);
	const pubClient = await redisClient(redis0.url);
	const pub = makePublisher(pubClient, { modules: { Emitter } });

	/* ---- stable clients, before any chaos */
	const stable = await startStable(instances, o.stable, (i) => mkToken(`stable-${i}`));
	say(`${stable.length} stable clients subscribed to ${ROOM}`);

	/* ---- the load */
	const t0 = Date.now();
	const churn = startChurn(o, instances.map((sg) => sg.url));
	const sampler = startSampler(instances, o.sample, () => ({
		t: Date.now() - t0,
		redis: chaos.state,
		redisPid: chaos.state === 'killed' ? null : chaos.redis.pid,
		pids: { A: instances[0].pid, B: instances[1].pid, redis: chaos.state === 'killed' ? null : chaos.redis.pid,
			soak: process.pid, churn: churn.child.pid },
	}));
	pub.start(o.rate, o.churnRate, rnd);
	let attack = null;
	const attackTimer = o.slowBody > 0 ? setTimeout(() => {
		attack = slowBodyAttack(instances, o.slowBody, o.slowBodyInterval);
	}, 5000) : null;

	/* ---- the chaos schedule */
	const done = { redis: [], bursts: [], sighup: [], waves: [] };
	let redisChain = Promise.resolve();
	let waveChain = Promise.resolve();
	const timers = [];
	const pending = [];
	const at = (ms, fn) => timers.push(setTimeout(() => pending.push(fn().catch((err) => {
		say(`chaos event failed: ${err.stack || err}`);
	})), ms));
	for (const ev of o.schedule) {
		if (ev.kind === 'redis-kill' || ev.kind === 'redis-stop') {
			at(ev.at, () => {
				redisChain = redisChain.then(async () => {
					say(`+${fmtDuration(Date.now() - t0)} ${ev.kind}`);
					const r = ev.kind === 'redis-kill' ? await chaos.kill() : await chaos.stop();
					done.redis.push(r);
					say(`+${fmtDuration(Date.now() - t0)} ${ev.kind}: ready again after ${r.ready ? ((r.ready - r.at) / 1000).toFixed(1) : '?'} s` +
						`${r.error ? ` (${r.error})` : ''}`);
				});
				return redisChain;
			});
		} else if (ev.kind === 'verifier-hang' || ev.kind === 'verifier-500') {
			at(ev.at, async () => {
				const mode = ev.kind === 'verifier-hang' ? 'hang' : '500';
				say(`+${fmtDuration(Date.now() - t0)} verifier ${mode} for ${o.burst / 1000} s`);
				verifier.setMode(mode);
				await h.delay(o.burst);
				verifier.setMode('ok');
				done.bursts.push(verifier.bursts[verifier.bursts.length - 1]);
			});
		} else if (ev.kind === 'sighup') {
			at(ev.at, async () => {
				const r = await sighup(instances[ev.instance], NAMES[ev.instance]);
				done.sighup.push(r);
				if (r.error)
					say(`+${fmtDuration(Date.now() - t0)} SIGHUP ${NAMES[ev.instance]}: ${r.error}`);
			});
		} else if (ev.kind === 'slow-consumers') {
			at(ev.at, () => {
				waveChain = waveChain.then(async () => {
					const m0 = await Promise.all(instances.map((sg) => h.metrics(sg).catch(() => '')));
					const w = await slowConsumerWave(instances, o.slowConsumers, (sub) => mkToken(sub, 'slow'), pub,
						o.bulkRate, 30000, (id) => lc.disconnected.get(id));
					const m1 = await Promise.all(instances.map((sg) => h.metrics(sg).catch(() => '')));
					w.at = Date.now();
					w.metricDelta = m1.map((m, i) => h.metric(m, 'siogate_closes_total{reason="slow consumer"}') -
						h.metric(m0[i], 'siogate_closes_total{reason="slow consumer"}'));
					done.waves.push(w);
					say(`+${fmtDuration(Date.now() - t0)} slow consumers: ` +
						w.consumers.map((c) => `${NAMES[c.instance]} ${c.kind}: ${c.reason || 'still open'}`).join(', ') +
						(w.errors.length ? `; errors: ${w.errors.join('; ')}` : ''));
				});
				return waveChain;
			});
		}
	}
	const progress = setInterval(() => {
		const s = sampler.samples[sampler.samples.length - 1];
		const c = churn.progress || {};
		say(`+${fmtDuration(Date.now() - t0)} published ${pub.next}, churn ${c.clients || 0} clients ` +
			`(${c.active || 0} active), ` + (s ? s.inst.map((x, i) => `${NAMES[i]} rss ${Math.round(x.rss / 1024)} MB ` +
			`fds ${x.fds} clients ${x.clients}`).join(', ') : ''));
	}, 60000);

	await h.delay(o.duration);

	/* ---- the end: stop the load, let Redis settle, drain the stream */
	say(`+${fmtDuration(Date.now() - t0)} the load ends`);
	const loadEnd = Date.now();
	/* the last sample of the load (the trends judge the load, not the wind-down) */
	await sampler.take();
	sampler.stop();
	timers.forEach(clearTimeout);
	clearInterval(progress);
	clearTimeout(attackTimer);
	await h.withTimeout(Promise.all(pending), 120000, 'the chaos events in progress').catch((e) => say(e.message));
	const slowBody = attack ? attack.report(o.slowBodyDeadline) : null;
	const churnStats = await churn.stop();
	if (attack)
		attack.stop();
	pub.stop();
	const unanswered = await pub.settle(30000);
	const readyAtEnd = await waitReady(instances, 30000);
	/* every subscribed stable client has the last accepted message (or 20 s passed) */
	const lastOk = pub.outcome.lastIndexOf(1);
	const drainDeadline = Date.now() + 20000;
	while (Date.now() < drainDeadline && stable.some((c) => c.socket && c.maxSeen < lastOk))
		await h.delay(200);
	const acct = account(pub, stable, chaos.windows);

	/* stable clients' disconnect reasons: the lifecycle event, or the session's close line */
	const reasons = instances.map((sg) => closeReasons(sg.log()));
	for (const c of stable) {
		for (const d of c.disconnects)
			d.serverReason = lc.disconnected.get(d.socketId) || reasons[d.instance].get(d.sid) || null;
	}
	const reconnectErrors = stable.filter((c) => c.reconnectError).map((c) => `#${c.idx}: ${c.reconnectError}`);
	stable.forEach((c) => c.close());
	h.closeClients(true);
	await lc.close();
	await pubClient.disconnect().catch(() => {});

	/* ---- SIGTERM both instances */
	await h.delay(500);
	const metricsEnd = await Promise.all(instances.map((sg) => h.metrics(sg).catch(() => '')));
	stopping = true;
	const exits = await Promise.all(instances.map((sg) => sg.stop('SIGTERM', 20000).then((e) => e,
		(err) => ({ code: null, signal: null, error: err.message.split('\n')[0] }))));
	const logsDir = path.dirname(o.report);
	const logFiles = instances.map((sg, i) => {
		const f = path.join(logsDir, `soak-${NAMES[i]}.log`);
		fs.writeFileSync(f, sg.log());
		return f;
	});
	await chaos.redis.stop().catch(() => {});
	await verifier.close();
	lag.disable();

	writeCsv(o.samplesCsv, sampler.samples, NAMES);
	const text = buildReport({
		o, NAMES, wallMs: Date.now() - wallStart, loadMs: loadEnd - t0, t0, instances, relaxed, stable, pub, acct,
		chaos, done, churn: churnStats, verifier, lc, slowBody, samples: sampler.samples, metricsEnd, exits,
		logFiles, unanswered, readyAtEnd, reconnectErrors, diedAt,
		lag: { maxMs: lag.max / 1e6, p99Ms: lag.percentile(99) / 1e6 },
	});
	fs.writeFileSync(o.report, text.report);
	process.stdout.write('\n' + text.report);
	say(`report written to ${o.report}, samples to ${o.samplesCsv}, logs to ${logFiles.join(', ')}`);
	return text.failed ? 1 : 0;
}

/* interrupted (^C, a CI timeout): exit, so that the exit hooks kill every process started here */
for (const sig of ['SIGINT', 'SIGTERM'])
	process.on(sig, () => process.exit(130));

main().then((code) => {
	process.exitCode = code;
	/* leftover sockets (a client's reconnection timer) must not keep the process */
	setTimeout(() => process.exit(code), 1000).unref();
}, async (err) => {
	process.stderr.write(`soak: could not run: ${err.stack || err}\n`);
	await h.killAll();
	process.exit(2);
});
