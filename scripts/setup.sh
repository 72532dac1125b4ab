#!/usr/bin/env bash
# Installs what effdl needs on Debian 12 (only what is missing; apt-get update only then) and
# builds a Release tree in build/. Idempotent and silent when everything is already present.
#   scripts/setup.sh            install + build
#   scripts/setup.sh --no-build install only
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
[[ "${1:-}" == "--no-build" ]] && build=0

packages=(g++ clang libclang-rt-14-dev cmake ninja-build pkg-config
  libonnx-dev libprotobuf-dev protobuf-compiler libcli11-dev libspdlog-dev nlohmann-json3-dev
  libgtest-dev libonnx-testdata zlib1g-dev libdnnl-dev
  python3 python3-numpy python3-onnx python3-pil chromium)
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ONNX Runtime (npm onnxruntime-node) for the cross-checks; tests skip with the reason without it.
if ! scripts/ort/install.sh; then
  echo "setup: warning: ONNX Runtime could not be installed; the tests that compare with it will be skipped" >&2
fi

if ((build)); then
  werror=OFF
  [[ -n "${CI:-}" ]] && werror=ON
  if [[ ! -f build/build.ninja ]]; then
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DEFFDL_WERROR=$werror >/dev/null
  fi
  cmake --build build -- --quiet 2>/dev/null || cmake --build build
fi
