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
# Secrets from files need nothing here: the programs read AMQP_URL_FILE and MONGODB_URI_FILE themselves
# (ReelForgeConfig), so `docker compose exec` and Kubernetes behave the same.
set -eu

me=reelforge-entrypoint

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
}

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
