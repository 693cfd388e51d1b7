'use strict';
/*
 * browser.js: real-browser helpers for the siogate integration suites: a tiny static HTTP server
 * (Node `http`, a fixed table of files, nothing else reachable), Debian's chromium driven headless
 * through playwright-core, and bounded waits on the DOM of examples/chat that fail with a snapshot
 * of the page (status, last events, page errors, Engine.IO responses) instead of a bare timeout.
 * Invariant: every wait is bounded, every browser context opened here is tracked and closed by
 * closePages()/close(), and nothing is downloaded or installed at run time (the browser is
 * /usr/bin/chromium from the Debian package `chromium`; without it the suites skip).
 *
 *   const web = require('./lib/browser');
 *   const srv = await web.startStaticServer(web.chatRoutes());
 *   const br = await web.launchBrowser();
 *   const tab = await br.openPage(srv.url(`/?server=${...}&token=${...}`));
 *   await web.waitForText(tab, '#auth', 'authenticated');
 */

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const { withTimeout } = require('./harness');

/** The browser: Debian's chromium package (scripts/install-deps --test installs it). */
const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags for a quiet, offline, root-friendly headless chromium. */
const CHROMIUM_ARGS = [
	'--no-sandbox',
	'--disable-gpu',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
	'--no-first-run',
	'--disable-quic',
];

const LAUNCH_TIMEOUT_MS = 30000;
const CLOSE_TIMEOUT_MS = 10000;
const DEFAULT_WAIT_MS = 10000;

/** The demo page's folder, examples/chat at the top of the checkout. */
const CHAT_DIR = path.resolve(__dirname, '..', '..', '..', 'examples', 'chat');

/** The browser bundle shipped in the npm package socket.io-client (not in its "exports"). */
const IO_DIST_DIR = path.join(path.dirname(require.resolve('socket.io-client/package.json')), 'dist');

const CONTENT_TYPES = {
	'.html': 'text/html; charset=utf-8',
	'.js': 'text/javascript; charset=utf-8',
	'.map': 'application/json; charset=utf-8',
	'.md': 'text/markdown; charset=utf-8',
};

/**
 * Why the browser suites cannot run here (a sentence for t.skip), or null when
 * /usr/bin/chromium is present.
 */
function chromiumMissing() {
	if (fs.existsSync(CHROMIUM_PATH))
		return null;
	return `${CHROMIUM_PATH} is missing: install the Debian package chromium ` +
		'(scripts/install-deps --test does) to run the browser test';
}

/**
 * The URL-path -> file table that serves the chat demo: /, /index.html and /app.js from
 * examples/chat, /socket.io.min.js (+ .map) from node_modules/socket.io-client/dist.
 */
function chatRoutes() {
	return {
		'/': path.join(CHAT_DIR, 'index.html'),
		'/index.html': path.join(CHAT_DIR, 'index.html'),
		'/app.js': path.join(CHAT_DIR, 'app.js'),
		'/socket.io.min.js': path.join(IO_DIST_DIR, 'socket.io.min.js'),
		'/socket.io.min.js.map': path.join(IO_DIST_DIR, 'socket.io.min.js.map'),
	};
}

/**
 * Starts an HTTP server on host (default 127.0.0.1), free port, that answers GET/HEAD for exactly
 * the paths in routes ({'/url-path': '/absolute/file'}, read at each request, no caching),
 * 204 for /favicon.ico, 404 for any other path and 405 for other methods.  Resolves
 * {port, origin ('http://127.0.0.1:PORT'), url(pathAndQuery), requests (array of
 * 'METHOD /path' strings), close()}; close() drops open connections and resolves once the
 * server is closed (bounded, never rejects).
 */
function startStaticServer(routes, host = '127.0.0.1') {
	const requests = [];
	const server = http.createServer((req, res) => {
		const { pathname } = new URL(req.url, 'http://static.invalid');
		requests.push(`${req.method} ${pathname}`);
		const reply = (status, type, body) => {
			res.writeHead(status, {
				'Content-Type': type,
				'Content-Length': Buffer.byteLength(body),
				'Cache-Control': 'no-store',
			});
			res.end(req.method === 'HEAD' ? undefined : body);
		};
		if (req.method !== 'GET' && req.method !== 'HEAD')
			return reply(405, 'text/plain', 'method not allowed\n');
		if (pathname === '/favicon.ico')
			return reply(204, 'text/plain', '');
		if (!Object.prototype.hasOwnProperty.call(routes, pathname))
			return reply(404, 'text/plain', 'not found\n');
		const file = routes[pathname];
		fs.readFile(file, (err, data) => {
			if (err)
				return reply(500, 'text/plain', `cannot read ${file}: ${err.code}\n`);
			return reply(200, CONTENT_TYPES[path.extname(file)] || 'application/octet-stream', data);
		});
		return undefined;
	});
	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, host, () => {
			server.off('error', reject);
			const { port } = server.address();
			const origin = `http://${host}:${port}`;
			resolve({
				port,
				origin,
				requests,
				url: (p = '/') => origin + p,
				close: () => {
					const closed = new Promise((done) => server.close(() => done()));
					server.closeAllConnections();
					return withTimeout(closed, 5000, 'the static server to close').catch(() => {});
				},
			});
		});
	});
}

