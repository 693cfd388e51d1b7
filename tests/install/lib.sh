# shellcheck shell=bash
# tests/install/lib.sh: what make-install and deb-fresh-root both check
# (sourced by them).  Each check prints "ok: ..." or "FAIL: ..."; finish
# prints the closing "N passed, N failed" line and returns non-zero on a
# failure.

passed=0 failed=0 skipped=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
skip() { skipped=$((skipped + 1)); echo "skip: $*"; }
finish() {
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" = 0 ]
}

# check_key FILE OWNER: a generated secret file: mode 0600, OWNER's,
# 32 bytes in base64 (44 characters and a newline).
check_key() {
	local f=$1 owner=$2 st n
	if ! st=$(stat -c '%a %U %s' "$f" 2>&1); then
		bad "$f: $st"
		return
	fi
	if [ "$st" = "600 $owner 45" ]; then
		ok "$f: mode 0600, owned by $owner, 45 bytes"
	else
		bad "$f: mode, owner, size '$st', expected '600 $owner 45'"
	fi
	n=$(base64 -d <"$f" 2>/dev/null | wc -c)
	if [ "$n" = 32 ]; then
		ok "$f: 32 bytes in base64"
	else
		bad "$f: decodes to $n bytes, not 32"
	fi
}

# check_config SIOGATE FILE: the installed configuration names its secrets
# by file, holds none itself, listens on loopback only, and passes --check.
check_config() {
	local siogate=$1 f=$2 out
	if out=$("$siogate" --check -c "$f" 2>&1); then
		ok "siogate --check -c $f: $out"
	else
		bad "siogate --check -c $f failed: $out"
	fi
	if grep -Eq '^[[:space:]]*secret_file:[[:space:]]*jwt\.key[[:space:]]*$' "$f" &&
	   grep -Eq '^[[:space:]]*token_file:[[:space:]]*admin\.token[[:space:]]*$' "$f"; then
		ok "$f: secret_file: jwt.key, token_file: admin.token"
	else
		bad "$f: does not name jwt.key and admin.token"
	fi
	if grep -Eq '^[[:space:]]*secret:' "$f"; then
		bad "$f: has an inline auth.jwt.secret"
	else
		ok "$f: no inline secret"
	fi
	out=$(grep -E '^[[:space:]]*listen:' "$f" | grep -v '127\.0\.0\.1:' || true)
	if [ -z "$out" ]; then
		ok "$f: listens on 127.0.0.1 only"
	else
		bad "$f: listens beyond loopback: $out"
	fi
}

# check_unit UNIT: systemd-analyze verify says nothing about it, and
# `systemd-analyze security --offline=true` rates it 2.0 or better.
check_unit() {
	local unit=$1 out score
	if ! command -v systemd-analyze >/dev/null; then
		skip "$unit: systemd-analyze is not installed (apt-get install systemd)"
		return
	fi
	# Documentation=man:... is checked with man(1); a root without man-db
	# (a minimal Debian) checks the rest.
	local man=--man=yes
	command -v man >/dev/null || man=--man=no
	if out=$(systemd-analyze verify "$man" "$unit" 2>&1) && [ -z "$out" ]; then
		ok "systemd-analyze verify $man $unit"
	else
		bad "systemd-analyze verify $unit: $out"
	fi
	out=$(systemd-analyze security --offline=true "$unit" 2>&1 | tail -n 1)
	score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
		ok "systemd-analyze security --offline=true $unit: $score (at most 2.0)"
	else
		bad "systemd-analyze security --offline=true $unit: '$out', expected at most 2.0"
	fi
}

# digest FILE: a checksum of FILE (to compare keys without printing them).
digest() { sha256sum <"$1" | cut -d' ' -f1; }

# free_port: a loopback TCP port nothing listens on now.
free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# admin_get PORT PATH TOKEN: the raw HTTP answer of the admin listener.
admin_get() {
	(
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n' \
			"$2" "$3" >&3
		timeout 10 cat <&3
	)
}
