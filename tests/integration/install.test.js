'use strict';
/*
 * install.test.js: `make install DESTDIR=... PREFIX=/usr` lays out the binary, both man pages,
 * the systemd unit pointing at the installed paths, and the example configuration, and a second
 * install keeps an existing /etc/siogate/siogate.yaml.  The installed binary runs and its unit
 * is a Type=notify service with the hardening of DESIGN.md.
 */

const assert = require('node:assert/strict');
const { test } = require('node:test');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '../..');

test('make install DESTDIR=... produces the expected tree and keeps an existing config', () => {
	const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'siogate-install-'));
	try {
		const run = () => execFileSync('make', ['-s', '-C', root, 'install', `DESTDIR=${dest}`, 'PREFIX=/usr'],
			{ encoding: 'utf8', timeout: 120000 });
		run();
		for (const f of ['usr/bin/siogate', 'usr/share/man/man8/siogate.8', 'usr/share/man/man5/siogate.yaml.5',
			'lib/systemd/system/siogate.service', 'etc/siogate/siogate.yaml'])
			assert.ok(fs.existsSync(path.join(dest, f)), `${f} installed`);
		assert.ok(fs.statSync(path.join(dest, 'usr/bin/siogate')).mode & 0o111, 'the binary is executable');
		const unit = fs.readFileSync(path.join(dest, 'lib/systemd/system/siogate.service'), 'utf8');
		assert.match(unit, /^Type=notify$/m);
		assert.match(unit, /^ExecStart=\/usr\/bin\/siogate -c \/etc\/siogate\/siogate\.yaml$/m);
		assert.match(unit, /^ExecStartPre=\/usr\/bin\/siogate --check/m);
		assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
		for (const line of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes', 'CapabilityBoundingSet='])
			assert.ok(unit.includes(line), line);
		const version = execFileSync(path.join(dest, 'usr/bin/siogate'), ['--version'], { encoding: 'utf8' });
		assert.match(version, /^siogate \d+\.\d+\.\d+/);
		fs.writeFileSync(path.join(dest, 'etc/siogate/siogate.yaml'), '# mine\n');
		const out = run();
		assert.match(out, /keeping the existing/);
		assert.equal(fs.readFileSync(path.join(dest, 'etc/siogate/siogate.yaml'), 'utf8'), '# mine\n');
	} finally {
		fs.rmSync(dest, { recursive: true, force: true });
	}
});

test('systemd-analyze verify finds nothing wrong with the unit (where the tool exists)', (t) => {
	let tool = true;
	try {
		execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore' });
	} catch {
		tool = false;
	}
	if (!tool) {
		t.skip('systemd-analyze is not installed here');
		return;
	}
	/* the unit as installed, pointed at this build and an existing configuration */
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'siogate-unit-'));
	try {
		const unit = fs.readFileSync(path.join(root, 'systemd/siogate.service'), 'utf8')
			.replaceAll('/usr/bin/siogate', path.join(root, 'src/siogate'))
			.replaceAll('/etc/siogate/siogate.yaml', path.join(root, 'conf/minimal.yaml'));
		fs.writeFileSync(path.join(dir, 'siogate.service'), unit);
		const r = spawnSync('systemd-analyze', ['verify', '--man=no', path.join(dir, 'siogate.service')],
			{ encoding: 'utf8', timeout: 60000 });
		assert.equal(r.status, 0);
		assert.equal(`${r.stdout}${r.stderr}`.trim(), '', 'systemd-analyze says nothing');
	} finally {
		fs.rmSync(dir, { recursive: true, force: true });
	}
});
