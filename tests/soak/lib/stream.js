'use strict';
/*
 * stream.js: the fan-out stream and its stable subscribers.
 *
 * The publisher sends event `seq` {n} to room soak-stream at a steady rate, alternately through
 * @socket.io/redis-emitter (msgpack, adapter channel) and the JSON channel (siogate#send), and
 * records for every n when the PUBLISH was issued, when Redis answered, and whether it was
 * accepted (a publish refused while Redis is down was never published).
 *
 * Stable clients (never churned) connect to both instances on polling, WebSocket and the default
 * upgrade, authenticate, join soak-stream, and count every n they receive.  A stable client that
 * is disconnected records when and why (its own reason and siogate's `closed:` log line for its
 * session) and reconnects; each connection's subscription is an interval [join ack, disconnect].
 *
 * account() classifies, per client, every accepted n it did not receive: lost in a Redis outage
 * window (publish issued or answered inside it), lost while the client was not subscribed, or
 * unexplained; and counts duplicates.
 */

const h = require('../../integration/lib/harness');

const ROOM = 'soak-stream';
/* A missing message published up to this long before a stable client saw its disconnect is
 * counted as lost while disconnected (the close may take that long to be noticed). */
const DISCONNECT_MARGIN_MS = 5000;

/* ---------------------------------------------------------------- the publisher */

/**
 * A publisher on redisClient (node-redis v4, offline queue disabled so that a publish while
 * Redis is down fails at once).  start(rate) publishes rate messages a second; stop() stops;
 * settle(ms) waits until every publish has its answer.  Also publishes the churn rooms' traffic
 * and the bulk traffic of the slow-consumer waves (not accounted).
 */
function makePublisher(redisClient, opts) {
	const { Emitter } = opts.modules;
	let last = null;
	/* the emitter does not return the publish's promise: a thin client keeps it */
	const proxy = {
		publish: (ch, msg) => {
			last = redisClient.publish(ch, msg);
			return last;
		},
	};
	const emitter = new Emitter(proxy);
	const pub = {
		issued: [], /* ms */
		answered: [], /* ms */
		outcome: [], /* 0 pending, 1 accepted, 2 refused */
		method: [], /* 'e' emitter, 'j' JSON channel */
		errors: new Map(),
		churnSent: 0,
		churnFailed: 0,
		bulkSent: 0,
		bulkFailed: 0,
		timer: null,
		next: 0,
	};
	const track = (p, n) => {
		p.then(() => {
			pub.answered[n] = Date.now();
			pub.outcome[n] = 1;
		}, (err) => {
			pub.answered[n] = Date.now();
			pub.outcome[n] = 2;
			const k = String(err && err.message).slice(0, 80);
			pub.errors.set(k, (pub.errors.get(k) || 0) + 1);
		});
	};
	const publishOne = () => {
		const n = pub.next++;
		const m = n % 2 === 0 ? 'e' : 'j';
		pub.issued[n] = Date.now();
		pub.outcome[n] = 0;
		pub.method[n] = m;
		let p;
		try {
			if (m === 'e') {
				emitter.to(ROOM).emit('seq', { n });
				p = last;
			} else {
				p = redisClient.publish('siogate#send', JSON.stringify({ to: [ROOM], event: 'seq', data: { n } }));
			}
		} catch (err) {
			p = Promise.reject(err);
		}
		track(p, n);
	};
	const fireAndCount = (fn, okKey, failKey) => {
		let p;
		try {
			fn();
			p = last;
		} catch (err) {
			p = Promise.reject(err);
		}
		p.then(() => { pub[okKey]++; }, () => { pub[failKey]++; });
	};
	pub.start = (rate, churnRate, rnd) => {
		const t0 = Date.now();
		let k = 0;
		let churnDebt = 0;
		const step = 1000 / rate;
		const tick = () => {
			/* drift-free: catch up on the ticks the timer was late for */
			const now = Date.now();
			while (t0 + k * step <= now) {
				publishOne();
				k++;
				churnDebt += churnRate / rate;
				while (churnDebt >= 1) {
					churnDebt -= 1;
					const room = `soak-churn-${Math.floor(rnd() * 20)}`;
					fireAndCount(() => emitter.to(room).emit('churn', { room, t: now }), 'churnSent', 'churnFailed');
				}
			}
			pub.timer = setTimeout(tick, Math.max(1, t0 + k * step - Date.now()));
		};
		tick();
	};
	pub.stop = () => {
		clearTimeout(pub.timer);
		pub.timer = null;
	};
	/** One bulk message (size bytes) to room (the slow consumers' room). */
	pub.bulk = (room, payload) => fireAndCount(() => emitter.to(room).emit('bulk', payload), 'bulkSent', 'bulkFailed');
	pub.settle = async (ms) => {
		const deadline = Date.now() + ms;
		while (pub.outcome.some((o) => o === 0) && Date.now() < deadline)
			await h.delay(100);
		return pub.outcome.filter((o) => o === 0).length;
	};
	return pub;
}

