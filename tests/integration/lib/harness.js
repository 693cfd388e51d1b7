'use strict';
/*
 * harness.js: the shared library of the siogate integration suites.  It starts real processes
 * (redis-server, siogate) on free loopback ports, real clients (socket.io-client, the
 * @socket.io/redis-emitter on node-redis v4, raw `ws` sockets), and wraps every wait in a bounded
 * timeout that fails with a message naming what was awaited.  Invariant: every process and client
 * it creates is tracked, and is stopped by the suite's `after` hook (useSiogate / cleanupHooks) or,
 * at the latest, killed by PID when the test process exits; nothing outlives a suite.
 *
 * Usual pattern (one redis and one siogate per file):
 *
 *   const h = require('./lib/harness');
 *   const env = h.useSiogate({ redis: true, config: { rooms: { allow: ['public-*'] } } });
 *   test('...', async () => {
 *     const s = await h.connectAuthed(env.sg.url, { claims: { sub: 'alice' } });
 *     env.emitter.to('io-default').emit('hi', 1);
 *     assert.equal(await h.once(s, 'hi'), 1);
 *   });
 *
 * useSiogate registers before (start redis if asked, start siogate, connect the emitter), afterEach
 * (close every client) and after (close, SIGTERM siogate, stop redis, assertCleanLog).
 *
 * Environment: SIOGATE_BIN (the binary; default ../../src/siogate from tests/integration),
 * SIOGATE_IT_VERBOSE=1 (copy every siogate/redis log line to stderr as it arrives),
 * SIOGATE_IT_KEEP=1 (keep the per-instance temp dirs, which hold siogate.yaml and siogate.log).
 */

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const jwt = require('jsonwebtoken');
const { io: ioClient } = require('socket.io-client');
const { Emitter } = require('@socket.io/redis-emitter');
const { createClient } = require('redis');
const WebSocket = require('ws');

/** Absolute path of the siogate binary under test. */
const SIOGATE_BIN = process.env.SIOGATE_BIN
	? path.resolve(process.env.SIOGATE_BIN)
	: path.resolve(__dirname, '..', '..', '..', 'src', 'siogate');

/** The HS256 secret every default config uses (auth.jwt.secret). */
const SECRET = 'siogate-integration-secret-0123456789abcdef';

/** What siogate says to a client whose token is refused (SPEC section 2). */
const MSG_INVALID_TOKEN = 'Invalid token to authenticate! Please login again!';

/** ISO-8601 UTC with milliseconds, as Date.prototype.toISOString() writes it. */
const ISO_MS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Log patterns that mean the daemon crashed, asserted or tripped a sanitizer. */
const BAD_LOG_PATTERNS = [
	'AddressSanitizer',
	'LeakSanitizer',
	'runtime error:',
	'fatal:',
	'Assertion',
	'Segmentation',
];

const DEFAULT_WAIT_MS = 3000;
const START_TIMEOUT_MS = 10000;
const STOP_TIMEOUT_MS = 10000;
const VERBOSE = process.env.SIOGATE_IT_VERBOSE === '1';
const KEEP = process.env.SIOGATE_IT_KEEP === '1';

/* Every child process and client created here, so that nothing can be left behind. */
const children = new Set();
const clients = new Map(); /* socket -> keep (survives closeClients() between tests) */

process.on('exit', () => {
	for (const child of children) {
		try {
			process.kill(child.pid, 'SIGKILL');
		} catch {
			/* already gone */
		}
	}
});

/* ---------------------------------------------------------------- small utilities */

/** Resolves after ms milliseconds (only for bounded "nothing arrives" checks and polling). */
function delay(ms) {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Races promise against a timer: resolves/rejects as promise does, or rejects with
 * Error(`timed out after N ms: what`) when ms pass first.
 */
function withTimeout(promise, ms, what) {
	let timer;
	const t = new Promise((_, reject) => {
		timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
	});
	return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

let uniqCounter = 0;
/** A name unique within this process run, e.g. uniq('public') -> 'public-3-k2x9q'. */
function uniq(prefix = 'r') {
	uniqCounter += 1;
	return `${prefix}-${uniqCounter}-${Math.random().toString(36).slice(2, 7)}`;
}

/** Asks the kernel for a free TCP port on 127.0.0.1 (listen on port 0, read it, close). */
function freePort() {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.unref();
		srv.on('error', reject);
		srv.listen(0, '127.0.0.1', () => {
			const { port } = srv.address();
			srv.close(() => resolve(port));
		});
	});
}

function makeTempDir(tag) {
	return fs.mkdtempSync(path.join(os.tmpdir(), `siogate-it-${tag}-`));
}

function removeDir(dir) {
	if (!KEEP)
		fs.rmSync(dir, { recursive: true, force: true });
}

