'use strict';
/*
 * readme.test.js: the code in README.md runs as written.  The backend snippet of "Send from a
 * backend" (backend.mjs, @socket.io/redis-emitter) is taken out of the README, pointed at this
 * suite's Redis, and run with node: every line of it reaches the client it names, and the script
 * ends by itself.  The operations and the emit with acks of "Emit with acknowledgements, and the
 * admin API's operations" run three times as written: redis-cli (backend-ops.sh), Python 3 with
 * its standard library (backend.py) and curl on the admin API (backend-admin.sh); each time the
 * sockets join, leave, get or miss the volatile emit, answer the question (the answer printed
 * names exactly the socket that answered) and are disconnected with `unauthenticated`.
 */
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const test = require('node:test');

const h = require('./lib/harness');

const README = path.resolve(__dirname, '..', '..', 'README.md');
const SCRIPT_TIMEOUT_MS = 15000;

/* The fenced block (language lang) of README.md whose first line is a comment `<name>...`. */
function readmeBlock(name, lang = 'js') {
	const text = fs.readFileSync(README, 'utf8');
	const comment = lang === 'js' ? '//' : '#';
	for (const m of text.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))) {
		if (m[1].startsWith(`${comment} ${name}`))
			return m[1];
	}
	throw new Error(`README.md has no ${lang} block starting with "${comment} ${name}"`);
}

/* Runs bin with args (and env added), input unused; resolves {code, signal, output}; kills it
 * after SCRIPT_TIMEOUT_MS. */
function runProgram(bin, args, env = {}) {
	return new Promise((resolve) => {
		const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
		let output = '';
		child.stdout.on('data', (d) => { output += d; });
		child.stderr.on('data', (d) => { output += d; });
		const timer = setTimeout(() => child.kill('SIGKILL'), SCRIPT_TIMEOUT_MS);
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			resolve({ code, signal, output });
		});
	});
}

/* Runs a .mjs file with node from this folder's .tmp (so that its imports resolve to
 * node_modules here); resolves {code, signal, output}; kills it after SCRIPT_TIMEOUT_MS. */
function runModule(source, args) {
	const dir = path.join(__dirname, '.tmp');
	fs.mkdirSync(dir, { recursive: true });
	const file = path.join(dir, `${h.uniq('readme')}.mjs`);
	fs.writeFileSync(file, source);
	return runProgram(process.execPath, [file, ...args]).finally(() => fs.rmSync(file, { force: true }));
}

const tokenFile = path.join(h.makeTempDir('readme'), 'admin.token');
const ADMIN_TOKEN = require('node:crypto').randomBytes(24).toString('hex');
fs.writeFileSync(tokenFile, ADMIN_TOKEN + '\n', { mode: 0o600 });

const env = h.useSiogate({
	redis: true,
	config: { rooms: { allow: ['public-*', 'user-{sub}'] }, admin: { token_file: tokenFile } },
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

/* Two sockets of alice in room user-alice; runs a README script with the second one's id; checks
 * what each socket heard and the answer the script printed. */
async function operations(run) {
	await h.until(async () => h.metric(await h.metrics(env.sg), 'siogate_cluster_members{state="ready"}') >= 1,
		10000, 'this instance settled (it gathers JSON-channel acks)');
	const one = await h.connectAuthed(env.sg.url, { claims: { sub: 'alice' } });
	const two = await h.connectAuthed(env.sg.url, { claims: { sub: 'alice' } });
	const ids = [one.id, two.id];
	const seen = [[], []];
	for (const [i, s] of [one, two].entries()) {
		await s.emitWithAck('join', { rooms: ['user-alice'] });
		s.onAny((event, data) => seen[i].push([event, data]));
		s.on('question', (q, cb) => cb('yes', q));
	}
	const end = h.withTimeout(new Promise((resolve) => two.on('disconnect', resolve)), SCRIPT_TIMEOUT_MS,
		'the disconnect of the second socket');
	const mark = env.sg.mark();
	const run1 = await run(two.id);
	assert.deepEqual({ code: run1.code, signal: run1.signal }, { code: 0, signal: null }, run1.output);
	assert.equal(await end, 'io server disconnect');
	await h.fence(env.emitter, one);
	const names = (list) => list.map(([e]) => e).filter((e) => e !== 'ping' && e !== 'fence');
	/* the first left vip (except the second) and got the tick; the second answered the question */
	assert.deepEqual(names(seen[0]), ['tick']);
	assert.deepEqual(names(seen[1]), ['question', 'unauthenticated']);
	assert.equal(seen[1][1][1].message, h.MSG_INVALID_TOKEN);
	const answers = run1.output.split('\n').filter((l) => l.startsWith('{"acks"')).map((l) => JSON.parse(l));
	assert.deepEqual(answers, [{ acks: [{ id: ids[1], args: ['yes', 'ready?'] }], timeouts: [] }], run1.output);
	assert.equal(env.sg.countLog(/WARN|ERROR/, mark), 0, env.sg.log());
	one.disconnect();
}

test('README backend-ops.sh: every operation and an emit with acks with redis-cli', async () => {
	const block = readmeBlock('backend-ops.sh', 'sh');
	const source = block.replaceAll('redis-cli ', `redis-cli -p ${env.redis.port} `);
	await operations((sid) => runProgram('sh', ['-c', source], { SOCKET_ID: sid }));
});

test('README backend.py: the same from Python 3, standard library only', async () => {
	const block = readmeBlock('backend.py', 'python');
	assert.ok(block.includes('("127.0.0.1", 6379)'));
	const source = block.replaceAll('("127.0.0.1", 6379)', `("127.0.0.1", ${env.redis.port})`);
	await operations((sid) => runProgram('python3', ['-c', source, sid]));
});

test('README backend-admin.sh: the same through the admin API with curl', async () => {
	const block = readmeBlock('backend-admin.sh', 'sh');
	const source = block.replaceAll('/etc/siogate/admin.token', tokenFile)
		.replaceAll('127.0.0.1:9090', `127.0.0.1:${env.sg.adminPort}`);
	await operations((sid) => runProgram('sh', ['-c', source], { SOCKET_ID: sid }));
});
