#!/usr/bin/env bash
# ONNX Runtime's shared library, taken from the npm package onnxruntime-node
# (npm pack, no install scripts), checked by sha256. It has no CUDA provider:
# install-cuda takes the same release's library with its CUDA provider from
# PyPI's onnxruntime-gpu wheel (CUDA 13; ~250 MB) into .stack/onnxruntime-cuda/;
# then run with INFERENCE_DEVICE=cuda, ONNXRUNTIME_LIB=$(scripts/onnxruntime.sh
# path-cuda) and CUDA 13's cuBLAS, cuRAND, cuDNN 9 and runtime on LD_LIBRARY_PATH.
#   scripts/onnxruntime.sh install|up|install-cuda|status|path|path-cuda|down
source "$(dirname "$0")/lib.sh"

ORT_VERSION=1.30.0
ORT_TGZ_SHA256=6e3390d6b783e7be946fad629292799da28d0b42f84856e50d2c1b0383291e75
ORT_LIB_SHA256=ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23
ORT_DIR="$STACK_DIR/onnxruntime"
ORT_LIB="$ORT_DIR/libonnxruntime.so.1"
GPU_WHEEL=onnxruntime_gpu-$ORT_VERSION-cp312-cp312-manylinux_2_28_x86_64.whl
GPU_WHEEL_SHA256=6acc0f4b3d5ac5f2984432faa59dd8fcce6775f8b43a7140afa0f322c7a703b1
GPU_DIR="$STACK_DIR/onnxruntime-cuda"
GPU_LIB="$GPU_DIR/libonnxruntime.so.$ORT_VERSION"

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

install_cuda() {
  if [[ -f "$GPU_DIR/libonnxruntime_providers_cuda.so" ]]; then log "onnxruntime-gpu $ORT_VERSION present ($GPU_DIR)"; return 0; fi
  local tmp; tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  log "fetching onnxruntime-gpu==$ORT_VERSION from PyPI (~250 MB)"
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --platform manylinux_2_28_x86_64 -d "$tmp" "onnxruntime-gpu==$ORT_VERSION"
  sha256_check "$tmp/$GPU_WHEEL" "$GPU_WHEEL_SHA256"
  (cd "$tmp" && python3 -m zipfile -e "$GPU_WHEEL" x)
  mkdir -p "$GPU_DIR"
  mv "$tmp"/x/onnxruntime/capi/libonnxruntime.so.* "$tmp"/x/onnxruntime/capi/libonnxruntime_providers_{shared,cuda}.so "$GPU_DIR/"
  log "onnxruntime-gpu $ORT_VERSION installed at $GPU_DIR"
}

case "${1:-status}" in
  install|up) install ;;
  install-cuda) install_cuda ;;
  path-cuda) echo "$GPU_LIB" ;;
  down) ;; # a library, nothing runs
  path) echo "$ORT_LIB" ;;
  status)
    if installed; then log "onnxruntime $ORT_VERSION: ok ($ORT_LIB)"; else log "onnxruntime: not installed"; exit 1; fi ;;
  *) echo "usage: $0 install|install-cuda|status|path|path-cuda" >&2; exit 2 ;;
esac
