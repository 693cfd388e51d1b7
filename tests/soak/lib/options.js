'use strict';
/*
 * options.js: the soak's settings, read once from the environment (every one has a default sized
 * for a 2-core machine shared by two siogate instances, Redis and the load; tests/soak/README.md
 * lists them), and the chaos schedule derived from the duration.
 */

const path = require('node:path');

/** Milliseconds of "90s", "5m", "1h", "250ms" or a bare number of seconds; throws on anything else. */
function parseDuration(text, name) {
	const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(String(text));
	if (!m)
		throw new Error(`${name}: '${text}' is not a duration (e.g. 90s, 5m, 1h)`);
	const unit = { ms: 1, s: 1000, m: 60000, h: 3600000 }[m[2] || 's'];
	return Math.round(Number(m[1]) * unit);
}

/** "1m05s"-style text of ms. */
function fmtDuration(ms) {
	const s = Math.round(ms / 1000);
	const h = Math.floor(s / 3600);
	const m = Math.floor((s % 3600) / 60);
	const r = s % 60;
	if (h)
		return `${h}h${String(m).padStart(2, '0')}m${String(r).padStart(2, '0')}s`;
	return m ? `${m}m${String(r).padStart(2, '0')}s` : `${r}s`;
}

function envDuration(env, name, dflt) {
	return parseDuration(env[name] !== undefined && env[name] !== '' ? env[name] : dflt, name);
}

function envNumber(env, name, dflt, min = 0) {
	const v = env[name] !== undefined && env[name] !== '' ? Number(env[name]) : dflt;
	if (!Number.isFinite(v) || v < min)
		throw new Error(`${name}: '${env[name]}' is not a number >= ${min}`);
	return v;
}

/** "20s-100s" -> [20000, 100000]. */
function envRange(env, name, dflt) {
	const text = env[name] !== undefined && env[name] !== '' ? env[name] : dflt;
	const parts = String(text).split('-');
	if (parts.length !== 2)
		throw new Error(`${name}: '${text}' is not a range such as 20s-100s`);
	const [lo, hi] = parts.map((p) => parseDuration(p, name));
	if (hi < lo)
		throw new Error(`${name}: '${text}': the upper bound is below the lower`);
	return [lo, hi];
}

/** Every setting, from env (process.env by default). */
function readOptions(env = process.env) {
	const root = path.resolve(__dirname, '..', '..', '..');
	const report = path.resolve(root, env.SOAK_REPORT || 'build/soak-report.txt');
	const o = {
		root,
		duration: envDuration(env, 'SOAK', '30m'),
		report,
		samplesCsv: report.replace(/(\.txt)?$/, '.csv'),
		seed: env.SOAK_SEED ? Number(env.SOAK_SEED) : Math.floor(Math.random() * 2 ** 31),
		workers: envNumber(env, 'SOAK_WORKERS', 2, 1),
		/* the fan-out stream */
		stable: envNumber(env, 'SOAK_STABLE', 150, 2),
		rate: envNumber(env, 'SOAK_RATE', 25, 1),
		/* churn */
		churn: envNumber(env, 'SOAK_CHURN', 200, 0),
		churnLifetime: envRange(env, 'SOAK_CHURN_LIFETIME', '20s-100s'),
		churnRate: envNumber(env, 'SOAK_CHURN_RATE', 10, 0),
		badTokens: envNumber(env, 'SOAK_BAD_TOKENS', 0.05, 0),
		/* chaos */
		redisDown: envDuration(env, 'SOAK_REDIS_DOWN', '3s'),
		redisStop: envDuration(env, 'SOAK_REDIS_STOP', '5s'),
		settle: envDuration(env, 'SOAK_SETTLE', '2s'),
		burst: envDuration(env, 'SOAK_BURST', '10s'),
		authTimeout: envDuration(env, 'SOAK_AUTH_HTTP_TIMEOUT', '2s'),
		slowConsumers: envNumber(env, 'SOAK_SLOW_CONSUMERS', 2, 0),
		bulkRate: envNumber(env, 'SOAK_BULK_RATE', 40, 1),
		slowBody: envNumber(env, 'SOAK_SLOWBODY', 50, 0),
		slowBodyInterval: envDuration(env, 'SOAK_SLOWBODY_INTERVAL', '5s'),
		slowBodyDeadline: envDuration(env, 'SOAK_SLOWBODY_DEADLINE', '75s'),
		sample: envDuration(env, 'SOAK_SAMPLE', '10s'),
		extraConfig: env.SOAK_EXTRA_CONFIG ? JSON.parse(env.SOAK_EXTRA_CONFIG) : {},
		allowedStableReasons: (env.SOAK_STABLE_ALLOWED_REASONS || '').split(',').map((s) => s.trim())
			.filter(Boolean),
		sanitized: Boolean(env.SIOGATE_SANITIZE),
	};
	if (o.duration < 60000)
		throw new Error(`SOAK=${env.SOAK}: the soak needs at least 1m (3m or more to run every kind of chaos)`);
	if (o.badTokens > 1)
		throw new Error('SOAK_BAD_TOKENS is a fraction between 0 and 1');
	o.schedule = schedule(o);
	return o;
}

/*
 * The chaos schedule, in ms from the start of the load, scaled to the duration D so that a 3m run
 * has every kind at least once and a 30m run has each several times:
 *   Redis: every max(D/6, 60s), alternately SIGKILL + restart and SIGSTOP + SIGCONT, none in the
 *          last 45 s (so the end sees a settled Redis);
 *   verifier bursts: every max(D/10, 30s), half a period in, alternately hang and 500, each
 *          o.burst long, none ending in the last 10 s;
 *   SIGHUP: every min(60s, D/4) to instance A, and half a period later to B;
 *   slow-consumer waves: 35% into each Redis period (between two Redis events);
 *   the slow-body attacker: from 5 s to the end.
 */
function schedule(o) {
	const D = o.duration;
	const ev = [];
	const pr = Math.max(D / 6, 60000);
	for (let k = 1, kind = 0; k * pr <= D - 45000; k++, kind ^= 1)
		ev.push({ at: k * pr, kind: kind === 0 ? 'redis-kill' : 'redis-stop' });
	const pb = Math.max(D / 10, 30000);
	for (let k = 0; (k + 0.5) * pb + o.burst <= D - 10000; k++)
		ev.push({ at: (k + 0.5) * pb, kind: k % 2 === 0 ? 'verifier-hang' : 'verifier-500' });
	const ph = Math.min(60000, D / 4);
	for (let k = 1; k * ph <= D - 5000; k++)
		ev.push({ at: k * ph, kind: 'sighup', instance: 0 });
	for (let k = 0; (k + 0.5) * ph <= D - 5000; k++)
		ev.push({ at: (k + 0.5) * ph, kind: 'sighup', instance: 1 });
	if (o.slowConsumers > 0) {
		for (let k = 0; k * pr + 0.35 * pr <= D - 40000; k++)
			ev.push({ at: k * pr + 0.35 * pr, kind: 'slow-consumers' });
	}
	ev.sort((a, b) => a.at - b.at);
	return ev;
}

module.exports = { readOptions, parseDuration, fmtDuration, schedule };
