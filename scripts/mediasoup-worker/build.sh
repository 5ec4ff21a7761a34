#!/usr/bin/env bash
# Builds mediasoup-worker from the C++ source shipped in the installed mediasoup
# npm package, using only Debian packages (no GitHub, no PyPI).
#
# Why: mediasoup's postinstall downloads a prebuilt worker from GitHub, or
# pip-installs meson and lets meson download openssl, libuv, libsrtp 3, ... .
# Offline neither works. With MEDIASOUP_WORKER_BIN set (at npm install time and
# at run time) mediasoup skips all that and spawns the binary built here.
#
# How: copy worker/ to a temp dir, replace each meson subproject the worker
# would download by a small stand-in backed by a Debian library (see
# subprojects/*/meson.build), apply patches/*.patch, build with meson + ninja.
# The result is cached per mediasoup version and recipe revision (REV).
#
# Usage:
#   scripts/mediasoup-worker/build.sh               build, or reuse the cached binary
#   scripts/mediasoup-worker/build.sh --print-path  print the binary's path only
# Environment:
#   MEDIASOUP_SRC_DIR   mediasoup package dir (package.json + worker/);
#                       default <repo>/node_modules/mediasoup
#   PARLEY_CACHE_DIR    default ${XDG_CACHE_HOME:-$HOME/.cache}/parley
#   PARLEY_KEEP_BUILD_DIR=1  keep the temp build dir (for debugging)
# Debian packages needed (installed beforehand; this script never installs):
#   ninja-build g++ pkg-config libuv1-dev libssl-dev libsrtp2-dev
#   libflatbuffers-dev flatbuffers-compiler libabsl-dev, meson >= 1.1
#   (bookworm: from bookworm-backports).
set -euo pipefail

# Bump whenever the recipe (this script, stand-ins, shim, patches) changes in a
# way that changes the binary: a new REV means a new cache entry.
REV=1

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

log() { echo "[mediasoup-worker] $*"; }
die() { echo "[mediasoup-worker] ERROR: $*" >&2; exit 1; }

print_path_only=0
case "${1:-}" in
  "") ;;
  --print-path) print_path_only=1 ;;
  -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument: $1 (try --help)" ;;
esac

# --- Source and version ------------------------------------------------------
src="${MEDIASOUP_SRC_DIR:-$repo/node_modules/mediasoup}"
if [[ ! -f "$src/package.json" || ! -f "$src/worker/meson.build" ]]; then
  die "mediasoup source not found in '$src' (need package.json and worker/meson.build).
  Run 'npm install' first (with MEDIASOUP_WORKER_BIN set so mediasoup's postinstall
  does not try to download), or point MEDIASOUP_SRC_DIR at an unpacked mediasoup package."
fi
src="$(cd "$src" && pwd)"

# Top-level "version" of package.json; with node if present, else the first
# "version" key (the top-level one in mediasoup's package.json).
if command -v node >/dev/null 2>&1; then
  version="$(node -p 'require(process.argv[1]).version' "$src/package.json")"
else
  version="$(sed -n 's/^[[:space:]]*"version"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' \
    "$src/package.json" | head -n 1)"
fi
[[ "$version" =~ ^[0-9A-Za-z.+-]+$ ]] || die "cannot read the version from $src/package.json"

cache_root="${PARLEY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/parley}"
out_dir="$cache_root/mediasoup-worker/$version-r$REV"
bin="$out_dir/mediasoup-worker"

if (( print_path_only )); then
  echo "$bin"
  exit 0
fi

# A usable binary loads all its shared libraries and, started without
# MEDIASOUP_VERSION (i.e. not by mediasoup), exits at once with code 41.
worker_runs() {
  local b="$1" rc=0
  [[ -x "$b" ]] || return 1
  if ldd "$b" 2>&1 | grep -q 'not found'; then return 1; fi
  env -u MEDIASOUP_VERSION "$b" </dev/null >/dev/null 2>&1 || rc=$?
  [[ $rc -eq 41 ]]
}

