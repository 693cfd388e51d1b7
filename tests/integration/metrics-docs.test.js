'use strict';
/*
 * metrics-docs.test.js: the metrics that operators are given to read exist.  Against a live
 * /metrics of a siogate with Redis (so that the Redis and cluster metrics are there): every metric
 * that contrib/grafana/siogate.json and contrib/prometheus/siogate.rules.yml name is exposed,
 * every metric exposed is documented in siogate(8), METRICS, and every series the man pages name
 * by a label value (siogate_closes_total{reason="descriptor limit"}) is exposed.
 * (tests/check-docs checks the docs against the tables, `siogate --list-metrics`; this catches a
 * metric built another way and a label value that is gone.)
 */

const assert = require('node:assert/strict');
const { test } = require('node:test');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./lib/harness');

const top = path.resolve(__dirname, '..', '..');
const DASHBOARD = 'contrib/grafana/siogate.json';
const RULES = 'contrib/prometheus/siogate.rules.yml';
const MAN = 'man/siogate.8';
const MANS = ['man/siogate.8', 'man/siogate.yaml.5'];

const env = h.useSiogate({ redis: true });

/** s with the characters a RegExp gives a meaning escaped. */
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The metric families of a Prometheus text: name -> type, from its # TYPE lines. */
function families(text) {
	const out = new Map();
	for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm))
		out.set(m[1], m[2]);
	return out;
}

/** Whether name is a family of live, or a _bucket/_sum/_count series of a live histogram. */
function exposed(live, name) {
	if (live.has(name))
		return true;
	const m = name.match(/^(.*)_(bucket|sum|count)$/);
	return Boolean(m && live.get(m[1]) === 'histogram');
}

/** The siogate_* and process_* names a text mentions (PromQL, YAML, JSON alike). */
function metricNames(text) {
	return [...new Set(text.match(/\b(?:siogate|process)_[a-z0-9_]+\b/g) || [])].sort();
}

test('every metric the Grafana dashboard and the Prometheus rules use is in a live /metrics', async () => {
	const live = families(await h.metrics(env.sg));
	assert.ok(live.has('siogate_redis_up'), 'siogate runs with Redis, so its Redis metrics are there');
	for (const file of [DASHBOARD, RULES]) {
		const names = metricNames(fs.readFileSync(path.join(top, file), 'utf8'));
		assert.ok(names.length >= 10, `${file} names metrics (found ${names.length})`);
		const missing = names.filter((n) => !exposed(live, n));
		assert.deepEqual(missing, [], `${file} uses metrics that /metrics does not expose: ${missing.join(', ')}; ` +
			'fix the expression, or expose the metric');
	}
});

test('every metric in a live /metrics is documented in siogate(8)', async () => {
	const live = families(await h.metrics(env.sg));
	const man = fs.readFileSync(path.join(top, MAN), 'utf8');
	/* ".It Sy NAME", or ".It Sy NAME Ns Brq Li label" */
	const documented = new Set([...man.matchAll(/^\.It Sy ([a-z0-9_]+)(?: |$)/gm)].map((m) => m[1]));
	const missing = [...live.keys()].filter((n) => !documented.has(n));
	assert.deepEqual(missing, [], `/metrics exposes ${missing.join(', ')}, not documented in ${MAN}: add ` +
		'".It Sy NAME" with its type, labels and meaning to its METRICS section');
});

test('every series the man pages name by a label value is in a live /metrics', async () => {
	const text = await h.metrics(env.sg);
	/* "Sy NAME Ns Brq Li label="value"", the mdoc of NAME{label="value"} */
	const named = [];
	for (const file of MANS)
		for (const m of fs.readFileSync(path.join(top, file), 'utf8')
			.matchAll(/Sy ([a-z0-9_]+) Ns Brq Li ([a-z_]+="[^"]*")/g))
			named.push({ name: m[1], label: m[2] });
	assert.ok(named.length >= 5, `the man pages name series by their labels (found ${named.length})`);
	const missing = named.filter(({ name, label }) =>
		!new RegExp(`^${name}\\{(?:[^}]*,)?${escapeRe(label)}[,}]`, 'm').test(text));
	const shown = missing.map((m) => `${m.name}{${m.label}}`).join(', ');
	assert.deepEqual(missing, [], `the man pages name series that /metrics does not expose: ${shown}`);
});
