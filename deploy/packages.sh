#!/usr/bin/env bash
# The Debian packages of one role, from deploy/apt-packages.txt: the one package list that scripts/install and
# both stages of deploy/Dockerfile read, so a developer's machine and the image cannot drift.
#
#   deploy/packages.sh build|runtime|test|all           print the role's packages, one a line, in file order
#   deploy/packages.sh install build|runtime|test|all   apt-get install those of them that are missing
#                                                       (through sudo when not root); prints nothing when none is
#   deploy/packages.sh check                            check the file's format only
#
# File format, one package a line ("#" alone at the start of a line makes a comment line):
#   NAME                          an untagged line: roles build and test (the file's older format)
#   NAME  # ROLE[ ROLE...]        roles, separated by spaces or commas
#   NAME  # ROLE -- note          anything after " -- " is a free note
# Roles: build (compile and link), runtime (what the built executables need on a bare Debian 12: the runtime
# image holds only these), test (scripts/test and development only). "all" is every package of the file.
#
# Environment: REELFORGE_PACKAGES_FILE, the list to read (default: apt-packages.txt beside this script).
# Exit status: 0; 2 when the file has a bad line (named with its number); 64 on a usage error.
set -euo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
file=${REELFORGE_PACKAGES_FILE:-$here/apt-packages.txt}
roles_known=" build runtime test "
default_roles="build test"

usage() {
  echo "usage: ${0##*/} build|runtime|test|all | install build|runtime|test|all | check" >&2
  exit 64
}

# Prints "NAME ROLE..." for each package line of the file; exits 2 on the first bad line.
parse() {
  local n=0 line name tags rest role
  [ -r "$file" ] || { echo "${0##*/}: cannot read $file" >&2; exit 2; }
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    line=${line%$'\r'}
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    name=${line%%#*}
    tags=""
    [[ $line == *"#"* ]] && tags=${line#*#}
    tags=${tags%% -- *}
    read -r name rest <<<"$name" || true
    if [ -n "${rest:-}" ]; then
      echo "${0##*/}: $file:$n: one package a line, then '# ROLE...': '$line'" >&2; exit 2
    fi
    if ! [[ $name =~ ^[a-z0-9][a-z0-9+.-]+$ ]]; then
      echo "${0##*/}: $file:$n: '$name' is not a Debian package name" >&2; exit 2
    fi
    tags=${tags//,/ }
    read -r -a roles <<<"$tags" || true
    if ((${#roles[@]} == 0)); then
      read -r -a roles <<<"$default_roles"
    fi
    for role in "${roles[@]}"; do
      if [[ $roles_known != *" $role "* ]]; then
        echo "${0##*/}: $file:$n: unknown role '$role' for $name (roles: build, runtime, test)" >&2; exit 2
      fi
    done
    echo "$name ${roles[*]}"
  done <"$file"
}

# Prints the packages of a role (or all), each once, in file order.
list() {
  local want=$1 parsed name roles
  local -A seen=()
  parsed=$(parse)
  while read -r name roles; do
    [ -n "$name" ] || continue
    if [ "$want" = all ] || [[ " $roles " == *" $want "* ]]; then
      if [ -z "${seen[$name]:-}" ]; then
        seen[$name]=1
        echo "$name"
      fi
    fi
  done <<<"$parsed"
}

install_missing() {
  local packages p log SUDO=""
  local -a missing=()
  packages=$(list "$1")
  for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  echo "packages: apt-get install ${missing[*]}"
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  log=$(mktemp)
  if ! { $SUDO apt-get update -qq &&
         $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "${0##*/}: apt-get failed for: ${missing[*]}" >&2
    exit 1
  fi
  rm -f "$log"
}

case "${1:-}" in
  build|runtime|test|all) [ $# -eq 1 ] || usage; list "$1" ;;
  install)
    [ $# -eq 2 ] || usage
    case "$2" in build|runtime|test|all) install_missing "$2" ;; *) usage ;; esac ;;
  check) [ $# -eq 1 ] || usage; parse >/dev/null ;;
  *) usage ;;
esac
