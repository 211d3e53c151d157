#!/usr/bin/env bash
# Builds the real parts the integration tests and `make demo` run, from pinned Go modules:
#   kube-apiserver, kubectl  Kubernetes v1.36.3  (test/cluster/kube: k8s.io/kubernetes + 33 staging replaces)
#   kube-controller-manager, Kubernetes v1.36.3  (same module) } workloads that roll out: Deployments get
#   kube-scheduler                                             } ReplicaSets and Pods, Pods get nodes
#   kwok                     KWOK v0.8.0         (test/cluster/kwok: simulated nodes and pods, its stages
#                                                 in TOOLS_DIR/kwok-stages)
#   etcd                     v3.6.8              (test/cluster/etcd: the version k8s 1.36 pins its client to)
#   helm                     v4.2.4              (test/cluster/helm)
#   source-controller        Flux v1.9.6         (test/cluster/flux-source)    } apply: flux, with their
#   kustomize-controller     Flux v1.9.6         (test/cluster/flux-kustomize) } CRDs in TOOLS_DIR/flux-crds
#   gitea                    v1.26.0             (test/cluster/gitea: the real forge, with its templates
#                                                  in TOOLS_DIR/gitea-static; PostgreSQL, as SQLite needs cgo)
#   jaeger                   Jaeger v2 (v1.75.0) (test/cluster/jaeger: the OTel-collector-based cmd/jaeger,
#                                                 the trace backend of the tracing tests)
#   argocd                   Argo CD v3.2.11     (test/cluster/argocd: application-controller and repo-server
#                                                 only, one binary; CRDs in TOOLS_DIR/argocd-crds)
# Each module's go.mod and go.sum are committed, so the module proxy serves exactly what was reviewed.
#
# Usage: test/cluster/build.sh [TOOLS_DIR]   (default: $REBOUND_TOOLS_DIR or ~/.cache/rebound/bin)
#
# Idempotent: a binary is rebuilt only when its stamp (version, Go version, flags and the hash of its
# module's go.mod + go.sum) differs from the one recorded next to it. Binaries are written to a temporary
# name and renamed, so an interrupted build never leaves a half-written tool that looks current.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tools_dir=${1:-${REBOUND_TOOLS_DIR:-$HOME/.cache/rebound/bin}}
stamp_dir="$tools_dir/.stamps"

kube_version=v1.36.3
etcd_version=v3.6.8
helm_version=v4.2.4
# Flux 2.x controllers; v1.10 needs Go 1.27, v1.9.6 is the newest that builds with Go 1.26.
flux_version=v1.9.6
# The newest Gitea served under code.gitea.io/gitea (v1.27 moved to the module path gitea.dev).
gitea_version=v1.26.0
# The module's v1.75.0 tag is the release whose cmd/jaeger is Jaeger v2.12 (v1 and v2 share one module).
jaeger_version=v1.75.0
# Argo CD v3.6 needs Go 1.27; v3.3-v3.5 keep gitops-engine in a directory the module zip leaves out,
# and v3.2.12 does not compile (controller/cache: undefined settings.ValidateExternalURL): v3.2.11.
argocd_version=v3.2.11
kwok_version=v0.8.0

# No cgo (no C compiler needed, static binaries), no toolchain download behind our back, and a build
# that fails instead of silently editing a committed go.mod.
export CGO_ENABLED=0
export GOTOOLCHAIN=local
export GOFLAGS="-mod=readonly -buildvcs=false"

start_all=$(date +%s)

log() { printf '==> %s\n' "$*"; }
fail() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }
elapsed() { printf '%ss' "$(( $(date +%s) - $1 ))"; }

command -v go >/dev/null 2>&1 || fail "Go is not installed; Go 1.26 or newer is required (see docs/testing.md)"
go_version=$(go env GOVERSION)
case "$go_version" in
  go1.2[6-9]*|go1.[3-9][0-9]*) ;;
  *) fail "Go 1.26 or newer is required, found $go_version" ;;
esac

mkdir -p "$tools_dir" "$stamp_dir"

