'use strict';
/*
 * jwt.test.js: JWT verification end to end with tokens made by an independent implementation
 * (npm jsonwebtoken, and node:crypto for EdDSA, which jsonwebtoken lacks): every algorithm of
 * SPEC section 3 against public keys and a JWKS, the claims checks, and the attacks (alg none,
 * HMAC signed with the public key, a wrong key, a kid that selects no key).  Also
 * `siogate token --alg/--kid/--key`, verified by jsonwebtoken.
 */

const assert = require('node:assert/strict');
const { test, describe, before, after } = require('node:test');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const jwt = require('jsonwebtoken');
const h = require('./lib/harness');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'siogate-jwt-'));
const keys = {
	rsa: crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }),
	p256: crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }),
	p384: crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' }),
	ed: crypto.generateKeyPairSync('ed25519'),
	other: crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }),
};
const pem = (k) => k.export({ type: 'spki', format: 'pem' });
const pubFile = path.join(dir, 'public.pem');
fs.writeFileSync(pubFile, pem(keys.rsa.publicKey) + pem(keys.p256.publicKey) +
	pem(keys.p384.publicKey) + pem(keys.ed.publicKey));
const jwksFile = path.join(dir, 'jwks.json');
const jwk = (k, kid) => ({ ...k.export({ format: 'jwk' }), kid, use: 'sig' });
fs.writeFileSync(jwksFile, JSON.stringify({ keys: [jwk(keys.rsa.publicKey, 'r1'), jwk(keys.p256.publicKey, 'e1')] }));
const privFile = path.join(dir, 'p256.pem');
fs.writeFileSync(privFile, keys.p256.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
const rsaPrivFile = path.join(dir, 'rsa.pem');
fs.writeFileSync(rsaPrivFile, keys.rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });

const ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'];

after(() => fs.rmSync(dir, { recursive: true, force: true }));

function b64u(x) {
	return Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url');
}

function edToken(claims) {
	const input = `${b64u({ alg: 'EdDSA', typ: 'JWT' })}.${b64u(claims)}`;
	return `${input}.${crypto.sign(null, Buffer.from(input), keys.ed.privateKey).toString('base64url')}`;
}

function sign(alg, claims, opts = {}) {
	if (alg === 'EdDSA') return edToken(claims);
	const key = alg.startsWith('ES384') ? keys.p384.privateKey
		: alg.startsWith('ES') ? keys.p256.privateKey : keys.rsa.privateKey;
	return jwt.sign(claims, key, { algorithm: alg, ...opts });
}

async function accepted(sg, token) {
	const s = await h.connect(sg.url, { auth: { token } });
	try {
		await h.authenticate(s);
		return true;
	} catch {
		return false;
	} finally {
		s.disconnect();
	}
}

describe('public keys from a PEM file', () => {
	const env = h.useSiogate({ before, after }, {
		config: {
			auth: {
				jwt: { algorithms: ALGS, public_key_file: pubFile, issuer: 'https://issuer.test', audience: 'siogate' },
			},
		},
	});
	const good = { sub: 'alice', iss: 'https://issuer.test', aud: 'siogate' };

	for (const alg of ALGS) {
		test(`${alg} signed by jsonwebtoken/node:crypto is accepted`, async () => {
			assert.equal(await accepted(env.sg, sign(alg, { ...good, exp: Math.floor(Date.now() / 1000) + 60 })), true);
		});
	}

	test('claims: expired, not yet valid, wrong issuer, wrong audience are refused', async () => {
		const now = Math.floor(Date.now() / 1000);
		assert.equal(await accepted(env.sg, sign('RS256', { ...good, exp: now - 3600 })), false);
		assert.equal(await accepted(env.sg, sign('RS256', { ...good, nbf: now + 3600 })), false);
		assert.equal(await accepted(env.sg, sign('RS256', { ...good, iss: 'https://evil.test' })), false);
		assert.equal(await accepted(env.sg, sign('RS256', { ...good, aud: 'other' })), false);
		assert.equal(await accepted(env.sg, sign('RS256', { ...good, aud: ['other', 'siogate'] })), true);
	});

	test('attacks: alg none, HS256 keyed with the public key, another key, a truncated token', async () => {
		const none = `${b64u({ alg: 'none', typ: 'JWT' })}.${b64u(good)}.`;
		assert.equal(await accepted(env.sg, none), false);
		const confused = jwt.sign(good, pem(keys.rsa.publicKey), { algorithm: 'HS256' });
		assert.equal(await accepted(env.sg, confused), false);
		assert.equal(await accepted(env.sg, jwt.sign(good, keys.other.privateKey, { algorithm: 'RS256' })), false);
		const t = sign('ES256', good);
		assert.equal(await accepted(env.sg, t.slice(0, -5)), false);
		assert.equal(await accepted(env.sg, t.replace(/\./g, '!')), false);
	});
});

describe('keys from a JWKS selected by kid', () => {
	const env = h.useSiogate({ before, after }, {
		config: { auth: { jwt: { algorithms: ['RS256', 'ES256'], jwks_file: jwksFile } } },
	});
	test('the kid picks the key; an unknown kid or a kid of the wrong key is refused', async () => {
		assert.equal(await accepted(env.sg, sign('RS256', { sub: 'a' }, { keyid: 'r1' })), true);
		assert.equal(await accepted(env.sg, sign('ES256', { sub: 'a' }, { keyid: 'e1' })), true);
		assert.equal(await accepted(env.sg, sign('RS256', { sub: 'a' }, { keyid: 'nope' })), false);
		assert.equal(await accepted(env.sg, sign('ES256', { sub: 'a' }, { keyid: 'r1' })), false);
	});
});

test('siogate token --alg ES256/RS256 --kid --key makes tokens jsonwebtoken verifies', () => {
	const bin = process.env.SIOGATE_BIN;
	for (const [alg, key, pub] of [['ES256', privFile, keys.p256.publicKey], ['RS256', rsaPrivFile, keys.rsa.publicKey]]) {
		const out = execFileSync(bin, ['token', '--sub', 'carol', '--alg', alg, '--kid', 'k9', '--key', key,
			'--claim', 'org_id=42', '-c', '/nonexistent.yaml'], { encoding: 'utf8' }).trim();
		const decoded = jwt.verify(out, pub, { algorithms: [alg], complete: true });
		assert.equal(decoded.header.kid, 'k9');
		assert.equal(decoded.payload.sub, 'carol');
		assert.equal(decoded.payload.org_id, 42);
	}
});
