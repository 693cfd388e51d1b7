'use strict';
/*
 * report.js: the soak's report, and its checks.  buildReport(ctx) returns {report (text), failed}.
 * Each check is one line, `PASS` or `FAIL`, with the numbers it judged; the overall line is FAIL
 * when any check failed.  Informational sections (what ran, CPU, log warnings) judge nothing.
 */

const h = require('../../integration/lib/harness');
const { fmtDuration } = require('./options');
const { trend } = require('./sampler');

const MiB = 1024;

function fmtRel(t0, ms) {
	if (ms === null || ms === undefined || !Number.isFinite(ms))
		return '   ?   ';
	const s = (ms - t0) / 1000;
	const m = Math.floor(s / 60);
	return `+${String(m).padStart(2, '0')}:${(s - m * 60).toFixed(1).padStart(4, '0')}`;
}

function countBy(items, key) {
	const out = {};
	for (const x of items) {
		const k = key(x);
		out[k] = (out[k] || 0) + 1;
	}
	return out;
}

const fmtCounts = (obj) => Object.entries(obj).map(([k, v]) => `${k}: ${v}`).join(', ') || 'none';

/* The distinct warning and error lines of a log, with their numbers replaced, most frequent first. */
function logSummary(log) {
	const counts = new Map();
	for (const line of log.split('\n')) {
		const m = /^\S+ (warn|error) (.*)$/.exec(line);
		if (!m)
			continue;
		const k = `${m[1]} ${m[2].replace(/[0-9a-f]{8,}|\d+(\.\d+)?/gi, 'N').replace(/[A-Za-z0-9_-]{20}/g, 'ID')}`;
		counts.set(k, (counts.get(k) || 0) + 1);
	}
	return [...counts.entries()].sort((a, b) => b[1] - a[1]);
}

