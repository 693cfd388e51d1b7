/*
 * app.js: the browser side of the siogate chat demo (plain script, no build step; needs the global
 * `io` from socket.io.min.js, loaded before it).  It connects to the siogate named by ?server=
 * with the JWT from ?token= in the CONNECT auth payload, using socket.io-client's default
 * transports (HTTP long-polling first, then the upgrade to WebSocket), emits `authenticate` on
 * every connect, joins the chat room (?room=, default public-chat) once authenticated, sends chat
 * messages as `chat:send` (which siogate forwards to the backend, backend.js, which publishes
 * them back to the room as `chat:message`), joins rooms on demand, and lists every event it
 * receives.  Invariant: the DOM
 * status (#connection, #auth, #transport, #ack, each with a data-value/data-history attribute, and
 * one #events item per received event with data-event and data-args = JSON of its arguments) is
 * always the last thing the socket reported, so a person or a test can read it; server payloads
 * are only ever inserted as text, never as HTML.
 */
(function () {
	'use strict';

	var MAX_EVENTS = 200;        /* keep the list bounded: siogate sends `ping` every 30 s */
	var ACK_TIMEOUT_MS = 5000;

	var params = new URLSearchParams(window.location.search);
	/* Without ?server= the page assumes siogate answers on its own origin (behind one proxy). */
	var server = params.get('server') || window.location.origin;
	var token = params.get('token') || '';
	var path = params.get('path') || '/socket.io/';
	var chatRoom = params.get('room') || 'public-chat';

	function $(id) {
		return document.getElementById(id);
	}

	/* Sets an element's machine-readable data-value and its human text (default: the value). */
	function show(id, value, text) {
		var el = $(id);
		el.dataset.value = value;
		el.textContent = text === undefined ? value : text;
	}

	/* JSON for display; binary attachments (ArrayBuffer/Blob) shown by size. */
	function format(arg) {
		if (arg instanceof ArrayBuffer)
			return '<' + arg.byteLength + ' bytes>';
		if (typeof Blob !== 'undefined' && arg instanceof Blob)
			return '<blob ' + arg.size + ' bytes>';
		try {
			return JSON.stringify(arg);
		} catch (e) {
			return String(arg);
		}
	}

	function addEvent(name, args) {
		var list = $('events');
		var li = document.createElement('li');
		var nameEl = document.createElement('span');
		li.dataset.event = name;
		try {
			li.dataset.args = JSON.stringify(args);
		} catch (e) {
			li.dataset.args = '';
		}
		nameEl.className = 'name';
		nameEl.textContent = name;
		li.appendChild(nameEl);
		li.appendChild(document.createTextNode(' ' + args.map(format).join(' ')));
		list.appendChild(li);
		while (list.children.length > MAX_EVENTS)
			list.removeChild(list.firstChild);
	}

	$('server').textContent = server;
	if (!token)
		$('auth-message').textContent = 'no token in the query string (?token=...)';

	if (typeof window.io !== 'function') {
		show('connection', 'error', 'socket.io.min.js did not load (see README.md)');
		return;
	}

	/* Default transports: polling, then the upgrade to websocket. */
	var socket = window.io(server, { path: path, auth: { token: token } });
	var transports = [];

	function showTransport(name) {
		transports.push(name);
		$('transport').dataset.history = transports.join(' ');
		$('transport-history').textContent = transports.join(' \u2192 ');
		show('transport', name);
	}

	/* The Manager opens a new Engine.IO session on every (re)connection. */
	socket.io.on('open', function () {
		var engine = socket.io.engine;
		showTransport(engine.transport.name);
		engine.on('upgrade', function (transport) {
			showTransport(transport.name);
		});
	});

	socket.on('connect', function () {
		show('connection', 'connected');
		$('socket-id').textContent = socket.id;
		show('auth', 'authenticating');
		socket.emit('authenticate', {});
	});

	socket.on('connect_error', function (err) {
		show('connection', 'error', 'connect error: ' + err.message);
	});

	socket.on('disconnect', function (reason) {
		show('connection', 'disconnected', 'disconnected: ' + reason);
		/* keep "unauthenticated" visible: it explains the disconnect that follows it */
		if ($('auth').dataset.value !== 'unauthenticated')
			show('auth', 'unauthorized');
	});

	socket.on('authenticated', function () {
		show('auth', 'authenticated');
		$('auth-message').textContent = '';
		/* the chat room: joined again after every (re)connection */
		socket.timeout(ACK_TIMEOUT_MS).emit('join', { rooms: [chatRoom] }, function (err, ack) {
			if (!err && ack && ack.rooms && ack.rooms.indexOf(chatRoom) >= 0)
				show('chat-room', 'joined', chatRoom);
			else
				show('chat-room', 'refused', chatRoom + ' (not joined: ' + (err ? 'no ack' : JSON.stringify(ack)) + ')');
		});
	});

	/* A chat message, published by the backend to the room: {room, from, text, time}. */
	socket.on('chat:message', function (m) {
		var list = $('messages');
		var li = document.createElement('li');
		var from = document.createElement('span');
		if (!m || typeof m.text !== 'string')
			return;
		li.dataset.from = String(m.from);
		li.dataset.text = m.text;
		from.className = 'from';
		from.textContent = String(m.from) + ': ';
		li.appendChild(from);
		li.appendChild(document.createTextNode(m.text));
		list.appendChild(li);
		while (list.children.length > MAX_EVENTS)
			list.removeChild(list.firstChild);
	});

	socket.on('unauthenticated', function (payload) {
		show('auth', 'unauthenticated');
		$('auth-message').textContent = payload && payload.message ? payload.message : '';
	});

	socket.onAny(function (event) {
		addEvent(event, Array.prototype.slice.call(arguments, 1));
	});

	/* Send: the event goes to the backend through siogate's events.forward; its answer is the ack. */
	$('chat-form').addEventListener('submit', function (ev) {
		var text = $('message').value;
		ev.preventDefault();
		if (text.length === 0)
			return;
		show('send-status', 'pending', 'sending...');
		socket.timeout(ACK_TIMEOUT_MS).emit('chat:send', { room: chatRoom, text: text }, function (err, ack) {
			if (err)
				show('send-status', 'timeout', 'no answer within ' + ACK_TIMEOUT_MS / 1000 + ' s');
			else if (ack && ack.ok)
				show('send-status', 'sent', 'sent');
			else
				show('send-status', 'refused', JSON.stringify(ack));
		});
		$('message').value = '';
	});

	$('join-form').addEventListener('submit', function (ev) {
		var rooms = $('room').value.split(',').map(function (r) {
			return r.trim();
		}).filter(function (r) {
			return r.length > 0;
		});
		ev.preventDefault();
		show('ack', 'pending', 'waiting for the ack...');
		socket.timeout(ACK_TIMEOUT_MS).emit('join', { rooms: rooms }, function (err, ack) {
			if (err)
				show('ack', 'timeout', 'no ack within ' + ACK_TIMEOUT_MS / 1000 + ' s');
			else
				show('ack', 'received', JSON.stringify(ack));
		});
	});
}());
