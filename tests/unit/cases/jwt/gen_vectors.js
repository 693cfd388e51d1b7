#!/usr/bin/env node
// Generates the JWT test vectors embedded in tests/unit/test_auth_jwt.c with an
// implementation independent of siogate's: Node's crypto module (HMAC, RSA
// PKCS#1 v1.5 / PSS, ECDSA, Ed25519) and the openssl CLI (a certificate).
// Keys are random, so each run prints a new, self-consistent C block; paste it
// between the BEGIN/END GENERATED VECTORS markers of the test:
//   node tests/unit/cases/jwt/gen_vectors.js > /tmp/vectors.c
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

const NOW = 1700000000; // seconds; the test's now_ms is NOW * 1000
const SECRET = 'siogate-unit-test-secret-0123456789';
const b64u = (buf) => Buffer.from(buf).toString('base64url');
const out = [];
const cstr = (s) => JSON.stringify(s); // JSON string escapes are valid C for this ASCII text

function emit(name, value) {
	// split long strings so that lines stay under 100 columns
	const parts = [];
	let cur = '';
	for (const ch of value) {
		if (cstr(cur + ch).length > 90) {
			parts.push(cstr(cur));
			cur = '';
		}
		cur += ch;
	}
	if (cur !== '')
		parts.push(cstr(cur));
	if (parts.length === 0)
		parts.push('""');
	out.push(`static const char ${name}[] =\n\t${parts.join('\n\t')};`);
}

// header and payload as exact JSON text (so that odd ones can be made)
function signingInput(headerText, payloadText) {
	return b64u(headerText) + '.' + b64u(payloadText);
}
function hmac(alg, key, headerText, payloadText) {
	const bits = alg.slice(2);
	const input = signingInput(headerText, payloadText);
	return input + '.' + b64u(crypto.createHmac('sha' + bits, key).update(input).digest());
}
function asym(alg, privateKey, headerText, payloadText, opts = {}) {
	const input = signingInput(headerText, payloadText);
	let sig;
	if (alg === 'EdDSA') {
		sig = crypto.sign(null, Buffer.from(input), privateKey);
	} else {
		const md = 'sha' + alg.slice(2);
		const k = { key: privateKey };
		if (alg.startsWith('PS')) {
			k.padding = crypto.constants.RSA_PKCS1_PSS_PADDING;
			k.saltLength = opts.saltLength !== undefined ? opts.saltLength
				: crypto.constants.RSA_PSS_SALTLEN_DIGEST;
		}
		if (alg.startsWith('ES'))
			k.dsaEncoding = opts.dsaEncoding || 'ieee-p1363'; // JOSE: raw r||s
		sig = crypto.sign(md, Buffer.from(input), k);
	}
	return input + '.' + b64u(sig);
}
const H = (alg, extra = {}) => JSON.stringify(Object.assign({ alg, typ: 'JWT' }, extra));
const P = (extra = {}, drop = []) => {
	const c = Object.assign({ sub: 'alice', iss: 'https://issuer.example', aud: 'siogate',
		iat: NOW - 1000, exp: NOW + 3600 }, extra);
	for (const d of drop)
		delete c[d];
	return JSON.stringify(c);
};

