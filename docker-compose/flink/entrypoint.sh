#!/usr/bin/env bash
# Installs the mounted Flink configuration, then hands over to the Flink image's entrypoint.
#
# Flink's entrypoint rewrites conf/config.yaml (jobmanager.rpc.address, blob and query ports), so the
# configuration cannot be mounted there read-only: it is mounted at /opt/moestream/flink-conf and
# copied over the image's conf/ at every start.
set -euo pipefail

mounted=/opt/moestream/flink-conf
if [ -d "$mounted" ]; then
  cp -f "$mounted"/* "$FLINK_HOME/conf/"
  chown -R flink:flink "$FLINK_HOME/conf" 2>/dev/null || true
fi
exec /docker-entrypoint.sh "$@"
