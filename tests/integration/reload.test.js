'use strict';
/*
 * reload.test.js: SIGHUP reloads the configuration without dropping anyone: new room rules
 * apply to new joins of connected clients, a rotated JWT secret applies to new
 * authentications, a key that needs a restart is named in a warning and keeps its running
 * value (events.forward too, whose running rules keep forwarding), and a broken file is logged
 * while the running configuration keeps serving.
 */

const assert = require('node:assert/strict');
const { test } = require('node:test');
const fs = require('node:fs');
const http = require('node:http');
const { execFileSync } = require('node:child_process');
const h = require('./lib/harness');

const env = h.useSiogate({ config: { rooms: { allow: ['public-*'] }, auth: { timeout: '5s' } } });

/* Rewrites the running siogate's file with `over` merged into its config, sends SIGHUP and
 * waits for the outcome line. */
async function reloadWith(over, expect = /reload: configuration applied/) {
	const cfg = JSON.parse(JSON.stringify(env.sg.config));
	for (const [section, values] of Object.entries(over))
		cfg[section] = values === null ? undefined : { ...(cfg[section] || {}), ...values };
	fs.writeFileSync(env.sg.file, h.yaml(cfg), { mode: 0o600 });
	const mark = env.sg.mark();
	process.kill(env.sg.pid, 'SIGHUP');
	await env.sg.waitForLog(expect, 5000, mark);
	return mark;
}

async function restoreConfig() {
	fs.writeFileSync(env.sg.file, env.sg.configText, { mode: 0o600 });
	const mark = env.sg.mark();
	process.kill(env.sg.pid, 'SIGHUP');
	await env.sg.waitForLog(/reload: configuration applied/, 5000, mark);
}

test('new room rules apply to connected clients\' next joins; nobody is dropped', async () => {
	const s = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('r') } });
	let ack = await s.timeout(3000).emitWithAck('join', { rooms: ['public-a', 'vip-a'] });
	assert.deepEqual(ack, { rooms: ['public-a'], rejected: ['vip-a'] });
	let dropped = false;
	s.on('disconnect', () => { dropped = true; });
	await reloadWith({ rooms: { allow: ['vip-*'] } });
	ack = await s.timeout(3000).emitWithAck('join', { rooms: ['public-b', 'vip-b'] });
	assert.deepEqual(ack, { rooms: ['vip-b'], rejected: ['public-b'] });
	assert.equal(dropped, false);
	assert.ok(s.connected);
	await restoreConfig();
});

test('a rotated JWT secret applies to the next authentications', async () => {
	const next = 'rotated-secret-rotated-secret-0001';
	await reloadWith({ auth: { jwt: { algorithms: ['HS256'], secret: next } } });
	const ok = await h.connect(env.sg.url, { auth: { token: h.token({ sub: 'n' }, { secret: next }) } });
	await h.authenticate(ok);
	const old = await h.connect(env.sg.url, { auth: { token: h.token({ sub: 'o' }) } });
	await assert.rejects(h.authenticate(old), (e) => /Invalid token/.test(JSON.stringify(e)));
	await restoreConfig();
});

test('a key that needs a restart is named in a warning and keeps its running value', async () => {
	await reloadWith({ server: { ...env.sg.config.server, path: '/other-path/' } },
		/reload: server\.path changed, but only a restart applies it/);
	const s = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('p') } });
	assert.ok(s.connected, 'still served on the old path');
	await restoreConfig();
});

test('a changed events.forward needs a restart: named in a warning, the running rules keep forwarding', async () => {
	const paths = [];
	const backend = http.createServer((req, res) => {
		req.resume();
		req.on('end', () => {
			paths.push(req.url);
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end(JSON.stringify({ path: req.url }));
		});
	});
	await new Promise((r) => backend.listen(0, '127.0.0.1', r));
	const base = `http://127.0.0.1:${backend.address().port}`;
	const sg = await h.startSiogate({
		config: { events: { forward: [{ match: 'rpc:*', http: `${base}/running`, timeout: '2s' }] } },
	});
	let s = null;
	try {
		const cfg = JSON.parse(JSON.stringify(sg.config));
		cfg.events.forward = [
			{ match: 'rpc:*', http: `${base}/next`, timeout: '1s' },
			{ match: 'chat:*', stream: 'siogate:events' },
		];
		fs.writeFileSync(sg.file, h.yaml(cfg), { mode: 0o600 });
		const mark = sg.mark();
		process.kill(sg.pid, 'SIGHUP');
		await sg.waitForLog(/reload: configuration applied/, 5000, mark);
		assert.match(sg.log().slice(mark),
			/reload: events\.forward changed, but only a restart applies it; keeping the running value/);
		s = await h.connectAuthed(sg.url, { claims: { sub: h.uniq('fw') } });
		const ack = await s.timeout(3000).emitWithAck('rpc:ping', 1);
		assert.deepEqual(ack, { path: '/running' });
		assert.deepEqual(paths, ['/running']);
	} finally {
		if (s) s.close();
		const exit = await sg.stop();
		h.assertCleanLog(sg.log(), exit, 'SIGTERM', { expectCode: 0 });
		backend.closeAllConnections();
		await new Promise((r) => backend.close(r));
	}
});

