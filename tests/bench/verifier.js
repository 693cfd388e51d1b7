'use strict';
/*
 * verifier.js: an HTTP verifier for tests/bench/verifier-bench.sh: accepts every token after
 * DELAY_MS (default 2), keeps connections alive, and on SIGUSR2 prints what it saw as one JSON
 * line: {"connections": N, "requests": N}.  Listens on 127.0.0.1:PORT (argv[2]).
 */
const http = require('node:http');

const port = Number(process.argv[2]);
const delay = Number(process.env.DELAY_MS || 2);
let connections = 0;
let requests = 0;
const server = http.createServer((req, res) => {
	requests++;
	req.resume();
	req.on('end', () => setTimeout(() => {
		res.writeHead(200, { 'content-type': 'application/json' });
		res.end('{"ok":true,"user":"bench"}');
	}, delay));
});
server.keepAliveTimeout = 60000;
server.on('connection', () => { connections++; });
process.on('SIGUSR2', () => {
	console.log(JSON.stringify({ connections, requests }));
	connections = 0;
	requests = 0;
});
server.listen(port, '127.0.0.1', () => console.log(`verifier listening on ${port}`));
