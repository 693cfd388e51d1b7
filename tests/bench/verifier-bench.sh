#!/usr/bin/env bash
# The HTTP verifier under load, for two siogate binaries in one run (issue 18: the outbound client
# on libcurl against the hand-written one): N clients connect and authenticate at once through
# auth.verifier: http against a Node verifier that answers after DELAY_MS; for each binary,
# alternating ROUNDS times, the load generator's handshake+authenticate latency and rate, and the
# verifier's count of TCP connections against requests.
#   tests/bench/verifier-bench.sh OLD_BINARY NEW_BINARY [N] [ROUNDS]
set -eu
old=$1 new=$2 n=${3:-10000} rounds=${4:-2}
here=$(cd "$(dirname "$0")" && pwd)
loadgen=${LOADGEN:-$here/../../../shared/bench/loadgen/sio-loadgen}
[ -x "$loadgen" ] || { echo "no load generator at $loadgen (LOADGEN=...)" >&2; exit 2; }
vport=3398 sport=3397
dir=$(mktemp -d)
node "$here/verifier.js" $vport >"$dir/verifier.log" 2>&1 &
vpid=$!
trap 'kill $vpid 2>/dev/null; rm -rf "$dir"' EXIT
sleep 0.5
cat >"$dir/sg.yaml" <<YAML
server: { listen: ["127.0.0.1:$sport"], max_connections: 200000 }
auth: { verifier: http, http: { url: "http://127.0.0.1:$vport/auth", timeout: 10s, cache_ttl: 0s } }
limits: { auth_failures_per_minute: 0, handshakes_per_second: 0, per_ip: 0 }
log: { level: warn }
YAML
printf '%-5s %-6s %10s %10s %10s %12s %10s\n' round binary conn/s hs_p50_ms hs_p99_ms connections requests
for r in $(seq 1 "$rounds"); do
	for which in old new; do
		bin=$old; [ $which = new ] && bin=$new
		"$bin" -c "$dir/sg.yaml" >"$dir/sg-$which.log" 2>&1 &
		spid=$!
		sleep 0.5
		kill -USR2 $vpid; sleep 0.2 # reset the counts
		out=$("$loadgen" connect -n "$n" --rate 0 --concurrency 512 --port $sport --token "${TOKEN-}" \
			--hold 1 --hs-timeout 60 --timeout 120 2>/dev/null | tail -1)
		kill -USR2 $vpid; sleep 0.3
		counts=$(tail -1 "$dir/verifier.log")
		kill -TERM $spid; wait $spid 2>/dev/null || true
		node -e '
const o = JSON.parse(process.argv[1]), c = JSON.parse(process.argv[2]);
console.log([process.argv[3], process.argv[4], o.conn_per_s.toFixed(0), o.hs_p50_ms.toFixed(1),
	o.hs_p99_ms.toFixed(1), c.connections, c.requests].map((v, i) => String(v).padStart(i < 2 ? 0 : 10)).join("  "));
if (o.ok !== o.n) console.log(`  (${o.n - o.ok} of ${o.n} did not authenticate)`);' "$out" "$counts" "$r" "$which"
	done
done
