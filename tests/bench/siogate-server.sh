#!/usr/bin/env bash
# Starts siogate for ../shared/bench/run.sh, like the harness's own siogate-server.sh (HS256
# JWT with the bench secret, joins allowed to public-* and bench-*, Redis on the harness's
# server, the Node reference's equivalent), with extra top-level YAML sections, e.g.
#   siogate-server.sh ./build/siogate PORT REDIS_URL 'recovery: { enabled: true }'
# so that `make bench-recovery` measures a feature on and off in one run.
set -eu
bin=$1 port=$2 redis=$3; shift 3
cfg=$(mktemp --suffix=.yaml)
{
  echo "server:"
  echo "  listen: [\"127.0.0.1:$port\"]"
  echo "  path: /socket.io/"
  echo "  max_connections: 200000"
  echo "auth:"
  echo "  verifier: jwt"
  echo "  jwt: { algorithms: [HS256], secret: \"${BENCH_SECRET:-bench-secret}\" }"
  echo "rooms:"
  echo "  allow: [\"public-*\", \"bench-*\"]"
  echo "redis:"
  echo "  url: $redis"
  echo "log:"
  echo "  level: warn"
  for section in "$@"; do echo "$section"; done
} >"$cfg"
exec "$bin" -c "$cfg"