/**
 * Launches /usr/bin/chromium headless (CHROMIUM_ARGS plus opts.args) with playwright-core,
 * bounded by LAUNCH_TIMEOUT_MS.  Resolves {browser, version, openPage(url, opts), closePages(),
 * close()}:
 *   openPage(url, {timeoutMs}) opens url in a NEW browser context (no shared cookies/storage)
 *     and resolves a "tab" {page, context, pageErrors, consoleErrors, websockets (URLs opened),
 *     engine (responses under /socket.io/: {method, url, status, acao})} once `load` fired;
 *     timeoutMs (default 10 s) is also the page's default action timeout.
 *   closePages() closes every context opened so far (bounded; never rejects).
 *   close() closes the pages, then the browser (bounded; rejects if chromium does not close).
 */
async function launchBrowser(opts = {}) {
	/* required here, not at the top, so that a suite can skip without touching playwright */
	const { chromium } = require('playwright-core');
	const browser = await withTimeout(chromium.launch({
		executablePath: CHROMIUM_PATH,
		headless: true,
		args: [...CHROMIUM_ARGS, ...(opts.args || [])],
		timeout: LAUNCH_TIMEOUT_MS,
	}), LAUNCH_TIMEOUT_MS + 5000, `${CHROMIUM_PATH} to start`);
	const contexts = new Set();

	const closePages = async () => {
		const all = [...contexts];
		contexts.clear();
		await Promise.all(all.map((c) =>
			withTimeout(c.close(), CLOSE_TIMEOUT_MS, 'a browser context to close').catch(() => {})));
	};

	const openPage = async (url, { timeoutMs = DEFAULT_WAIT_MS } = {}) => {
		const context = await browser.newContext();
		contexts.add(context);
		const page = await context.newPage();
		page.setDefaultTimeout(timeoutMs);
		page.setDefaultNavigationTimeout(timeoutMs);
		const tab = { page, context, url, pageErrors: [], consoleErrors: [], websockets: [], engine: [] };
		page.on('pageerror', (err) => tab.pageErrors.push(err.message));
		page.on('console', (msg) => {
			if (msg.type() === 'error')
				tab.consoleErrors.push(msg.text());
		});
		page.on('websocket', (ws) => tab.websockets.push(ws.url()));
		page.on('response', (res) => {
			if (!new URL(res.url()).pathname.startsWith('/socket.io/'))
				return;
			tab.engine.push({
				method: res.request().method(),
				url: res.url(),
				status: res.status(),
				acao: res.headers()['access-control-allow-origin'],
			});
		});
		await page.goto(url, { waitUntil: 'load', timeout: timeoutMs });
		return tab;
	};

	return {
		browser,
		version: browser.version(),
		openPage,
		closePages,
		async close() {
			await closePages();
			await withTimeout(browser.close(), CLOSE_TIMEOUT_MS, 'chromium to close');
		},
	};
}

/**
 * A multi-line description of the chat page in tab, for failure messages: the #state rows, the
 * ack, the last events, page errors, console errors, WebSocket URLs and the last Engine.IO
 * responses.  Never rejects (an unresponsive page is described as such).
 */
async function describePage(tab) {
	let dom;
	try {
		dom = await withTimeout(tab.page.evaluate(() => {
			const text = (sel) => {
				const el = document.querySelector(sel);
				return el ? el.textContent.trim() : '(missing)';
			};
			const rows = [...document.querySelectorAll('#state dt')].map((dt) =>
				`  ${dt.textContent.trim()}: ${dt.nextElementSibling ? dt.nextElementSibling.textContent.trim() : ''}`);
			const history = (document.querySelector('#transport') || { dataset: {} }).dataset.history;
			const events = [...document.querySelectorAll('#events li')].slice(-10).map((li) =>
				`  ${li.dataset.event} ${li.dataset.args}`);
			return [...rows, `  data-history: ${history}`, `  ack: ${text('#ack')}`,
				'  last events:', ...events].join('\n');
		}), 2000, 'the page to describe itself');
	} catch (err) {
		dom = `  (cannot read the page: ${err.message})`;
	}
	const last = (a, n = 8) => a.slice(-n).map((x) => `  ${typeof x === 'string' ? x : JSON.stringify(x)}`);
	return [`page ${tab.url}`, dom,
		'page errors:', ...last(tab.pageErrors),
		'console errors:', ...last(tab.consoleErrors),
		'websockets:', ...last(tab.websockets),
		'engine.io responses:', ...last(tab.engine)].join('\n');
}

