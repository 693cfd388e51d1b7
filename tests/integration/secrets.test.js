'use strict';
/*
 * secrets.test.js: secure by default.  `--check` and start-up refuse placeholder secrets and HMAC
 * keys shorter than their hash (RFC 7518 section 3.2), saying how to make a good one; a relative
 * secret file is looked up in $CREDENTIALS_DIRECTORY (systemd LoadCredential=) before the
 * configuration's directory, and files there pass the permission check; ${NAME} in a value comes
 * from siogate's environment.
 */

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { after, before, test } = require('node:test');
const h = require('./lib/harness');

h.cleanupHooks();

let dir;
before(() => {
	dir = h.makeTempDir('secrets');
});
after(() => {
	if (dir)
		h.removeDir(dir);
});

function writeConfig(name, text, mode = 0o600) {
	const file = path.join(dir, name);
	fs.writeFileSync(file, text, { mode });
	fs.chmodSync(file, mode);
	return file;
}

function escapeRe(s) {
	return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/* a random key of n bytes, written as base64 (4n/3 bytes long) */
function randomKey(n = 32) {
	return crypto.randomBytes(n).toString('base64');
}

async function authenticates(sg, secret) {
	const s = await h.connect(sg.url, { auth: { token: h.token({ sub: 'k' }, { secret }) } });
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

test('the old example secret "change-me" is refused by --check and at start-up', async () => {
	const file = writeConfig('placeholder.yaml', [
		'server: { listen: ["127.0.0.1:1"] }',
		'auth:',
		'  jwt:',
		'    secret: "change-me"',
		'',
	].join('\n'));
	const expected = `${file}:4:13: auth.jwt.secret: the secret is a placeholder, not a key (it contains ` +
		"'changeme'): anyone could sign tokens; make a random one: head -c 32 /dev/urandom | base64 -w 0 " +
		'> jwt.key; chmod 600 jwt.key, and give auth.jwt.secret_file: jwt.key\n';
	let r = await h.runSiogate(['--check', '-c', file]);
	assert.equal(r.code, 1);
	assert.equal(r.stderr, expected);
	r = await h.runSiogate(['-c', file]);
	assert.equal(r.code, 1);
	assert.equal(r.stderr, expected);
	assert.doesNotMatch(r.stdout + r.stderr, /siogate ready/);
});

test('an HS512 key shorter than 64 bytes is refused, naming its length and the fix', async () => {
	fs.writeFileSync(path.join(dir, 'short.key'), `${h.SECRET}\n`, { mode: 0o600 });
	const file = writeConfig('short.yaml', 'auth:\n  jwt:\n    algorithms: [HS256, HS512]\n    secret_file: short.key\n');
	const key = path.join(dir, 'short.key');
	const r = await h.runSiogate(['--check', '-c', file]);
	assert.equal(r.code, 1);
	assert.equal(r.stderr, `${file}:4:18: auth.jwt.secret_file: '${key}' is ${h.SECRET.length} bytes long; ` +
		'HS512 needs a key of at least 64 bytes (RFC 7518 section 3.2); make a random one: head -c 64 ' +
		`/dev/urandom | base64 -w 0 > ${key}; chmod 600 ${key}\n`);
	assert.ok(!r.stderr.includes(h.SECRET), 'the key itself is never shown');
	/* the command it gives makes a key that passes */
	fs.writeFileSync(key, randomKey(64), { mode: 0o600 });
	const ok = await h.runSiogate(['--check', '-c', file]);
	assert.equal(ok.code, 0, ok.stderr);
});

test('$CREDENTIALS_DIRECTORY: a relative secret_file is read from there first, whatever its mode', async () => {
	const creds = path.join(dir, 'credentials');
	fs.mkdirSync(creds, { mode: 0o700 });
	const credKey = randomKey();
	const localKey = randomKey();
	fs.writeFileSync(path.join(creds, 'jwt.key'), credKey, { mode: 0o440 });
	fs.chmodSync(path.join(creds, 'jwt.key'), 0o440); /* group-readable: refused anywhere else */
	const config = { auth: { jwt: { secret: undefined, secret_file: 'jwt.key' } } };
	const files = { 'jwt.key': localKey };

	/* with the variable: the credential, not the file next to the config */
	let sg = await h.startSiogate({ config, files, env: { CREDENTIALS_DIRECTORY: creds } });
	try {
		assert.equal(await authenticates(sg, credKey), true);
		assert.equal(await authenticates(sg, localKey), false);
	} finally {
		h.assertCleanLog(sg.log(), await sg.stop(), 'SIGTERM', { expectCode: 0 });
	}

	/* without it: next to the config, as always */
	sg = await h.startSiogate({ config, files, env: { CREDENTIALS_DIRECTORY: '' } });
	try {
		assert.equal(await authenticates(sg, localKey), true);
		assert.equal(await authenticates(sg, credKey), false);
	} finally {
		h.assertCleanLog(sg.log(), await sg.stop(), 'SIGTERM', { expectCode: 0 });
	}

	/* a name the directory does not have: next to the config; and a group-readable file there
	 * is still refused */
	fs.writeFileSync(path.join(dir, 'open.key'), randomKey(), { mode: 0o640 });
	fs.chmodSync(path.join(dir, 'open.key'), 0o640);
	const file = writeConfig('open.yaml', 'auth: { jwt: { secret_file: open.key } }\n');
	const r = await h.runSiogate(['--check', '-c', file], { env: { CREDENTIALS_DIRECTORY: creds } });
	assert.equal(r.code, 1);
	assert.match(r.stderr, new RegExp(`'${escapeRe(path.join(dir, 'open.key'))}' is accessible by group or ` +
		'others \\(mode 0640\\); chmod 600 it'));
	/* the same file as a credential passes */
	fs.copyFileSync(path.join(dir, 'open.key'), path.join(creds, 'open.key'));
	fs.chmodSync(path.join(creds, 'open.key'), 0o644);
	const r2 = await h.runSiogate(['--check', '-c', file], { env: { CREDENTIALS_DIRECTORY: creds } });
	assert.equal(r2.code, 0, r2.stderr);
});

test('$CREDENTIALS_DIRECTORY: the admin token file too', async () => {
	const creds = path.join(dir, 'credentials-admin');
	fs.mkdirSync(creds, { mode: 0o700 });
	const token = randomKey();
	fs.writeFileSync(path.join(creds, 'admin.token'), `${token}\n`, { mode: 0o440 });
	fs.chmodSync(path.join(creds, 'admin.token'), 0o440);
	const sg = await h.startSiogate({
		config: { admin: { token_file: 'admin.token' } },
		env: { CREDENTIALS_DIRECTORY: creds },
	});
	try {
		const url = `http://127.0.0.1:${sg.adminPort}/v1/clients`;
		assert.equal((await fetch(url, { headers: { Authorization: `Bearer ${token}` } })).status, 200);
		assert.equal((await fetch(url, { headers: { Authorization: 'Bearer nope' } })).status, 401);
	} finally {
		h.assertCleanLog(sg.log(), await sg.stop(), 'SIGTERM', { expectCode: 0 });
	}
});

test('${NAME} comes from siogate\'s environment; an unset one stops the start with FILE:LINE:COL', async () => {
	const key = randomKey();
	const sg = await h.startSiogate({
		config: { auth: { jwt: { secret: '${SG_IT_JWT_SECRET}' } }, server: { id: 'gw-${SG_IT_ID}-$$' } },
		env: { SG_IT_JWT_SECRET: key, SG_IT_ID: '7' },
	});
	try {
		assert.equal(await authenticates(sg, key), true);
		assert.equal(await authenticates(sg, h.SECRET), false);
	} finally {
		h.assertCleanLog(sg.log(), await sg.stop(), 'SIGTERM', { expectCode: 0 });
	}
	const file = writeConfig('unset.yaml', 'server:\n  listen: ["127.0.0.1:${SG_IT_UNSET_PORT}"]\n');
	const r = await h.runSiogate(['-c', file], { env: { SG_IT_UNSET_PORT: undefined } });
	assert.equal(r.code, 1);
	assert.equal(r.stderr, `${file}:2:12: server.listen[0]: environment variable SG_IT_UNSET_PORT is not set\n`);
});

test('auth.jwt.allow_weak_secret accepts a weak key with a warning, and the token it signs verifies', async () => {
	const file = writeConfig('weak.yaml', [
		'server: { listen: ["127.0.0.1:1"] }',
		'auth:',
		'  jwt:',
		'    secret: "bench-secret"',
		'    allow_weak_secret: true',
		'',
	].join('\n'));
	const r = await h.runSiogate(['--check', '-c', file]);
	assert.equal(r.code, 0, r.stderr);
	assert.match(r.stderr, /warning: auth\.jwt\.allow_weak_secret: accepting a weak key: the secret is 12 bytes long; HS256 needs a key of at least 32 bytes/);
	assert.doesNotMatch(r.stderr, /bench-secret/, 'the key itself is never printed');
	const sg = await h.startSiogate({
		config: { auth: { jwt: { algorithms: ['HS256'], secret: 'bench-secret', allow_weak_secret: true } } },
	});
	try {
		assert.match(sg.log(), /warn auth\.jwt\.allow_weak_secret: accepting a weak key/);
		const s = await h.connectAuthed(sg.url, { token: h.token({ sub: 'weak' }, { secret: 'bench-secret' }) });
		assert.ok(s.authPayload.id);
		s.disconnect();
	} finally {
		await sg.stop();
	}
});
