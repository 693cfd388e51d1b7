'use strict';
/*
 * readme.test.js: the code in README.md runs as written.  The backend snippet of "Send from a
 * backend" (backend.mjs, @socket.io/redis-emitter) is taken out of the README, pointed at this
 * suite's Redis, and run with node: every line of it reaches the client it names, and the script
 * ends by itself.
 */
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const test = require('node:test');

const h = require('./lib/harness');

const README = path.resolve(__dirname, '..', '..', 'README.md');
const SCRIPT_TIMEOUT_MS = 15000;

/* The fenced js block of README.md whose first line is `// <name>...`. */
function readmeBlock(name) {
	const text = fs.readFileSync(README, 'utf8');
	for (const m of text.matchAll(/```js\n([\s\S]*?)```/g)) {
		if (m[1].startsWith(`// ${name}`))
			return m[1];
	}
	throw new Error(`README.md has no js block starting with "// ${name}"`);
}

/* Runs a .mjs file with node from this folder's .tmp (so that its imports resolve to
 * node_modules here); resolves {code, signal, output}; kills it after SCRIPT_TIMEOUT_MS. */
function runModule(source, args) {
	const dir = path.join(__dirname, '.tmp');
	fs.mkdirSync(dir, { recursive: true });
	const file = path.join(dir, `${h.uniq('readme')}.mjs`);
	fs.writeFileSync(file, source);
	return new Promise((resolve) => {
		const child = spawn(process.execPath, [file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
		let output = '';
		child.stdout.on('data', (d) => { output += d; });
		child.stderr.on('data', (d) => { output += d; });
		const timer = setTimeout(() => child.kill('SIGKILL'), SCRIPT_TIMEOUT_MS);
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			fs.rmSync(file, { force: true });
			resolve({ code, signal, output });
		});
	});
}

const env = h.useSiogate({
	redis: true,
	config: { rooms: { allow: ['public-*', 'user-{sub}'] } },
});

test('README backend.mjs: each emit reaches its client, and the script exits by itself', async () => {
	const block = readmeBlock('backend.mjs');
	assert.ok(block.includes("'redis://127.0.0.1:6379'"), 'the snippet names the usual Redis URL');
	const source = block.replaceAll("'redis://127.0.0.1:6379'", JSON.stringify(env.redis.url));

	const alice = await h.connectAuthed(env.sg.url, { claims: { sub: 'alice' } });
	const joined = await alice.emitWithAck('join', { rooms: ['user-alice', 'public-news'] });
	assert.deepEqual(joined, { rooms: ['user-alice', 'public-news'], rejected: [] });
	const carol = await h.connectAuthed(env.sg.url, { claims: { sub: 'carol' } });
	const seen = { alice: [], carol: [] };
	alice.onAny((event, data) => seen.alice.push([event, data]));
	carol.onAny((event, data) => seen.carol.push([event, data]));

	const mark = env.sg.mark();
	const run = await runModule(source, [alice.id]);
	assert.deepEqual({ code: run.code, signal: run.signal }, { code: 0, signal: null },
		`node backend.mjs must end with 0:\n${run.output}`);

	/* Redis delivers in publish order: once the fence arrived, everything before it did */
	await h.fence(env.emitter, alice);
	await h.fence(env.emitter, carol);
	const names = (list) => list.map(([e]) => e).filter((e) => e !== 'ping' && e !== 'fence');
	assert.deepEqual(names(seen.alice), ['alert', 'message', 'direct', 'broadcast']);
	assert.deepEqual(names(seen.carol), ['alert', 'news', 'broadcast']);
	assert.deepEqual(seen.alice.find(([e]) => e === 'direct')[1], { hello: 1 });
	assert.deepEqual(seen.carol.find(([e]) => e === 'alert')[1], { level: 'warning', text: 'Disk almost full' });
	/* `of('/admin')`: not configured here, so siogate says how to fix it, once */
	await env.sg.waitForLog(/warn bridge: a message for namespace \/admin .*add it there/, 5000, mark);
});
