#!/usr/bin/env bash
# One-shot: creates the job's topics on the compose broker (an existing topic is left as it is).
# Runs in the apache/kafka image; names and partition count come from ../.env.
set -euo pipefail

bootstrap=${KAFKA_BOOTSTRAP:-kafka:19092}
partitions=${MOESTREAM_PARTITIONS:-8}
topics=(
  "${MOESTREAM_INPUT_TOPIC:-moestream.requests}"
  "${MOESTREAM_OUTPUT_TOPIC:-moestream.generations}"
  "${MOESTREAM_DEAD_LETTER_TOPIC:-moestream.dead-letters}"
)

for attempt in $(seq 1 30); do
  if /opt/kafka/bin/kafka-topics.sh --bootstrap-server "$bootstrap" --list >/dev/null 2>&1; then
    break
  fi
  echo "topics: waiting for the broker at $bootstrap ($attempt/30)"
  sleep 2
done

for topic in "${topics[@]}"; do
  /opt/kafka/bin/kafka-topics.sh --bootstrap-server "$bootstrap" --create --if-not-exists \
    --topic "$topic" --partitions "$partitions" --replication-factor 1
done
/opt/kafka/bin/kafka-topics.sh --bootstrap-server "$bootstrap" --describe --topic "${topics[0]}"
echo "topics: ready: ${topics[*]}"
