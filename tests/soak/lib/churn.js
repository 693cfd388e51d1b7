'use strict';
/*
 * churn.js: the churning clients, in a child process of soak.js (child_process.fork), so that
 * their CPU does not delay the stable clients, the verifier or the sampling.
 *
 * The parent sends {cmd: 'start', urls, secret, concurrency, lifetime: [lo, hi], badTokens,
 * seed}; then `concurrency` slots each run clients one after the other: connect to the next
 * instance (40% polling only, 40% WebSocket only, 20% the default polling-then-upgrade), with a
 * valid token (or, for a fraction badTokens, an invalid one), authenticate, join 1 to 3 of the
 * rooms soak-churn-0..19, stay for a random lifetime counting the `churn` events they get, and
 * close.  A client refused with the seed's "Failed to authenticate" message (a verifier burst)
 * retries with a new connection after 0.5-2 s, up to 30 times.  {cmd: 'stop'} closes every
 * client; the child answers {type: 'final', stats} and exits.  Every 5 s it sends
 * {type: 'progress', stats}.
 */

const h = require('../../integration/lib/harness');
const { rng } = require('./rng');

const FAILED = 'Failed to authenticate connection! Please login again!';
const INVALID = 'Invalid token to authenticate! Please login again!';

const stats = {
	clients: 0, /* churn clients started */
	connections: 0, /* connection attempts (a retry is a new connection) */
	authenticated: 0,
	closedByUs: 0,
	failedAuth: 0, /* unauthenticated with the seed's "Failed..." (verifier down): retried */
	failedAuthTimes: [], /* when each arrived (ms), to match them with the verifier's bursts */
	rejectedBadToken: 0, /* unauthenticated "Invalid token..." for a bad token: expected */
	rejectedValidToken: 0, /* "Invalid token..." for a valid token: wrong */
	acceptedBadToken: 0, /* a bad token authenticated: wrong */
	gaveUp: 0, /* still failing after 30 attempts */
	joins: 0,
	joinMismatch: 0,
	events: 0, /* churn events received */
	active: 0,
	maxActive: 0,
	byTransport: { polling: 0, websocket: 0, upgrade: 0 },
	upgraded: 0,
	unexpected: {}, /* 'what: message' -> count */
	unexpectedSamples: [],
	lagMaxMs: 0,
};

let running = false;
const live = new Set();
const sleepers = new Set();

function unexpected(what, err, at) {
	const key = `${what}: ${String(err && err.message ? err.message : err).slice(0, 100)}`;
	stats.unexpected[key] = (stats.unexpected[key] || 0) + 1;
	if (stats.unexpectedSamples.length < 30)
		stats.unexpectedSamples.push({ at, key });
}

/* A sleep that stop() cuts short. */
function sleep(ms) {
	return new Promise((resolve) => {
		const s = { resolve, timer: setTimeout(() => { sleepers.delete(s); resolve(); }, ms) };
		sleepers.add(s);
	});
}