// ---- HMAC ----
emit('SECRET', SECRET);
emit('HS256_VALID', hmac('HS256', SECRET, H('HS256'), P()));
emit('HS384_VALID', hmac('HS384', SECRET, H('HS384'), P()));
emit('HS512_VALID', hmac('HS512', SECRET, H('HS512'), P()));
emit('HS256_EXPIRED_10S', hmac('HS256', SECRET, H('HS256'), P({ exp: NOW - 10 })));
emit('HS256_EXP_NOW', hmac('HS256', SECRET, H('HS256'), P({ exp: NOW })));
emit('HS256_EXP_FRACTION', hmac('HS256', SECRET, H('HS256'), P({ exp: NOW + 0.5 })));
emit('HS256_NBF_60S', hmac('HS256', SECRET, H('HS256'), P({ nbf: NOW + 60 })));
emit('HS256_EXP_STRING', hmac('HS256', SECRET, H('HS256'), P({ exp: String(NOW + 3600) })));
emit('HS256_NBF_BOOL', hmac('HS256', SECRET, H('HS256'), P({ nbf: true })));
emit('HS256_NO_EXP', hmac('HS256', SECRET, H('HS256'), P({}, ['exp'])));
emit('HS256_ISS_EVIL', hmac('HS256', SECRET, H('HS256'), P({ iss: 'https://evil.example' })));
emit('HS256_ISS_MISSING', hmac('HS256', SECRET, H('HS256'), P({}, ['iss'])));
emit('HS256_AUD_OTHER', hmac('HS256', SECRET, H('HS256'), P({ aud: 'other' })));
emit('HS256_AUD_ARRAY_OK', hmac('HS256', SECRET, H('HS256'), P({ aud: ['api', 'siogate'] })));
emit('HS256_AUD_ARRAY_BAD', hmac('HS256', SECRET, H('HS256'), P({ aud: ['api', 'web'] })));
emit('HS256_AUD_MISSING', hmac('HS256', SECRET, H('HS256'), P({}, ['aud'])));
emit('HS256_PAYLOAD_ARRAY', hmac('HS256', SECRET, H('HS256'), '[1,2,3]'));
emit('HS256_PAYLOAD_NOT_JSON', hmac('HS256', SECRET, H('HS256'), 'hello'));
emit('HS256_HEADER_NOT_JSON', hmac('HS256', SECRET, '{"alg":"HS256"', P()));
emit('HS256_HEADER_ARRAY', hmac('HS256', SECRET, '["HS256"]', P()));
emit('HS256_HEADER_NO_ALG', hmac('HS256', SECRET, '{"typ":"JWT"}', P()));
emit('HS256_HEADER_ALG_NUMBER', hmac('HS256', SECRET, '{"alg":256}', P()));
emit('HS256_HEADER_CRIT', hmac('HS256', SECRET, '{"alg":"HS256","crit":["exp"],"exp":1}', P()));
emit('HS256_HEADER_KID_NUMBER', hmac('HS256', SECRET, '{"alg":"HS256","kid":7}', P()));
emit('HS256_HEADER_DUP_ALG', hmac('HS256', SECRET, '{"alg":"HS256","alg":"none"}', P()));
emit('HS256_LOWERCASE_ALG', hmac('HS256', SECRET, '{"alg":"hs256"}', P()));
emit('NONE_TOKEN', signingInput(H('none'), P()) + '.');
emit('NONE_UPPER_TOKEN', signingInput(H('NONE'), P()) + '.');
emit('NONE_MIXED_SIGNED', signingInput(H('nOnE'), P()) + '.' + b64u(crypto.randomBytes(32)));

// round trip with jwt_sign_hmac: fixed claims, header exactly as siogate writes it
const RT_CLAIMS = '{"sub":"alice","iat":1700000000,"exp":1700003600,"room":"a/b","name":"Zo\u00eb"}';
emit('RT_HS256', hmac('HS256', SECRET, '{"alg":"HS256","typ":"JWT"}', RT_CLAIMS));
emit('RT_HS512_KID', hmac('HS512', SECRET, '{"alg":"HS512","typ":"JWT","kid":"k1"}', RT_CLAIMS));

// ---- asymmetric keys ----
const rsa1 = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsa2 = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaSmall = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 });
const ec256 = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ec384 = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' });
const ec521 = crypto.generateKeyPairSync('ec', { namedCurve: 'P-521' });
const ed = crypto.generateKeyPairSync('ed25519');
const pem = (k) => k.publicKey.export({ type: 'spki', format: 'pem' });

const RSA1_PEM = pem(rsa1);
emit('RSA1_PEM', RSA1_PEM);
emit('RSA1_PKCS1_PEM', rsa1.publicKey.export({ type: 'pkcs1', format: 'pem' }));
emit('RSA_SMALL_PEM', pem(rsaSmall));
emit('EC256_PEM', pem(ec256));
emit('EC384_PEM', pem(ec384));
emit('EC521_PEM', pem(ec521));
emit('ED25519_PEM', pem(ed));

// a self-signed certificate for rsa1, by the openssl CLI
{
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jwtvec-'));
	const keyFile = path.join(dir, 'k.pem');
	fs.writeFileSync(keyFile, rsa1.privateKey.export({ type: 'pkcs8', format: 'pem' }));
	const cert = execFileSync('openssl', ['req', '-x509', '-new', '-key', keyFile, '-subj',
		'/CN=siogate-test', '-days', '3650', '-outform', 'PEM'], { encoding: 'utf8' });
	fs.rmSync(dir, { recursive: true });
	emit('RSA1_CERT_PEM', cert);
}