/**
 * Waits (timeoutMs, default 10 s) until the trimmed textContent of selector in tab's page equals
 * expected (a string) or matches it (a RegExp); resolves that text.  Rejects with an Error naming
 * the selector and the expectation and describing the page (describePage).
 */
async function waitForText(tab, selector, expected, timeoutMs = DEFAULT_WAIT_MS) {
	const isRe = expected instanceof RegExp;
	const arg = {
		selector,
		text: isRe ? null : String(expected),
		source: isRe ? expected.source : null,
		flags: isRe ? expected.flags : '',
	};
	try {
		const handle = await tab.page.waitForFunction((a) => {
			const el = document.querySelector(a.selector);
			if (!el)
				return false;
			const t = el.textContent.trim();
			const ok = a.source !== null ? new RegExp(a.source, a.flags).test(t) : t === a.text;
			return ok ? t : false;
		}, arg, { timeout: timeoutMs, polling: 50 });
		return await handle.jsonValue();
	} catch (err) {
		const want = isRe ? String(expected) : JSON.stringify(expected);
		throw new Error(`waiting ${timeoutMs} ms for ${selector} to read ${want}: ` +
			`${err.message.split('\n')[0]}\n${await describePage(tab)}`);
	}
}

/**
 * Every event listed by the chat page so far, oldest first, as [{name, args}] (args parsed from
 * data-args; null when it was not JSON).
 */
async function pageEvents(tab) {
	const raw = await tab.page.$$eval('#events li',
		(lis) => lis.map((li) => [li.dataset.event, li.dataset.args]));
	return raw.map(([name, args]) => {
		let parsed = null;
		try {
			parsed = JSON.parse(args);
		} catch {
			/* not JSON */
		}
		return { name, args: parsed };
	});
}

/**
 * Waits (timeoutMs, default 10 s) until the chat panel of tab (#messages) shows a message from
 * `from` whose text is `text`; resolves every message shown so far as [{from, text}].  Rejects
 * with a description of the page.
 */
async function waitForMessage(tab, from, text, timeoutMs = DEFAULT_WAIT_MS) {
	try {
		const handle = await tab.page.waitForFunction((a) => {
			const all = [...document.querySelectorAll('#messages li')].map((li) =>
				({ from: li.dataset.from, text: li.dataset.text }));
			return all.some((m) => m.from === a.from && m.text === a.text) ? JSON.stringify(all) : false;
		}, { from, text }, { timeout: timeoutMs, polling: 50 });
		return JSON.parse(await handle.jsonValue());
	} catch (err) {
		throw new Error(`waiting ${timeoutMs} ms for the message ${JSON.stringify({ from, text })}: ` +
			`${err.message.split('\n')[0]}\n${await describePage(tab)}`);
	}
}

/**
 * Waits (timeoutMs, default 10 s) until the chat page lists an event called name (and, with
 * opts.args, whose arguments serialize to exactly JSON.stringify(opts.args)); resolves its
 * arguments (an array).  Rejects with a description of the page.
 */
async function waitForEvent(tab, name, opts = {}) {
	const timeoutMs = opts.timeoutMs || DEFAULT_WAIT_MS;
	const arg = { name, args: opts.args === undefined ? null : JSON.stringify(opts.args) };
	try {
		const handle = await tab.page.waitForFunction((a) => {
			for (const li of document.querySelectorAll('#events li')) {
				if (li.dataset.event === a.name && (a.args === null || li.dataset.args === a.args))
					return li.dataset.args;
			}
			return false;
		}, arg, { timeout: timeoutMs, polling: 50 });
		return JSON.parse(await handle.jsonValue());
	} catch (err) {
		const what = arg.args === null ? name : `${name} ${arg.args}`;
		throw new Error(`waiting ${timeoutMs} ms for the page to list the event ${what}: ` +
			`${err.message.split('\n')[0]}\n${await describePage(tab)}`);
	}
}

module.exports = {
	CHROMIUM_PATH,
	CHROMIUM_ARGS,
	CHAT_DIR,
	IO_DIST_DIR,
	chromiumMissing,
	CHAT_DIR,
	chatRoutes,
	startStaticServer,
	waitForMessage,
	launchBrowser,
	describePage,
	waitForText,
	waitForEvent,
	pageEvents,
};
