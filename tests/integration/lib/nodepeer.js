'use strict';
/*
 * nodepeer.js: a Node.js socket.io 4.8 server with @socket.io/redis-adapter on a given Redis,
 * the peer siogate must interoperate with in a mixed cluster.
 */

const http = require('node:http');
const { Server } = require('socket.io');
const { createAdapter } = require('@socket.io/redis-adapter');
const { createClient } = require('redis');
const h = require('./harness');

/**
 * Starts the peer and waits (bounded, 5 s) until its adapter counts `servers` servers (itself
 * included) through PUBSUB NUMSUB.  opts: servers (default 2), listen (default true: an HTTP
 * server on 127.0.0.1 for clients), onConnection (a connection handler on "/").  Resolves
 * { io, url (null without listen), pub (its connected publishing Redis client), close() }.
 */
async function startNodePeer(redisUrl, opts = {}) {
	const { servers = 2, listen = true, onConnection } = opts;
	const pub = createClient({ url: redisUrl, socket: { reconnectStrategy: false } });
	const sub = pub.duplicate();
	for (const c of [pub, sub]) c.on('error', () => {});
	await Promise.all([pub.connect(), sub.connect()]);
	const httpServer = listen ? http.createServer() : undefined;
	const io = new Server(httpServer, { adapter: createAdapter(pub, sub) });
	if (onConnection) io.on('connection', onConnection);
	const close = async () => {
		/* io.close() closes the adapters, the engine and the HTTP server; without an HTTP
		 * server there is no engine (io.close() would throw), only the adapter */
		if (httpServer)
			io.close();
		else
			await io.of('/').adapter.close();
		for (const c of [pub, sub]) await h.withTimeout(c.quit(), 3000, 'redis quit').catch(() => c.disconnect());
	};
	let url = null;
	try {
		if (httpServer) {
			await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
			url = `http://127.0.0.1:${httpServer.address().port}`;
		}
		const deadline = Date.now() + 5000;
		while ((await io.of('/').adapter.serverCount()) < servers) {
			if (Date.now() > deadline) throw new Error(`the Node peer never counted ${servers} servers`);
			await h.delay(50);
		}
	} catch (err) {
		await close();
		throw err;
	}
	return { io, url, pub, close };
}

module.exports = { startNodePeer };
