'use strict';
/*
 * clientprocs.js: the client programs of src/client/ as child processes, for client.test.js
 * and client-tokens.test.js.  siocat and sgc-driver (a C program that drives every public
 * function of libsiogate-client from JSON commands) are found through SIOCAT_BIN and
 * SGC_DRIVER_BIN, else next to SIOGATE_BIN (build-san/ in a sanitizer build), else
 * src/client/siocat and build/sgc-driver; SKIP_* say why a suite cannot run.  Each process's
 * stdout is read as JSON lines and its stderr kept; killProcs() kills every one still running
 * by PID (the test files call it after each test).
 */

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const h = require('./harness');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SG_DIR = path.dirname(h.SIOGATE_BIN);

function locate(envName, name, fallback) {
	if (process.env[envName])
		return path.resolve(process.env[envName]);
	const beside = path.join(SG_DIR, name);
	if (fs.existsSync(beside))
		return beside;
	return fallback;
}

const SIOCAT = locate('SIOCAT_BIN', 'siocat', path.join(ROOT, 'src', 'client', 'siocat'));
const DRIVER = locate('SGC_DRIVER_BIN', 'sgc-driver', path.join(ROOT, 'build', 'sgc-driver'));
const SKIP_SIOCAT = fs.existsSync(SIOCAT) ? false : `siocat not built at ${SIOCAT} (run make)`;
const SKIP_DRIVER = fs.existsSync(DRIVER) ? false : `sgc-driver not built at ${DRIVER} (run make)`;
const SKIP_BOTH = SKIP_SIOCAT || SKIP_DRIVER;

const SANITIZER_PATTERNS = ['AddressSanitizer', 'LeakSanitizer', 'runtime error:', 'Segmentation'];
const WAIT_MS = 5000;

/* ---------------------------------------------------------------- child processes */

const procs = new Set();

/*
 * Spawns bin with args; stdout is read as JSON lines (non-JSON lines are kept as {raw}).
 * Returns {child, lines, err(), waitLine(pred, ms, what, from), waitErr(re, ms), send(obj|text),
 * end(), exited, exit, mark()}.
 */
function spawnProc(bin, args, opts = {}) {
	const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
	const rec = { child, lines: [], errText: '', exit: null, listeners: new Set(), bin: path.basename(bin) };
	procs.add(rec);
	let partial = '';
	const notify = () => {
		for (const fn of [...rec.listeners])
			fn();
	};
	child.stdout.on('data', (d) => {
		partial += d.toString('utf8');
		let i;
		while ((i = partial.indexOf('\n')) >= 0) {
			const line = partial.slice(0, i);
			partial = partial.slice(i + 1);
			try {
				rec.lines.push(JSON.parse(line));
			} catch {
				rec.lines.push({ raw: line });
			}
		}
		notify();
	});
	child.stderr.on('data', (d) => {
		rec.errText += d.toString('utf8');
		if (process.env.SIOGATE_IT_VERBOSE === '1')
			process.stderr.write(d.toString('utf8').replace(/^(?=.)/gm, `[${rec.bin}] `));
		notify();
	});
	child.stdin.on('error', () => { /* the process may have exited */ });
	rec.exited = new Promise((resolve) => {
		child.on('close', (code, signal) => {
			rec.exit = { code, signal };
			procs.delete(rec);
			notify();
			resolve(rec.exit);
		});
	});
	rec.err = () => rec.errText;
	rec.mark = () => rec.lines.length;
	rec.waitLine = (pred, ms = WAIT_MS, what = 'a matching line', from = 0) => new Promise((resolve, reject) => {
		let timer = null;
		const check = () => {
			const found = rec.lines.slice(from).find(pred);
			if (found) {
				done();
				resolve(found);
			} else if (rec.exit) {
				done();
				reject(new Error(`${rec.bin} exited (${JSON.stringify(rec.exit)}) before ${what}; ` +
					`stdout:\n${JSON.stringify(rec.lines.slice(-30), null, 0)}\nstderr:\n${rec.errText}`));
			}
		};
		const done = () => {
			clearTimeout(timer);
			rec.listeners.delete(check);
		};
		timer = setTimeout(() => {
			done();
			reject(new Error(`timed out after ${ms} ms waiting for ${what} from ${rec.bin}; stdout:\n` +
				`${rec.lines.slice(-30).map((l) => JSON.stringify(l)).join('\n')}\nstderr:\n${rec.errText}`));
		}, ms);
		rec.listeners.add(check);
		check();
	});
	rec.waitErr = (re, ms = WAIT_MS) => new Promise((resolve, reject) => {
		let timer = null;
		const check = () => {
			const m = rec.errText.match(re);
			if (m) {
				done();
				resolve(m);
			} else if (rec.exit) {
				done();
				reject(new Error(`${rec.bin} exited (${JSON.stringify(rec.exit)}) before stderr matched ${re}:\n${rec.errText}`));
			}
		};
		const done = () => {
			clearTimeout(timer);
			rec.listeners.delete(check);
		};
		timer = setTimeout(() => {
			done();
			reject(new Error(`timed out after ${ms} ms waiting for ${re} on ${rec.bin}'s stderr:\n${rec.errText}`));
		}, ms);
		rec.listeners.add(check);
		check();
	});
	rec.send = (x) => child.stdin.write(`${typeof x === 'string' ? x : JSON.stringify(x)}\n`);
	rec.end = () => child.stdin.end();
	rec.waitExit = (ms = WAIT_MS) => h.withTimeout(rec.exited, ms, `${rec.bin} to exit; stderr:\n${rec.errText}`);
	return rec;
}

function assertNoSanitizerReport(rec) {
	const bad = SANITIZER_PATTERNS.filter((p) => rec.errText.includes(p));
	assert.deepEqual(bad, [], `${rec.bin} stderr shows a sanitizer report:\n${rec.errText}`);
}

/* Runs siocat to completion with the given stdin text; resolves {code, lines, err}. */
async function runSiocat(args, input = '', ms = 10000) {
	const rec = spawnProc(SIOCAT, args);
	rec.child.stdin.end(input);
	const exit = await rec.waitExit(ms);
	assertNoSanitizerReport(rec);
	return { code: exit.code, signal: exit.signal, lines: rec.lines, err: rec.errText };
}

/* A sgc-driver whose command replies can be awaited in order. */
function startDriver(url, args = []) {
	const d = spawnProc(DRIVER, [...args, url]);
	d.cmd = async (obj, ms = WAIT_MS) => {
		const from = d.mark();
		d.send(obj);
		return d.waitLine((l) => l.op === obj.op, ms, `the reply to ${JSON.stringify(obj)}`, from);
	};
	d.cb = (name, extra = () => true, ms = WAIT_MS, from = 0) =>
		d.waitLine((l) => l.cb === name && extra(l), ms, `callback ${name}`, from);
	return d;
}

async function stopProc(rec) {
	if (rec.exit)
		return;
	try {
		rec.child.kill('SIGKILL');
	} catch {
		/* gone */
	}
	await rec.exited;
}

function killProcs() {
	return Promise.all([...procs].map(stopProc));
}

module.exports = {
	SIOCAT,
	DRIVER,
	SKIP_SIOCAT,
	SKIP_DRIVER,
	SKIP_BOTH,
	WAIT_MS,
	spawnProc,
	assertNoSanitizerReport,
	runSiocat,
	startDriver,
	stopProc,
	killProcs,
};
