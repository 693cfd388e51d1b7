'use strict';
/*
 * lib/recovery.js: what the connection state recovery tests share: a client that reconnects at
 * once, and a cut of its TCP connection that is not a clean close.
 */

const h = require('./harness');

/* A client of sg that reconnects at once (no jitter), authenticated, in room. */
async function joinedClient(sg, room) {
	const s = await h.connect(sg.url, {
		auth: { token: h.token({ sub: h.uniq('rec') }) },
		reconnection: true,
		reconnectionDelay: 100,
		reconnectionDelayMax: 100,
		randomizationFactor: 0,
	});
	await h.authenticate(s);
	await s.timeout(3000).emitWithAck('join', { rooms: [room] });
	return s;
}

/* Cuts the client's TCP connection without a WebSocket close. */
function cut(s) {
	s.io.engine.transport.ws._socket.destroy();
}

module.exports = { joinedClient, cut };
