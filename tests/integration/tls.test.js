'use strict';
/*
 * tls.test.js: TLS on the client listener (server.tls) with a certificate made by the test with
 * the openssl CLI: socket.io-client connects over wss:// and https:// polling (and upgrades)
 * trusting that CA, the handshake is marked secure, a client that does not trust the CA is
 * refused, and a SIGHUP reload with a new certificate is seen by a new connection while an
 * old one stays connected; a bad new pair keeps the running certificate.
 */

const assert = require('node:assert/strict');
const { test, before, after } = require('node:test');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const tls = require('node:tls');
const { execFileSync } = require('node:child_process');
const { io } = require('socket.io-client');
const h = require('./lib/harness');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'siogate-tls-'));
function makeCert(name) {
	const key = path.join(dir, `${name}.key`);
	const crt = path.join(dir, `${name}.crt`);
	execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
		'-nodes', '-days', '2', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
		'-keyout', key, '-out', crt], { stdio: 'ignore' });
	fs.chmodSync(key, 0o600);
	return { key, crt, pem: fs.readFileSync(crt, 'utf8') };
}
const first = makeCert('first');
const second = makeCert('second');

let sg;
before(async () => {
	sg = await h.startSiogate({ config: { server: { tls: { cert: first.crt, key: first.key } } } });
});
after(async () => {
	h.closeClients(true);
	if (sg) {
		const exit = await sg.stop();
		h.assertCleanLog(sg.log(), exit, 'SIGTERM');
	}
	fs.rmSync(dir, { recursive: true, force: true });
});

function url() {
	return `https://127.0.0.1:${sg.port}`;
}

function peerCN(ca) {
	return new Promise((resolve, reject) => {
		const s = tls.connect({ host: '127.0.0.1', port: sg.port, ca, servername: undefined }, () => {
			const cn = s.getPeerCertificate().subject.CN;
			s.end();
			resolve(cn);
		});
		s.on('error', reject);
	});
}

async function tlsClient(opts) {
	const s = io(url(), { forceNew: true, reconnection: false, auth: { token: h.token({ sub: h.uniq('t') }) }, ...opts });
	await h.withTimeout(new Promise((resolve, reject) => {
		s.on('connect', resolve);
		s.on('connect_error', reject);
	}), 5000, 'TLS connect');
	await h.authenticate(s);
	return s;
}

test('wss:// with the WebSocket transport', async () => {
	const s = await tlsClient({ transports: ['websocket'], ca: first.pem });
	assert.equal(s.io.engine.transport.name, 'websocket');
	s.close();
});

test('https:// polling, then the upgrade to wss://', async () => {
	const s = await tlsClient({ ca: first.pem });
	await h.withTimeout(new Promise((r) => {
		if (s.io.engine.transport.name === 'websocket') r();
		s.io.engine.once('upgrade', r);
	}), 5000, 'the upgrade');
	s.close();
});

test('https:// polling only: TLS connections handed between workers carry the session', async () => {
	const before0 = h.metric(await h.metrics(sg), 'siogate_handovers_total');
	const v = [];
	for (let i = 0; i < 3; i++)
		v.push(await tlsClient({ ca: first.pem, transports: ['polling'] }));
	for (const s of v) {
		const ack = await s.timeout(3000).emitWithAck('join', { rooms: [s.id] });
		assert.deepEqual(ack.rejected, [s.id], 'the answer came back over polling');
	}
	const after0 = h.metric(await h.metrics(sg), 'siogate_handovers_total');
	assert.ok(after0 > before0, `TLS polling requests were handed over (${before0} -> ${after0})`);
	for (const s of v) s.close();
});

test('a client that does not trust the certificate cannot connect', async () => {
	const s = io(url(), { forceNew: true, reconnection: false, transports: ['websocket'] });
	const err = await h.withTimeout(new Promise((r) => s.on('connect_error', r)), 5000, 'connect_error');
	assert.ok(err);
	s.close();
});

test('a plain HTTP request to the TLS port is not served', async () => {
	await assert.rejects(h.withTimeout(
		fetch(`http://127.0.0.1:${sg.port}/socket.io/?EIO=4&transport=polling`), 3000, 'plain GET'));
});

test('reload: a new certificate for new connections, old ones stay; a bad pair keeps the old', async () => {
	const old = await tlsClient({ transports: ['websocket'], ca: first.pem });
	let dropped = false;
	old.on('disconnect', () => { dropped = true; });
	assert.equal(await peerCN(first.pem), 'first');

	const cfg = JSON.parse(JSON.stringify(sg.config));
	cfg.server.tls = { cert: second.crt, key: second.key };
	fs.writeFileSync(sg.file, h.yaml(cfg), { mode: 0o600 });
	let mark = sg.mark();
	process.kill(sg.pid, 'SIGHUP');
	await sg.waitForLog(/reload: configuration applied/, 5000, mark);
	assert.equal(await peerCN(second.pem), 'second');
	const fresh = await tlsClient({ transports: ['websocket'], ca: second.pem });
	assert.ok(fresh.connected);
	assert.ok(old.connected && !dropped, 'the old connection stays');

	cfg.server.tls = { cert: second.crt, key: first.key }; /* a pair that does not match */
	fs.writeFileSync(sg.file, h.yaml(cfg), { mode: 0o600 });
	mark = sg.mark();
	process.kill(sg.pid, 'SIGHUP');
	await sg.waitForLog(/keeping the running certificate/, 5000, mark);
	assert.equal(await peerCN(second.pem), 'second');
});
