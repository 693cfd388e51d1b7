'use strict';
/*
 * rediscluster.test.js: siogate on a three-node Redis Cluster started by the test
 * (redis-server --cluster-enabled yes x3, redis-cli --cluster create).  Classic pub/sub is
 * cluster-wide, so two siogate instances attached to different nodes deliver each other's
 * broadcasts and what a backend publishes on a third node; and when the node an instance uses
 * fails, it moves to the next of its seed nodes (redis.url as a list) and delivery resumes.
 */

const assert = require('node:assert/strict');
const { test, before, after } = require('node:test');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { spawn, execFileSync } = require('node:child_process');
const h = require('./lib/harness');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'siogate-rcluster-'));
const nodes = [];
const started = [];
const tokenFile = path.join(dir, 'admin.token');
const ADMIN_TOKEN = crypto.randomBytes(20).toString('hex');
fs.writeFileSync(tokenFile, ADMIN_TOKEN, { mode: 0o600 });

async function startNode(i) {
	const port = await h.freePort();
	const ndir = path.join(dir, `n${i}`);
	fs.mkdirSync(ndir);
	const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '',
		'--appendonly', 'no', '--cluster-enabled', 'yes', '--cluster-config-file', path.join(ndir, 'nodes.conf'),
		'--cluster-node-timeout', '2000', '--dir', ndir], { stdio: ['ignore', 'pipe', 'pipe'] });
	let log = '';
	child.stdout.on('data', (d) => { log += d; });
	await h.withTimeout(new Promise((resolve) => {
		const check = () => (log.includes('Ready to accept connections') ? resolve() : setTimeout(check, 20));
		check();
	}), 10000, `redis cluster node ${i}`);
	const node = {
		port, child, url: `redis://127.0.0.1:${port}`,
		stop: () => new Promise((r) => {
			if (child.exitCode !== null) return r();
			child.once('exit', r);
			child.kill('SIGTERM');
		}),
	};
	nodes.push(node);
	return node;
}

function cli(port, ...args) {
	return execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8', timeout: 20000 });
}

before(async () => {
	for (let i = 0; i < 3; i++) await startNode(i);
	execFileSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`),
		'--cluster-replicas', '0', '--cluster-yes'], { stdio: 'ignore', timeout: 30000 });
	const deadline = Date.now() + 15000;
	while (!nodes.every((n) => /cluster_state:ok/.test(cli(n.port, 'CLUSTER', 'INFO')))) {
		if (Date.now() > deadline) throw new Error('the cluster never became ok');
		await h.delay(100);
	}
});

after(async () => {
	h.closeClients(true);
	for (const sg of started.reverse()) {
		const exit = await sg.stop();
		h.assertCleanLog(sg.log(), exit, 'SIGTERM');
	}
	for (const n of nodes) await n.stop();
	fs.rmSync(dir, { recursive: true, force: true });
});

async function instance(urls) {
	const sg = await h.startSiogate({
		redis: urls[0],
		config: { redis: { url: urls }, admin: { token_file: tokenFile } },
	});
	started.push(sg);
	return sg;
}

test('instances on different nodes deliver each other\'s broadcasts and a third node\'s publishes', async () => {
	const a = await instance([nodes[0].url]);
	const b = await instance([nodes[1].url]);
	const ca = await h.connectAuthed(a.url, { claims: { sub: h.uniq('a') } });
	const cb = await h.connectAuthed(b.url, { claims: { sub: h.uniq('b') } });

	const onB = h.once(cb, 'from-a');
	const onA = h.once(ca, 'from-a');
	const res = await fetch(`http://127.0.0.1:${a.adminPort}/v1/emit`, {
		method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
		body: JSON.stringify({ event: 'from-a', data: 1 }),
	});
	assert.equal(res.status, 202);
	assert.equal(await onB, 1);
	assert.equal(await onA, 1);

	const emitter = await h.emitterFor(nodes[2].url);
	const both = Promise.all([h.once(ca, 'from-node3'), h.once(cb, 'from-node3')]);
	await emitter.emit('from-node3', 'x');
	assert.deepEqual(await both, ['x', 'x']);
	await emitter.close();
});

test('when its node fails, an instance moves to the next seed node and delivery resumes', async () => {
	const victim = nodes[0];
	const sg = await instance([victim.url, nodes[2].url]);
	const s = await h.connectAuthed(sg.url, { claims: { sub: h.uniq('f') } });
	const mark = sg.mark();
	await victim.stop();
	await sg.waitForLog(new RegExp(`redis subscriber: connected to 127\\.0\\.0\\.1:${nodes[2].port}`), 20000, mark);
	await sg.waitSubscribed(10000, mark);
	const got = h.once(s, 'after-failover');
	execFileSync('redis-cli', ['-p', String(nodes[1].port), 'PUBLISH', 'siogate#send',
		JSON.stringify({ event: 'after-failover', data: true })]);
	assert.equal(await got, true);
	assert.ok(s.connected, 'the client never noticed');
});
