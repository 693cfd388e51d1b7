'use strict';
/*
 * attackers.js: the hostile clients of the soak.
 *
 * Slow consumers: raw clients that authenticate, join soak-bulk, and then never read (a raw
 * WebSocket whose TCP socket is paused) or never poll again (a long-polling session without
 * GETs), while the soak publishes bulk messages to soak-bulk.  siogate must close each as a
 * `slow consumer` (limits.output_soft / output_hard, small in the soak's configuration).
 *
 * The slow-body attacker: connections that send `POST /socket.io/?EIO=4&transport=polling&sid=x`
 * with `Content-Length: 1000000` and then one byte every few seconds, never finishing the body.
 * siogate should cut them (a body deadline); each cut connection is replaced, so the attack lasts
 * the whole run, bounded to a fixed number of connections.
 */

const h = require('../../integration/lib/harness');

const BULK_ROOM = 'soak-bulk';

/* ---------------------------------------------------------------- slow consumers */

/*
 * The close lines of a session, in either form siogate has written them:
 *   info  client 127.0.0.1:5000 closed: slow consumer (session SID)
 *   debug client closed: slow consumer addr=127.0.0.1 sid=SID worker=1   (facts as fields)
 */
const CLOSED_RE = /closed: ([^\n]+?)(?: \(session ([A-Za-z0-9_-]+)\)| [a-z]+=[^\n]*?\bsid=([A-Za-z0-9_-]+))/g;

/** Every session close line of log (from offset from): a Map sid -> reason. */
function closeReasons(log, from = 0) {
	const out = new Map();
	for (const m of log.slice(from).matchAll(CLOSED_RE))
		out.set(m[2] || m[3], m[1]);
	return out;
}

/** The Socket.IO socket id of a CONNECT answer (`40{"sid":"..."}`) in text. */
function socketIdIn(text) {
	const m = /40\{"sid":"([^"]+)"/.exec(text);
	return m ? m[1] : null;
}

