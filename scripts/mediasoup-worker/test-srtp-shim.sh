#!/usr/bin/env bash
# Builds and runs test-srtp-shim.c against Debian's libsrtp2 through the
# libsrtp3 compatibility header, once as C and once as C++ (the worker is C++).
# Needs: gcc g++ pkg-config libsrtp2-dev. Takes a couple of seconds.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
inc="$here/subprojects/libsrtp3/include"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/parley-srtp-shim.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

srtp_cflags="$(pkg-config --cflags libsrtp2)"
srtp_libs="$(pkg-config --libs libsrtp2)"
warn=(-Wall -Wextra -Werror)

# shellcheck disable=SC2086
cc -std=c11 "${warn[@]}" -I"$inc" $srtp_cflags -o "$tmp/test-c" "$here/test-srtp-shim.c" $srtp_libs
# shellcheck disable=SC2086
c++ -std=c++20 "${warn[@]}" -x c++ -I"$inc" $srtp_cflags -o "$tmp/test-cpp" "$here/test-srtp-shim.c" \
  -x none $srtp_libs

echo "[srtp-shim] C:"
"$tmp/test-c"
echo "[srtp-shim] C++:"
"$tmp/test-cpp"