if worker_runs "$bin"; then
  echo "cached: $bin"
  exit 0
fi

# --- Prerequisites -------------------------------------------------------------
check_prerequisites() {
  local missing=() cmd pkg mod
  # command -> Debian package
  local -A cmds=(
    [meson]=meson [ninja]=ninja-build [cc]=gcc [c++]=g++ [pkg-config]=pkg-config
    [flatc]=flatbuffers-compiler [patch]=patch [flock]=util-linux [ldd]=libc-bin [tar]=tar
  )
  for cmd in "${!cmds[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("${cmds[$cmd]}")
  done
  # pkg-config module -> Debian package
  local -A mods=(
    [libuv]=libuv1-dev [libssl]=libssl-dev [libcrypto]=libssl-dev [libsrtp2]=libsrtp2-dev
    [flatbuffers]=libflatbuffers-dev [absl_flat_hash_map]=libabsl-dev [absl_strings]=libabsl-dev
    [absl_optional]=libabsl-dev [absl_memory]=libabsl-dev
  )
  if command -v pkg-config >/dev/null 2>&1; then
    for mod in "${!mods[@]}"; do
      pkg-config --exists "$mod" || missing+=("${mods[$mod]}")
    done
  fi
  if ((${#missing[@]})); then
    pkg="$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')"
    pkg="${pkg% }"
    local hint="e.g. 'sudo apt-get install -y $pkg'"
    if [[ " $pkg " == *" meson "* ]]; then
      hint+="; meson must be >= 1.1: on bookworm 'sudo apt-get install -y -t bookworm-backports meson'"
    fi
    die "missing build prerequisites. Install these Debian packages: $pkg
  ($hint)."
  fi
  local mv
  mv="$(meson --version)"
  if [[ "$(printf '%s\n1.1.0\n' "$mv" | sort -V | head -n 1)" != "1.1.0" ]]; then
    die "meson $mv is too old; mediasoup needs meson >= 1.1
  (Debian bookworm: 'sudo apt-get install -y -t bookworm-backports meson')."
  fi
}

log "mediasoup $version from $src"
log "checking build prerequisites"
check_prerequisites

# --- Lock: one build at a time per cache dir --------------------------------
mkdir -p "$cache_root/mediasoup-worker"
exec 9>"$cache_root/mediasoup-worker/.build.lock"
if ! flock -n 9; then
  log "another build is running; waiting for its lock"
  flock 9
fi
# The build we waited for may have produced the binary.
if worker_runs "$bin"; then
  echo "cached: $bin"
  exit 0
fi

# --- Temp build dir -----------------------------------------------------------
tmp="$(mktemp -d "${TMPDIR:-/tmp}/parley-mediasoup-worker.XXXXXX")"
ninja_pid=""
cleanup() {
  if [[ -n "$ninja_pid" ]] && kill -0 "$ninja_pid" 2>/dev/null; then
    kill "$ninja_pid" 2>/dev/null || true
    wait "$ninja_pid" 2>/dev/null || true
  fi
  if [[ "${PARLEY_KEEP_BUILD_DIR:-0}" == 1 ]]; then
    log "kept build dir: $tmp"
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "testing the libsrtp3-on-libsrtp2 shim"
"$here/test-srtp-shim.sh" >"$tmp/srtp-shim-test.log" 2>&1 || {
  cat "$tmp/srtp-shim-test.log" >&2
  die "the libsrtp3 shim test failed (scripts/mediasoup-worker/test-srtp-shim.sh)"
}

# Copy worker/ (never touch node_modules); skip build outputs a previous
# postinstall may have left there.
log "copying worker source to $tmp/worker"
mkdir -p "$tmp/worker"
tar -C "$src/worker" --exclude=./out --exclude=./prebuild -cf - . | tar -C "$tmp/worker" -xf -

# Stand-ins go where meson expects the unpacked wrap: subprojects/<directory
# from the .wrap>. With --wrap-mode=nodownload meson then uses them as they are.
log "installing stand-in subprojects (Debian libraries)"
for name in libuv openssl libsrtp3 flatbuffers abseil-cpp unordered-dense; do
  wrap="$tmp/worker/subprojects/$name.wrap"
  [[ -f "$wrap" ]] || die "worker/subprojects/$name.wrap not found in mediasoup $version;
  its dependencies changed: update scripts/mediasoup-worker/subprojects and bump REV."
  dir="$(sed -n 's/^[[:space:]]*directory[[:space:]]*=[[:space:]]*\([^[:space:]]*\).*/\1/p' "$wrap" | head -n 1)"
  [[ -n "$dir" && "$dir" != */* ]] || die "no usable 'directory =' in $name.wrap"
  rm -rf "$tmp/worker/subprojects/$dir"
  cp -R "$here/subprojects/$name" "$tmp/worker/subprojects/$dir"
  log "  $name -> subprojects/$dir"
done

for p in "$here"/patches/*.patch; do
  log "applying $(basename "$p")"
  if ! patch -d "$tmp/worker" -p1 --forward --batch --dry-run <"$p" >"$tmp/patch.log" 2>&1; then
    cat "$tmp/patch.log" >&2
    die "patch $(basename "$p") no longer applies to mediasoup $version.
  Check whether upstream changed or fixed that code; then update or drop the patch and bump REV."
  fi
  patch -d "$tmp/worker" -p1 --forward --batch --quiet <"$p"
done

# --- Configure and build --------------------------------------------------------
log "meson setup (release, wrap-mode=nodownload)"
if ! meson setup "$tmp/build" "$tmp/worker" --wrap-mode=nodownload --buildtype=release \
    -Db_ndebug=true >"$tmp/meson-setup.log" 2>&1; then
  tail -n 60 "$tmp/meson-setup.log" >&2
  die "meson setup failed (log above). If mediasoup $version changed its subprojects or
  the variables it reads from them, update scripts/mediasoup-worker/subprojects and bump REV."
fi

jobs="$(nproc 2>/dev/null || echo 2)"
log "compiling mediasoup-worker with ninja -j$jobs (a clean build takes several minutes)"
start=$SECONDS
ninja -C "$tmp/build" -j "$jobs" mediasoup-worker >"$tmp/ninja.log" 2>&1 &
ninja_pid=$!
# Progress every 30 s, so CI does not think the job hangs.
ticks=0
while kill -0 "$ninja_pid" 2>/dev/null; do
  sleep 1
  if (( ++ticks % 30 == 0 )); then
    progress="$(grep -o '^\[[0-9]*/[0-9]*\]' "$tmp/ninja.log" | tail -n 1 || true)"
    log "  compiling ${progress:-...} ($((SECONDS - start)) s)"
  fi
done
rc=0
wait "$ninja_pid" || rc=$?
ninja_pid=""
if (( rc != 0 )); then
  tail -n 80 "$tmp/ninja.log" >&2
  die "ninja failed (exit $rc; log above)"
fi
log "compiled in $((SECONDS - start)) s"

built="$tmp/build/mediasoup-worker"
[[ -x "$built" ]] || die "ninja succeeded but $built is missing"

# --- Verify and install into the cache -----------------------------------------
if ldd "$built" | grep 'not found' >&2; then
  die "the built worker has unresolved shared libraries (above)"
fi
worker_runs "$built" || die "the built worker does not start (expected exit code 41 without MEDIASOUP_VERSION)"

mkdir -p "$out_dir"
staging="$out_dir/.mediasoup-worker.tmp.$$"
cp "$built" "$staging"
chmod 755 "$staging"
{
  echo "mediasoup $version, recipe r$REV, built $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -srm)"
  echo "source: $src"
  echo "meson $(meson --version), $(c++ --version | head -n 1)"
  for mod in libuv openssl libsrtp2 flatbuffers absl_flat_hash_map; do
    echo "$mod $(pkg-config --modversion "$mod")"
  done
} >"$staging.info"
mv -f "$staging.info" "$out_dir/build-info.txt"
mv -f "$staging" "$bin"   # atomic: same directory

log "built: $bin"
