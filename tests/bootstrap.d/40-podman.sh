#!/usr/bin/env bash
# Podman serving the Docker API for wren's container runtimes (tests/servers/podman.py starts
# it): podman, runc (the default crun fails on these machines' cgroups), catatonit (the init
# of `--init` containers) and debootstrap (the base image is built locally: nothing can be
# pulled here). Idempotent.
set -euo pipefail
missing=()
for tool in podman:podman runc:runc catatonit:catatonit debootstrap:debootstrap; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool##*:}")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "podman: already installed ($(podman --version))"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq podman runc catatonit debootstrap >/dev/null
echo "podman: installed $(podman --version)"
