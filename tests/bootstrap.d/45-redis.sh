#!/usr/bin/env bash
# Redis for wren.multiprocessing's shared state (Queue, Pipe, Manager): Debian's
# redis-server, a real server. Only installed here (its system service is not used);
# tests/servers/redis.py starts a private server per test session on a free loopback port,
# with a password, and stops it by PID. Idempotent.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then
  echo "redis: already installed ($(redis-server --version | cut -d' ' -f1-3))"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends redis-server >/dev/null
# the package starts a system-wide service on 6379 where there is an init; the tests never
# use it, so stop it when it is running (ignore machines without a service manager)
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet redis-server 2>/dev/null; then
  systemctl stop redis-server || true
fi
echo "redis: installed $(redis-server --version | cut -d' ' -f1-3)"
