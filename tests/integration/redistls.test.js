'use strict';
/*
 * redistls.test.js: Redis over TLS and with ACL users (a managed Redis: TLS only, no default
 * user).  A real redis-server with --tls-port and a CA made here with openssl: siogate joins it
 * with rediss:// and redis.tls.ca_file and delivers what redis-cli publishes over TLS; a CA that
 * did not sign the server's certificate is refused with the reason in the log and readiness
 * red; an ACL user with its password in redis.password_file works, a wrong one is refused.
 */

const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test, before, after } = require('node:test');
const h = require('./lib/harness');

const running = [];
let dir;
let pki;

/* A CA, a server certificate for 127.0.0.1 signed by it, and another CA that signed nothing. */
function makePki(d) {
	const f = (n) => path.join(d, n);
	const ssl = (...args) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
	for (const ca of ['ca', 'other-ca']) {
		ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
			'-keyout', f(`${ca}.key`), '-out', f(`${ca}.crt`), '-days', '2', '-subj', `/CN=siogate test ${ca}`);
	}
	ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
		'-keyout', f('redis.key'), '-out', f('redis.csr'), '-subj', '/CN=127.0.0.1');
	fs.writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
	ssl('x509', '-req', '-in', f('redis.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'),
		'-CAcreateserial', '-out', f('redis.crt'), '-days', '2', '-extfile', f('ext.cnf'));
	return { ca: f('ca.crt'), otherCa: f('other-ca.crt'), cert: f('redis.crt'), key: f('redis.key') };
}

before(() => {
	dir = h.makeTempDir('redistls');
	pki = makePki(dir);
});

after(async () => {
	h.closeClients(true);
	for (const x of running.reverse()) await x.stop().catch(() => {});
	if (dir) h.removeDir(dir);
});

async function tlsRedis(extra = []) {
	const port = await h.freePort();
	const redis = await h.startRedis({
		port,
		args: ['--port', '0', '--tls-port', String(port), '--tls-cert-file', pki.cert,
			'--tls-key-file', pki.key, '--tls-ca-cert-file', pki.ca, '--tls-auth-clients', 'no', ...extra],
	});
	running.push(redis);
	return redis;
}

/* redis-cli over TLS (and as user/pass when given) */
function cli(redis, args, auth = []) {
	return execFileSync('redis-cli', ['--tls', '--cacert', pki.ca, '-h', '127.0.0.1', '-p',
		String(redis.port), ...auth, ...args], { encoding: 'utf8', timeout: 5000 }).trim();
}

async function readyz(sg) {
	return (await fetch(`http://127.0.0.1:${sg.adminPort}/readyz`)).status;
}

test('rediss:// with redis.tls.ca_file: siogate joins a TLS-only Redis and delivers over it', async () => {
	const redis = await tlsRedis();
	const sg = await h.startSiogate({
		config: { redis: { url: `rediss://127.0.0.1:${redis.port}`, tls: { ca_file: pki.ca } } },
	});
	running.push(sg);
	assert.match(sg.log(), new RegExp(`redis subscriber: connected to 127\\.0\\.0\\.1:${redis.port} \\(TLS\\)`));
	assert.equal(await readyz(sg), 200);
	const s = await h.connectAuthed(sg.url, { claims: { sub: h.uniq('tls') } });
	const got = h.once(s, 'over-tls');
	cli(redis, ['PUBLISH', 'siogate#send', '{"event":"over-tls","data":{"n":1}}']);
	assert.deepEqual(await got, { n: 1 });
	/* the lifecycle event of that client went out over TLS too: siogate is a subscriber there */
	const subs = cli(redis, ['PUBSUB', 'NUMSUB', 'siogate#send']).split('\n');
	assert.equal(subs[1], String(sg.workers));
});

test('a CA that did not sign the server certificate: refused, the reason logged, readiness red', async () => {
	const redis = await tlsRedis();
	const sg = await h.startSiogate({
		waitBridge: false,
		config: { redis: { url: `rediss://127.0.0.1:${redis.port}`, tls: { ca_file: pki.otherCa } } },
	});
	running.push(sg);
	await sg.waitForLog(/redis (subscriber|publisher): cannot connect to 127\.0\.0\.1:\d+ \(TLS\): TLS: certificate verification failed: (self-signed certificate in certificate chain|unable to get local issuer certificate)/, 5000);
	assert.equal(await readyz(sg), 503);
	assert.equal(sg.countLog('bridge: subscribed'), 0);
	/* clients are still served, standalone */
	const s = await h.connectAuthed(sg.url, { claims: { sub: h.uniq('noca') } });
	assert.ok(s.connected);
	await sg.stop();
	running.splice(running.indexOf(sg), 1);
});

test('a plain redis:// URL to a TLS port fails clearly and never becomes ready', async () => {
	const redis = await tlsRedis();
	const sg = await h.startSiogate({ waitBridge: false, config: { redis: { url: `redis://127.0.0.1:${redis.port}` } } });
	running.push(sg);
	await sg.waitForLog(/redis (subscriber|publisher): cannot connect to 127\.0\.0\.1:\d+: (connection closed by the server|Connection reset by peer) \(a TLS port\? then use rediss:\/\/\)/, 8000);
	assert.equal(await readyz(sg), 503);
	await sg.stop();
	running.splice(running.indexOf(sg), 1);
});

test('an ACL user over TLS, its password in redis.password_file; a wrong password is refused', async () => {
	const redis = await tlsRedis(['--user', 'default', 'off', '--user', 'gate', 'on', '>s3cret-Pw', '~*', '&*', '+@all']);
	const sg = await h.startSiogate({
		files: { 'redis.pw': 's3cret-Pw\n' },
		config: {
			redis: { url: `rediss://gate@127.0.0.1:${redis.port}`, password_file: 'redis.pw', tls: { ca_file: pki.ca } },
		},
	});
	running.push(sg);
	const s = await h.connectAuthed(sg.url, { claims: { sub: h.uniq('acl') } });
	const got = h.once(s, 'as-user');
	cli(redis, ['PUBLISH', 'siogate#send', '{"event":"as-user","data":2}'], ['--user', 'gate', '--pass', 's3cret-Pw']);
	assert.equal(await got, 2);
	/* the password is in no log line */
	assert.ok(!sg.log().includes('s3cret-Pw'));

	const bad = await h.startSiogate({
		waitBridge: false,
		files: { 'redis.pw': 'wrong\n' },
		config: {
			redis: { url: `rediss://gate@127.0.0.1:${redis.port}`, password_file: 'redis.pw', tls: { ca_file: pki.ca } },
		},
	});
	running.push(bad);
	await bad.waitForLog(/redis (subscriber|publisher): cannot connect to 127\.0\.0\.1:\d+ \(TLS\): the server refused the set-up: WRONGPASS/, 5000);
	assert.equal(await readyz(bad), 503);
	await bad.stop();
	running.splice(running.indexOf(bad), 1);
});

test('siogate --check refuses both redis.password and redis.password_file, and a cert without its key', async () => {
	const file = path.join(dir, 'both.yaml');
	fs.writeFileSync(file, 'redis:\n  url: rediss://127.0.0.1:1\n  password: x\n  password_file: pw\n' +
		'  tls: { cert_file: /x.pem }\n');
	const r = await h.runSiogate(['--check', '-c', file]);
	assert.equal(r.code, 1, r.stderr);
	assert.match(r.stderr, /redis\.password_file: give either redis\.password or redis\.password_file, not both/);
	assert.match(r.stderr, /redis\.tls\.cert_file: redis\.tls\.cert_file and redis\.tls\.key_file go together/);
});
