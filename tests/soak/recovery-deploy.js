'use strict';
/*
 * recovery-deploy.js: the deploy of issue 17 at scale, outside `make check`.  Two siogate
 * instances (server.workers: 2 each, recovery.enabled) share a private redis-server; CLIENTS
 * real socket.io-clients connect to instance A, authenticate and join one of ROOMS rooms; an
 * emitter publishes RATE messages per second across the rooms, each with its room's sequence
 * number; A gets SIGTERM (server.drain_window DRAIN) and every client is sent to B (as a load
 * balancer would) when its connection ends.  The report counts, per client, the messages lost and
 * duplicated (sequence numbers checked) and whether it recovered (same id, socket.recovered).
 *
 *   node tests/soak/recovery-deploy.js           (after tests/integration/run installed its packages)
 *   RECOVERY_CLIENTS=1000 RECOVERY_ROOMS=20 RECOVERY_RATE=100 RECOVERY_DRAIN=2s node tests/soak/recovery-deploy.js
 *
 * SIOGATE_BIN picks the binary (default src/siogate).  Exit status 0 when nothing was lost or
 * duplicated and every client recovered, 1 otherwise, 2 when the run itself failed.
 */

const path = require('node:path');

process.env.SIOGATE_BIN = process.env.SIOGATE_BIN || path.resolve(__dirname, '../../src/siogate');
const h = require('../integration/lib/harness');
const { joinedClient } = require('../integration/lib/recovery');

const CLIENTS = Number(process.env.RECOVERY_CLIENTS || 1000);
const ROOMS = Number(process.env.RECOVERY_ROOMS || 20);
const RATE = Number(process.env.RECOVERY_RATE || 100);
const DRAIN = process.env.RECOVERY_DRAIN || '2s';

function config() {
	return {
		server: { workers: 2, drain_window: DRAIN },
		rooms: { allow: ['deploy-*'] },
		recovery: { enabled: true, max_disconnection: '2m' },
	};
}

async function main() {
	const redis = await h.startRedis();
	const a = await h.startSiogate({ redis, config: config() });
	const b = await h.startSiogate({ redis, config: config() });
	const emitter = await h.emitterFor(redis.url);
	const rooms = Array.from({ length: ROOMS }, (_, i) => `deploy-${i}`);
	const clients = [];
	let flow = null;
	let aStopped = false;
	try {
		const t0 = Date.now();
		for (let i = 0; i < CLIENTS; i += 50) {
			const batch = [];
			for (let k = i; k < Math.min(CLIENTS, i + 50); k++)
				batch.push(joinedClient(a, rooms[k % ROOMS]).then((s) => ({ s, room: k % ROOMS })));
			for (const { s, room } of await Promise.all(batch)) {
				const c = { s, room, id: s.id, seq: [], recovered: null };
				s.on('n', (v) => c.seq.push(v));
				s.on('connect', () => {
					c.recovered = s.recovered;
				});
				s.io.uri = b.url; /* its next connection goes to B */
				clients.push(c);
			}
		}
		console.log(`${CLIENTS} clients on A in ${Date.now() - t0} ms`);
		const sent = rooms.map(() => 0);
		let turn = 0;
		const perTick = Math.max(1, Math.round(RATE / 100));
		flow = setInterval(() => {
			for (let i = 0; i < perTick; i++) {
				const k = turn++ % ROOMS;
				emitter.to(rooms[k]).emit('n', ++sent[k]);
			}
		}, 10);
		await h.delay(1000);
		const t1 = Date.now();
		const exit = await a.stop('SIGTERM');
		aStopped = true;
		console.log(`A stopped (${JSON.stringify(exit)}) in ${Date.now() - t1} ms`);
		await h.until(() => clients.every((c) => c.s.connected && c.recovered !== null), 120000,
			'every client to reconnect to B');
		console.log(`every client on B ${Date.now() - t1} ms after the SIGTERM`);
		await h.delay(1000);
		clearInterval(flow);
		flow = null;
		await emitter.redis.ping();
		await h.until(() => clients.every((c) => c.seq.length >= sent[c.room]), 30000, 'the last messages');
		let lost = 0;
		let duplicated = 0;
		let disordered = 0;
		let notRecovered = 0;
		for (const c of clients) {
			const seen = new Set(c.seq);
			lost += sent[c.room] - seen.size;
			duplicated += c.seq.length - seen.size;
			if (!c.seq.every((v, i) => v === i + 1))
				disordered++;
			if (!c.recovered || c.s.id !== c.id)
				notRecovered++;
		}
		const total = sent.reduce((x, y) => x + y, 0);
		console.log(`messages published: ${total} across ${ROOMS} rooms; deliveries expected: ` +
			`${clients.reduce((n, c) => n + sent[c.room], 0)}`);
		console.log(`lost: ${lost}  duplicated: ${duplicated}  clients out of order: ${disordered}  ` +
			`clients not recovered: ${notRecovered} of ${CLIENTS}`);
		console.log('B:', (await h.metrics(b)).split('\n').filter((l) => l.startsWith('siogate_recovery')).join('  '));
		return lost === 0 && duplicated === 0 && disordered === 0 && notRecovered === 0 ? 0 : 1;
	} finally {
		if (flow)
			clearInterval(flow);
		for (const c of clients)
			c.s.close();
		await emitter.close();
		if (!aStopped)
			await a.stop('SIGTERM').catch(() => {});
		await b.stop('SIGTERM').catch(() => {});
		await redis.stop().catch(() => {});
	}
}

main().then((code) => process.exit(code), (err) => {
	console.error(err);
	process.exit(2);
});
