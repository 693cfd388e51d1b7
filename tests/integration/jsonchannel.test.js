'use strict';
/*
 * jsonchannel.test.js: the JSON channel of SPEC section 4 for backends without msgpack:
 * `redis-cli PUBLISH siogate#send '{"to":[...],"event":...,"data":...}'` reaches the right
 * clients; malformed messages are logged and counted, never fatal, and later good ones still
 * arrive.  Uses the real redis-cli, as a shell backend would.
 */

const assert = require('node:assert/strict');
const { test } = require('node:test');
const { execFileSync } = require('node:child_process');
const h = require('./lib/harness');

const env = h.useSiogate({
	redis: true,
	config: { namespaces: ['/', '/other'], rooms: { allow: ['public-*'] } },
});

function publish(message, channel = 'siogate#send') {
	execFileSync('redis-cli', ['-p', String(env.redis.port), 'PUBLISH', channel, message],
		{ timeout: 5000 });
}

test('redis-cli PUBLISH on siogate#send reaches the clients of a room, data as sent', async () => {
	const a = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('a') } });
	const got = h.once(a, 'alert');
	publish('{"to":["io-notification"],"event":"alert","data":{"level":"warning","n":0.1,"big":1e21,"s":"é\\n"}}');
	assert.deepEqual(await got, { level: 'warning', n: 0.1, big: 1e21, s: 'é\n' });
});

test('to omitted reaches every authenticated client, not an unauthenticated one', async () => {
	const a = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('a') } });
	const c = await h.connect(env.sg.url, { auth: { token: h.token({ sub: h.uniq('c') }) } });
	const got = h.once(a, 'all');
	const none = h.nothing(c, 'all', 250);
	publish('{"event":"all","data":[1,"two",null]}');
	assert.deepEqual(await got, [1, 'two', null]);
	await none;
});

test('to a socket id, and except, as the emitter does', async () => {
	const a = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('a') } });
	const b = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('b') } });
	const toA = h.once(a, 'direct');
	publish(JSON.stringify({ to: [a.id], event: 'direct', data: 'just a' }));
	assert.equal(await toA, 'just a');
	await h.nothing(b, 'direct', 200);

	const toB = h.once(b, 'notA');
	const notA = h.nothing(a, 'notA', 250);
	publish(JSON.stringify({ to: ['io-default'], except: [a.id], event: 'notA' }));
	assert.deepEqual(await h.withTimeout(toB.then(() => 'ok'), 3000, 'notA'), 'ok');
	await notA;
});

test('nsp selects the namespace', async () => {
	const o = await h.connectAuthed(env.sg.url + '/other', { claims: { sub: h.uniq('o') } });
	const got = h.once(o, 'ns');
	publish('{"nsp":"/other","event":"ns","data":true}');
	assert.equal(await got, true);
});

test('bad JSON, a missing event, a reserved name and bad fields are dropped and logged; good messages still flow', async () => {
	const a = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('a') } });
	for (const bad of ['{bad json', '[1,2]', '{"data":1}', '{"event":"disconnect"}',
		'{"event":"x","to":[1]}', '{"event":"x","nsp":"nope"}', ''])
		publish(bad);
	const got = h.once(a, 'after');
	publish('{"event":"after","unknownField":{"ignored":true}}');
	await got;
	await env.sg.waitForLog(/bridge: dropped a message on siogate#send: bad JSON/, 3000);
	await env.sg.waitForLog(/reserved event name/, 3000);
});

test('a namespace not in namespaces is named once in a warning with the fix (JSON channel, emitter)', async () => {
	const a = await h.connectAuthed(env.sg.url, { claims: { sub: h.uniq('a') } });
	const mark = env.sg.mark();
	const line = (nsp) => new RegExp(`warn bridge: a message for namespace ${nsp} \\(on [^)]*\\) reaches no ` +
		`client: it is not in namespaces; add it there \\(namespaces: \\["/", "${nsp}"\\]\\)`);
	/* the JSON channel, twice */
	publish('{"nsp":"/nope","event":"x"}');
	publish('{"nsp":"/nope","event":"x"}');
	/* the emitter, twice (worker 0 sees every namespace's adapter channel) */
	env.emitter.of('/elsewhere').emit('y', 1);
	env.emitter.of('/elsewhere').to('room').emit('y', 2);
	/* a configured namespace is not named */
	env.emitter.of('/other').emit('z', 3);
	/* Redis delivers in order: once the fence arrived, so did everything before it */
	await h.fence(env.emitter, a);
	await env.sg.waitForLog(line('/nope'), 5000, mark);
	await env.sg.waitForLog(line('/elsewhere'), 5000, mark);
	publish('{"nsp":"/nope","event":"x"}');
	await h.fence(env.emitter, a);
	assert.equal(env.sg.countLog(line('/nope'), mark), 1, env.sg.log().slice(mark));
	assert.equal(env.sg.countLog(line('/elsewhere'), mark), 1, env.sg.log().slice(mark));
	assert.equal(env.sg.countLog(/a message for namespace \/other /, mark), 0);
	assert.equal(env.sg.countLog(/a message for namespace \/ /, mark), 0);
});