/** A raw WebSocket client that authenticates, joins soak-bulk, and stops reading. */
async function wsConsumer(sg, tok) {
	const conn = await h.rawWsUpgrade(sg, 'EIO=4&transport=websocket');
	const frames = await conn.waitFrames(1, 10000);
	const sid = JSON.parse(frames[0].text.slice(1)).sid;
	conn.sendFrame(1, `40${JSON.stringify({ token: tok })}`);
	const socketId = socketIdIn(await conn.waitFor(/40\{"sid":"[^"]+"/, 10000));
	conn.sendFrame(1, '42["authenticate"]');
	await conn.waitFor(/"authenticated"/, 10000);
	conn.sendFrame(1, `420["join",{"rooms":["${BULK_ROOM}"]}]`);
	await conn.waitFor(/430\[/, 10000);
	conn.sock.pause();
	return { kind: 'websocket', sid, socketId, isClosed: () => conn.isClosed(), close: () => conn.close() };
}

/** A long-polling session that authenticates, joins soak-bulk, and never polls again. */
async function pollConsumer(sg, tok) {
	const p = await h.pollOpen(sg);
	const getUntil = async (re) => {
		let text = '';
		for (let i = 0; i < 20 && !re.test(text); i++) {
			const r = await p.get(10000);
			if (r.status !== 200)
				throw new Error(`poll GET answered ${r.status} ${r.body}`);
			text += r.body;
		}
		if (!re.test(text))
			throw new Error(`no ${re} in the polls: ${text.slice(0, 200)}`);
		return text;
	};
	await p.post(`40${JSON.stringify({ token: tok })}`);
	const socketId = socketIdIn(await getUntil(/40\{"sid":"[^"]+"/));
	await p.post('42["authenticate"]');
	await getUntil(/"authenticated"/);
	await p.post(`420["join",{"rooms":["${BULK_ROOM}"]}]`);
	await getUntil(/430\[/);
	let closed = false;
	return {
		kind: 'polling',
		sid: p.sid,
		socketId,
		isClosed: () => closed,
		/* siogate forgot the session: a GET is refused */
		probe: async () => {
			const r = await p.get(3000).catch(() => null);
			closed = Boolean(r && r.status === 400);
			return closed;
		},
		close: () => {},
	};
}

/**
 * One wave: perInstance consumers on each instance (alternately WebSocket and polling), bulk
 * messages to soak-bulk until siogate has closed every one or timeoutMs passed.  How siogate
 * closed a consumer: lifecycleReason(socketId) (the `disconnected` lifecycle event), or else its
 * session's close line in the log.  Returns {consumers: [{instance, kind, sid, reason, gone}],
 * errors, seconds, bulk}.
 */
async function slowConsumerWave(instances, perInstance, mkToken, pub, bulkRate, timeoutMs, lifecycleReason) {
	const consumers = [];
	const errors = [];
	for (let i = 0; i < instances.length; i++) {
		for (let k = 0; k < perInstance; k++) {
			const tok = mkToken(`slow-${i}-${k}`);
			const kind = k % 2 === 0 ? 'websocket' : 'polling';
			/* a verifier burst may refuse it: try again, for 30 s at most */
			let lastErr = null;
			for (const until = Date.now() + 30000; Date.now() < until;) {
				const mark = instances[i].mark();
				try {
					const c = kind === 'websocket' ? await wsConsumer(instances[i], tok) : await pollConsumer(instances[i], tok);
					c.instance = i;
					c.mark = mark;
					consumers.push(c);
					lastErr = null;
					break;
				} catch (err) {
					lastErr = err;
					await h.delay(1000);
				}
			}
			if (lastErr)
				errors.push(`instance ${i}: ${kind} consumer: ${lastErr.message.slice(0, 300)}`);
		}
	}
	const start = Date.now();
	const payload = { pad: 'z'.repeat(32 * 1024) };
	/* only the log written since the consumers connected is searched */
	const reasonOf = (c) => lifecycleReason(c.socketId) ||
		closeReasons(instances[c.instance].log(), c.mark).get(c.sid) || null;
	const done = () => consumers.every((c) => reasonOf(c) !== null);
	let k = 0;
	while (!done() && Date.now() - start < timeoutMs) {
		const due = Math.floor(((Date.now() - start) / 1000) * bulkRate);
		for (; k < due; k++)
			pub.bulk(BULK_ROOM, payload);
		await h.delay(50);
	}
	const out = [];
	for (const c of consumers) {
		const reason = reasonOf(c);
		if (c.probe)
			await c.probe();
		out.push({ instance: c.instance, kind: c.kind, sid: c.sid, reason, gone: c.isClosed() });
		c.close();
	}
	return { consumers: out, errors, seconds: (Date.now() - start) / 1000, bulk: k };
}

/* ---------------------------------------------------------------- the slow-body attacker */

/**
 * Keeps `count` slow-body connections open, spread over the instances, replacing each one siogate
 * cuts.  stop() closes them.  report(deadlineMs) counts what happened.
 */
function slowBodyAttack(instances, count, intervalMs) {
	const conns = []; /* {instance, openedAt, closedAt, answer, byUs} */
	let running = true;
	const timers = new Set();
	const openOne = async (i) => {
		if (!running)
			return;
		const sg = instances[i];
		let c;
		try {
			c = await h.rawTcpConnect(sg, 10000);
		} catch {
			const t = setTimeout(() => { timers.delete(t); openOne(i); }, 1000);
			timers.add(t);
			return;
		}
		const rec = { instance: i, openedAt: Date.now(), closedAt: null, answer: null, byUs: false, bytes: 0 };
		conns.push(rec);
		c.write(`POST /socket.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\nHost: 127.0.0.1:${sg.port}\r\n` +
			'Content-Type: text/plain;charset=UTF-8\r\nContent-Length: 1000000\r\n\r\n');
		const drip = setInterval(() => {
			if (!c.isClosed()) {
				c.write('x');
				rec.bytes++;
			}
		}, intervalMs);
		timers.add(drip);
		rec.close = () => {
			rec.byUs = true;
			c.close();
		};
		c.closed.then(() => {
			clearInterval(drip);
			timers.delete(drip);
			rec.closedAt = Date.now();
			rec.answer = (c.text().split('\r\n')[0] || '(nothing)').slice(0, 60);
			if (running && !rec.byUs) {
				const t = setTimeout(() => { timers.delete(t); openOne(i); }, 1000);
				timers.add(t);
			}
		});
	};
	for (let k = 0; k < count; k++)
		openOne(k % instances.length);
	return {
		conns,
		stop() {
			running = false;
			for (const t of timers) {
				clearTimeout(t);
				clearInterval(t);
			}
			timers.clear();
			for (const r of conns) {
				if (r.closedAt === null && r.close)
					r.close();
			}
		},
		/* computed before stop(): every connection's age, cut or still open */
		report(deadlineMs, now = Date.now()) {
			const cut = conns.filter((r) => r.closedAt !== null && !r.byUs);
			const open = conns.filter((r) => r.closedAt === null);
			const ages = cut.map((r) => r.closedAt - r.openedAt).sort((a, b) => a - b);
			const overdueOpen = open.filter((r) => now - r.openedAt > deadlineMs).length;
			const overdueCut = cut.filter((r) => r.closedAt - r.openedAt > deadlineMs).length;
			const answers = {};
			for (const r of cut)
				answers[r.answer] = (answers[r.answer] || 0) + 1;
			return {
				opened: conns.length,
				cut: cut.length,
				openNow: open.length,
				oldestOpenS: open.length ? Math.round((now - Math.min(...open.map((r) => r.openedAt))) / 1000) : 0,
				overdueOpen,
				overdueCut,
				cutAfterS: ages.length ? [ages[0], ages[Math.floor(ages.length / 2)], ages[ages.length - 1]]
					.map((x) => Math.round(x / 100) / 10) : null,
				answers,
			};
		},
	};
}

module.exports = { BULK_ROOM, slowConsumerWave, slowBodyAttack, closeReasons };
