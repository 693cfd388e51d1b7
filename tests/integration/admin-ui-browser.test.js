'use strict';
/*
 * admin-ui-browser.test.js: the real Socket.IO Admin UI (the npm package @socket.io/admin-ui's
 * ui/dist, unchanged) in Debian's chromium driven headless by playwright-core, served by siogate's
 * admin.ui_dir and logging in to siogate's admin_ui namespace through its own form: a wrong
 * password is refused, the server appears, 20 connected clients appear with their rooms, a
 * client joining a room shows it, "disconnect" in the UI disconnects that client (the client sees
 * it), and in readonly mode the UI offers no disconnect.  A screenshot of the sockets page is
 * saved under tests/integration/artifacts/.  Skips only when /usr/bin/chromium is missing.
 */

const assert = require('node:assert/strict');
const test = require('node:test');
const fs = require('node:fs');
const path = require('node:path');
const bcrypt = require('bcryptjs');
const h = require('./lib/harness');
const web = require('./lib/browser');

const TEST_TIMEOUT_MS = 90000;
const WAIT_MS = 15000;
const PASSWORD = 'open sesame';
const HASH = bcrypt.hashSync(PASSWORD, 8);
const DIST = path.join(path.dirname(require.resolve('@socket.io/admin-ui/package.json')), 'ui', 'dist');
const ARTIFACTS = path.join(__dirname, 'artifacts');
const missing = web.chromiumMissing();

/* The UI's page is served on the admin port and connects to the client port: CORS with
 * credentials (the UI sets withCredentials) for the admin listener's origin. */
const config = (readonly, id = `gate-browser${readonly ? '-ro' : ''}`) => `
server:
  id: ${id}
  listen: ["127.0.0.1:{{PORT}}"]
  workers: 2
  shutdown_timeout: 5s
  drain_window: 100ms
  cors:
    origins: ["http://127.0.0.1:{{ADMIN_PORT}}"]
    credentials: true
auth:
  timeout: 10s
  jwt:
    algorithms: [HS256]
    secret: "{{SECRET}}"
rooms:
  allow: ["team-*"]
admin:
  listen: "127.0.0.1:{{ADMIN_PORT}}"
  ui_dir: "${DIST}"
admin_ui:
  enabled: true
  username: ops
  password_hash: "${HASH}"
  readonly: ${readonly}
log:
  level: info
`;

if (missing) {
	test('the Admin UI in headless chromium', (t) => {
		t.skip(missing);
	});
} else {
	browserSuite();
}

