#!/usr/bin/env bash
# Ceph (one monitor, one memstore OSD, the RADOS Gateway) for the `ibm_cos` storage tests:
# a real S3 server with SigV4 and S3's limits. Debian packages only; the cluster itself is
# created and started by tests/servers/ceph.py. Idempotent.
set -euo pipefail
if command -v ceph-mon >/dev/null && command -v ceph-osd >/dev/null \
    && command -v radosgw >/dev/null && command -v radosgw-admin >/dev/null; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends ceph-mon ceph-osd radosgw >/dev/null