function escapeRe(s) {
	return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function toRegExp(pattern) {
	return pattern instanceof RegExp ? pattern : new RegExp(escapeRe(String(pattern)));
}

/** The last n lines of a log, for error messages. */
function tail(text, n = 40) {
	const lines = text.split('\n');
	return lines.slice(Math.max(0, lines.length - n)).join('\n');
}

/* ---------------------------------------------------------------- YAML */

const YAML_PLAIN_RE = /^[A-Za-z0-9_./][A-Za-z0-9_./:@+-]*$/;
const YAML_RESERVED_RE = /^(true|false|yes|no|on|off|y|n|null|~)$/i;
const YAML_NUMBER_RE = /^([-+]?(\d[\d_]*(\.\d*)?|\.\d+)(e[-+]?\d+)?|0x[0-9a-f]+|0o[0-7]+|[-+]?\.(inf|nan))$/i;

function yamlScalar(v) {
	if (v === null)
		return 'null';
	if (typeof v === 'boolean')
		return v ? 'true' : 'false';
	if (typeof v === 'number') {
		if (!Number.isFinite(v))
			throw new Error(`yaml: non-finite number ${v}`);
		return String(v);
	}
	if (typeof v === 'string') {
		/* Durations such as 600ms start with a digit but are plain strings to YAML. */
		if (YAML_PLAIN_RE.test(v) && !YAML_RESERVED_RE.test(v) && !YAML_NUMBER_RE.test(v))
			return v;
		/* A JSON string is a valid YAML double-quoted scalar. */
		return JSON.stringify(v);
	}
	throw new Error(`yaml: unsupported value of type ${typeof v}`);
}

function yamlKey(k) {
	return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(k) && !YAML_RESERVED_RE.test(k) ? k : JSON.stringify(k);
}

function isPlainObject(v) {
	return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function yamlLines(v, indent, out) {
	const pad = ' '.repeat(indent);
	if (Array.isArray(v)) {
		for (const item of v) {
			if (isPlainObject(item) && Object.keys(item).length > 0) {
				/* "- k: v" then the other keys aligned under k */
				const sub = [];
				yamlLines(item, indent + 2, sub);
				sub[0] = `${pad}- ${sub[0].slice(indent + 2)}`;
				out.push(...sub);
			} else if (Array.isArray(item) && item.length > 0) {
				out.push(`${pad}-`);
				yamlLines(item, indent + 2, out);
			} else {
				out.push(`${pad}- ${yamlInline(item)}`);
			}
		}
		return;
	}
	for (const [k, val] of Object.entries(v)) {
		if (val === undefined)
			continue;
		if ((isPlainObject(val) && Object.keys(val).length > 0) || (Array.isArray(val) && val.length > 0)) {
			out.push(`${pad}${yamlKey(k)}:`);
			yamlLines(val, indent + 2, out);
		} else {
			out.push(`${pad}${yamlKey(k)}: ${yamlInline(val)}`);
		}
	}
}

function yamlInline(v) {
	if (Array.isArray(v) && v.length === 0)
		return '[]';
	if (isPlainObject(v) && Object.keys(v).length === 0)
		return '{}';
	return yamlScalar(v);
}

/**
 * Serializes a simple nested value (objects, arrays, strings, numbers, booleans, null) as block
 * YAML.  Object keys whose value is undefined are left out.  Strings are written plain when that
 * is unambiguous, otherwise double-quoted.
 */
function yaml(obj) {
	if (!isPlainObject(obj))
		throw new Error('yaml: the top level must be an object');
	const out = [];
	yamlLines(obj, 0, out);
	return out.join('\n') + '\n';
}

/**
 * Deep merge for configs: plain objects merge key by key, anything else (arrays, scalars, null)
 * replaces; a value of undefined in over deletes the key.  Neither argument is modified.
 */
function mergeConfig(base, over) {
	if (!isPlainObject(base) || !isPlainObject(over))
		return over === undefined ? base : over;
	const out = { ...base };
	for (const [k, v] of Object.entries(over)) {
		if (v === undefined)
			delete out[k];
		else if (isPlainObject(v) && isPlainObject(out[k]))
			out[k] = mergeConfig(out[k], v);
		else
			out[k] = v;
	}
	return out;
}

/**
 * The config every suite starts from: listen on 127.0.0.1:port, the admin listener on its own
 * free port (so that concurrent runs never collide on 9090), HS256 with SECRET, short shutdown,
 * log level info (per-client lines such as `closed:` are debug: a suite that waits for them sets
 * log: { level: 'debug' }), and redis.url when given.
 */
function defaultConfig({ port, adminPort, redisUrl }) {
	const cfg = {
		server: {
			listen: [`127.0.0.1:${port}`],
			// Two worker threads whatever the machine, so that every suite crosses workers
			// (hand-overs, merged admin answers); SIOGATE_IT_WORKERS overrides.
			workers: Number(process.env.SIOGATE_IT_WORKERS || 2),
			shutdown_timeout: '5s',
			drain_window: '100ms',
		},
		auth: {
			timeout: '10s',
			jwt: { algorithms: ['HS256'], secret: SECRET },
		},
		admin: { listen: `127.0.0.1:${adminPort}` },
		log: { level: 'info' },
	};
	if (redisUrl)
		cfg.redis = { url: redisUrl };
	return cfg;
}

/* ---------------------------------------------------------------- processes */

/*
 * Spawns a child whose stdout and stderr go into one log buffer.  Returns a record with the child,
 * log(), mark(), waitForLog(), the exit promise and exitInfo.
 */
function spawnLogged(tag, bin, args, opts = {}) {
	const child = spawn(bin, args, {
		cwd: opts.cwd,
		env: { ...process.env, ...(opts.env || {}) },
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	children.add(child);
	const rec = {
		child,
		pid: child.pid,
		text: '',
		exitInfo: null,
		spawnError: null,
		listeners: new Set(),
	};
	const onData = (chunk) => {
		const s = chunk.toString('utf8');
		rec.text += s;
		if (VERBOSE)
			process.stderr.write(s.replace(/^(?=.)/gm, `[${tag} ${child.pid}] `));
		if (opts.logFile)
			fs.appendFileSync(opts.logFile, s);
		for (const fn of rec.listeners)
			fn();
	};
	child.stdout.on('data', onData);
	child.stderr.on('data', onData);
	rec.exited = new Promise((resolve) => {
		child.on('error', (err) => {
			rec.spawnError = err;
			rec.exitInfo = rec.exitInfo || { code: null, signal: null, error: err };
			children.delete(child);
			for (const fn of rec.listeners)
				fn();
			resolve(rec.exitInfo);
		});
		/* 'close' (not 'exit') so that all output has been read */
		child.on('close', (code, signal) => {
			rec.exitInfo = rec.exitInfo || { code, signal };
			children.delete(child);
			for (const fn of rec.listeners)
				fn();
			resolve(rec.exitInfo);
		});
	});
	rec.log = () => rec.text;
	rec.mark = () => rec.text.length;
	rec.countLog = (pattern, from = 0) => {
		const re = toRegExp(pattern);
		const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
		return (rec.text.slice(from).match(g) || []).length;
	};
	/*
	 * Resolves with the match once the log (from offset `from`) matches pattern; rejects after
	 * timeoutMs, or at once if the process exits without the log matching.
	 */
	rec.waitForLog = (pattern, timeoutMs = DEFAULT_WAIT_MS, from = 0) => {
		const re = toRegExp(pattern);
		return new Promise((resolve, reject) => {
			let timer = null;
			const check = () => {
				const m = rec.text.slice(from).match(re);
				if (m) {
					done();
					resolve(m);
				} else if (rec.exitInfo) {
					done();
					reject(new Error(`${tag} exited (${fmtExit(rec.exitInfo)}) before its log matched ` +
						`${re}; log:\n${tail(rec.text)}`));
				}
			};
			const done = () => {
				clearTimeout(timer);
				rec.listeners.delete(check);
			};
			timer = setTimeout(() => {
				done();
				reject(new Error(`timed out after ${timeoutMs} ms waiting for ${tag} log ${re}; ` +
					`log:\n${tail(rec.text)}`));
			}, timeoutMs);
			rec.listeners.add(check);
			check();
		});
	};
	/*
	 * Sends signal to this child only (by PID), waits for it to exit (bounded); after the
	 * timeout sends SIGKILL and throws.  Returns {code, signal}.  Idempotent.
	 */
	rec.stop = async (signal = 'SIGTERM', timeoutMs = STOP_TIMEOUT_MS) => {
		if (rec.exitInfo)
			return rec.exitInfo;
		rec.sentSignal = signal;
		try {
			process.kill(child.pid, signal);
		} catch {
			/* exited meanwhile */
		}
		try {
			return await withTimeout(rec.exited, timeoutMs, `${tag} (pid ${child.pid}) to exit after ${signal}`);
		} catch (err) {
			try {
				process.kill(child.pid, 'SIGKILL');
			} catch {
				/* gone */
			}
			await withTimeout(rec.exited, 5000, `${tag} to exit after SIGKILL`).catch(() => {});
			throw new Error(`${err.message}; killed with SIGKILL; log:\n${tail(rec.text)}`);
		}
	};
	return rec;
}

function fmtExit(info) {
	if (!info)
		return 'running';
	if (info.error)
		return `spawn error ${info.error.message}`;
	return info.signal ? `signal ${info.signal}` : `code ${info.code}`;
}

/**
 * Starts `redis-server` on a free loopback port, no persistence, in the foreground, and waits
 * (10 s at most) for "Ready to accept connections".  Returns {port, url, pid, log(), stop()};
 * stop() sends SIGTERM to that PID and waits for the exit.  opts.port chooses the port; opts.args
 * are extra directives, later ones winning (e.g. ['--port', '0', '--tls-port', P, ...]: TLS only).
 */
async function startRedis(opts = {}) {
	const port = opts.port || await freePort();
	const dir = makeTempDir('redis');
	const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
		'--daemonize', 'no', '--dir', dir, ...(opts.args || [])];
	const rec = spawnLogged('redis-server', 'redis-server', args, { cwd: dir });
	try {
		await rec.waitForLog('Ready to accept connections', START_TIMEOUT_MS);
	} catch (err) {
		await rec.stop('SIGKILL').catch(() => {});
		removeDir(dir);
		if (rec.spawnError)
			throw new Error(`cannot run redis-server (${rec.spawnError.message}); install the ` +
				'redis-server package (make test-deps)');
		throw new Error(`redis-server did not become ready on port ${port}: ${err.message}`);
	}
	return {
		port,
		url: `redis://127.0.0.1:${port}`,
		pid: rec.pid,
		log: rec.log,
		async stop() {
			const info = await rec.stop('SIGTERM');
			removeDir(dir);
			return info;
		},
	};
}

/**
 * Starts siogate.
 *   opts.config   an object deep-merged over defaultConfig() (undefined deletes a key), or YAML
 *                 text in which {{PORT}}, {{ADMIN_PORT}}, {{REDIS_URL}} and {{SECRET}} are replaced
 *   opts.redis    a startRedis() handle or a redis:// URL: sets redis.url (object configs)
 *   opts.waitBridge  wait for "bridge: subscribed" from every worker too (default: when redis.url
 *                    is configured); sg.waitSubscribed(timeoutMs, from) waits for them later
 *   opts.args     extra command-line arguments; opts.env extra environment
 *   opts.files    {name: text | {text, mode}} written into the config's directory first (mode
 *                 0600 unless given), e.g. a key file that a relative secret_file names
 *   opts.wrap     a command that execs siogate, e.g. ['prlimit', '--nofile=160:160', '--']
 *                 (it must exec, not fork: sg.pid is siogate's)
 * Writes siogate.yaml in a new temp dir under os.tmpdir(), spawns `SIOGATE_BIN -c file`, and waits
 * (10 s at most) for "siogate ready".  Returns {port, adminPort, url, wsUrl, file, dir, pid,
 * config, log(), mark(), countLog(), waitForLog(pattern, timeoutMs, from), exited, stop(signal)}.
 * stop() resolves {code, signal}; the temp dir is removed by stop() when the log is clean.
 */
async function startSiogate(opts = {}) {
	if (!fs.existsSync(SIOGATE_BIN))
		throw new Error(`siogate binary not found at ${SIOGATE_BIN} (run make, or set SIOGATE_BIN)`);
	const dir = makeTempDir('sg');
	const port = opts.port || await freePort();
	const adminPort = await freePort();
	const redisUrl = typeof opts.redis === 'string' ? opts.redis : opts.redis ? opts.redis.url : null;
	let text;
	let config = null;
	if (typeof opts.config === 'string') {
		text = opts.config
			.replaceAll('{{PORT}}', String(port))
			.replaceAll('{{ADMIN_PORT}}', String(adminPort))
			.replaceAll('{{REDIS_URL}}', redisUrl || '')
			.replaceAll('{{SECRET}}', SECRET);
	} else {
		config = mergeConfig(defaultConfig({ port, adminPort, redisUrl }), opts.config || {});
		text = yaml(config);
	}
	for (const [name, f] of Object.entries(opts.files || {})) {
		const { text: content, mode = 0o600 } = typeof f === 'string' ? { text: f } : f;
		fs.writeFileSync(path.join(dir, name), content, { mode });
		fs.chmodSync(path.join(dir, name), mode); /* whatever the umask */
	}
	const file = path.join(dir, 'siogate.yaml');
	fs.writeFileSync(file, text, { mode: 0o600 });
	const logFile = path.join(dir, 'siogate.log');
	const argv = [SIOGATE_BIN, '-c', file, ...(opts.args || [])];
	const wrap = opts.wrap || [];
	const rec = spawnLogged('siogate', wrap.length ? wrap[0] : SIOGATE_BIN,
		[...wrap.slice(1), ...(wrap.length ? argv : argv.slice(1))], {
		cwd: dir,
		env: opts.env,
		logFile,
	});
	const waitBridge = opts.waitBridge !== undefined ? opts.waitBridge
		: config ? Boolean(config.redis && config.redis.url) : false;
	let workers = 1;
	/* every worker subscribes on its own: waits for `bridge: subscribed` from each, after from */
	const waitSubscribed = async (timeoutMs = START_TIMEOUT_MS, from = 0) => {
		const deadline = Date.now() + timeoutMs;
		while (rec.countLog('bridge: subscribed', from) < workers) {
			if (Date.now() > deadline)
				throw new Error(`timed out after ${timeoutMs} ms waiting for ${workers} x "bridge: subscribed"`);
			await delay(25);
		}
	};
	try {
		const ready = await rec.waitForLog(/siogate ready: .*, (\d+) workers?\)/, START_TIMEOUT_MS);
		workers = Number(ready[1]);
		if (waitBridge)
			await waitSubscribed();
	} catch (err) {
		await rec.stop('SIGKILL').catch(() => {});
		removeDir(dir);
		throw new Error(`siogate did not start; config ${file}:\n${text}\n${err.message}`);
	}
	const sg = {
		port,
		adminPort,
		url: `http://127.0.0.1:${port}`,
		wsUrl: `ws://127.0.0.1:${port}`,
		file,
		dir,
		pid: rec.pid,
		config,
		configText: text,
		log: rec.log,
		mark: rec.mark,
		countLog: rec.countLog,
		waitForLog: rec.waitForLog,
		waitSubscribed,
		workers,
		exited: rec.exited,
		get exitInfo() {
			return rec.exitInfo;
		},
		get sentSignal() {
			return rec.sentSignal;
		},
		async stop(signal = 'SIGTERM', timeoutMs = STOP_TIMEOUT_MS) {
			const info = await rec.stop(signal, timeoutMs);
			if (isCleanLog(rec.text))
				removeDir(dir);
			return info;
		},
	};
	return sg;
}

function isCleanLog(log) {
	return !BAD_LOG_PATTERNS.some((p) => log.includes(p));
}

/**
 * Throws when log shows a crash, an assertion or a sanitizer report, or when exit (a
 * {code, signal} from stop()) says the process died by a signal other than sentSignal.  With
 * opts.expectCode (e.g. 0) the exit code must also be that value (unless it died by sentSignal).
 */
function assertCleanLog(log, exit, sentSignal, opts = {}) {
	const bad = BAD_LOG_PATTERNS.filter((p) => log.includes(p));
	if (bad.length > 0) {
		/* show the log around the first report, not only its end */
		const first = Math.min(...bad.map((p) => log.indexOf(p)));
		const lines = log.split('\n');
		const at = log.slice(0, first).split('\n').length - 1;
		const excerpt = lines.slice(Math.max(0, at - 10), at + 70).join('\n');
		throw new Error(`siogate log contains ${bad.map((b) => JSON.stringify(b)).join(', ')}:\n${excerpt}`);
	}
	if (exit) {
		if (exit.error)
			throw new Error(`siogate could not be run: ${exit.error.message}`);
		if (exit.signal && exit.signal !== sentSignal)
			throw new Error(`siogate died by ${exit.signal} (sent ${sentSignal || 'nothing'}):\n${tail(log)}`);
		if (opts.expectCode !== undefined && !exit.signal && exit.code !== opts.expectCode)
			throw new Error(`siogate exited with code ${exit.code}, expected ${opts.expectCode}:\n${tail(log)}`);
	}
}

/* ---------------------------------------------------------------- tokens */

/**
 * Mints a JWT with jsonwebtoken, independently of siogate.  opts.secret (default SECRET),
 * opts.alg (default HS256), opts.expiresIn (default '1h' unless claims has exp; null = no exp).
 */
function token(claims = {}, opts = {}) {
	const { secret = SECRET, alg = 'HS256' } = opts;
	const signOpts = { algorithm: alg };
	let expiresIn = opts.expiresIn;
	if (expiresIn === undefined && claims.exp === undefined)
		expiresIn = '1h';
	if (expiresIn !== undefined && expiresIn !== null)
		signOpts.expiresIn = expiresIn;
	return jwt.sign(claims, secret, signOpts);
}

function b64url(obj) {
	return Buffer.from(JSON.stringify(obj)).toString('base64url');
}

/** An unsigned token with header {alg: "none"} (never acceptable). */
function unsignedToken(claims) {
	const now = Math.floor(Date.now() / 1000);
	return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ iat: now, exp: now + 3600, ...claims })}.`;
}

/* ---------------------------------------------------------------- socket.io clients */

/**
 * Creates a socket.io-client socket (websocket only, no reconnection, a new Manager) and resolves
 * it on `connect`; rejects with the connect_error (err.message, err.data kept) or after
 * opts.timeoutMs (default 5000).  Other opts go to io().  Every socket is tracked by
 * closeClients(); with opts.keep it survives closeClients() between tests (closed at teardown);
 * with opts.track false it is not tracked at all (long runs that close their own sockets, such
 * as the soak's churn, would otherwise keep every closed socket).
 */
function connect(url, opts = {}) {
	const { timeoutMs = 5000, keep = false, track = true, ...ioOpts } = opts;
	const socket = ioClient(url, {
		transports: ['websocket'],
		reconnection: false,
		forceNew: true,
		timeout: timeoutMs,
		...ioOpts,
	});
	if (track)
		clients.set(socket, keep);
	return new Promise((resolve, reject) => {
		const cleanup = () => {
			clearTimeout(timer);
			socket.off('connect', onConnect);
			socket.off('connect_error', onError);
		};
		const onConnect = () => {
			cleanup();
			resolve(socket);
		};
		const onError = (err) => {
			cleanup();
			socket.close();
			reject(err);
		};
		const timer = setTimeout(() => {
			cleanup();
			socket.close();
			reject(new Error(`timed out after ${timeoutMs} ms connecting to ${url}`));
		}, timeoutMs);
		socket.on('connect', onConnect);
		socket.on('connect_error', onError);
	});
}

/**
 * Emits `authenticate` and resolves with the `authenticated` payload; rejects with an Error whose
 * .payload is the `unauthenticated` payload, or on disconnect, or after timeoutMs.
 */
function authenticate(socket, payload = {}, timeoutMs = DEFAULT_WAIT_MS) {
	return new Promise((resolve, reject) => {
		const cleanup = () => {
			clearTimeout(timer);
			socket.off('authenticated', onOk);
			socket.off('unauthenticated', onRefused);
			socket.off('disconnect', onDisconnect);
		};
		const onOk = (p) => {
			cleanup();
			resolve(p);
		};
		const onRefused = (p) => {
			cleanup();
			const err = new Error(`unauthenticated: ${p && p.message}`);
			err.payload = p;
			reject(err);
		};
		const onDisconnect = (reason) => {
			cleanup();
			reject(new Error(`disconnected (${reason}) while authenticating`));
		};
		const timer = setTimeout(() => {
			cleanup();
			reject(new Error(`timed out after ${timeoutMs} ms waiting for authenticated/unauthenticated`));
		}, timeoutMs);
		socket.on('authenticated', onOk);
		socket.on('unauthenticated', onRefused);
		socket.on('disconnect', onDisconnect);
		socket.emit('authenticate', payload);
	});
}

/**
 * Connects with a token in the CONNECT auth payload (opts.token, or one minted from opts.claims,
 * default {sub: 'tester'}) and authenticates.  Resolves the socket; socket.authPayload holds the
 * `authenticated` payload.  opts.nsp is appended to the URL; other opts go to connect().
 */
async function connectAuthed(url, opts = {}) {
	const { claims = { sub: 'tester' }, token: tok, nsp = '', ...rest } = opts;
	const t = tok || token(claims);
	const socket = await connect(url + nsp, { auth: { token: t }, ...rest });
	socket.authPayload = await authenticate(socket);
	return socket;
}

/**
 * Closes the socket.io-client sockets created by connect() so far, except those created with
 * keep: true unless all is true.
 */
function closeClients(all = false) {
	for (const [s, keep] of clients) {
		if (keep && !all)
			continue;
		try {
			s.close();
		} catch {
			/* ignore */
		}
		clients.delete(s);
	}
}

/**
 * Resolves with the first argument of the next `event` on emitter (socket.io-client socket, ws,
 * any EventEmitter); rejects after timeoutMs with a clear message.  opts.filter(arg0, ...args)
 * skips events it returns false for.
 */
function once(emitter, event, timeoutMs = DEFAULT_WAIT_MS, opts = {}) {
	return onceArgs(emitter, event, timeoutMs, opts).then((args) => args[0]);
}

/** Like once() but resolves with the array of all the event's arguments. */
function onceArgs(emitter, event, timeoutMs = DEFAULT_WAIT_MS, opts = {}) {
	const label = opts.label ? ` (${opts.label})` : '';
	return new Promise((resolve, reject) => {
		const off = () => (emitter.off ? emitter.off(event, fn) : emitter.removeListener(event, fn));
		const fn = (...args) => {
			if (opts.filter && !opts.filter(...args))
				return;
			clearTimeout(timer);
			off();
			resolve(args);
		};
		const timer = setTimeout(() => {
			off();
			reject(new Error(`timed out after ${timeoutMs} ms waiting for event '${event}'${label}`));
		}, timeoutMs);
		emitter.on(event, fn);
	});
}

/**
 * Collects every `event` on emitter.  Returns an array of first arguments with extras (not
 * enumerable, so assert.deepEqual(items, [...]) compares the elements only): .all (arrays of all
 * arguments), .waitFor(n, timeoutMs) (resolves the array once it holds n items), .stop() (removes
 * the listener).
 */
function collect(emitter, event) {
	const items = [];
	const waiters = new Set();
	const hidden = (name, value) => Object.defineProperty(items, name, { value, enumerable: false });
	hidden('all', []);
	const fn = (...args) => {
		items.push(args[0]);
		items.all.push(args);
		for (const w of waiters)
			w();
	};
	emitter.on(event, fn);
	hidden('stop', () => (emitter.off ? emitter.off(event, fn) : emitter.removeListener(event, fn)));
	hidden('waitFor', (n, timeoutMs = DEFAULT_WAIT_MS) => new Promise((resolve, reject) => {
		const check = () => {
			if (items.length >= n) {
				clearTimeout(timer);
				waiters.delete(check);
				resolve(items);
			}
		};
		const timer = setTimeout(() => {
			waiters.delete(check);
			reject(new Error(`timed out after ${timeoutMs} ms waiting for ${n} '${event}' events ` +
				`(got ${items.length}: ${JSON.stringify(items).slice(0, 300)})`));
		}, timeoutMs);
		waiters.add(check);
		check();
	}));
	return items;
}

/**
 * Asserts that no `event` arrives on emitter within ms (a short bounded window, 200-300 ms).
 */
async function nothing(emitter, event, ms = 250, label = '') {
	const got = collect(emitter, event);
	await delay(ms);
	got.stop();
	assert.equal(got.length, 0,
		`expected no '${event}' within ${ms} ms${label ? ` (${label})` : ''}, got ${JSON.stringify(got.all)}`);
}

/* ---------------------------------------------------------------- redis emitter */

/**
 * A @socket.io/redis-emitter Emitter (key = prefix) on a connected node-redis v4 client.  The
 * returned emitter has close() (quits the client) and .redis (the client).
 */
async function emitterFor(redisUrl, prefix = 'socket.io') {
	const client = createClient({ url: redisUrl, socket: { connectTimeout: 5000, reconnectStrategy: false } });
	client.on('error', () => {
		/* reported by the failing command; keep the process alive */
	});
	await withTimeout(client.connect(), 5000, `connecting to ${redisUrl}`);
	const emitter = new Emitter(client, { key: prefix });
	emitter.redis = client;
	emitter.close = async () => {
		try {
			await withTimeout(client.quit(), 3000, 'redis quit');
		} catch {
			try {
				await client.disconnect();
			} catch {
				/* already closed */
			}
		}
	};
	return emitter;
}

let fenceCounter = 0;
/**
 * Orders a check: publishes event `fence` to socket's own id room through emitter (emitter may be
 * an Emitter already switched with .of(nsp)) and waits for it on socket.  Redis delivers pub/sub
 * messages in publish order, so once the fence arrives, anything published earlier to this client
 * would have arrived too.
 */
async function fence(emitter, socket, timeoutMs = DEFAULT_WAIT_MS) {
	fenceCounter += 1;
	const n = fenceCounter;
	const p = once(socket, 'fence', timeoutMs, { filter: (v) => v === n, label: `fence ${n} to ${socket.id}` });
	emitter.to(socket.id).emit('fence', n);
	await p;
}

/* ---------------------------------------------------------------- raw WebSocket */

/**
 * Opens a raw `ws` WebSocket to sg's Engine.IO endpoint (query defaults to EIO=4 and
 * transport=websocket) and resolves once the open packet arrived.  Returns {ws, open (parsed
 * open packet), openText, next(timeoutMs) (the next message: string for text, Buffer for binary),
 * send(data), closed (a promise of {code, reason}), close()}.
 */
function rawConnect(sg, query = 'EIO=4&transport=websocket', pathName = '/socket.io/') {
	const ws = new WebSocket(`${sg.wsUrl}${pathName}?${query}`);
	const queue = [];
	const waiters = [];
	let closedInfo = null;
	const closed = new Promise((resolve) => {
		ws.on('close', (code, reason) => {
			closedInfo = { code, reason: reason.toString() };
			resolve(closedInfo);
			for (const w of waiters.splice(0))
				w.reject(new Error(`connection closed (code ${code}) while waiting for a message`));
		});
	});
	ws.on('error', () => {
		/* surfaces as close */
	});
	ws.on('message', (data, isBinary) => {
		const msg = isBinary ? Buffer.from(data) : data.toString('utf8');
		const w = waiters.shift();
		if (w)
			w.resolve(msg);
		else
			queue.push(msg);
	});
	const next = (timeoutMs = DEFAULT_WAIT_MS) => {
		if (queue.length > 0)
			return Promise.resolve(queue.shift());
		if (closedInfo)
			return Promise.reject(new Error(`connection closed (code ${closedInfo.code})`));
		return withTimeout(new Promise((resolve, reject) => waiters.push({ resolve, reject })),
			timeoutMs, 'a WebSocket message');
	};
	const conn = {
		ws,
		closed,
		next,
		send: (data) => ws.send(data),
		close: () => {
			try {
				ws.terminate();
			} catch {
				/* ignore */
			}
		},
	};
	rawSockets.add(conn);
	return withTimeout(new Promise((resolve, reject) => {
		ws.once('open', resolve);
		ws.once('unexpected-response', (req, res) => {
			res.resume();
			reject(new Error(`HTTP ${res.statusCode} on upgrade`));
			ws.terminate();
		});
		ws.once('close', (code) => reject(new Error(`closed (code ${code}) before open`)));
	}), DEFAULT_WAIT_MS, 'WebSocket open').then(async () => {
		conn.openText = await next();
		assert.equal(conn.openText[0], '0', `the first frame must be the open packet, got ${conn.openText}`);
		conn.open = JSON.parse(conn.openText.slice(1));
		return conn;
	});
}

const rawSockets = new Set();
function closeRawSockets() {
	for (const c of rawSockets)
		c.close();
	rawSockets.clear();
}

/* ---------------------------------------------------------------- suite hooks */

/**
 * Registers hooks on the current suite (node:test's before/afterEach/after, or the given hooks
 * object) that start redis (opts.redis === true) and siogate (opts.config etc., see
 * startSiogate) and an emitter (opts.prefix, default 'socket.io'), close clients after each test,
 * and stop everything after the suite, failing it when the log is not clean or the exit is not 0.
 * opts.setup(ctx), if given, runs at the end of that `before` (e.g. to connect a client kept for
 * the whole file).  Returns the context {sg, redis, emitter}, filled in by `before`.
 * Call as useSiogate(opts) or useSiogate(hooks, opts).
 * Note: in Node 20 two top-level before() hooks of one file may run concurrently; put extra setup
 * in opts.setup rather than in a second top-level before().
 */
function useSiogate(hooksOrOpts, maybeOpts) {
	let hooks = require('node:test');
	let opts = hooksOrOpts || {};
	if (hooksOrOpts && typeof hooksOrOpts.before === 'function') {
		hooks = hooksOrOpts;
		opts = maybeOpts || {};
	}
	const ctx = { sg: null, redis: null, emitter: null, starting: null };
	const start = async () => {
		if (opts.redis === true)
			ctx.redis = await startRedis();
		const { setup: _setup, ...sgOpts } = opts;
		ctx.sg = await startSiogate({ ...sgOpts, redis: ctx.redis || opts.redis });
		if (ctx.redis)
			ctx.emitter = await emitterFor(ctx.redis.url, opts.prefix || 'socket.io');
		if (opts.setup)
			await opts.setup(ctx);
	};
	hooks.before(() => {
		ctx.starting = start();
		return ctx.starting;
	});
	if (hooks.afterEach) {
		hooks.afterEach(() => {
			closeClients();
			closeRawSockets();
		});
	}
	hooks.after(async () => {
		closeClients(true);
		closeRawSockets();
		await teardown(ctx);
	});
	return ctx;
}

/**
 * Stops what ctx holds (emitter, sg, redis), every step even if an earlier one failed, then
 * asserts siogate's log is clean and that it exited 0 after SIGTERM.  Throws the first failure.
 */
async function teardown(ctx) {
	const errors = [];
	/* a before() that is still running (another hook failed first) must finish before teardown,
	 * or it would leave processes behind */
	if (ctx.starting)
		await withTimeout(ctx.starting, 30000, 'the suite setup to finish').catch(() => {});
	if (ctx.emitter)
		await ctx.emitter.close().catch((e) => errors.push(e));
	if (ctx.sg) {
		try {
			const alreadyExited = ctx.sg.exitInfo;
			const exit = await ctx.sg.stop('SIGTERM');
			assertCleanLog(ctx.sg.log(), exit, alreadyExited ? undefined : 'SIGTERM', { expectCode: 0 });
			if (alreadyExited)
				throw new Error(`siogate exited before the end of the suite (${fmtExit(exit)}):\n` +
					tail(ctx.sg.log()));
		} catch (e) {
			e.message += `\n(config and log: ${ctx.sg.dir}${isCleanLog(ctx.sg.log()) && !KEEP ? ', removed' : ''})`;
			errors.push(e);
		}
	}
	if (ctx.redis)
		await ctx.redis.stop().catch((e) => errors.push(e));
	if (errors.length > 0)
		throw errors[0];
}

/**
 * For suites that start their own processes: registers afterEach/after hooks that close clients
 * and SIGKILL any child process still running.
 */
function cleanupHooks(hooks = require('node:test')) {
	hooks.afterEach(() => {
		closeClients();
		closeRawSockets();
	});
	hooks.after(async () => {
		closeClients(true);
		closeRawSockets();
		await killAll();
	});
}

/** SIGKILLs every child process still running and waits (bounded) for them. */
async function killAll() {
	const waits = [];
	for (const child of [...children]) {
		waits.push(new Promise((resolve) => child.once('close', resolve)));
		try {
			process.kill(child.pid, 'SIGKILL');
		} catch {
			/* gone */
		}
	}
	await withTimeout(Promise.all(waits), 5000, 'child processes to exit').catch(() => {});
}

/* ---------------------------------------------------------------- running the binary once */

/**
 * Runs SIOGATE_BIN with args to completion (bounded, default 10 s; SIGKILL after) and resolves
 * {code, signal, stdout, stderr}.
 */
function runSiogate(args, opts = {}) {
	const timeoutMs = opts.timeoutMs || 10000;
	return new Promise((resolve, reject) => {
		const child = spawn(SIOGATE_BIN, args, {
			cwd: opts.cwd,
			env: { ...process.env, ...(opts.env || {}) },
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		children.add(child);
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (d) => { stdout += d; });
		child.stderr.on('data', (d) => { stderr += d; });
		const timer = setTimeout(() => {
			try {
				process.kill(child.pid, 'SIGKILL');
			} catch {
				/* gone */
			}
			reject(new Error(`siogate ${args.join(' ')} did not exit within ${timeoutMs} ms; ` +
				`stdout:\n${stdout}\nstderr:\n${stderr}`));
		}, timeoutMs);
		child.on('error', (err) => {
			clearTimeout(timer);
			children.delete(child);
			reject(new Error(`cannot run ${SIOGATE_BIN}: ${err.message}`));
		});
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			children.delete(child);
			resolve({ code, signal, stdout, stderr });
		});
	});
}

module.exports = {
	SIOGATE_BIN,
	SECRET,
	MSG_INVALID_TOKEN,
	ISO_MS_RE,
	BAD_LOG_PATTERNS,
	delay,
	withTimeout,
	uniq,
	freePort,
	yaml,
	mergeConfig,
	defaultConfig,
	startRedis,
	startSiogate,
	assertCleanLog,
	isCleanLog,
	token,
	unsignedToken,
	connect,
	authenticate,
	connectAuthed,
	closeClients,
	once,
	onceArgs,
	collect,
	nothing,
	emitterFor,
	fence,
	rawConnect,
	closeRawSockets,
	useSiogate,
	teardown,
	cleanupHooks,
	killAll,
	runSiogate,
	makeTempDir,
	removeDir,
	spawnLogged,
};

/* ================================================================ appended helpers: raw HTTP,
 * Engine.IO long-polling, raw TCP and hand-built WebSocket frames (used by polling, upgrade,
 * cors and badinput-catalogue suites).  Every wait here is bounded, and every raw TCP socket
 * opened here joins the rawSockets set, so closeRawSockets() (useSiogate's afterEach) destroys it. */

const http = require('node:http');
const crypto = require('node:crypto');

/**
 * One HTTP request with node:http (not fetch: headers such as Origin go exactly as given, and a
 * keep-alive agent can be passed).  url is absolute.  opts: method (default GET), headers, body
 * (string or Buffer; Content-Length is set), agent (default false: a new connection, Connection:
 * close), timeoutMs (default 3000).  Resolves {status, headers (lower-case names), body (utf-8
 * text), reusedSocket, localPort}; rejects on a socket error or after timeoutMs (destroying the
 * request).
 */
function httpRequest(url, opts = {}) {
	const { method = 'GET', headers = {}, body, agent = false, timeoutMs = DEFAULT_WAIT_MS } = opts;
	return new Promise((resolve, reject) => {
		const hdrs = { ...headers };
		if (body !== undefined && hdrs['Content-Length'] === undefined && hdrs['content-length'] === undefined)
			hdrs['Content-Length'] = Buffer.byteLength(body);
		const req = http.request(url, { method, headers: hdrs, agent });
		let localPort = null;
		req.on('socket', (s) => {
			if (s.localPort)
				localPort = s.localPort;
			else
				s.once('connect', () => { localPort = s.localPort; });
		});
		const timer = setTimeout(() => {
			req.destroy();
			reject(new Error(`timed out after ${timeoutMs} ms: ${method} ${url}`));
		}, timeoutMs);
		req.on('error', (err) => {
			clearTimeout(timer);
			reject(err);
		});
		req.on('response', (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('error', (err) => {
				clearTimeout(timer);
				reject(err);
			});
			res.on('end', () => {
				clearTimeout(timer);
				resolve({
					status: res.statusCode,
					headers: res.headers,
					body: Buffer.concat(chunks).toString('utf8'),
					reusedSocket: req.reusedSocket,
					localPort,
				});
			});
		});
		req.end(body);
	});
}

/** Splits an Engine.IO v4 polling payload into its packets (record separator \x1e). */
function pollPackets(body) {
	return body.split('\x1e');
}

/**
 * Opens an Engine.IO long-polling session by hand: the handshake GET on sg (query defaults to
 * EIO=4&transport=polling; opts.headers, opts.agent go to every request).  Resolves
 * {sid, open (parsed open packet), openText, handshake (the httpRequest answer), url (the query
 * with sid), get(timeoutMs), post(body, headers)}; get/post resolve httpRequest answers.
 */
async function pollOpen(sg, opts = {}) {
	const { query = 'EIO=4&transport=polling', headers = {}, agent = false, pathName = '/socket.io/' } = opts;
	const base = `${sg.url}${pathName}?${query}`;
	const handshake = await httpRequest(base, { headers, agent });
	assert.equal(handshake.status, 200, `polling handshake: ${handshake.status} ${handshake.body}`);
	assert.equal(handshake.body[0], '0', `the handshake must answer the open packet, got ${handshake.body}`);
	const open = JSON.parse(handshake.body.slice(1));
	const url = `${base}&sid=${encodeURIComponent(open.sid)}`;
	return {
		sid: open.sid,
		open,
		openText: handshake.body,
		handshake,
		url,
		get: (timeoutMs = DEFAULT_WAIT_MS, extra = {}) =>
			httpRequest(url, { headers: { ...headers, ...extra }, agent, timeoutMs }),
		post: (body, extra = {}, timeoutMs = DEFAULT_WAIT_MS) =>
			httpRequest(url, {
				method: 'POST',
				headers: { 'Content-Type': 'text/plain;charset=UTF-8', ...headers, ...extra },
				body,
				agent,
				timeoutMs,
			}),
	};
}

/**
 * Opens a raw TCP connection to sg (loopback) and resolves once connected.  Returns {sock,
 * data() (everything received so far, a Buffer), text() (as latin1 text), closed (a promise that
 * resolves true when the server ended or reset the connection), isClosed(), waitFor(re or fn,
 * timeoutMs) (resolves once text() matches, rejects if closed first or after timeoutMs), write(b)}.
 */
function rawTcpConnect(sg, timeoutMs = DEFAULT_WAIT_MS) {
	return withTimeout(new Promise((resolve, reject) => {
		const sock = net.connect({ host: '127.0.0.1', port: sg.port });
		let buf = Buffer.alloc(0);
		let isClosed = false;
		const waiters = new Set();
		const wake = () => {
			for (const w of [...waiters])
				w();
		};
		sock.on('data', (d) => {
			buf = Buffer.concat([buf, d]);
			wake();
		});
		const closed = new Promise((res) => {
			sock.on('close', () => {
				isClosed = true;
				res(true);
				wake();
			});
		});
		sock.on('error', () => {
			/* surfaces as close */
		});
		const conn = {
			sock,
			closed,
			data: () => buf,
			text: () => buf.toString('latin1'),
			isClosed: () => isClosed,
			write: (b) => sock.write(b),
			close: () => sock.destroy(),
			waitFor: (what, ms = DEFAULT_WAIT_MS) => withTimeout(new Promise((res, rej) => {
				const test = typeof what === 'function' ? what : (t) => toRegExp(what).test(t);
				const check = () => {
					if (test(conn.text())) {
						waiters.delete(check);
						res(conn.text());
					} else if (isClosed) {
						waiters.delete(check);
						rej(new Error(`connection closed before ${what} arrived; got ` +
							JSON.stringify(conn.text().slice(0, 500))));
					}
				};
				waiters.add(check);
				check();
			}), ms, `raw TCP data matching ${what}`),
		};
		rawSockets.add(conn);
		sock.once('connect', () => resolve(conn));
		sock.once('error', reject);
	}), timeoutMs, 'a raw TCP connection');
}

/**
 * Builds one WebSocket frame: opcode (1 text, 2 binary, 8 close, 9 ping...), payload (string or
 * Buffer), opts.mask (default true, with a random key, as a client must), opts.fin (default true).
 */
function wsFrame(opcode, payload, opts = {}) {
	const { mask = true, fin = true } = opts;
	const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
	const len = data.length;
	let head;
	if (len < 126) {
		head = Buffer.alloc(2);
		head[1] = len;
	} else if (len < 65536) {
		head = Buffer.alloc(4);
		head[1] = 126;
		head.writeUInt16BE(len, 2);
	} else {
		head = Buffer.alloc(10);
		head[1] = 127;
		head.writeBigUInt64BE(BigInt(len), 2);
	}
	head[0] = (fin ? 0x80 : 0) | (opcode & 0x0f);
	if (!mask)
		return Buffer.concat([head, data]);
	head[1] |= 0x80;
	const key = crypto.randomBytes(4);
	const masked = Buffer.alloc(len);
	for (let i = 0; i < len; i++)
		masked[i] = data[i] ^ key[i % 4];
	return Buffer.concat([head, key, masked]);
}

/**
 * Parses the server's (unmasked) WebSocket frames in buf.  Returns an array of {opcode, fin,
 * payload (Buffer), text (utf-8), closeCode (for close frames with a body, else null)}; a
 * trailing incomplete frame is ignored.
 */
function wsParseFrames(buf) {
	const frames = [];
	let off = 0;
	while (buf.length - off >= 2) {
		const b0 = buf[off];
		const b1 = buf[off + 1];
		let len = b1 & 0x7f;
		let p = off + 2;
		if (len === 126) {
			if (buf.length - p < 2)
				break;
			len = buf.readUInt16BE(p);
			p += 2;
		} else if (len === 127) {
			if (buf.length - p < 8)
				break;
			len = Number(buf.readBigUInt64BE(p));
			p += 8;
		}
		if (b1 & 0x80)
			p += 4; /* a server never masks, but skip a key if there is one */
		if (buf.length - p < len)
			break;
		const payload = buf.subarray(p, p + len);
		const opcode = b0 & 0x0f;
		frames.push({
			opcode,
			fin: Boolean(b0 & 0x80),
			payload,
			text: payload.toString('utf8'),
			closeCode: opcode === 8 && len >= 2 ? payload.readUInt16BE(0) : null,
		});
		off = p + len;
	}
	return frames;
}

/**
 * Performs a WebSocket upgrade by hand on a raw TCP connection (rawTcpConnect) to sg with query
 * (default EIO=4&transport=websocket) and extra request headers, and resolves once the whole
 * 101 head arrived.  Returns the rawTcpConnect record plus head (the response head text),
 * frames() (wsParseFrames of what followed the head), waitFrames(n, timeoutMs) and
 * sendFrame(opcode, payload, opts) (wsFrame).  Rejects when the answer is not 101.
 */
async function rawWsUpgrade(sg, query = 'EIO=4&transport=websocket', headers = {}, pathName = '/socket.io/') {
	const conn = await rawTcpConnect(sg);
	const key = crypto.randomBytes(16).toString('base64');
	const lines = [
		`GET ${pathName}?${query} HTTP/1.1`,
		`Host: 127.0.0.1:${sg.port}`,
		'Upgrade: websocket',
		'Connection: Upgrade',
		`Sec-WebSocket-Key: ${key}`,
		'Sec-WebSocket-Version: 13',
		...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
	];
	conn.write(lines.join('\r\n') + '\r\n\r\n');
	const text = await conn.waitFor((t) => t.includes('\r\n\r\n'));
	const headEnd = text.indexOf('\r\n\r\n') + 4;
	conn.head = text.slice(0, headEnd);
	if (!/^HTTP\/1\.1 101 /.test(conn.head)) {
		conn.sock.destroy();
		throw new Error(`upgrade refused: ${JSON.stringify(conn.head)}`);
	}
	const accept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
		.digest('base64');
	assert.match(conn.head, new RegExp(`Sec-WebSocket-Accept: ${escapeRe(accept)}`, 'i'));
	conn.frames = () => wsParseFrames(conn.data().subarray(headEnd));
	conn.waitFrames = (n, ms = DEFAULT_WAIT_MS) =>
		conn.waitFor(() => conn.frames().length >= n, ms).then(() => conn.frames());
	conn.sendFrame = (opcode, payload, opts) => conn.write(wsFrame(opcode, payload, opts));
	return conn;
}

/**
 * Opens a raw `ws` WebSocket to sg's Engine.IO endpoint with query (e.g. an upgrade probe with
 * sid=...; no open packet is expected) and resolves once it is open.  opts.headers (extra request
 * headers), opts.origin (the Origin header), opts.pathName.  Resolves {ws, upgradeHeaders (of the
 * 101), next(timeoutMs), send(data), closed (a promise of {code, reason}), isClosed(), close()};
 * rejects when the upgrade is refused with an Error carrying .statusCode, .headers and .body, or
 * when the connection closes before it opened.
 */
function rawWs(sg, query, opts = {}) {
	const { headers, origin, pathName = '/socket.io/', timeoutMs = DEFAULT_WAIT_MS } = opts;
	const ws = new WebSocket(`${sg.wsUrl}${pathName}?${query}`, { headers, origin });
	const queue = [];
	const waiters = [];
	let closedInfo = null;
	const closed = new Promise((resolve) => {
		ws.on('close', (code, reason) => {
			closedInfo = { code, reason: reason.toString() };
			resolve(closedInfo);
			for (const w of waiters.splice(0))
				w.reject(new Error(`connection closed (code ${code}) while waiting for a message`));
		});
	});
	ws.on('error', () => {
		/* surfaces as close or as the rejection below */
	});
	ws.on('message', (data, isBinary) => {
		const msg = isBinary ? Buffer.from(data) : data.toString('utf8');
		const w = waiters.shift();
		if (w)
			w.resolve(msg);
		else
			queue.push(msg);
	});
	const conn = {
		ws,
		closed,
		upgradeHeaders: null,
		isClosed: () => closedInfo !== null,
		next: (ms = DEFAULT_WAIT_MS) => {
			if (queue.length > 0)
				return Promise.resolve(queue.shift());
			if (closedInfo)
				return Promise.reject(new Error(`connection closed (code ${closedInfo.code})`));
			return withTimeout(new Promise((resolve, reject) => waiters.push({ resolve, reject })),
				ms, 'a WebSocket message');
		},
		send: (data) => ws.send(data),
		close: () => {
			try {
				ws.terminate();
			} catch {
				/* ignore */
			}
		},
	};
	rawSockets.add(conn);
	ws.once('upgrade', (res) => {
		conn.upgradeHeaders = res.headers;
	});
	return withTimeout(new Promise((resolve, reject) => {
		ws.once('open', () => resolve(conn));
		ws.once('unexpected-response', (req, res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			const done = () => {
				const err = new Error(`HTTP ${res.statusCode} on upgrade`);
				err.statusCode = res.statusCode;
				err.headers = res.headers;
				err.body = Buffer.concat(chunks).toString('utf8');
				reject(err);
				ws.terminate();
			};
			res.on('end', done);
			res.on('error', done);
			res.on('close', done);
		});
		ws.once('close', (code) => reject(new Error(`closed (code ${code}) before open`)));
	}), timeoutMs, 'WebSocket open');
}

/** The resident set size of process pid in kB (VmRSS of /proc/<pid>/status). */
function rssKb(pid) {
	const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)\s+kB/m);
	assert.ok(m, `no VmRSS for pid ${pid}`);
	return Number(m[1]);
}

/**
 * The value of one sample in Prometheus text (name with its labels, e.g.
 * 'siogate_redis_up{link="subscriber"}'), or NaN when the text has no such sample.
 */
function metric(text, name) {
	const line = text.split('\n').find((l) => l.startsWith(name + ' '));
	return line ? Number(line.slice(name.length + 1)) : NaN;
}

/** The /metrics text of sg's admin listener. */
async function metrics(sg) {
	return (await fetch(`http://127.0.0.1:${sg.adminPort}/metrics`)).text();
}

Object.assign(module.exports, {
	metric,
	metrics,
	httpRequest,
	pollPackets,
	pollOpen,
	rawTcpConnect,
	wsFrame,
	wsParseFrames,
	rawWsUpgrade,
	rawWs,
	rssKb,
});

/* ---------------------------------------------------------------- waiting on a condition */

/** Resolves once `await fn()` is truthy, polling every stepMs; throws naming `what` after ms. */
async function until(fn, ms, what, stepMs = 25) {
	const deadline = Date.now() + ms;
	for (;;) {
		if (await fn())
			return;
		if (Date.now() > deadline)
			throw new Error(`timed out after ${ms} ms waiting for ${what}`);
		await delay(stepMs);
	}
}

/** GET /readyz on sg's admin listener: {status, text}. */
async function readyz(sg) {
	const res = await withTimeout(fetch(`http://127.0.0.1:${sg.adminPort}/readyz`), 3000, 'GET /readyz');
	return { status: res.status, text: await res.text() };
}

Object.assign(module.exports, { until, readyz });
