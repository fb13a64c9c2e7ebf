#!/usr/bin/env bash
# System packages the build and the local stack need, from Debian's archive,
# installed only when missing:
#   libturbojpeg0-dev   libjpeg-turbo headers and library (cgo, DCT-scaled JPEG decode)
#   libspng-dev         libspng headers and library (cgo, PNG decode)
#   java, mvn, npm      Kafka's broker and its jars; ONNX Runtime's npm package
#                       (present on this kind of machine; installed if not)
# ClickHouse is installed by scripts/clickhouse.sh, Go modules by `go`.
source "$(dirname "$0")/lib.sh"

missing=()
[[ -f /usr/include/turbojpeg.h ]] || missing+=(libturbojpeg0-dev)
[[ -f /usr/include/spng.h ]] || missing+=(libspng-dev)
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || missing+=(maven)
command -v npm >/dev/null || missing+=(npm)
command -v curl >/dev/null || missing+=(curl)

if ((${#missing[@]} == 0)); then
  log "system packages present"
  exit 0
fi
log "installing ${missing[*]} (apt-get)"
[[ $(id -u) == 0 ]] && SUDO= || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
log "installed ${missing[*]}"
