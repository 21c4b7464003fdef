#!/bin/sh
# Entry point of the container image (docs/deployment.md).
#   (no argument)    create the master directory on first start, then run the master in the
#                    foreground with its log on stdout
#   upgrade-master   upgrade the database and the master directory after a new image
#   anything else    run that `buildbot` command on the master directory
set -eu
basedir=${BUILDBOT_BASEDIR:-/var/lib/buildbot/master}
config=${BUILDBOT_CONFIG:-/etc/buildbot/master.cfg}

if [ ! -f "$basedir/buildbot.tac" ]; then
    # -r: the tac finds its directory itself; -n: twistd's --logfile decides where logs go.
    buildbot create-master -r -n --config="$config" \
        --db="${BUILDBOT_DB_URL:-sqlite:///state.sqlite}" "$basedir"
fi

if [ $# -eq 0 ]; then
    cd "$basedir"
    # stdout is a pipe in a container: without this, log lines would wait in a buffer.
    export PYTHONUNBUFFERED=1
    exec twistd --nodaemon --no_save --pidfile= --logfile=- --python=buildbot.tac
fi
exec buildbot "$@" "$basedir"