# go.mod + go.sum, and the module's own Go files where it has any (argocd's main.go).
module_hash() {
  local files=("$1/go.mod" "$1/go.sum") f
  for f in "$1"/*.go; do [[ -f $f ]] && files+=("$f"); done
  cat "${files[@]}" | sha256sum | cut -d' ' -f1
}

# stamp NAME VERSION MODULE_DIR LDFLAGS: the identity of a build; any change means rebuild.
stamp() { printf '%s %s %s %s %s\n' "$1" "$2" "$go_version" "$(module_hash "$3")" "$(printf '%s' "$4" | sha256sum | cut -d' ' -f1)"; }

is_current() { # NAME STAMP
  [[ -x "$tools_dir/$1" && -f "$stamp_dir/$1" && "$(cat "$stamp_dir/$1")" == "$2" ]]
}

# build MODULE_DIR LDFLAGS NAME=PACKAGE... : one `go build` per binary into a temporary name, then rename.
build() {
  local module=$1 ldflags=$2; shift 2
  local spec name pkg
  for spec in "$@"; do
    name=${spec%%=*}; pkg=${spec#*=}
    (cd "$module" && go build -ldflags "$ldflags" -o "$tools_dir/.$name.tmp" "$pkg")
    mv -f "$tools_dir/.$name.tmp" "$tools_dir/$name"
  done
}

step=0
total=7
total=$((total + 2)) # Flux's two controllers (flux_tools below)
total=$((total + 1)) # Gitea (gitea_tool below)
total=$((total + 1)) # Jaeger
total=$((total + 1)) # Argo CD (argocd_tools below)
# tool NAME VERSION MODULE_DIR LDFLAGS PACKAGE COLD_HINT VERSION_ARGS...
tool() {
  local name=$1 version=$2 module=$3 ldflags=$4 pkg=$5 hint=$6; shift 6
  step=$((step + 1))
  local want; want=$(stamp "$name" "$version" "$module" "$ldflags")
  if is_current "$name" "$want"; then
    log "[$step/$total] $name $version: up to date"
    return
  fi
  local t0; t0=$(date +%s)
  log "[$step/$total] $name $version: building (cold: $hint on 2 idle cores, much longer on a busy machine; later builds reuse the Go cache)"
  build "$module" "$ldflags" "$name=$pkg"
  # A binary that cannot report its version is not one we want to trust.
  # (Read all of the output: cutting the pipe early would kill the tool with SIGPIPE.)
  local output; output=$("$tools_dir/$name" "$@" 2>&1) || fail "$name was built but '$name $*' failed: $output"
  local reported=${output%%$'\n'*}
  printf '%s' "$want" >"$stamp_dir/$name"
  log "[$step/$total] $name $version: built in $(elapsed "$t0") ($reported)"
}

kube_minor=${kube_version#v1.}; kube_minor=${kube_minor%%.*}
kube_ldflags="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  # Without these the binaries report v0.0.0-master, which Helm sees as the cluster's KubeVersion.
  kube_ldflags+=" -X $p.gitMajor=1 -X $p.gitMinor=$kube_minor -X $p.gitVersion=$kube_version -X $p.gitTreeState=clean"
done

tool kube-apiserver "$kube_version" "$here/kube" "$kube_ldflags" k8s.io/kubernetes/cmd/kube-apiserver \
  "about 5 minutes" --version
tool kubectl "$kube_version" "$here/kube" "$kube_ldflags" k8s.io/kubernetes/cmd/kubectl \
  "a few seconds to 4 minutes" version --client
tool kube-controller-manager "$kube_version" "$here/kube" "$kube_ldflags" \
  k8s.io/kubernetes/cmd/kube-controller-manager "about 3-5 minutes (shares most packages with kube-apiserver)" --version
tool kube-scheduler "$kube_version" "$here/kube" "$kube_ldflags" k8s.io/kubernetes/cmd/kube-scheduler \
  "about 1-2 minutes" --version
tool etcd "$etcd_version" "$here/etcd" "-s -w" go.etcd.io/etcd/server/v3 \
  "about 1-2 minutes" --version
tool helm "$helm_version" "$here/helm" "-s -w -X helm.sh/helm/v4/internal/version.version=$helm_version" \
  helm.sh/helm/v4/cmd/helm "about 2-5 minutes" version --short

# ---- KWOK: simulated nodes; pods scheduled onto them become Running and Ready ----
# The `kwok` controller (not kwokctl) runs against our API server; its stages (what happens to a node
# or a pod, and when) come from the same module version, so they always match the binary.
tool kwok "$kwok_version" "$here/kwok" "-s -w" \
  sigs.k8s.io/kwok/cmd/kwok "about 1-3 minutes" --version
kwok_dir=$(cd "$here/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
mkdir -p "$tools_dir/kwok-stages"
for stage in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease pod/fast/pod-ready \
  pod/fast/pod-complete pod/fast/pod-delete; do
  cp -f "$kwok_dir/kustomize/stage/$stage.yaml" "$tools_dir/kwok-stages/"
done
chmod u+w "$tools_dir"/kwok-stages/*.yaml

# ---- Flux: the GitOps engine of `apply: flux` ----
# The controllers have no --version flag; --help proves the binary runs. Their CRDs come from the
# same module versions (config/crd/bases in the module zips), so they always match the binaries.
flux_crds() { # MODULE_DIR MODULE: every CRD of the module (source-controller refuses to start without all of its kinds)
  local dir; dir=$(cd "$1" && go list -m -f '{{.Dir}}' "$2")
  cp -f "$dir"/config/crd/bases/*.yaml "$tools_dir/flux-crds/"
}
flux_tools() {
  tool source-controller "$flux_version" "$here/flux-source" "-s -w" github.com/fluxcd/source-controller \
    "about 3-6 minutes" --help
  tool kustomize-controller "$flux_version" "$here/flux-kustomize" "-s -w" github.com/fluxcd/kustomize-controller \
    "about 3-6 minutes" --help
  mkdir -p "$tools_dir/flux-crds"
  flux_crds "$here/flux-source" github.com/fluxcd/source-controller
  flux_crds "$here/flux-kustomize" github.com/fluxcd/kustomize-controller
}
flux_tools

# ---- Gitea: the real forge of the forge tests (commit statuses, pull requests, merge as approval) ----
# Built without bindata (its web assets need a Node build), so it reads its templates and options
# from TOOLS_DIR/gitea-static, copied from the same module version. Without the `sqlite` tag (cgo).
gitea_tool() {
  tool gitea "$gitea_version" "$here/gitea" "-s -w -X main.Version=${gitea_version#v}" code.gitea.io/gitea \
    "about 6-10 minutes" --version
  local dir; dir=$(cd "$here/gitea" && go list -m -f '{{.Dir}}' code.gitea.io/gitea)
  local static="$tools_dir/gitea-static"
  if [[ ! -f "$static/.version" || "$(cat "$static/.version")" != "$gitea_version" ]]; then
    rm -rf "$static.tmp" && mkdir -p "$static.tmp"
    cp -R "$dir/templates" "$dir/options" "$static.tmp/"
    chmod -R u+w "$static.tmp" # the module cache is read-only
    printf '%s' "$gitea_version" >"$static.tmp/.version"
    rm -rf "$static" && mv "$static.tmp" "$static"
  fi
}
gitea_tool

# ---- Jaeger: receives the controller's OTLP traces in the tracing tests (in-memory storage) ----
# One binary with every storage backend linked in: the heaviest build here after kube-apiserver.
tool jaeger "$jaeger_version" "$here/jaeger" \
  "-s -w -X github.com/jaegertracing/jaeger/internal/version.latestVersion=$jaeger_version" \
  github.com/jaegertracing/jaeger/cmd/jaeger "about 8-12 minutes" version
# ---- Argo CD: the GitOps engine of `apply: argocd` ----
# One binary (test/cluster/argocd/main.go) that runs as argocd-application-controller or
# argocd-repo-server by ARGOCD_BINARY_NAME; the CRDs come from the same module version.
argocd_tools() {
  tool argocd "$argocd_version" "$here/argocd" \
    "-s -w -X github.com/argoproj/argo-cd/v3/common.version=${argocd_version#v}" . \
    "about 15-20 minutes" version
  mkdir -p "$tools_dir/argocd-crds"
  local dir; dir=$(cd "$here/argocd" && go list -m -f '{{.Dir}}' github.com/argoproj/argo-cd/v3)
  cp -f "$dir"/manifests/crds/application-crd.yaml "$dir"/manifests/crds/appproject-crd.yaml "$tools_dir/argocd-crds/"
}
argocd_tools

log "tools ready in $tools_dir ($(elapsed "$start_all"))"
