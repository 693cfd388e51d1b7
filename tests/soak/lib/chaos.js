'use strict';
/*
 * chaos.js: what the soak does to Redis and to the siogate processes on its schedule.
 *
 * Redis: SIGKILL, then a new redis-server on the same port after SOAK_REDIS_DOWN; or SIGSTOP for
 * SOAK_REDIS_STOP, then SIGCONT.  Each event is an outage window, from the signal until /readyz
 * answers 200 on every instance again, plus SOAK_SETTLE: the only time the stream may lose
 * messages.  SIGHUP: the instance's configuration file is rewritten with the other log level
 * (info <-> debug) and the process reloads it; the event waits for `reload: configuration applied`.
 */

const fs = require('node:fs');
const h = require('../../integration/lib/harness');

/** Polls every instance's /readyz until all answer 200; resolves the time, or null after ms. */
async function waitReady(instances, ms) {
	const deadline = Date.now() + ms;
	for (;;) {
		const st = await Promise.all(instances.map((sg) => h.readyz(sg).then((r) => r.status, () => 0)));
		if (st.every((s) => s === 200))
			return Date.now();
		if (Date.now() > deadline)
			return null;
		await h.delay(200);
	}
}

/* How long before a SIGKILL of Redis a PUBLISH it answered may still be lost (see begin()). */
const KILL_LEAD_MS = 20;

/**
 * The Redis under chaos: holds the current redis handle (h.startRedis) and its state
 * ('up', 'killed', 'stopped').  kill() and stop() run one event each and resolve its record
 * {kind, at, back, ready, end, error}; `end` closes the outage window.
 */
function redisChaos(redis, instances, o) {
	const self = {
		redis,
		state: 'up',
		events: [],
		windows: [],
		/* an event starts: its record and its outage window, open until finish() */
		begin(kind, state) {
			const ev = { kind, at: Date.now(), back: null, ready: null, end: null, error: null };
			/* Redis answers a PUBLISH before it has written the message to its subscribers'
			 * sockets (both wait for the end of its event-loop turn): a SIGKILL just after the
			 * answer loses the message in Redis itself, so a kill's window opens a little
			 * before the signal.  A SIGSTOP loses nothing: its window opens at the signal. */
			const win = { start: kind === 'redis-kill' ? ev.at - KILL_LEAD_MS : ev.at, end: Infinity };
			self.events.push(ev);
			self.windows.push(win);
			self.state = state;
			return { ev, win };
		},
		async kill() {
			const { ev, win } = self.begin('redis-kill', 'killed');
			try {
				process.kill(self.redis.pid, 'SIGKILL');
			} catch {
				/* gone already */
			}
			await self.redis.stop().catch(() => {});
			await h.delay(o.redisDown);
			for (let i = 0; i < 20 && ev.back === null; i++) {
				try {
					self.redis = await h.startRedis({ port: self.redis.port });
					ev.back = Date.now();
				} catch (err) {
					ev.error = `restart: ${err.message.split('\n')[0]}`;
					await h.delay(500);
				}
			}
			self.state = ev.back ? 'up' : 'down';
			return self.finish(ev, win);
		},
		async stop() {
			const { ev, win } = self.begin('redis-stop', 'stopped');
			process.kill(self.redis.pid, 'SIGSTOP');
			await h.delay(o.redisStop);
			process.kill(self.redis.pid, 'SIGCONT');
			ev.back = Date.now();
			self.state = 'up';
			return self.finish(ev, win);
		},
		async finish(ev, win) {
			ev.ready = await waitReady(instances, 60000);
			if (ev.ready === null)
				ev.error = (ev.error ? `${ev.error}; ` : '') + '/readyz not 200 on every instance within 60 s';
			ev.end = (ev.ready || Date.now()) + o.settle;
			win.end = ev.end;
			return ev;
		},
	};
	return self;
}

/** Rewrites sg's configuration with the other log level and sends SIGHUP; resolves the record. */
async function sighup(sg, name) {
	const cur = sg.config.log.level;
	const next = cur === 'info' ? 'debug' : 'info';
	const ev = { kind: 'sighup', instance: name, at: Date.now(), level: next, applied: null, error: null };
	sg.config.log.level = next;
	fs.writeFileSync(sg.file, h.yaml(sg.config), { mode: 0o600 });
	const mark = sg.mark();
	process.kill(sg.pid, 'SIGHUP');
	try {
		await sg.waitForLog(/reload: configuration applied|reload: .* has errors/, 15000, mark);
		const tail = sg.log().slice(mark);
		if (/reload: configuration applied/.test(tail))
			ev.applied = Date.now();
		else
			ev.error = 'the reload failed: ' + (tail.match(/reload: .*/) || [''])[0];
	} catch (err) {
		ev.error = err.message.split('\n')[0];
	}
	return ev;
}

module.exports = { redisChaos, sighup, waitReady };
