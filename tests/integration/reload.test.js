'use strict';
/*
 * reload.test.js: SIGHUP reloads the configuration without dropping anyone: new room rules
 * apply to new joins of connected clients, a rotated JWT secret applies to new
 * authentications, a key that needs a restart is named in a warning and keeps its running
 * value, and a broken file is logged while the running configuration keeps serving.
 */

const assert = require('node:assert/strict');
const { test } = require('node:test');
const fs = require('node:fs');
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
