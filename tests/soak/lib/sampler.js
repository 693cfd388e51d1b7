'use strict';
/*
 * sampler.js: every SOAK_SAMPLE (10 s) record, per siogate instance, its resident memory
 * (VmRSS of /proc/PID/status), its open descriptors (entries of /proc/PID/fd), what its
 * /metrics and /readyz say (clients, connections, Redis links, slow-consumer closes, gap
 * seconds), Redis's state, and the CPU time of every process of the soak; and judge the trends.
 *
 * The flatness rule (README): samples of the warm-up (the first max(60 s, D/10), at most D/3) are
 * left out; the rest is cut in thirds; a series is flat when the mean of the last third is at
 * most 1.2 x the mean of the first third plus a constant (8 MiB for RSS, 32 descriptors).
 */

const fs = require('node:fs');
const h = require('../../integration/lib/harness');

const CLK_TCK = 100; /* USER_HZ: 100 on every Linux architecture Debian ships */

function rssKb(pid) {
	try {
		const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)\s+kB/m);
		return m ? Number(m[1]) : null;
	} catch {
		return null;
	}
}

function fdCount(pid) {
	try {
		return fs.readdirSync(`/proc/${pid}/fd`).length;
	} catch {
		return null;
	}
}

/** CPU seconds (user + system) of pid so far, or null. */
function cpuSeconds(pid) {
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		return (Number(f[11]) + Number(f[12])) / CLK_TCK;
	} catch {
		return null;
	}
}

async function getText(url, ms) {
	const ctl = new AbortController();
	const t = setTimeout(() => ctl.abort(), ms);
	try {
		const res = await fetch(url, { signal: ctl.signal });
		return { status: res.status, text: await res.text() };
	} finally {
		clearTimeout(t);
	}
}

const sum = (text, prefix) => text.split('\n').filter((l) => l.startsWith(prefix))
	.reduce((a, l) => a + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);

/** One sample of instance sg: {rss, fds, clients, conns, ready, redisUp, slow, gapS, adminOk}. */
async function sampleInstance(sg) {
	const s = { rss: rssKb(sg.pid), fds: fdCount(sg.pid), cpu: cpuSeconds(sg.pid), clients: null, conns: null,
		ready: null, redisUp: null, slow: null, gapS: null, adminOk: true };
	try {
		const m = (await getText(`http://127.0.0.1:${sg.adminPort}/metrics`, 5000)).text;
		s.clients = sum(m, 'siogate_clients{');
		s.conns = h.metric(m, 'siogate_open_connections');
		s.redisUp = sum(m, 'siogate_redis_up{');
		s.slow = h.metric(m, 'siogate_closes_total{reason="slow consumer"}');
		s.gapS = h.metric(m, 'siogate_redis_gap_seconds_total');
		s.ready = (await getText(`http://127.0.0.1:${sg.adminPort}/readyz`, 5000)).status;
	} catch {
		s.adminOk = false;
	}
	return s;
}

/**
 * Starts sampling every periodMs.  getState() gives {t (ms since the load started), redis
 * ('up', 'killed', 'stopped'), redisPid, pids: {name: pid} of the other processes}.  Returns
 * {samples, stop()}.
 */
function startSampler(instances, periodMs, getState) {
	const samples = [];
	let busy = false;
	const take = async () => {
		if (busy)
			return;
		busy = true;
		try {
			const st = getState();
			const row = { t: st.t, redis: st.redis, inst: await Promise.all(instances.map(sampleInstance)),
				redisRss: st.redisPid ? rssKb(st.redisPid) : null, cpu: {} };
			for (const [name, pid] of Object.entries(st.pids))
				row.cpu[name] = pid ? cpuSeconds(pid) : null;
			samples.push(row);
		} finally {
			busy = false;
		}
	};
	const timer = setInterval(() => { take().catch(() => {}); }, periodMs);
	take().catch(() => {});
	return {
		samples,
		take,
		stop() {
			clearInterval(timer);
		},
	};
}

const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;

/**
 * The trend of values (aligned with times, ms since the start) over a run of durationMs:
 * {first, last, max, n, flat, limit}.  slack is the constant of the rule.
 */
function trend(times, values, durationMs, slack) {
	const warm = Math.min(Math.max(60000, durationMs / 10), durationMs / 3);
	const v = values.filter((x, i) => x !== null && times[i] >= warm);
	const all = values.filter((x) => x !== null);
	const max = all.length ? Math.max(...all) : null;
	if (v.length < 3)
		return { n: v.length, first: null, last: null, max, flat: null, limit: null, warmS: warm / 1000 };
	const third = Math.floor(v.length / 3);
	const first = mean(v.slice(0, third));
	const last = mean(v.slice(v.length - third));
	const limit = first * 1.2 + slack;
	return { n: v.length, first, last, max, flat: last <= limit, limit, warmS: warm / 1000 };
}

function writeCsv(file, samples, names) {
	const head = ['t_s', 'redis'];
	names.forEach((n) => head.push(`${n}_rss_kb`, `${n}_fds`, `${n}_clients`, `${n}_conns`, `${n}_ready`,
		`${n}_redis_up`, `${n}_slow_closes`, `${n}_gap_s`, `${n}_cpu_s`));
	head.push('redis_rss_kb');
	const cpuNames = samples.length ? Object.keys(samples[samples.length - 1].cpu) : [];
	cpuNames.forEach((n) => head.push(`${n}_cpu_s`));
	const lines = [head.join(',')];
	for (const s of samples) {
		const row = [(s.t / 1000).toFixed(1), s.redis];
		s.inst.forEach((i) => row.push(i.rss, i.fds, i.clients, i.conns, i.ready, i.redisUp, i.slow, i.gapS, i.cpu));
		row.push(s.redisRss);
		cpuNames.forEach((n) => row.push(s.cpu[n]));
		lines.push(row.map((x) => (x === null || x === undefined || Number.isNaN(x) ? '' : x)).join(','));
	}
	fs.writeFileSync(file, lines.join('\n') + '\n');
}

module.exports = { startSampler, trend, writeCsv, rssKb, fdCount, cpuSeconds };