async function oneClient(cfg, rnd, slot, seq) {
	const url = cfg.urls[seq % cfg.urls.length];
	const r = rnd();
	const kind = r < 0.4 ? 'polling' : r < 0.8 ? 'websocket' : 'upgrade';
	const transports = kind === 'polling' ? ['polling'] : kind === 'websocket' ? ['websocket'] : ['polling', 'websocket'];
	const bad = rnd() < cfg.badTokens;
	const sub = `churn-${slot}-${seq}`;
	const tok = bad ? `not-a-token-${seq}` : h.token({ sub, kind: 'churn' }, { secret: cfg.secret });
	const lifetime = cfg.lifetime[0] + rnd() * (cfg.lifetime[1] - cfg.lifetime[0]);
	stats.clients++;
	stats.byTransport[kind]++;
	for (let attempt = 1; running; attempt++) {
		stats.connections++;
		let s;
		try {
			s = await h.connect(url, { track: false, timeoutMs: 20000, transports, auth: { token: tok } });
		} catch (err) {
			if (running)
				unexpected('connect', err, Date.now());
			await sleep(1000);
			return;
		}
		live.add(s);
		stats.active++;
		stats.maxActive = Math.max(stats.maxActive, stats.active);
		let ours = false;
		let result = 'done';
		s.on('disconnect', (reason) => {
			live.delete(s);
			stats.active--;
			if (!ours && running && result === 'authenticated')
				unexpected('disconnected', reason, Date.now());
		});
		try {
			await h.authenticate(s, {}, 20000);
			result = 'authenticated';
		} catch (err) {
			const msg = err.payload && err.payload.message;
			result = msg === FAILED ? 'failed' : msg === INVALID ? 'invalid' : 'error';
			if (result === 'error' && running)
				unexpected('authenticate', err, Date.now());
		}
		if (result === 'authenticated') {
			stats.authenticated++;
			if (bad)
				stats.acceptedBadToken++;
			if (s.io.engine.transport.name === 'websocket' && kind === 'upgrade')
				stats.upgraded++;
			s.on('churn', () => { stats.events++; });
			const rooms = [];
			const k = 1 + Math.floor(rnd() * 3);
			while (rooms.length < k) {
				const room = `soak-churn-${Math.floor(rnd() * 20)}`;
				if (!rooms.includes(room))
					rooms.push(room);
			}
			try {
				const ack = await h.withTimeout(new Promise((resolve) => s.emit('join', { rooms }, resolve)),
					20000, 'the join ack');
				stats.joins++;
				if (!ack || !Array.isArray(ack.rooms) || ack.rooms.length !== rooms.length)
					stats.joinMismatch++;
			} catch (err) {
				if (running && s.connected)
					unexpected('join', err, Date.now());
			}
			await sleep(lifetime);
			ours = true;
			if (s.connected)
				stats.closedByUs++;
			s.close();
			return;
		}
		ours = true;
		s.close();
		if (result === 'failed') {
			stats.failedAuth++;
			stats.failedAuthTimes.push(Date.now());
			if (attempt >= 30) {
				stats.gaveUp++;
				return;
			}
			await sleep(500 + rnd() * 1500);
			continue;
		}
		if (result === 'invalid') {
			if (bad)
				stats.rejectedBadToken++;
			else
				stats.rejectedValidToken++;
		}
		return;
	}
}

async function slotLoop(cfg, rnd, slot, counter) {
	/* ramp up over the first 10 s */
	await sleep(rnd() * 10000);
	while (running) {
		counter.n++;
		await oneClient(cfg, rnd, slot, counter.n).catch((err) => unexpected('client', err, Date.now()));
	}
}

function snapshot() {
	return { ...stats, failedAuthTimes: undefined };
}

process.on('message', async (msg) => {
	if (msg.cmd === 'start') {
		running = true;
		const rnd = rng(msg.seed);
		const counter = { n: 0 };
		let lastTick = Date.now();
		const lagTimer = setInterval(() => {
			const now = Date.now();
			stats.lagMaxMs = Math.max(stats.lagMaxMs, now - lastTick - 500);
			lastTick = now;
		}, 500);
		const progress = setInterval(() => process.send({ type: 'progress', stats: snapshot() }), 5000);
		const slots = Array.from({ length: msg.concurrency }, (_, i) => slotLoop(msg, rnd, i, counter));
		process.once('message', async (m2) => {
			if (m2.cmd !== 'stop')
				return;
			running = false;
			for (const s of sleepers) {
				clearTimeout(s.timer);
				s.resolve();
			}
			sleepers.clear();
			for (const s of live)
				s.close();
			await h.withTimeout(Promise.all(slots), 30000, 'the churn slots to end').catch(() => {});
			clearInterval(progress);
			clearInterval(lagTimer);
			process.send({ type: 'final', stats }, () => process.exit(0));
		});
	}
});
