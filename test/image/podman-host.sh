#!/usr/bin/env bash
# Prepares this machine for Debian's podman 4.3, once, and says what it changed. Idempotent: a second
# run changes nothing. Host preparation for the image build and its test, never part of the product.
#
#   1. A containers.conf for our builds and runs (CONTAINERS_CONF points at it, so the machine's own
#      /etc/containers is left alone):
#        cgroups = "disabled"   the sandboxes these tests run in refuse cgroup set-up (crun fails with
#                               "cannot set up cgroup"): our containers need no resource limits.
#        default_ulimits = []   they also refuse raising RLIMIT_NOFILE, which podman asks for by default.
#   2. A cgroup v1 `hugetlb` hierarchy mounted at /sys/fs/cgroup/hugetlb when the hybrid layout leaves
#      hugetlb as the one controller on the v2 mount: crun refuses to run in that half-and-half mode.
#      Mounting the v1 hierarchy takes hugetlb off v2 (the kernel hands a controller to one version).
#
# Usage: test/image/podman-host.sh CONTAINERS_CONF_PATH
set -euo pipefail

conf=${1:?usage: podman-host.sh CONTAINERS_CONF_PATH}
log() { printf '==> %s\n' "$*"; }

want=$'# Written by test/image/podman-host.sh: see the comment there.\n[containers]\ncgroups = "disabled"\ndefault_ulimits = []\n'
if [[ ! -f "$conf" || "$(cat "$conf")"$'\n' != "$want" ]]; then
  mkdir -p "$(dirname "$conf")"
  printf '%s' "$want" >"$conf.tmp" && mv -f "$conf.tmp" "$conf"
  log "wrote $conf (cgroups disabled, no default ulimits)"
fi

unified=/sys/fs/cgroup/unified
if [[ -f "$unified/cgroup.controllers" ]] && grep -qw hugetlb "$unified/cgroup.controllers"; then
  mkdir -p /sys/fs/cgroup/hugetlb
  mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb
  log "mounted a cgroup v1 hugetlb hierarchy (crun refuses a hybrid layout with controllers on v2)"
fi