function browserSuite() {
	let browser = null;
	const started = [];
	test.before(async () => {
		browser = await web.launchBrowser();
	});
	test.afterEach(() => h.closeClients());
	test.after(async () => {
		h.closeClients(true);
		if (browser)
			await browser.close().catch(() => {});
		for (const sg of started)
			await sg.stop();
	});

	async function start(readonly, id, redis) {
		const sg = await h.startSiogate({ config: config(readonly, id) + (redis ? `redis:\n  url: "${redis.url}"\n` : ''),
			waitBridge: Boolean(redis) });
		started.push(sg);
		return sg;
	}

	/* The UI in a new context; requests off loopback (its web fonts and icons) are refused at
	 * once instead of waiting for a network there is none of. */
	async function openUi(sg) {
		const context = await browser.browser.newContext({ viewport: { width: 1400, height: 1000 } });
		await context.route('**/*', (route) => {
			const u = new URL(route.request().url());
			return u.hostname === '127.0.0.1' ? route.continue() : route.abort();
		});
		const page = await context.newPage();
		page.setDefaultTimeout(WAIT_MS);
		const tab = { page, context, pageErrors: [] };
		page.on('pageerror', (err) => tab.pageErrors.push(err.message));
		await page.goto(`http://127.0.0.1:${sg.adminPort}/`, { waitUntil: 'load' });
		return tab;
	}

	async function login(tab, sg, password) {
		const { page } = tab;
		await page.getByLabel('Server URL').fill(sg.url);
		await page.getByLabel('Username').fill('ops');
		await page.getByLabel('Password').fill(password);
		await page.getByRole('button', { name: 'Connect' }).click();
	}

	async function go(tab, route) {
		await tab.page.evaluate((r) => { window.location.hash = r; }, route);
	}

	/* Waits until the page's text contains every string of wanted (none of them: gone). */
	async function waitForTexts(tab, wanted, what, gone = false) {
		try {
			await tab.page.waitForFunction((a) => a.w.every((s) => document.body.innerText.includes(s) !== a.gone),
				{ w: wanted, gone }, { timeout: WAIT_MS, polling: 100 });
		} catch (err) {
			const text = await tab.page.evaluate(() => document.body.innerText).catch(() => '?');
			throw new Error(`${what}: ${err.message.split('\n')[0]}\npage text:\n${text.slice(0, 3000)}`);
		}
	}

	async function clients(sg, n) {
		const all = [];
		for (let i = 0; i < n; i++) {
			const s = await h.connectAuthed(sg.url, { claims: { sub: `browser-${i}` } });
			await s.timeout(3000).emitWithAck('join', { rooms: [`team-${i % 4}`] });
			all.push(s);
		}
		return all;
	}

	test('log in, see the server, 20 clients and their rooms, a join, and disconnect one',
		{ timeout: TEST_TIMEOUT_MS }, async () => {
			const sg = await start(false);
			const socks = await clients(sg, 20);
			const tab = await openUi(sg);

			/* a wrong password: the UI's form says so, and stays */
			await login(tab, sg, 'not the password');
			await waitForTexts(tab, ['Invalid credentials'], 'the refusal');
			await sg.waitForLog(/admin-ui: invalid credentials/);

			await login(tab, sg, PASSWORD);
			await sg.waitForLog(/admin-ui: logged in \(password\)/);

			/* the server, as the servers page lists it */
			await go(tab, '#/servers/');
			await waitForTexts(tab, ['gate-browser', String(sg.pid)], 'the servers page');

			/* the sockets page: every client of both workers (20 a page) */
			await go(tab, '#/sockets/');
			await waitForTexts(tab, socks.map((s) => s.id), 'the sockets page');
			await waitForTexts(tab, ['1-20 of 20'], 'the sockets count');
			fs.mkdirSync(ARTIFACTS, { recursive: true });
			await tab.page.screenshot({ path: path.join(ARTIFACTS, 'admin-ui-sockets.png'), fullPage: true });

			/* the rooms page: the clients' rooms, then one a client joins now */
			await go(tab, '#/rooms/');
			await waitForTexts(tab, ['team-0', 'team-1', 'team-2', 'team-3'], 'the rooms page');
			await socks[5].timeout(3000).emitWithAck('join', { rooms: ['team-late'] });
			await waitForTexts(tab, ['team-late'], 'a room joined while the UI watches');

			/* the socket's own page lists the new room too */
			await go(tab, `#/n/%2F/sockets/${socks[5].id}`);
			await waitForTexts(tab, [socks[5].id, 'team-late', 'team-1'], 'the socket page');

			/* "disconnect" on the sockets page: that client is disconnected by the server */
			const target = socks[7];
			const tid = target.id;
			const gone = h.once(target, 'disconnect', WAIT_MS);
			await go(tab, '#/sockets/');
			await waitForTexts(tab, [tid], 'the sockets page again');
			await tab.page.locator('tr', { hasText: tid }).locator('button').click();
			assert.equal(await gone, 'io server disconnect');
			await sg.waitForLog(new RegExp(`admin-ui: _disconnect / +${tid}`));
			/* the click also opens the socket's page (the row's click), which says so */
			await waitForTexts(tab, [tid, 'DISCONNECTED'], 'the socket page of the disconnected socket');
			await go(tab, '#/sockets/');
			await waitForTexts(tab, [socks[6].id, '1-19 of 19'], 'the sockets page after the disconnect');
			await waitForTexts(tab, [tid], 'the disconnected socket gone from the sockets page', true);
			assert.ok(socks[6].connected && socks[8].connected, 'the others stay');
			assert.deepEqual(tab.pageErrors, [], 'uncaught exceptions in the page');
			await tab.context.close();
		});

	test('readonly: the UI offers no disconnect', { timeout: TEST_TIMEOUT_MS }, async () => {
		const sg = await start(true);
		const socks = await clients(sg, 3);
		const tab = await openUi(sg);
		await login(tab, sg, PASSWORD);
		await go(tab, '#/sockets/');
		await waitForTexts(tab, socks.map((s) => s.id), 'the sockets page');
		assert.equal(await tab.page.locator('tr', { hasText: socks[0].id }).locator('button').count(), 0,
			'no disconnect button in readonly mode');
		assert.ok(socks.every((s) => s.connected));
		assert.deepEqual(tab.pageErrors, [], 'uncaught exceptions in the page');
		await tab.context.close();
	});

	test('two instances on one Redis show as two servers', { timeout: TEST_TIMEOUT_MS }, async () => {
		const redis = await h.startRedis();
		try {
			const a = await start(false, 'gate-one', redis);
			const b = await start(false, 'gate-two', redis);
			const tab = await openUi(a);
			await login(tab, a, PASSWORD);
			await go(tab, '#/servers/');
			await waitForTexts(tab, ['gate-one', String(a.pid), 'gate-two', String(b.pid)], 'both servers');
			await tab.context.close();
			await a.stop();
			await b.stop();
			started.splice(started.indexOf(a), 1);
			started.splice(started.indexOf(b), 1);
		} finally {
			await redis.stop();
		}
	});
}