function buildReport(ctx) {
	const { o, NAMES, t0, instances, stable, pub, acct, chaos, done, churn, verifier, lc, slowBody, samples,
		metricsEnd, exits } = ctx;
	const out = [];
	const checks = [];
	const line = (s = '') => out.push(s);
	const check = (ok, name, detail) => checks.push({ ok, name, detail });
	const rel = (ms) => fmtRel(t0, ms);

	line(`siogate chaos soak report, ${new Date(t0).toISOString()}`);
	line(`binary: ${h.SIOGATE_BIN}${o.sanitized ? ` (sanitizer build: ${process.env.SIOGATE_SANITIZE})` : ''}`);
	line(`duration: ${fmtDuration(ctx.loadMs)} of load (SOAK=${fmtDuration(o.duration)}), ${fmtDuration(ctx.wallMs)} in all; ` +
		`seed ${o.seed} (SOAK_SEED replays the choices)`);
	line(`instances: ${instances.map((sg, i) => `${NAMES[i]} (${sg.config.server.id}, ${sg.workers} workers, pid ${sg.pid})`).join(', ')}; ` +
		'one private redis-server');
	if (ctx.relaxed.length)
		line(`per-address limits off (every soak client is 127.0.0.1): ${ctx.relaxed.join(', ')}`);
	line(`settings: SOAK_STABLE=${o.stable} SOAK_RATE=${o.rate}/s SOAK_CHURN=${o.churn} ` +
		`SOAK_CHURN_LIFETIME=${o.churnLifetime.map((x) => x / 1000 + 's').join('-')} SOAK_CHURN_RATE=${o.churnRate}/s ` +
		`SOAK_SLOWBODY=${o.slowBody} SOAK_SLOW_CONSUMERS=${o.slowConsumers} SOAK_BURST=${o.burst / 1000}s ` +
		`SOAK_AUTH_HTTP_TIMEOUT=${o.authTimeout / 1000}s`);
	line();

	/* ---------------------------------------------------------------- what ran */
	line('== What ran');
	const kinds = countBy(stable, (c) => `${NAMES[c.instance]}/${c.transports}`);
	line(`stable clients: ${stable.length} (${fmtCounts(kinds)})`);
	if (churn) {
		line(`churn: ${churn.clients} clients (${fmtCounts(churn.byTransport)}; ${churn.upgraded} upgraded to WebSocket), ` +
			`${churn.connections} connections, ${churn.authenticated} authenticated, ${churn.joins} joins, ` +
			`at most ${churn.maxActive} at once, ${churn.events} room messages received`);
		line(`  refused with "Failed to authenticate..." and retried: ${churn.failedAuth}; bad tokens refused: ` +
			`${churn.rejectedBadToken}; gave up after 30 tries: ${churn.gaveUp}; event-loop lag max ${churn.lagMaxMs} ms`);
	} else {
		line('churn: no statistics (the churn process did not report)');
	}
	const accepted = pub.outcome.filter((x) => x === 1).length;
	const refused = pub.outcome.filter((x) => x === 2).length;
	line(`stream: ${pub.next} messages to ${'soak-stream'} at ${o.rate}/s (emitter and JSON channel alternately): ` +
		`${accepted} accepted by Redis, ${refused} refused (Redis down), ${ctx.unanswered} unanswered at the end` +
		(pub.errors.size ? `; refusals: ${fmtCounts(Object.fromEntries(pub.errors))}` : ''));
	line(`other traffic: ${pub.churnSent} messages to the churn rooms (${pub.churnFailed} refused), ` +
		`${pub.bulkSent} bulk messages of 32 KiB to the slow consumers (${pub.bulkFailed} refused)`);
	line(`verifier: ${verifier.stats.calls} calls, ${verifier.stats.accepted} accepted, ${verifier.stats.refused} refused, ` +
		`${verifier.stats.hung} held past the timeout (${verifier.stats.late} answered late), ${verifier.stats.errors500} answered 500`);
	line(`lifecycle events seen: ${fmtCounts(lc.byType)}`);
	line();
	line('chaos events (times from the start of the load):');
	const evs = [];
	for (const r of done.redis) {
		evs.push({ at: r.at, text: `${r.kind === 'redis-kill' ? 'Redis SIGKILL' : 'Redis SIGSTOP'}; ` +
			`${r.kind === 'redis-kill' ? 'restarted' : 'SIGCONT'} ${rel(r.back)}, /readyz 200 on both ${rel(r.ready)}; ` +
			`outage window ${rel(r.at)} .. ${rel(r.end)}${r.error ? `; ERROR ${r.error}` : ''}` });
	}
	for (const g of lc.gaps) {
		evs.push({ at: g.receivedAt, text: `redis_gap event from ${g.server}: since ${rel(Date.parse(g.since))} ` +
			`until ${rel(Date.parse(g.until))} (${g.seconds} s)` });
	}
	for (const b of verifier.bursts)
		evs.push({ at: b.start, text: `verifier ${b.kind === 'hang' ? 'hangs' : 'answers 500'} until ${rel(b.end)}` });
	for (const s of done.sighup)
		evs.push({ at: s.at, text: `SIGHUP ${s.instance} (log.level ${s.level}): ${s.applied ? `applied ${rel(s.applied)}` : `FAILED: ${s.error}`}` });
	for (const w of done.waves) {
		evs.push({ at: w.at - w.seconds * 1000, text: `slow consumers: ${w.consumers.length} ` +
			`(${w.consumers.map((c) => `${NAMES[c.instance]} ${c.kind}: ${c.reason || 'not closed'}`).join(', ')}), ` +
			`${w.bulk} bulk messages, ${w.seconds.toFixed(1)} s` + (w.errors.length ? `; set-up errors: ${w.errors.join('; ')}` : '') });
	}
	if (slowBody)
		evs.push({ at: t0 + 5000, text: `slow-body attacker: ${o.slowBody} connections at a time until the end` });
	evs.sort((a, b) => a.at - b.at);
	for (const e of evs)
		line(`  ${rel(e.at)}  ${e.text}`);
	line();

	/* ---------------------------------------------------------------- the stream */
	line('== The stream');
	const t = acct.total;
	line(`deliveries expected: ${t.expected} (accepted messages x subscribed stable clients); received: ${t.received}`);
	line(`lost: Redis outage ${t.outage}, stable client disconnected ${t.disconnected}, unexplained ${t.unexplained}; ` +
		`duplicates: ${t.duplicates}`);
	/* per outage window: what was published in it, what was missed, by method, and how much of it
	 * was published after /readyz was 200 again on both instances (in the settle slack: that
	 * would mean readiness came before delivery) */
	let lostAfterReady = 0;
	chaos.windows.forEach((w, i) => {
		const ev = chaos.events[i];
		let inWin = 0;
		let acc = 0;
		const missed = { e: 0, j: 0 };
		let afterReady = 0;
		for (let n = 0; n < pub.next; n++) {
			if (!(pub.issued[n] <= w.end && (pub.answered[n] || pub.issued[n]) >= w.start))
				continue;
			inWin++;
			if (pub.outcome[n] !== 1)
				continue;
			acc++;
			const lost = stable.filter((c) => c.intervals.length && c.intervals[0].start <= pub.issued[n] &&
				!(n < c.recv.length && c.recv[n] > 0)).length;
			missed[pub.method[n]] += lost;
			if (ev.ready && pub.issued[n] >= ev.ready)
				afterReady += lost;
		}
		lostAfterReady += afterReady;
		line(`  ${ev.kind} ${rel(w.start)}: ${inWin} published in the window, ${acc} accepted by Redis; deliveries missed: ` +
			`${missed.e} sent with the emitter, ${missed.j} with the JSON channel; ${afterReady} of them published after ` +
			'/readyz was 200 on both');
	});
	if (acct.unexplainedSamples.length) {
		line('unexplained losses (first ones):');
		for (const u of acct.unexplainedSamples) {
			const c = stable[u.client];
			line(`  client #${u.client} (${NAMES[c.instance]}/${c.transports}) missed n=${u.n} (${u.method === 'e' ? 'emitter' : 'JSON'}), ` +
				`published ${rel(u.issued)}, answered ${rel(u.answered)}`);
		}
	}
	const dupRows = acct.rows.filter((r) => r.duplicates > 0);
	if (dupRows.length)
		line(`duplicates at ${dupRows.length} clients: ${dupRows.slice(0, 10).map((r) => `#${r.idx}: ${r.duplicates}`).join(', ')}`);
	const disc = stable.flatMap((c) => c.disconnects.map((d) => ({ ...d, c })));
	line(`stable clients disconnected: ${new Set(disc.map((d) => d.c.idx)).size} clients, ${disc.length} times` +
		(disc.length ? ` (client side: ${fmtCounts(countBy(disc, (d) => d.reason))}; siogate's reasons: ` +
			`${fmtCounts(countBy(disc, (d) => d.serverReason || 'no reason found'))})` : ''));
	for (const d of disc.slice(0, 10))
		line(`  ${rel(d.at)} #${d.c.idx} ${NAMES[d.instance]}/${d.c.transports} session ${d.sid}: ${d.reason}; siogate: ${d.serverReason || 'no reason found'}`);
	line();

	/* ---------------------------------------------------------------- hostile clients */
	line('== Hostile clients');
	const consumersAll = done.waves.flatMap((w) => w.consumers);
	line(`slow consumers: ${consumersAll.length} in ${done.waves.length} waves (${fmtCounts(countBy(consumersAll, (c) => c.kind))}); ` +
		`closed by siogate as: ${fmtCounts(countBy(consumersAll, (c) => c.reason || 'not closed'))}; ` +
		`siogate_closes_total{reason="slow consumer"} grew by ${done.waves.reduce((a, w) => a + w.metricDelta.reduce((x, y) => x + y, 0), 0)}`);
	if (slowBody) {
		line(`slow-body connections: ${slowBody.opened} opened (${o.slowBody} at a time, one byte every ${o.slowBodyInterval / 1000} s), ` +
			`${slowBody.cut} cut by siogate` + (slowBody.cutAfterS ? ` after min/median/max ${slowBody.cutAfterS.join('/')} s ` +
			`(first line of the answer: ${fmtCounts(slowBody.answers)})` : '') + `, ${slowBody.openNow} open at the end ` +
			`(the oldest for ${slowBody.oldestOpenS} s); still open after ${o.slowBodyDeadline / 1000} s: ${slowBody.overdueOpen} (expected 0)`);
	}
	line();

	/* ---------------------------------------------------------------- resources */
	line('== Resources (samples every ' + o.sample / 1000 + ' s; flat: after the warm-up, the last third\'s mean <= 1.2 x the first third\'s + 8 MiB RSS / 32 fds)');
	const times = samples.map((s) => s.t);
	const trends = [];
	instances.forEach((sg, i) => {
		const rss = trend(times, samples.map((s) => s.inst[i].rss), o.duration, 8 * MiB);
		const fds = trend(times, samples.map((s) => s.inst[i].fds), o.duration, 32);
		const clients = samples.map((s) => s.inst[i].clients).filter((x) => x !== null && !Number.isNaN(x));
		trends.push({ rss, fds });
		const f = (x, d = MiB) => (x === null ? '?' : (x / d).toFixed(1));
		line(`${NAMES[i]}: RSS MiB first third ${f(rss.first)}, last third ${f(rss.last)} (limit ${f(rss.limit)}), max ${f(rss.max)}; ` +
			`fds first ${f(fds.first, 1)}, last ${f(fds.last, 1)} (limit ${f(fds.limit, 1)}), max ${fds.max}; ` +
			`clients max ${clients.length ? Math.max(...clients) : '?'}; ${rss.n} samples after ${rss.warmS} s of warm-up`);
	});
	if (o.sanitized)
		line('(RSS is not judged in a sanitizer build: ASan\'s shadow memory and quarantine hold freed memory)');
	const adminFails = samples.map((s) => s.inst.filter((x) => !x.adminOk).length).reduce((a, b) => a + b, 0);
	const last = samples[samples.length - 1];
	const firstS = samples[0];
	if (last && firstS && last.t > firstS.t) {
		const secs = (last.t - firstS.t) / 1000;
		const cpu = Object.keys(last.cpu).map((k) => {
			const a = firstS.cpu[k];
			const b = last.cpu[k];
			return a !== null && b !== null && a !== undefined && b !== undefined ? `${k} ${Math.round(((b - a) / secs) * 100)}%` : null;
		}).filter(Boolean);
		line(`CPU over the run (of one core): ${cpu.join(', ')} (redis: its last process)`);
	}
	const redisRss = samples.map((s) => s.redisRss).filter((x) => x !== null);
	line(`Redis RSS max ${redisRss.length ? (Math.max(...redisRss) / MiB).toFixed(1) : '?'} MiB; soak event-loop lag ` +
		`max ${ctx.lag.maxMs.toFixed(0)} ms, p99 ${ctx.lag.p99Ms.toFixed(0)} ms`);
	line(`samples: ${o.samplesCsv}`);
	line();

	/* ---------------------------------------------------------------- logs and exits */
	line('== Logs and exits');
	const logs = instances.map((sg) => sg.log());
	const reports = logs.map((l) => (l.match(/ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:/g) || []).length);
	line(`sanitizer reports: ${reports.map((n, i) => `${NAMES[i]} ${n}`).join(', ')}` +
		(o.sanitized ? '' : ' (not a sanitizer build: make soak SANITIZE=address,undefined runs one)'));
	instances.forEach((sg, i) => {
		const bad = h.BAD_LOG_PATTERNS.filter((p) => logs[i].includes(p));
		const m = metricsEnd[i] || '';
		if (ctx.diedAt[i])
			line(`${NAMES[i]}: DIED during the load at ${rel(ctx.diedAt[i])}`);
		line(`${NAMES[i]}: exit ${exits[i].error ? `ERROR ${exits[i].error}` : exits[i].signal ? `by ${exits[i].signal}` : `code ${exits[i].code}`}; ` +
			`crash/assert/sanitizer patterns: ${bad.length ? bad.join(', ') : 'none'}; ` +
			`gaps ${h.metric(m, 'siogate_redis_gaps_total')}, gap seconds ${h.metric(m, 'siogate_redis_gap_seconds_total')}, ` +
			`slow-consumer closes ${h.metric(m, 'siogate_closes_total{reason="slow consumer"}')}, ` +
			`redis drops ${['down', 'pending', 'failed'].map((r) => `${r} ${h.metric(m, `siogate_redis_dropped_total{reason="${r}"}`)}`).join(' ')}; ` +
			`log ${ctx.logFiles[i]}`);
		for (const [k, n] of logSummary(logs[i]).slice(0, 8))
			line(`    ${String(n).padStart(6)} x ${k.slice(0, 160)}`);
		if (bad.length) {
			const at = Math.min(...bad.map((p) => logs[i].indexOf(p)));
			const from = logs[i].lastIndexOf('\n', Math.max(0, at - 400));
			line('    first report:');
			logs[i].slice(from + 1, at + 2000).split('\n').slice(0, 30).forEach((l) => line(`      ${l}`));
		}
	});
	line();

	/* ---------------------------------------------------------------- checks */
	check(t.unexplained === 0, 'stream: no message lost outside the Redis outage windows',
		`unexplained ${t.unexplained} of ${t.expected} deliveries (outage ${t.outage}, disconnected ${t.disconnected})`);
	check(t.duplicates === 0, 'stream: no duplicate', `duplicates ${t.duplicates}`);
	check(lostAfterReady === 0, 'stream: readiness means delivery (nothing published after /readyz was 200 on both was lost)',
		`${lostAfterReady} deliveries missed in the settle slack`);
	check(ctx.unanswered === 0 && t.expected > 0, 'stream: every publish answered, messages delivered',
		`${ctx.unanswered} publishes without an answer, ${t.expected} deliveries expected`);
	const unexplainedDisc = disc.filter((d) => !o.allowedStableReasons.includes(d.serverReason));
	check(unexplainedDisc.length === 0, 'stable clients: no unexplained disconnect',
		`${disc.length} disconnects, ${unexplainedDisc.length} not explained by SOAK_STABLE_ALLOWED_REASONS` +
		(unexplainedDisc.length ? ` (${fmtCounts(countBy(unexplainedDisc, (d) => `${d.reason} / ${d.serverReason || 'no reason found'}`))})` : ''));
	check(ctx.reconnectErrors.length === 0 && stable.every((c) => c.intervals.length > 0),
		'stable clients: every disconnected one subscribed again',
		ctx.reconnectErrors.length ? ctx.reconnectErrors.slice(0, 3).join('; ') : 'yes');

	const redisBad = done.redis.filter((r) => r.error);
	check(redisBad.length === 0 && ctx.readyAtEnd !== null, 'Redis chaos: /readyz 200 on both instances again after every event',
		`${done.redis.length} events` + (redisBad.length ? `; ${redisBad.map((r) => `${r.kind} ${rel(r.at)}: ${r.error}`).join('; ')}` : '') +
		(ctx.readyAtEnd === null ? '; not ready at the end of the load' : ''));
	const kills = done.redis.filter((r) => r.kind === 'redis-kill');
	const missingGaps = [];
	for (const r of kills) {
		for (const sg of instances) {
			const id = sg.config.server.id;
			if (!lc.gaps.some((g) => g.server === id && Date.parse(g.since) <= r.end && Date.parse(g.until) >= r.at - 1000))
				missingGaps.push(`${id} ${rel(r.at)}`);
		}
	}
	check(missingGaps.length === 0, 'Redis chaos: every kill announced by a redis_gap event from each instance',
		`${lc.gaps.length} redis_gap events for ${kills.length} kills` + (missingGaps.length ? `; missing: ${missingGaps.join(', ')}` : ''));

	if (churn) {
		const burstsWin = verifier.bursts.map((b) => ({ start: b.start, end: (b.end || Date.now()) + o.authTimeout + 3000 }));
		const outside = (churn.failedAuthTimes || []).filter((f) => !burstsWin.some((w) => f >= w.start && f <= w.end));
		const felt = verifier.bursts.length === 0 || churn.failedAuth > 0;
		check(outside.length === 0 && felt && churn.rejectedValidToken === 0 && churn.acceptedBadToken === 0 && churn.gaveUp === 0,
			'verifier: "Failed to authenticate" only during its bursts, retried; tokens judged right',
			`${churn.failedAuth} failed (${outside.length} outside the bursts${outside.length ? `, first ${rel(outside[0])}` : ''}), ` +
			`valid tokens refused ${churn.rejectedValidToken}, bad tokens accepted ${churn.acceptedBadToken}, gave up ${churn.gaveUp}`);
		const unexp = Object.values(churn.unexpected).reduce((a, b) => a + b, 0);
		check(unexp === 0 && churn.joinMismatch === 0, 'churn: no unexpected failure (connect, authenticate, join, disconnect)',
			`${unexp} unexpected, ${churn.joinMismatch} joins refused` + (unexp ? `: ${fmtCounts(churn.unexpected)}` : '') +
			(churn.unexpectedSamples.length ? `; first at ${rel(churn.unexpectedSamples[0].at)}` : ''));
	} else {
		check(false, 'churn: the churn process reported', 'no statistics');
	}
	const hupBad = done.sighup.filter((s) => !s.applied);
	check(hupBad.length === 0, 'SIGHUP: every reload applied',
		`${done.sighup.length} reloads` + (hupBad.length ? `; failed: ${hupBad.map((s) => `${s.instance} ${rel(s.at)}: ${s.error}`).join('; ')}` : ''));

	const consumers = done.waves.flatMap((w) => w.consumers);
	const notSlow = consumers.filter((c) => c.reason !== 'slow consumer');
	const waveErrors = done.waves.flatMap((w) => w.errors);
	let metricShort = 0;
	for (const w of done.waves) {
		instances.forEach((sg, i) => {
			const n = w.consumers.filter((c) => c.instance === i && c.reason === 'slow consumer').length;
			if (!(w.metricDelta[i] >= n))
				metricShort++;
		});
	}
	check(consumers.length > 0 && notSlow.length === 0 && waveErrors.length === 0 && metricShort === 0,
		'slow consumers: each closed as "slow consumer" and counted in siogate_closes_total',
		`${consumers.length} slow consumers, ${consumers.length - notSlow.length} closed as slow consumer` +
		(notSlow.length ? `; others: ${fmtCounts(countBy(notSlow, (c) => `${c.kind}: ${c.reason || 'not closed'}`))}` : '') +
		(metricShort ? `; the metric fell short ${metricShort} times` : '') + (waveErrors.length ? `; set-up errors ${waveErrors.length}` : ''));
	if (slowBody) {
		const overdue = slowBody.overdueOpen + slowBody.overdueCut;
		check(overdue === 0, `slow-body attacker: every connection cut within ${o.slowBodyDeadline / 1000} s`,
			`${slowBody.opened} opened, ${slowBody.cut} cut by siogate` +
			(slowBody.cutAfterS ? ` (after min/median/max ${slowBody.cutAfterS.join('/')} s; answers: ${fmtCounts(slowBody.answers)})` : '') +
			`; slow-body connections still open after ${o.slowBodyDeadline / 1000} s: ${slowBody.overdueOpen} (expected 0), ` +
			`cut late: ${slowBody.overdueCut}; oldest open ${slowBody.oldestOpenS} s`);
	}
	instances.forEach((sg, i) => {
		const tr = trends[i];
		if (!o.sanitized) {
			check(tr.rss.flat === true, `${NAMES[i]}: RSS flat`, tr.rss.flat === null ? `too few samples (${tr.rss.n})`
				: `last third ${(tr.rss.last / MiB).toFixed(1)} MiB vs limit ${(tr.rss.limit / MiB).toFixed(1)} MiB (first third ${(tr.rss.first / MiB).toFixed(1)})`);
		}
		check(tr.fds.flat === true, `${NAMES[i]}: open descriptors flat`, tr.fds.flat === null ? `too few samples (${tr.fds.n})`
			: `last third ${tr.fds.last.toFixed(1)} vs limit ${tr.fds.limit.toFixed(1)} (first third ${tr.fds.first.toFixed(1)}), max ${tr.fds.max}`);
	});
	check(adminFails === 0, 'admin listener: /metrics and /readyz answered every sample', `${adminFails} failed samples`);
	instances.forEach((sg, i) => {
		const bad = h.BAD_LOG_PATTERNS.filter((p) => logs[i].includes(p));
		check(bad.length === 0, `${NAMES[i]}: no crash, assertion or sanitizer report in the log`, bad.length ? bad.join(', ') : 'none');
		const e = exits[i];
		check(!ctx.diedAt[i] && !e.error && !e.signal && e.code === 0, `${NAMES[i]}: ran to the end and exited 0 on SIGTERM`,
			(ctx.diedAt[i] ? `died at ${rel(ctx.diedAt[i])}: ` : '') +
			(e.error ? e.error : e.signal ? `killed by ${e.signal}` : `code ${e.code}`));
	});
	const ran = new Set([...done.redis.map((r) => r.kind), ...verifier.bursts.map((b) => `verifier-${b.kind}`),
		...done.sighup.map((s) => `sighup-${s.instance}`), ...(done.waves.length ? ['slow-consumers'] : []),
		...(slowBody && slowBody.opened ? ['slow-body'] : [])]);
	const want = ['redis-kill', 'redis-stop', 'verifier-hang', 'verifier-500', 'sighup-A', 'sighup-B'];
	if (o.slowConsumers > 0)
		want.push('slow-consumers');
	if (o.slowBody > 0)
		want.push('slow-body');
	const missing = want.filter((k) => !ran.has(k));
	check(missing.length === 0, 'chaos: every kind happened at least once', missing.length ? `missing: ${missing.join(', ')}` : want.join(', '));

	line('== Checks');
	for (const c of checks)
		line(`${c.ok ? 'PASS' : 'FAIL'}  ${c.name}: ${c.detail}`);
	const failed = checks.filter((c) => !c.ok).length;
	line();
	line(`overall: ${failed ? 'FAIL' : 'PASS'} (${checks.length - failed} of ${checks.length} checks passed)`);
	return { report: out.join('\n') + '\n', failed };
}

module.exports = { buildReport };