/* ---------------------------------------------------------------- stable clients */

const FAILED = 'Failed to authenticate connection! Please login again!';

class StableClient {
	constructor(idx, instance, transports, tokenText) {
		this.idx = idx;
		this.instance = instance; /* index into the instances array */
		this.transports = transports; /* 'polling', 'websocket' or 'upgrade' */
		this.token = tokenText;
		this.socket = null;
		this.sid = null;
		this.recv = new Uint8Array(1024);
		this.maxSeen = -1;
		this.intervals = []; /* {start, end} of each subscription */
		this.disconnects = []; /* {at, reason, sid, serverReason} */
		this.authFailures = 0;
		this.attempts = 0;
		this.reconnecting = null;
		this.stopping = false;
	}

	record(n) {
		if (!Number.isInteger(n) || n < 0)
			return;
		if (n >= this.recv.length) {
			const grown = new Uint8Array(Math.max(this.recv.length * 2, n + 1024));
			grown.set(this.recv);
			this.recv = grown;
		}
		if (this.recv[n] < 255)
			this.recv[n]++;
		if (n > this.maxSeen)
			this.maxSeen = n;
	}

	ioOpts() {
		const t = this.transports;
		return t === 'polling' ? { transports: ['polling'] }
			: t === 'websocket' ? { transports: ['websocket'] }
				: { transports: ['polling', 'websocket'], upgrade: true };
	}

	/**
	 * Connects, authenticates and joins soak-stream, retrying (each second, for up to
	 * deadlineMs) while the verifier is in a burst or the connection fails.
	 */
	async subscribe(url, deadlineMs) {
		const deadline = Date.now() + deadlineMs;
		let lastErr = null;
		while (Date.now() < deadline && !this.stopping) {
			this.attempts++;
			let s = null;
			try {
				s = await h.connect(url, { keep: true, timeoutMs: 20000, auth: { token: this.token }, ...this.ioOpts() });
				s.on('seq', (d) => this.record(d && d.n));
				await h.authenticate(s, {}, 20000);
				const ack = await h.withTimeout(new Promise((resolve) => s.emit('join', { rooms: [ROOM] }, resolve)),
					20000, 'the join ack');
				if (!ack || !Array.isArray(ack.rooms) || !ack.rooms.includes(ROOM))
					throw new Error(`join refused: ${JSON.stringify(ack)}`);
				this.socket = s;
				this.sid = s.io.engine.id;
				this.socketId = s.id;
				this.intervals.push({ start: Date.now(), end: null, sid: this.sid });
				s.on('disconnect', (reason) => this.onDisconnect(s, reason, url));
				return;
			} catch (err) {
				lastErr = err;
				if (err.payload && err.payload.message === FAILED)
					this.authFailures++;
				if (s)
					s.close();
				await h.delay(1000);
			}
		}
		throw new Error(`stable client ${this.idx} could not subscribe: ${lastErr && lastErr.message}`);
	}