test('a broken file is logged and the running configuration keeps serving', async () => {
	fs.writeFileSync(env.sg.file, 'server:\n  ping_timeout: 0\n  bogus_key: 1\n', { mode: 0o600 });
	const mark = env.sg.mark();
	process.kill(env.sg.pid, 'SIGHUP');
	await env.sg.waitForLog(/the running configuration is kept/, 5000, mark);
	const log = env.sg.log().slice(mark);
	assert.match(log, /reload: .*siogate\.yaml:\d+:\d+: server\.ping_timeout/);
	assert.match(log, /unknown key 'server\.bogus_key'/);
	const s = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('b') } });
	const ack = await s.timeout(3000).emitWithAck('join', { rooms: ['public-still'] });
	assert.deepEqual(ack.rooms, ['public-still']);
	await restoreConfig();
});

test('a file over the 1MB cap is refused on reload, naming the cap; the old configuration stays', async () => {
	fs.writeFileSync(env.sg.file, `${'# padding padding padding padding\n'.repeat(32000)}log: { level: debug }\n`,
		{ mode: 0o600 });
	const mark = env.sg.mark();
	process.kill(env.sg.pid, 'SIGHUP');
	await env.sg.waitForLog(/the running configuration is kept/, 5000, mark);
	assert.match(env.sg.log().slice(mark), /reload: .*siogate\.yaml: larger than 1MB \(the cap on configuration files\)/);
	const s = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('big') } });
	const ack = await s.timeout(3000).emitWithAck('join', { rooms: ['public-big', 'vip-big'] });
	assert.deepEqual(ack, { rooms: ['public-big'], rejected: ['vip-big'] });
	await restoreConfig();
});

test('the file is read off the loop: while it blocks, clients connect and receive; a 1 MB ' +
	'nesting is refused by the depth cap, the old configuration stays, a second SIGHUP reads again', async () => {
	const sg = await h.startSiogate({ config: { rooms: { allow: ['public-*'] }, ping: { interval: '100ms' } } });
	let fifo = false;
	try {
		const watcher = await h.connectAuthed(sg.url, { claims: { sub: h.uniq('w') } });
		const pings = h.collect(watcher, 'ping');
		const original = fs.readFileSync(sg.file);
		/* the file becomes a FIFO: reading it blocks until this test writes into it */
		fs.rmSync(sg.file);
		execFileSync('mkfifo', ['-m', '600', sg.file]);
		fifo = true;
		const mark = sg.mark();
		process.kill(sg.pid, 'SIGHUP');
		await sg.waitForLog(/SIGHUP: reloading/, 5000, mark);
		process.kill(sg.pid, 'SIGHUP');
		await sg.waitForLog(/SIGHUP: a reload is being read; the file is read again after it/, 5000, mark);

		/* the reload is stuck reading, and the loops serve: new clients connect and
		 * authenticate, and the one already there keeps receiving */
		const seen = pings.length;
		const clients = [];
		for (let i = 0; i < 20; i++)
			clients.push(await h.connectAuthed(sg.url, { claims: { sub: h.uniq('c') }, timeoutMs: 5000 }));
		await pings.waitFor(seen + 3, 5000);
		assert.doesNotMatch(sg.log().slice(mark), /reload: /, 'the reload is still being read');

		/* 1,000,000 '[' (under the 1MB size cap): refused at depth 33 */
		await h.withTimeout(fs.promises.writeFile(sg.file, '['.repeat(1000000)), 10000, 'writing the FIFO');
		await sg.waitForLog(/the running configuration is kept/, 10000, mark);
		assert.match(sg.log().slice(mark), /reload: .*siogate\.yaml:1:33: lists and mappings nested deeper than 32 levels \(the cap on configuration files\)/);
		const ack = await clients[0].timeout(3000).emitWithAck('join', { rooms: ['public-x', 'vip-x'] });
		assert.deepEqual(ack, { rooms: ['public-x'], rejected: ['vip-x'] }, 'the old rules still apply');

		/* the second SIGHUP reads the file again: a good one this time, with new rules */
		const next = original.toString().replace('public-*', 'vip-*');
		assert.notEqual(next, original.toString());
		await h.withTimeout(fs.promises.writeFile(sg.file, next), 10000, 'writing the FIFO again');
		await sg.waitForLog(/reload: configuration applied/, 10000, mark);
		const ack2 = await clients[1].timeout(3000).emitWithAck('join', { rooms: ['public-y', 'vip-y'] });
		assert.deepEqual(ack2, { rooms: ['vip-y'], rejected: ['public-y'] });
		for (const c of [watcher, ...clients])
			assert.ok(c.connected, 'nobody was dropped');
		fs.rmSync(sg.file);
		fifo = false;
		fs.writeFileSync(sg.file, original, { mode: 0o600 });
	} finally {
		if (fifo) {
			/* a reader blocked on the FIFO gets an end of file */
			try {
				fs.closeSync(fs.openSync(sg.file, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
			} catch {
				/* no reader */
			}
		}
		const exit = await sg.stop();
		h.assertCleanLog(sg.log(), exit, 'SIGTERM', { expectCode: 0 });
	}
});

test('a reload still being read does not hold up a stop', async () => {
	const sg = await h.startSiogate({});
	fs.rmSync(sg.file);
	execFileSync('mkfifo', ['-m', '600', sg.file]);
	const mark = sg.mark();
	process.kill(sg.pid, 'SIGHUP');
	await sg.waitForLog(/SIGHUP: reloading/, 5000, mark);
	const exit = await sg.stop('SIGTERM');
	h.assertCleanLog(sg.log(), exit, 'SIGTERM', { expectCode: 0 });
	assert.match(sg.log().slice(mark), /reload: .*siogate\.yaml is still being read; stopping without it/);
});
