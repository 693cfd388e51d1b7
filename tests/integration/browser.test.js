'use strict';
/*
 * browser.test.js: the chat demo (examples/chat) in a real browser, Debian's chromium driven
 * headless by playwright-core, against a real siogate and redis.  The page is served by a static
 * server on another origin than siogate, so this exercises what Node clients cannot: the
 * socket.io-client browser bundle with its default transports (XHR long-polling, then the upgrade
 * to WebSocket), CORS as the browser enforces it (server.cors), and the helper flow as a web page
 * sees it.  Skips only when /usr/bin/chromium is missing; installs nothing at run time.
 */

const assert = require('node:assert/strict');
const test = require('node:test');

const path = require('node:path');

const h = require('./lib/harness');
const web = require('./lib/browser');

const TEST_TIMEOUT_MS = 60000;
const NO_RECONNECT_WINDOW_MS = 1600;
const missing = web.chromiumMissing();

if (missing) {
	test('examples/chat in headless chromium', (t) => {
		t.skip(missing);
	});
} else {
	browserSuite();
}

function browserSuite() {
	const state = { server: null, browser: null, launching: null, backend: null };
	/* events.forward to the chat's backend (examples/chat/backend.js): its URL is filled in by
	 * `before`, once a free port is known, before the harness writes siogate.yaml */
	const chatRule = { match: 'chat:*', http: null, timeout: '3s' };
	/*
	 * server.cors.origins must name the static server's origin, whose port is known only once it
	 * listens: the array is filled in by `before` below, before the harness writes siogate.yaml
	 * (it reads the config when its own before runs, which the wrapper calls last).
	 */
	const corsOrigins = [];
	/* The harness's hooks, wrapped so that the static server and chromium share its lifecycle. */
	const hooks = {
		before: (startSiogate) => test.before(async () => {
			state.server = await web.startStaticServer(web.chatRoutes());
			corsOrigins.push(state.server.origin);
			const backendPort = await h.freePort();
			chatRule.http = `http://127.0.0.1:${backendPort}/chat`;
			state.launching = web.launchBrowser();
			const [launched, started] = await Promise.allSettled([state.launching, startSiogate()]);
			if (launched.status === 'fulfilled')
				state.browser = launched.value;
			if (launched.status === 'rejected')
				throw launched.reason;
			if (started.status === 'rejected')
				throw started.reason;
			/* the example's backend as a user runs it; `redis` comes from this folder's modules */
			state.backend = h.spawnLogged('chat-backend', process.execPath,
				[path.join(web.CHAT_DIR, 'backend.js')], {
					env: {
						PORT: String(backendPort),
						REDIS_URL: env.redis.url,
						NODE_PATH: path.join(__dirname, 'node_modules'),
					},
				});
			await state.backend.waitForLog(`backend: listening on 127.0.0.1:${backendPort}`);
		}),
		afterEach: (closeClients) => test.afterEach(async () => {
			closeClients();
			if (state.browser)
				await state.browser.closePages();
		}),
		after: (teardown) => test.after(async () => {
			const errors = [];
			if (state.launching)
				await state.launching.catch(() => {});
			if (state.browser)
				await state.browser.close().catch((e) => errors.push(e));
			await Promise.resolve().then(teardown).catch((e) => errors.push(e));
			if (state.backend) {
				const exit = await state.backend.stop('SIGTERM').catch((e) => errors.push(e));
				if (exit && exit.code !== 0)
					errors.push(new Error(`the chat backend exited with ${JSON.stringify(exit)}:\n${state.backend.log()}`));
			}
			if (state.server)
				await state.server.close();
			if (errors.length > 0)
				throw errors[0];
		}),
	};
	const env = h.useSiogate(hooks, {
		redis: true,
		config: {
			log: { level: 'debug' }, /* the refused-Origin line is per client: debug */
			server: { cors: { origins: corsOrigins, credentials: false } },
			rooms: { allow: ['public-*'] },
			events: { forward: [chatRule] },
		},
	});

	/* Opens the demo page of the static server at origin (default its own) for siogate + token. */
	const openChat = (tok, origin = state.server.origin) => {
		const q = new URLSearchParams({ server: env.sg.url, token: tok });
		return state.browser.openPage(`${origin}/?${q}`);
	};

	const noPageErrors = (tab) => {
		assert.deepEqual(tab.pageErrors, [], 'uncaught exceptions in the page');
	};

	test('the page connects over polling, upgrades to websocket and authenticates',
		{ timeout: TEST_TIMEOUT_MS }, async () => {
			const tab = await openChat(h.token({ sub: 'alice' }));
			await web.waitForText(tab, '#auth', 'authenticated');
			await web.waitForText(tab, '#connection', 'connected');
			await web.waitForText(tab, '#transport', 'websocket');
			const page = tab.page;
			assert.equal(await page.getAttribute('#transport', 'data-history'), 'polling websocket',
				'the Engine.IO session must open on polling, then upgrade once');

			/* what the browser saw on the wire: CORS-approved polling, then one upgrade of that sid */
			const polls = tab.engine.filter((r) => /[?&]transport=polling(&|$)/.test(r.url));
			assert.ok(polls.length >= 2, `expected the handshake and more polls, got ${JSON.stringify(tab.engine)}`);
			for (const r of polls) {
				assert.equal(r.status, 200, `${r.method} ${r.url}`);
				assert.equal(r.acao, state.server.origin, `Access-Control-Allow-Origin of ${r.method} ${r.url}`);
			}
			assert.equal(new URL(polls[0].url).searchParams.get('sid'), null, 'the first poll is the handshake');
			const sid = new URL(polls[1].url).searchParams.get('sid');
			assert.ok(sid, 'the polls after the handshake carry the sid');
			assert.equal(tab.websockets.length, 1, `WebSockets opened: ${JSON.stringify(tab.websockets)}`);
			const wsUrl = new URL(tab.websockets[0]);
			assert.equal(`${wsUrl.protocol}//${wsUrl.host}${wsUrl.pathname}`, `${env.sg.wsUrl}/socket.io/`);
			assert.equal(wsUrl.searchParams.get('transport'), 'websocket');
			assert.equal(wsUrl.searchParams.get('sid'), sid, 'the WebSocket upgrades the polling session');

			/* the `authenticated` event as the page listed it */
			const [auth] = await web.waitForEvent(tab, 'authenticated');
			assert.equal(auth.id, (await page.textContent('#socket-id')).trim());
			assert.match(auth.time, h.ISO_MS_RE);
			const names = (await web.pageEvents(tab)).map((e) => e.name);
			assert.ok(names.indexOf('ping') >= 0 && names.indexOf('ping') < names.indexOf('authenticated'),
				`ping comes before authenticated: ${JSON.stringify(names)}`);
			noPageErrors(tab);
		});

	test('Join shows the ack, and what the redis emitter sends to the room appears in the list',
		{ timeout: TEST_TIMEOUT_MS }, async () => {
			const tab = await openChat(h.token({ sub: 'bob' }));
			const page = tab.page;
			await web.waitForText(tab, '#auth', 'authenticated');

			await page.fill('#room', 'public-demo');
			await page.click('#join');
			const ackText = await web.waitForText(tab, '#ack', /^\{/);
			assert.deepEqual(JSON.parse(ackText), { rooms: ['public-demo'], rejected: [] });

			const msg = { from: 'backend', text: 'hello, browser', n: 1 };
			env.emitter.to('public-demo').emit('chat', msg);
			assert.deepEqual(await web.waitForEvent(tab, 'chat'), [msg]);

			/* a refused room: the ack says so, and the room's traffic never reaches the page */
			await page.fill('#room', 'private-demo');
			await page.click('#join');
			const refused = await web.waitForText(tab, '#ack', /private-demo/);
			assert.deepEqual(JSON.parse(refused), { rooms: [], rejected: ['private-demo'] });
			env.emitter.to('private-demo').emit('secret', { text: 'not for you' });
			/* redis delivers in publish order: once the fence is listed, the secret would be too */
			const socketId = (await page.textContent('#socket-id')).trim();
			env.emitter.to(socketId).emit('fence', 42);
			await web.waitForEvent(tab, 'fence', { args: [42] });
			const names = (await web.pageEvents(tab)).map((e) => e.name);
			assert.ok(!names.includes('secret'), `the page got an event of a refused room: ${JSON.stringify(names)}`);
			noPageErrors(tab);
		});

	test('two users chat: Send goes through events.forward to the backend, which publishes to the room',
		{ timeout: TEST_TIMEOUT_MS }, async () => {
			const alice = await openChat(h.token({ sub: 'alice' }));
			const bob = await openChat(h.token({ sub: 'bob' }));
			for (const tab of [alice, bob]) {
				await web.waitForText(tab, '#auth', 'authenticated');
				await web.waitForText(tab, '#chat-room', 'public-chat');
				assert.equal(await tab.page.getAttribute('#chat-room', 'data-value'), 'joined');
			}

			await alice.page.fill('#message', 'hello bob, <b>not bold</b>');
			await alice.page.click('#send');
			await web.waitForText(alice, '#send-status', 'sent');
			const seen = await web.waitForMessage(bob, 'alice', 'hello bob, <b>not bold</b>');
			assert.deepEqual(seen, [{ from: 'alice', text: 'hello bob, <b>not bold</b>' }]);
			await web.waitForMessage(alice, 'alice', 'hello bob, <b>not bold</b>');
			assert.equal(await bob.page.$$eval('#messages b', (b) => b.length), 0, 'text is shown as text, not HTML');

			await bob.page.fill('#message', 'hi alice');
			await bob.page.press('#message', 'Enter');
			await web.waitForText(bob, '#send-status', 'sent');
			assert.deepEqual(await web.waitForMessage(alice, 'bob', 'hi alice'), [
				{ from: 'alice', text: 'hello bob, <b>not bold</b>' },
				{ from: 'bob', text: 'hi alice' },
			]);
			/* the message the backend published carries the sender verified by siogate */
			const [msg] = await web.waitForEvent(alice, 'chat:message', { args: undefined });
			assert.equal(msg.room, 'public-chat');
			assert.match(msg.time, h.ISO_MS_RE);
			noPageErrors(alice);
			noPageErrors(bob);
		});

	test('a page with a bad token shows unauthenticated with the seed message',
		{ timeout: TEST_TIMEOUT_MS }, async () => {
			const tab = await openChat(h.token({ sub: 'mallory' }, { secret: 'not-the-configured-secret' }));
			await web.waitForText(tab, '#auth', 'unauthenticated');
			assert.equal((await tab.page.textContent('#auth-message')).trim(), h.MSG_INVALID_TOKEN);
			await web.waitForText(tab, '#connection', 'disconnected: io server disconnect');
			const events = await web.pageEvents(tab);
			const un = events.find((e) => e.name === 'unauthenticated');
			assert.equal(un.args[0].message, h.MSG_INVALID_TOKEN);
			assert.match(un.args[0].time, /^\d{4}-\d{2}-\d{2}T/);
			assert.ok(!events.some((e) => e.name === 'authenticated'), JSON.stringify(events));
			/* socket.io-client must not reconnect after a server disconnect: its first retry would
			 * come 0.5-1.5 s after a "transport close", so give it that long to show up */
			await h.delay(NO_RECONNECT_WINDOW_MS);
			const handshakes = tab.engine.filter((r) => !new URL(r.url).searchParams.has('sid'));
			assert.equal(handshakes.length, 1, `Engine.IO handshakes: ${JSON.stringify(handshakes)}`);
			assert.equal((await tab.page.textContent('#connection')).trim(), 'disconnected: io server disconnect');
			noPageErrors(tab);
		});

	test('a page from an origin not in server.cors cannot connect',
		{ timeout: TEST_TIMEOUT_MS }, async () => {
			/* same static server, but the browser's Origin is http://localhost:PORT: not listed */
			const mark = env.sg.mark();
			const tab = await openChat(h.token({ sub: 'eve' }), `http://localhost:${state.server.port}`);
			await web.waitForText(tab, '#connection', 'connect error: xhr poll error');
			await env.sg.waitForLog('Origin not allowed by server.cors', 5000, mark);
			assert.equal(tab.websockets.length, 0, `WebSockets opened: ${JSON.stringify(tab.websockets)}`);
			assert.equal((await tab.page.textContent('#auth')).trim(), 'unauthorized');
			noPageErrors(tab);
		});
}
