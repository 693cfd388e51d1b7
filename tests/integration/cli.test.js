'use strict';
/*
 * cli.test.js: the command line (daemon-contract.md): --version, --help, --check (every error as
 * FILE:LINE:COL: key: message), --list-keys, --list-metrics, the `token` subcommand (checked with
 * jsonwebtoken), unknown options and bad config files.
 */

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { after, before, describe, test } = require('node:test');
const jwt = require('jsonwebtoken');
const h = require('./lib/harness');

h.cleanupHooks();

let dir;
let goodFile;
before(() => {
	dir = h.makeTempDir('cli');
	goodFile = path.join(dir, 'good.yaml');
	const cfg = h.mergeConfig(h.defaultConfig({ port: 3000, adminPort: 9091, redisUrl: 'redis://127.0.0.1:6379' }), {
		namespaces: ['/', '/other'],
		auth: { timeout: '600ms' },
		ping: { interval: '300ms' },
		rooms: { allow: ['public-*', 'user-{sub}'] },
	});
	fs.writeFileSync(goodFile, h.yaml(cfg), { mode: 0o600 });
});
after(() => {
	if (dir)
		h.removeDir(dir);
});

function writeConfig(name, text) {
	const file = path.join(dir, name);
	fs.writeFileSync(file, text, { mode: 0o600 });
	return file;
}

function nowSec() {
	return Math.floor(Date.now() / 1000);
}

test('--version prints "siogate VERSION"', async () => {
	const r = await h.runSiogate(['--version']);
	assert.equal(r.code, 0, r.stderr);
	assert.match(r.stdout.split('\n')[0], /^siogate \d+\.\d+\.\d+/);
});

for (const flag of ['--help', '-h']) {
	test(`${flag} prints the usage and exits 0`, async () => {
		const r = await h.runSiogate([flag]);
		assert.equal(r.code, 0, r.stderr);
		const out = r.stdout + r.stderr;
		assert.match(out, /siogate/);
		assert.match(out, /--check/);
		assert.match(out, /token/);
	});
}

test('--check on a good config exits 0 and prints no error', async () => {
	const r = await h.runSiogate(['--check', '-c', goodFile]);
	assert.equal(r.code, 0, `stderr:\n${r.stderr}`);
	assert.doesNotMatch(r.stderr, new RegExp(`${escapeRe(goodFile)}:\\d+:\\d+: `));
});

