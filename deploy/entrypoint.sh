#!/bin/sh
# reelforge-entrypoint: the ENTRYPOINT of the ReelForge image (deploy/Dockerfile). One image, three workers and
# the CLI; the first argument chooses:
#
#   script-worker | script | ScriptWorker   ScriptWorker (the script and adapt stages)
#   audio-worker  | audio  | AudioWorker    AudioWorker
#   video-worker  | video  | VideoWorker    VideoWorker
#   reelforge ARGS...                       the CLI, e.g. `reelforge dlq list`
#   help                                    this text
#   anything else                           run as a command, e.g. `sh`
#
# Arguments after the first go to the program (e.g. `video-worker --prefetch 2`).
#
# Secrets from files: for each NAME in FILE_VARIABLES, NAME_FILE may name a file whose content (without its
# trailing newlines) becomes NAME, as Docker and Compose secrets are mounted (/run/secrets/...). Setting both NAME
# and NAME_FILE is an error (exit 78, as for any invalid configuration).
set -eu

FILE_VARIABLES="AMQP_URL MONGODB_URI"

me=reelforge-entrypoint

usage() {
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
}

for name in $FILE_VARIABLES; do
  eval "file=\${${name}_FILE:-}"
  eval "value=\${${name}:-}"
  [ -n "$file" ] || continue
  if [ -n "$value" ]; then
    echo "$me: both $name and ${name}_FILE are set; set only one" >&2
    exit 78
  fi
  if [ ! -r "$file" ]; then
    echo "$me: ${name}_FILE=$file is not a readable file (user $(id -u)); make it readable by uid $(id -u)" >&2
    exit 78
  fi
  value=$(tr -d '\r' <"$file")
  if [ -z "$value" ]; then
    echo "$me: ${name}_FILE=$file is empty" >&2
    exit 78
  fi
  export "$name=$value"
  unset "${name}_FILE"
done
unset file value name

cmd=${1:-help}
[ $# -eq 0 ] || shift
case "$cmd" in
  script-worker|script|ScriptWorker) exec /usr/local/bin/ScriptWorker "$@" ;;
  audio-worker|audio|AudioWorker) exec /usr/local/bin/AudioWorker "$@" ;;
  video-worker|video|VideoWorker) exec /usr/local/bin/VideoWorker "$@" ;;
  reelforge) exec /usr/local/bin/reelforge "$@" ;;
  help|-h|--help) usage ;;
  -*) echo "$me: unknown option $cmd" >&2; usage >&2; exit 64 ;;
  *) exec "$cmd" "$@" ;;
esac
