#!/usr/bin/env bash
# Installs Fashion-MNIST's four IDX files (.gz) into DEST (default: $TWINNET_FASHION_MNIST_DIR,
# else ${TWINNET_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/twinnet}/fashion-mnist) from Debian's
# package dataset-fashion-mnist, and verifies every file against data/fashion-mnist.sha256.
#
# Debian re-compressed Zalando's .gz files, so what is pinned and checked is the sha256 of the
# *decompressed* IDX data. Sources, in order: the package's files when it is installed
# (`dpkg -L dataset-fashion-mnist`), else the package fetched with `apt-get download` and
# unpacked with `dpkg-deb -x` (no root needed; as root, `apt-get update` is run once if apt does
# not know the package yet).
#
# Idempotent: when all four files are present and verify, nothing is downloaded. A file that
# fails verification (a flipped byte, a truncated copy) is replaced by a fresh one.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
sums="$here/../data/fashion-mnist.sha256"
cache=${TWINNET_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/twinnet}
dest=${1:-${TWINNET_FASHION_MNIST_DIR:-$cache/fashion-mnist}}
pkg=dataset-fashion-mnist
version=0.0~git20200523.55506a9-1
files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

want() { awk -v f="$1" '$2 == f { print $1 }' "$sums"; }
# The sha256 of a file's decompressed bytes (empty if it does not decompress).
sum_of() { { gzip -dc "$1" 2>/dev/null || true; } | sha256sum | cut -d' ' -f1; }
good() { [ -f "$1/$2.gz" ] && [ "$(sum_of "$1/$2.gz")" = "$(want "$2")" ]; }

bad=()
for f in "${files[@]}"; do good "$dest" "$f" || bad+=("$f"); done
if [ ${#bad[@]} -eq 0 ]; then
    echo "Fashion-MNIST: all four files present and verified in $dest"
    exit 0
fi
for f in "${bad[@]}"; do
    if [ -e "$dest/$f.gz" ]; then echo "Fashion-MNIST: $dest/$f.gz fails its sha256 check, fetching it again"; fi
done

install_from() { # DIR holding the four .gz files
    mkdir -p "$dest"
    for f in "${bad[@]}"; do
        good "$1" "$f" || { echo "error: $1/$f.gz fails its sha256 check (data/fashion-mnist.sha256)" >&2; exit 1; }
        # Same-filesystem rename: a reader never sees a half-written file.
        cp "$1/$f.gz" "$dest/.$f.gz.tmp"
        mv -f "$dest/.$f.gz.tmp" "$dest/$f.gz"
    done
    for f in "${files[@]}"; do good "$dest" "$f" || { echo "error: $dest/$f.gz still fails verification" >&2; exit 1; }; done
    echo "Fashion-MNIST: installed and verified in $dest (from $2)"
    exit 0
}

# 1. The installed package.
if command -v dpkg >/dev/null 2>&1 && dpkg -L "$pkg" >/dev/null 2>&1; then
    installed=$(dirname "$(dpkg -L "$pkg" | grep -m1 '/train-images-idx3-ubyte.gz$')")
    ok=1
    for f in "${bad[@]}"; do good "$installed" "$f" || ok=0; done
    if [ $ok = 1 ]; then install_from "$installed" "the installed package $pkg"; fi
    echo "Fashion-MNIST: the installed $pkg in $installed fails verification; fetching the package"
fi

# 2. The package from the archive, unpacked without installing it.
if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
    cat >&2 <<MSG
error: apt-get and dpkg-deb are not available, so Fashion-MNIST cannot be fetched automatically.
Put its four files (raw or .gz, from https://github.com/zalandoresearch/fashion-mnist) in
    $dest
    (${files[*]})
or in any folder and point twinnet at it with --data-dir DIR or TWINNET_FASHION_MNIST_DIR=DIR.
MSG
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "Fashion-MNIST: fetching $pkg=$version with apt-get download"
if ! (cd "$tmp" && apt-get download -q "$pkg=$version" >/dev/null 2>"$tmp/err"); then
    if [ "$(id -u)" = 0 ]; then
        echo "Fashion-MNIST: apt does not know $pkg yet; running apt-get update once"
        apt-get update -qq
        (cd "$tmp" && apt-get download -q "$pkg=$version" >/dev/null)
    else
        cat "$tmp/err" >&2
        echo "error: apt-get download $pkg failed; run 'sudo apt-get update' once, then 'make data' again" >&2
        exit 1
    fi
fi
deb=$(ls "$tmp"/*.deb)
dpkg-deb -x "$deb" "$tmp/x"
install_from "$tmp/x/usr/share/datasets/fashion-mnist" "$(basename "$deb")"