emit('RS256_VALID', asym('RS256', rsa1.privateKey, H('RS256'), P()));
emit('RS384_VALID', asym('RS384', rsa1.privateKey, H('RS384'), P()));
emit('RS512_VALID', asym('RS512', rsa1.privateKey, H('RS512'), P()));
emit('PS256_VALID', asym('PS256', rsa1.privateKey, H('PS256'), P()));
emit('PS384_VALID', asym('PS384', rsa1.privateKey, H('PS384'), P()));
emit('PS512_VALID', asym('PS512', rsa1.privateKey, H('PS512'), P()));
emit('PS256_MAX_SALT', asym('PS256', rsa1.privateKey, H('PS256'), P(),
	{ saltLength: crypto.constants.RSA_PSS_SALTLEN_MAX_SIGN }));
// an RS256 signature presented as PS256
{
	const t = asym('RS256', rsa1.privateKey, H('PS256'), P());
	emit('PS256_HEADER_RS256_SIG', t);
}
emit('RS256_EXPIRED', asym('RS256', rsa1.privateKey, H('RS256'), P({ exp: NOW - 10 })));
emit('ES256_VALID', asym('ES256', ec256.privateKey, H('ES256'), P()));
emit('ES256_DER_SIG', asym('ES256', ec256.privateKey, H('ES256'), P(), { dsaEncoding: 'der' }));
emit('ES256_AS_ES384', asym('ES256', ec256.privateKey, H('ES384'), P()));
emit('ES384_VALID', asym('ES384', ec384.privateKey, H('ES384'), P()));
emit('EDDSA_VALID', asym('EdDSA', ed.privateKey, H('EdDSA'), P()));
// algorithm confusion: HS256 keyed with the RSA public key's PEM text
emit('HS256_KEYED_WITH_RSA1_PEM', hmac('HS256', RSA1_PEM, H('HS256'), P()));

// ---- JWKS ----
const jwk = (k, extra) => Object.assign(k.publicKey.export({ format: 'jwk' }), extra);
const jwks = {
	keys: [
		{ kty: 'oct', kid: 'oct-1', k: b64u(SECRET) },                // skipped
		jwk(rsa1, { kid: 'rsa-1', use: 'sig' }),
		jwk(rsa2, { kid: 'rsa-2', alg: 'RS256' }),
		jwk(rsaSmall, { kid: 'rsa-enc', use: 'enc' }),                // skipped (use)
		jwk(ec256, { kid: 'ec-256' }),
		jwk(ec384, { kid: 'ec-384' }),
		jwk(ec521, { kid: 'ec-521' }),                                // skipped (curve)
		jwk(ed, { kid: 'ed-1' }),
	],
};
emit('JWKS', JSON.stringify(jwks));
emit('JWK_RSA1_N', jwk(rsa1, {}).n);
emit('JWK_EC256_X', jwk(ec256, {}).x);
emit('JWK_EC256_Y', jwk(ec256, {}).y);
emit('JWK_EC384_Y', jwk(ec384, {}).y);
emit('JWKS_RS256_RSA2_KID2', asym('RS256', rsa2.privateKey, H('RS256', { kid: 'rsa-2' }), P()));
emit('JWKS_RS256_RSA2_KID1', asym('RS256', rsa2.privateKey, H('RS256', { kid: 'rsa-1' }), P()));
emit('JWKS_RS256_RSA2_KID9', asym('RS256', rsa2.privateKey, H('RS256', { kid: 'rsa-9' }), P()));
emit('JWKS_RS256_RSA2_NOKID', asym('RS256', rsa2.privateKey, H('RS256'), P()));
emit('JWKS_PS256_RSA2_KID2', asym('PS256', rsa2.privateKey, H('PS256', { kid: 'rsa-2' }), P()));
emit('JWKS_PS256_RSA1_KID1', asym('PS256', rsa1.privateKey, H('PS256', { kid: 'rsa-1' }), P()));
emit('JWKS_ES256_KID_RSA1', asym('ES256', ec256.privateKey, H('ES256', { kid: 'rsa-1' }), P()));
emit('JWKS_RS256_KID_EC256', asym('RS256', rsa1.privateKey, H('RS256', { kid: 'ec-256' }), P()));
emit('JWKS_ES256_KID', asym('ES256', ec256.privateKey, H('ES256', { kid: 'ec-256' }), P()));
emit('JWKS_ES384_KID', asym('ES384', ec384.privateKey, H('ES384', { kid: 'ec-384' }), P()));
emit('JWKS_EDDSA_KID', asym('EdDSA', ed.privateKey, H('EdDSA', { kid: 'ed-1' }), P()));
emit('JWKS_EDDSA_NOKID', asym('EdDSA', ed.privateKey, H('EdDSA'), P()));
emit('JWKS_HS256_KID_OCT', hmac('HS256', SECRET, H('HS256', { kid: 'oct-1' }), P()));

process.stdout.write(out.join('\n') + '\n');
