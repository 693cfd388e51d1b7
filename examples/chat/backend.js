'use strict';
/*
 * backend.js: the chat's backend, in any language this would be as short.  siogate forwards
 * every `chat:*` event a client emits here (events.forward, an HTTP POST of
 * {id, nsp, user, event, data, ack, time, server}); the backend checks it and publishes the
 * message on siogate's JSON channel, so every client in the room, on every siogate, gets it.
 * The JSON answer becomes the client's ack.  Needs: npm install redis@4.
 *   PORT (8001), REDIS_URL (redis://127.0.0.1:6379), CHANNEL (siogate#send)
 */
const http = require('node:http');
const { createClient } = require('redis');

const port = Number(process.env.PORT || 8001);
const channel = process.env.CHANNEL || 'siogate#send';
const redis = createClient({ url: process.env.REDIS_URL || 'redis://127.0.0.1:6379' });
redis.on('error', (err) => console.error('backend: redis:', err.message));

function answer(res, status, body) {
	res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

const server = http.createServer((req, res) => {
	let body = '';
	req.setEncoding('utf8');
	req.on('data', (chunk) => { body += chunk; });
	req.on('end', async () => {
		let ev;
		try {
			ev = JSON.parse(body);
		} catch {
			return answer(res, 400, { ok: false, error: 'not JSON' });
		}
		const { room, text } = ev.data || {};
		if (ev.event !== 'chat:send' || typeof room !== 'string' || !room.startsWith('public-') ||
		    typeof text !== 'string' || text.length === 0 || text.length > 500)
			return answer(res, 200, { ok: false, error: 'a message is {room: "public-...", text: 1 to 500 characters}' });
		const message = { room, from: ev.user, text, time: ev.time };
		try {
			await redis.publish(channel, JSON.stringify({ nsp: ev.nsp, to: [room], event: 'chat:message', data: message }));
		} catch (err) {
			return answer(res, 503, { ok: false, error: `not sent: ${err.message}` });
		}
		answer(res, 200, { ok: true });
	});
});

redis.connect().then(() => server.listen(port, '127.0.0.1', () => console.log(`backend: listening on 127.0.0.1:${port}`)));
process.on('SIGTERM', () => server.close(() => redis.quit().then(() => process.exit(0))));
