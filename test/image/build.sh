#!/usr/bin/env bash
# `make image`: builds the controller image from the Dockerfile with Debian's podman (no Docker engine,
# no daemon: podman runs the build's steps itself, as root here, with the same crun the tests run the
# image with). Labels and `rebound version` get the package's version, the Git revision and the source.
#
# Usage: test/image/build.sh IMAGE
# Environment (the Makefile sets them): REBOUND_CACHE_DIR, NODE_BIN, NPM_DIR, HELM,
#   IMAGE_BASES=standin (default: bases made here by standin-bases.sh) or upstream (the Dockerfile's own).
set -euo pipefail

image=${1:?usage: build.sh IMAGE}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cache_dir=${REBOUND_CACHE_DIR:-$HOME/.cache/rebound}
export CONTAINERS_CONF=${CONTAINERS_CONF:-$cache_dir/podman/containers.conf}

bash "$here/podman-host.sh" "$CONTAINERS_CONF"

build_args=()
if [[ ${IMAGE_BASES:-standin} == standin ]]; then
  while IFS= read -r arg; do build_args+=(--build-arg "$arg"); done \
    < <(bash "$here/standin-bases.sh" "$cache_dir" "${NODE_BIN:?}" "${NPM_DIR:?}" "${HELM:?}")
fi

package() { node -p "require('$root/package.json').$1"; }
version=$(package version)
source=$(package repository.url)
revision=$(git -C "$root" rev-parse HEAD)

printf '==> podman build %s (version %s, revision %s)\n' "$image" "$version" "${revision:0:12}" >&2
# Host network for the build's apt-get and npm ci (a build network would need netavark's firewall).
podman build --network host --pull=never --layers \
  "${build_args[@]}" \
  --build-arg "VERSION=$version" --build-arg "REVISION=$revision" --build-arg "SOURCE=$source" \
  -t "$image" -f "$root/Dockerfile" "$root"