	onDisconnect(s, reason, url) {
		if (s !== this.socket)
			return;
		const cur = this.intervals[this.intervals.length - 1];
		cur.end = Date.now();
		this.socket = null;
		if (this.stopping)
			return;
		cur.lost = true;
		this.disconnects.push({ at: cur.end, reason, sid: this.sid, socketId: this.socketId, serverReason: null,
			instance: this.instance });
		s.close();
		this.reconnecting = h.delay(1000).then(() => this.subscribe(url, 120000)).catch((err) => {
			this.reconnectError = err.message;
		}).finally(() => {
			this.reconnecting = null;
		});
	}

	close() {
		this.stopping = true;
		const cur = this.intervals[this.intervals.length - 1];
		if (cur && cur.end === null)
			cur.end = Date.now();
		if (this.socket)
			this.socket.close();
		this.socket = null;
	}
}

/**
 * Creates n stable clients spread evenly over the instances and the three transport setups,
 * and subscribes them (a few at a time).  Resolves the array.
 */
async function startStable(instances, n, mkToken) {
	const kinds = ['polling', 'websocket', 'upgrade', 'polling', 'websocket'];
	const list = [];
	for (let i = 0; i < n; i++)
		list.push(new StableClient(i, i % instances.length, kinds[Math.floor(i / instances.length) % kinds.length],
			mkToken(i)));
	const queue = [...list];
	const workers = Array.from({ length: 10 }, async () => {
		for (let c = queue.shift(); c; c = queue.shift())
			await c.subscribe(instances[c.instance].url, 60000);
	});
	await Promise.all(workers);
	return list;
}

/* ---------------------------------------------------------------- accounting */

function overlaps(a0, a1, b0, b1) {
	return a0 <= b1 && b0 <= a1;
}

/* Until when a subscription surely held: its end, less a margin when it ended by a disconnect. */
function subscribedUntil(iv) {
	if (iv.end === null)
		return Infinity;
	return iv.lost ? iv.end - DISCONNECT_MARGIN_MS : iv.end;
}

/**
 * Classifies, for each stable client, every accepted message it missed and every duplicate.
 * windows: the Redis outage windows [{start, end}].  Returns the totals and per-client rows.
 */
function account(pub, clients, windows) {
	const total = { expected: 0, received: 0, outage: 0, disconnected: 0, unexplained: 0, duplicates: 0,
		outOfWindowRefused: 0 };
	const rows = [];
	const unexplainedSamples = [];
	const N = pub.next;
	const inOutage = new Uint8Array(N);
	for (let n = 0; n < N; n++) {
		const a = pub.issued[n];
		const b = pub.answered[n] || a;
		if (windows.some((w) => overlaps(a, b, w.start, w.end)))
			inOutage[n] = 1;
		if (pub.outcome[n] === 2 && !inOutage[n])
			total.outOfWindowRefused++;
	}
	for (const c of clients) {
		const row = { idx: c.idx, expected: 0, outage: 0, disconnected: 0, unexplained: 0, duplicates: 0 };
		const first = c.intervals.length ? c.intervals[0].start : Infinity;
		for (let n = 0; n < N; n++) {
			const got = n < c.recv.length ? c.recv[n] : 0;
			if (got > 1)
				row.duplicates += got - 1;
			if (pub.outcome[n] !== 1 || pub.issued[n] < first)
				continue;
			row.expected++;
			if (got > 0)
				continue;
			const a = pub.issued[n];
			const b = pub.answered[n];
			if (inOutage[n]) {
				row.outage++;
			} else if (!c.intervals.some((iv) => a >= iv.start && b <= subscribedUntil(iv))) {
				row.disconnected++;
			} else {
				row.unexplained++;
				if (unexplainedSamples.length < 20)
					unexplainedSamples.push({ client: c.idx, n, method: pub.method[n], issued: a, answered: b });
			}
		}
		for (const k of ['expected', 'outage', 'disconnected', 'unexplained', 'duplicates'])
			total[k] += row[k];
		rows.push(row);
	}
	total.received = total.expected - total.outage - total.disconnected - total.unexplained;
	return { total, rows, unexplainedSamples };
}

module.exports = { ROOM, makePublisher, startStable, account, StableClient };