test('--check reports every error as FILE:LINE:COL: key: message and exits 1', async () => {
	const text = [
		'server:',                                   // 1
		'  listen: ["127.0.0.1:3000"]',              // 2
		'  ping_timeout: 0',                         // 3  out of bounds
		'  bogus_key: 1',                            // 4  unknown key
		'auth:',                                     // 5
		'  timeout: banana',                         // 6  not a duration
		'  jwt:',                                    // 7
		'    algorithms: [HS256]',                   // 8
		`    secret: "${h.SECRET}"`,                 // 9
		'log:',                                      // 10
		'  level: info',                             // 11
		'',
	].join('\n');
	const file = writeConfig('three-errors.yaml', text);
	const r = await h.runSiogate(['--check', '-c', file]);
	assert.equal(r.code, 1, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
	const re = new RegExp(`^${escapeRe(file)}:(\\d+):(\\d+): `);
	const lines = r.stderr.split('\n').filter((l) => re.test(l));
	assert.equal(lines.length, 3, `expected 3 error lines, stderr:\n${r.stderr}`);
	const expect = [
		['server.ping_timeout', 3],
		['server.bogus_key', 4],
		['auth.timeout', 6],
	];
	for (const [key, line] of expect) {
		const l = lines.find((x) => x.includes(key));
		assert.ok(l, `no error line names ${key}; stderr:\n${r.stderr}`);
		const [, ln, col] = l.match(re);
		assert.equal(Number(ln), line, `line number for ${key}: ${l}`);
		assert.ok(Number(col) >= 1, l);
	}
});

test('running with a bad config exits 1 with the errors, without serving', async () => {
	const file = writeConfig('bad-run.yaml', 'server:\n  listen: ["127.0.0.1:1"]\n  ping_timeout: 0\n');
	const r = await h.runSiogate(['-c', file]);
	assert.equal(r.code, 1);
	assert.match(r.stderr, new RegExp(`${escapeRe(file)}:3:\\d+: .*server\\.ping_timeout`));
	assert.doesNotMatch(r.stderr, /siogate ready/);
});

test('a missing config file exits 1 and names the file', async () => {
	const file = path.join(dir, 'does-not-exist.yaml');
	const r = await h.runSiogate(['--check', '-c', file]);
	assert.equal(r.code, 1);
	assert.ok(r.stderr.includes(file), r.stderr);
});

test('--list-keys prints every config key, dotted, one per line', async () => {
	const r = await h.runSiogate(['--list-keys']);
	assert.equal(r.code, 0, r.stderr);
	const keys = r.stdout.split('\n').filter((l) => l !== '');
	for (const k of keys)
		assert.match(k, /^[a-z_]+(\.[a-z_]+)*$/, `not a dotted key: ${JSON.stringify(k)}`);
	assert.equal(new Set(keys).size, keys.length, 'no duplicates');
	const known = [
		'server.id', 'server.listen', 'server.path', 'server.ping_interval', 'server.ping_timeout',
		'server.max_payload', 'server.shutdown_timeout', 'namespaces', 'auth.timeout', 'auth.verifier',
		'auth.jwt.algorithms', 'auth.jwt.secret', 'auth.jwt.secret_file', 'auth.jwt.token_from',
		'auth.jwt.leeway', 'ping.interval', 'rooms.default', 'rooms.allow', 'redis.url', 'redis.prefix',
		'admin.listen', 'log.level', 'log.format',
	];
	for (const k of known)
		assert.ok(keys.includes(k), `--list-keys lacks ${k}`);
});

test('--list-metrics prints every metric: name, type, labels and help, tab-separated', async () => {
	const r = await h.runSiogate(['--list-metrics']);
	assert.equal(r.code, 0, r.stderr);
	const rows = r.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
	for (const row of rows) {
		assert.equal(row.length, 4, `four fields: ${JSON.stringify(row)}`);
		assert.match(row[0], /^(siogate|process)_[a-z0-9_]+$/);
		assert.ok(['counter', 'gauge', 'histogram'].includes(row[1]), `a type: ${row[1]}`);
		assert.match(row[2], /^(-|[a-z_]+(,[a-z_]+)*)$/);
		assert.ok(row[3].length > 0, `${row[0]} has a help text`);
	}
	const names = rows.map((row) => row[0]);
	assert.equal(new Set(names).size, names.length, 'no duplicates');
	const get = (name) => rows.find((row) => row[0] === name);
	assert.deepEqual(get('siogate_closes_total').slice(0, 3), ['siogate_closes_total', 'counter', 'reason']);
	assert.deepEqual(get('siogate_events_forward_total').slice(1, 3), ['counter', 'target,outcome']);
	assert.deepEqual(get('siogate_verifier_seconds').slice(1, 3), ['histogram', '-']);
	/* computed per scrape (src/ops/metrics.def) as well as counted by the workers */
	assert.deepEqual(get('siogate_redis_up').slice(1, 3), ['gauge', 'link']);
	assert.deepEqual(get('process_open_fds').slice(1, 3), ['gauge', '-']);
});

test('token --sub prints an HS256 JWT signed with the config secret, valid for 1 h', async () => {
	const before_ = nowSec();
	const r = await h.runSiogate(['token', '--sub', 'alice', '-c', goodFile]);
	assert.equal(r.code, 0, r.stderr);
	const tok = r.stdout.trim();
	assert.match(tok, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
	const claims = jwt.verify(tok, h.SECRET, { algorithms: ['HS256'] });
	assert.equal(claims.sub, 'alice');
	assert.equal(jwt.decode(tok, { complete: true }).header.alg, 'HS256');
	assert.equal(typeof claims.iat, 'number');
	assert.ok(Math.abs(claims.iat - before_) <= 5, `iat ${claims.iat} vs now ${before_}`);
	assert.ok(Math.abs(claims.exp - (before_ + 3600)) <= 5, `exp ${claims.exp} is not about now + 1 h`);
	assert.throws(() => jwt.verify(tok, 'another-secret', { algorithms: ['HS256'] }));
});

test('token --ttl 10m sets exp 10 minutes ahead', async () => {
	const r = await h.runSiogate(['token', '--sub', 'bob', '--ttl', '10m', '-c', goodFile]);
	assert.equal(r.code, 0, r.stderr);
	const claims = jwt.verify(r.stdout.trim(), h.SECRET, { algorithms: ['HS256'] });
	assert.equal(claims.sub, 'bob');
	assert.equal(claims.exp - claims.iat, 600);
});

test('token --claim adds claims, typed when they parse as JSON numbers or booleans', async () => {
	const r = await h.runSiogate(['token', '--sub', 'carol', '--claim', 'org=acme', '--claim', 'level=5',
		'--claim', 'admin=true', '--claim', 'ratio=0.5', '--claim', 'off=false', '-c', goodFile]);
	assert.equal(r.code, 0, r.stderr);
	const claims = jwt.verify(r.stdout.trim(), h.SECRET, { algorithms: ['HS256'] });
	assert.equal(claims.sub, 'carol');
	assert.equal(claims.org, 'acme');
	assert.equal(claims.level, 5);
	assert.equal(claims.admin, true);
	assert.equal(claims.ratio, 0.5);
	assert.equal(claims.off, false);
});

test('an unknown option exits non-zero with a message on stderr', async () => {
	const r = await h.runSiogate(['--bogus-option']);
	assert.ok(r.code === 1 || r.code === 2, `exit code ${r.code}`);
	assert.match(r.stderr, /bogus-option/);
});

test('token with a bad --ttl exits non-zero with a message', async () => {
	const r = await h.runSiogate(['token', '--sub', 'x', '--ttl', 'soon', '-c', goodFile]);
	assert.ok(r.code === 1 || r.code === 2, `exit code ${r.code}`);
	assert.notEqual(r.stderr.trim(), '');
	assert.equal(r.stdout.trim(), '', 'no token printed');
});

function escapeRe(s) {
	return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/* ---------------------------------------------------------------- -t, token --verify */

test('-t is --check: OK on a good file, every error on a bad one', async () => {
	let r = await h.runSiogate(['-t', '-c', goodFile]);
	assert.equal(r.code, 0, r.stderr);
	assert.equal(r.stdout, `${goodFile}: configuration OK\n`);
	const bad = writeConfig('t-bad.yaml', 'server:\n  ping_timeout: 0\nlog:\n  level: loud\n');
	r = await h.runSiogate(['-t', '-c', bad]);
	assert.equal(r.code, 1);
	assert.match(r.stderr, new RegExp(`^${escapeRe(bad)}:2:17: server\\.ping_timeout: `, 'm'));
	assert.match(r.stderr, new RegExp(`^${escapeRe(bad)}:4:10: log\\.level: `, 'm'));
	r = await h.runSiogate(['--help']);
	assert.match(r.stdout, /-t, --check/);
	assert.match(r.stdout, /token --verify/);
});

describe('token --verify: the claims, or the exact reason, as the daemon decides', () => {
	const crypto = require('node:crypto');
	const { spawnSync } = require('node:child_process');
	const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
	const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
	const ISS = 'https://issuer.test';
	const good = { sub: 'alice', iss: ISS, aud: 'siogate' };
	const b64u = (x) => Buffer.from(JSON.stringify(x)).toString('base64url');
	const iso = (sec) => new Date(sec * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
	let file;
	let sg;

	before(async () => {
		const jwks = path.join(dir, 'verify-jwks.json');
		fs.writeFileSync(jwks, JSON.stringify({ keys: [{ ...ec.publicKey.export({ format: 'jwk' }), kid: 'e1', use: 'sig' }] }));
		const over = {
			auth: {
				jwt: {
					algorithms: ['HS256', 'ES256'], secret: h.SECRET, jwks_file: jwks,
					issuer: ISS, audience: 'siogate', leeway: '30s',
				},
			},
		};
		sg = await h.startSiogate({ config: over });
		/* the same file the daemon runs with */
		file = sg.file;
	});
	after(async () => {
		if (sg) {
			const exit = await sg.stop();
			h.assertCleanLog(sg.log(), exit, 'SIGTERM');
		}
	});

	function verify(token) {
		const r = spawnSync(h.SIOGATE_BIN, ['token', '--verify', token, '-c', file], { encoding: 'utf8', timeout: 10000 });
		return { code: r.status, stdout: r.stdout, stderr: r.stderr };
	}

	async function daemonAccepts(token) {
		const s = await h.connect(sg.url, { auth: { token } });
		try {
			await h.authenticate(s);
			return true;
		} catch (err) {
			assert.match(err.message, /unauthenticated: Invalid token/);
			return false;
		} finally {
			s.disconnect();
		}
	}

	test('a good token: its claims as JSON on stdout, exit 0', async () => {
		const tok = h.token(good);
		const r = verify(tok);
		assert.equal(r.code, 0, r.stderr);
		assert.equal(r.stderr, '');
		assert.deepEqual(JSON.parse(r.stdout), jwt.decode(tok));
		assert.equal(await daemonAccepts(tok), true);
		/* TOKEN "-" reads it from standard input */
		const s = spawnSync(h.SIOGATE_BIN, ['token', '--verify', '-', '-c', file],
			{ input: `${tok}\n`, encoding: 'utf8', timeout: 10000 });
		assert.equal(s.status, 0, s.stderr);
		assert.deepEqual(JSON.parse(s.stdout), jwt.decode(tok));
	});

	const now = Math.floor(Date.now() / 1000);
	const refusals = [
		['expired', () => h.token({ ...good, exp: now - 3600 }),
			() => `token expired at ${iso(now - 3600)} (leeway 30s)`],
		['not yet valid', () => h.token({ ...good, nbf: now + 3600 }),
			() => `token not valid before ${iso(now + 3600)} (leeway 30s)`],
		['another secret', () => h.token(good, { secret: 'another-secret-of-forty-bytes-0123456789' }),
			() => 'signature does not verify'],
		['an algorithm not listed', () => jwt.sign(good, rsa.privateKey, { algorithm: 'RS256' }),
			() => 'algorithm RS256 not in auth.jwt.algorithms'],
		['HS512 when only HS256 is listed', () => h.token(good, { alg: 'HS512' }),
			() => 'algorithm HS512 not in auth.jwt.algorithms'],
		['an unknown kid', () => jwt.sign(good, ec.privateKey, { algorithm: 'ES256', keyid: 'nope' }),
			() => 'no key with kid "nope" (and no ES256 key without a kid) in auth.jwt.public_key_file or jwks_file'],
		['the wrong issuer', () => h.token({ ...good, iss: 'https://evil.test' }),
			() => `issuer "https://evil.test" is not auth.jwt.issuer "${ISS}"`],
		['no audience', () => h.token({ sub: 'alice', iss: ISS }),
			() => 'no aud claim, and auth.jwt.audience is "siogate"'],
		['alg none', () => `${b64u({ alg: 'none', typ: 'JWT' })}.${b64u(good)}.`,
			() => 'algorithm none: unsigned tokens are never accepted'],
		['not a JWT', () => 'not-a-token', () => 'not a JWT: not three parts separated by dots'],
	];
	for (const [what, make, reason] of refusals) {
		test(`refused, exit 1, as the daemon refuses it: ${what}`, async () => {
			const tok = make();
			const r = verify(tok);
			assert.equal(r.code, 1, r.stdout);
			assert.equal(r.stdout, '');
			assert.equal(r.stderr, `refused: ${reason()}\n`);
			assert.equal(await daemonAccepts(tok), false);
		});
	}

	test('an ES256 token with the right kid is accepted by both', async () => {
		const tok = jwt.sign(good, ec.privateKey, { algorithm: 'ES256', keyid: 'e1' });
		assert.equal(verify(tok).code, 0);
		assert.equal(await daemonAccepts(tok), true);
	});

	test('with auth.verifier: http there is nothing to verify locally: exit 1, said so', async () => {
		const f = writeConfig('verify-http.yaml', 'auth:\n  verifier: http\n  http: { url: "http://127.0.0.1:9/auth" }\n');
		const r = await h.runSiogate(['token', '--verify', h.token(good), '-c', f]);
		assert.equal(r.code, 1);
		assert.match(r.stderr, /auth\.verifier: http; its tokens are decided by auth\.http\.url/);
	});
});
