#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager and kube-scheduler (and, on request,
# krew) from the Go module proxy into a cache outside the repo, keyed by version. Does
# nothing when they are there.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
. "$here/versions.env"
cache_root="${MLOPS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-mlops}"
k8s_dir="$cache_root/k8s-$K8S_VERSION"
etcd_dir="$cache_root/etcd-$ETCD_VERSION"
log() { echo "[build] $*" >&2; }

# Builds k8s.io/kubernetes commands ($@) into $out. k8s.io/kubernetes replaces its staging
# modules with ./staging, which only the main module may do; we replace them with their
# published versions instead.
build_k8s_cmds() {
  local out="$1"; shift
  local pkgs=("$@")
  local work; work="$(mktemp -d)"
  local mod; mod="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')"
  {
    echo "module mlops.local/k8sbuild"
    echo "go 1.25.0"
    echo "require k8s.io/kubernetes $K8S_VERSION"
    grep -E '^\s*k8s.io/[a-z0-9-]+ => ./staging' "$mod" | awk -v v="$K8S_STAGING_VERSION" '{print "replace " $1 " => " $1 " " v}'
  } > "$work/go.mod"
  (cd "$work" && log "resolving modules" && GOFLAGS=-mod=mod go get "${pkgs[@]/%/@$K8S_VERSION}")
  local minor; minor="$(echo "$K8S_VERSION" | cut -d. -f2)"
  local ld=""
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  mkdir -p "$out.tmp"
  (cd "$work" && log "compiling ${pkgs[*]}" && go build -trimpath -ldflags "-s -w $ld" -o "$out.tmp/" "${pkgs[@]}")
  rm -rf "$out" && mv "$out.tmp" "$out"
  rm -rf "$work"
}

build_k8s() {
  if [[ -x "$k8s_dir/kube-apiserver" && -x "$k8s_dir/kube-controller-manager" && -x "$k8s_dir/kube-scheduler" ]]; then
    log "kubernetes $K8S_VERSION cached in $k8s_dir"; return
  fi
  log "building kubernetes $K8S_VERSION (cold build: about 10 minutes on 2 cores)"
  build_k8s_cmds "$k8s_dir" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler
  log "kubernetes $K8S_VERSION ready in $k8s_dir"
}

build_etcd() {
  if [[ -x "$etcd_dir/etcd" ]]; then log "etcd $ETCD_VERSION cached in $etcd_dir"; return; fi
  local work; work="$(mktemp -d)"
  log "building etcd $ETCD_VERSION"
  printf 'module mlops.local/etcdbuild\ngo 1.25.0\n' > "$work/go.mod"
  (cd "$work" && GOFLAGS=-mod=mod go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION")
  mkdir -p "$etcd_dir.tmp"
  (cd "$work" && go build -trimpath -ldflags "-s -w" -o "$etcd_dir.tmp/etcd" go.etcd.io/etcd/server/v3)
  rm -rf "$etcd_dir" && mv "$etcd_dir.tmp" "$etcd_dir"
  rm -rf "$work"
  log "etcd $ETCD_VERSION ready in $etcd_dir"
}

krew_dir="$cache_root/krew-$KREW_VERSION"
build_krew() {
  if [[ -x "$krew_dir/krew" && -x "$krew_dir/validate-krew-manifest" ]]; then log "krew $KREW_VERSION cached in $krew_dir"; return; fi
  log "building krew $KREW_VERSION (about a minute)"
  mkdir -p "$krew_dir.tmp"
  GOBIN="$krew_dir.tmp" GOFLAGS=-mod=mod go install "sigs.k8s.io/krew/cmd/krew@$KREW_VERSION" "sigs.k8s.io/krew/cmd/validate-krew-manifest@$KREW_VERSION"
  rm -rf "$krew_dir" && mv "$krew_dir.tmp" "$krew_dir"
  log "krew $KREW_VERSION ready in $krew_dir"
}

# kubectl of the server's version, for the benchmark (the machine's kubectl is older and a
# dispatcher wrapper). Built from the same module graph as the control plane.
kubectl_dir="$cache_root/kubectl-$K8S_VERSION"
build_kubectl() {
  if [[ -x "$kubectl_dir/kubectl" ]]; then log "kubectl $K8S_VERSION cached in $kubectl_dir"; return; fi
  log "building kubectl $K8S_VERSION (a few minutes)"
  build_k8s_cmds "$kubectl_dir" k8s.io/kubernetes/cmd/kubectl
  log "kubectl $K8S_VERSION ready in $kubectl_dir"
}

mkdir -p "$cache_root"
case "${1:-all}" in
  etcd) build_etcd ;;
  k8s) build_k8s ;;
  krew) build_krew ;;
  kubectl) build_kubectl ;;
  all) build_etcd; build_k8s ;;
  *) echo "usage: build.sh [all|etcd|k8s|krew|kubectl]" >&2; exit 2 ;;
esac
