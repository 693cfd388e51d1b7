'use strict';
/*
 * verifier.js: the soak's HTTP verifier (auth.verifier: http), a real Node http server on a free
 * loopback port.  Normally it verifies the JWT of the CONNECT auth payload (HS256, the harness's
 * secret) and answers {ok: true, user} or {ok: false}.  setMode('hang') makes it hold every
 * request past siogate's auth.http.timeout (the held requests get a late 200 when the burst
 * ends: siogate must ignore it); setMode('500') makes it answer 500.  Every burst is recorded
 * with its start and end times, so that failed authentications can be attributed.
 */

const http = require('node:http');
const { createRequire } = require('node:module');
const path = require('node:path');

const req = createRequire(path.resolve(__dirname, '..', '..', 'integration', 'package.json'));
const jwt = req('jsonwebtoken');

function startVerifier(secret) {
	let mode = 'ok';
	const held = new Set();
	const bursts = [];
	const stats = { calls: 0, accepted: 0, refused: 0, hung: 0, errors500: 0, late: 0 };

	const verdict = (body) => {
		let hs = null;
		try {
			hs = JSON.parse(body);
		} catch {
			return { ok: false };
		}
		const tok = hs && hs.auth && typeof hs.auth.token === 'string' ? hs.auth.token : '';
		try {
			const claims = jwt.verify(tok, secret, { algorithms: ['HS256'] });
			return { ok: true, user: String(claims.sub), claims: { kind: claims.kind || 'churn' } };
		} catch {
			/* no message: siogate sends the seed's "Invalid token..." */
			return { ok: false };
		}
	};
	const answer = (res, v) => {
		if (v.ok)
			stats.accepted++;
		else
			stats.refused++;
		res.writeHead(200, { 'content-type': 'application/json' });
		res.end(JSON.stringify(v));
	};

	const server = http.createServer((rq, res) => {
		const chunks = [];
		rq.on('data', (d) => chunks.push(d));
		rq.on('end', () => {
			stats.calls++;
			const v = verdict(Buffer.concat(chunks).toString('utf8'));
			if (mode === '500') {
				stats.errors500++;
				res.writeHead(500, { 'content-type': 'application/json' });
				res.end('{"error":"soak: verifier burst"}');
			} else if (mode === 'hang') {
				stats.hung++;
				held.add({ res, v });
			} else {
				answer(res, v);
			}
		});
		rq.on('error', () => {});
	});
	server.keepAliveTimeout = 30000;

	return new Promise((resolve, reject) => {
		server.on('error', reject);
		server.listen(0, '127.0.0.1', () => resolve({
			url: `http://127.0.0.1:${server.address().port}/soak/auth`,
			stats,
			bursts,
			mode: () => mode,
			/* 'ok', 'hang' or '500' */
			setMode(m) {
				const now = Date.now();
				if (mode !== 'ok')
					bursts[bursts.length - 1].end = now;
				if (m !== 'ok')
					bursts.push({ kind: m, start: now, end: null });
				mode = m;
				if (m !== 'hang') {
					for (const h of held) {
						stats.late++;
						if (!h.res.destroyed)
							answer(h.res, h.v);
					}
					held.clear();
				}
			},
			close() {
				for (const h of held)
					h.res.destroy();
				held.clear();
				return new Promise((r) => {
					server.closeAllConnections();
					server.close(() => r());
				});
			},
		}));
	});
}

module.exports = { startVerifier };
