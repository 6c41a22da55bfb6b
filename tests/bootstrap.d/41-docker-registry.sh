#!/usr/bin/env bash
# The Distribution registry (Debian `docker-registry`), so `wren runtime build` can push to a
# real registry in the tests (tests/servers/registry.py starts it on 127.0.0.1 with its own
# config). The package's own service, which would listen on :5000 on every interface, is
# kept from starting and left disabled. Idempotent.
set -euo pipefail
if command -v docker-registry >/dev/null 2>&1; then
  echo "docker-registry: already installed"
  exit 0
fi
guard=/usr/sbin/policy-rc.d
if [ ! -e "$guard" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$guard"
  chmod +x "$guard"
  trap 'rm -f "$guard"' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq docker-registry >/dev/null || {
  apt-get update -qq
  apt-get install -y -qq docker-registry >/dev/null
}
update-rc.d docker-registry disable >/dev/null 2>&1 || true
if [ -d /run/systemd/system ]; then
  systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi
echo "docker-registry: installed"
