#!/usr/bin/env bash
# ONNX Runtime's shared library, taken from the npm package onnxruntime-node
# (npm pack, no install scripts), checked by sha256.
#   scripts/onnxruntime.sh install|up|status|path|down
source "$(dirname "$0")/lib.sh"

ORT_VERSION=1.30.0
ORT_TGZ_SHA256=6e3390d6b783e7be946fad629292799da28d0b42f84856e50d2c1b0383291e75
ORT_LIB_SHA256=ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23
ORT_DIR="$STACK_DIR/onnxruntime"
ORT_LIB="$ORT_DIR/libonnxruntime.so.1"

installed() { [[ -f "$ORT_LIB" ]] && sha256_check "$ORT_LIB" "$ORT_LIB_SHA256" 2>/dev/null; }

install() {
  if installed; then log "onnxruntime $ORT_VERSION present ($ORT_LIB)"; return 0; fi
  local tmp; tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  log "fetching onnxruntime-node@$ORT_VERSION from the npm registry (~110 MB)"
  (cd "$tmp" && npm pack --silent --ignore-scripts "onnxruntime-node@$ORT_VERSION" >/dev/null)
  sha256_check "$tmp/onnxruntime-node-$ORT_VERSION.tgz" "$ORT_TGZ_SHA256"
  tar -xzf "$tmp/onnxruntime-node-$ORT_VERSION.tgz" -C "$tmp" package/bin/napi-v6/linux/x64/libonnxruntime.so.1
  mkdir -p "$ORT_DIR"
  mv "$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$ORT_LIB"
  sha256_check "$ORT_LIB" "$ORT_LIB_SHA256"
  log "onnxruntime $ORT_VERSION installed at $ORT_LIB"
}

case "${1:-status}" in
  install|up) install ;;
  down) ;; # a library, nothing runs
  path) echo "$ORT_LIB" ;;
  status)
    if installed; then log "onnxruntime $ORT_VERSION: ok ($ORT_LIB)"; else log "onnxruntime: not installed"; exit 1; fi ;;
  *) echo "usage: $0 install|status|path" >&2; exit 2 ;;
esac
