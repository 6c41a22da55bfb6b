#!/usr/bin/env bash
# RabbitMQ for the push-monitoring tests (`monitoring: rabbitmq`): Debian's rabbitmq-server,
# a real broker. Only installed here; tests/servers/rabbitmq.py starts a private node per
# test session on free ports (its own epmd, data and log dirs) and stops it by PID.
set -euo pipefail
if dpkg-query -W -f='${Status}' rabbitmq-server 2>/dev/null | grep -q "install ok installed"; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends rabbitmq-server
