#!/usr/bin/env bash
# Provides libtorch for the tch backend: a Python virtualenv holding torch==2.13.0 (the exact
# version tch 0.26 is built against) in twinnet's cache folder, outside the repository, created
# once and reused by every clone. Skipped when LIBTORCH points at a libtorch of your own.
set -euo pipefail

version=2.13.0
cache=${TWINNET_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/twinnet}
venv=${TWINNET_TORCH_VENV:-$cache/torch-$version}

if [ -n "${LIBTORCH:-}" ]; then
    if [ ! -d "$LIBTORCH/lib" ]; then
        echo "error: LIBTORCH=$LIBTORCH has no lib/ folder; unset it to let twinnet install torch==$version" >&2
        exit 1
    fi
    echo "libtorch: using LIBTORCH=$LIBTORCH"
    exit 0
fi

check='import sys, torch; sys.exit(0 if torch.__version__.split("+")[0] == "'$version'" else 1)'
if [ -f "$venv/.twinnet-complete" ] && "$venv/bin/python3" -c "$check" 2>/dev/null; then
    # numpy runs the report's own NumPy loop in `make bench`; safetensors saves the PyTorch
    # state_dict that the eval test reads (venvs made before they were added lack them).
    "$venv/bin/python3" -c 'import numpy, safetensors' 2>/dev/null \
        || "$venv/bin/python3" -m pip install --quiet --disable-pip-version-check numpy safetensors
    echo "libtorch: torch==$version ready in $venv"
    exit 0
fi

if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    cat >&2 <<MSG
error: the tch backend needs libtorch, which twinnet installs with pip, but no usable python3
(with the venv module and pip) was found. Install Python 3.9 or newer with venv and pip
(e.g. apt-get install python3 python3-venv python3-pip) and run 'make setup' again, or:
  - point LIBTORCH at an unpacked libtorch $version, or
  - build without the tch backend: cargo build --release --no-default-features
MSG
    exit 1
fi

echo "libtorch: installing torch==$version into $venv (about 4.7 GB, once)"
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
python3 -m venv "$venv"
"$venv/bin/python3" -m pip install --quiet --disable-pip-version-check "torch==$version" numpy safetensors
"$venv/bin/python3" -c "$check"
touch "$venv/.twinnet-complete"
echo "libtorch: torch==$version ready in $venv"
