#!/usr/bin/env bash
# One-shot: creates the job's topics on the compose broker (an existing topic is left as it is).
# Runs in the apache/kafka image; names and partition count come from ../.env. KAFKA_BIN (the image's
# /opt/kafka/bin by default) lets it run outside the image too (SessionClusterEndToEndTest does).
set -euo pipefail

kafka_topics="${KAFKA_BIN:-/opt/kafka/bin}/kafka-topics.sh"
bootstrap=${KAFKA_BOOTSTRAP:-kafka:19092}
partitions=${MOESTREAM_PARTITIONS:-8}
topics=(
  "${MOESTREAM_INPUT_TOPIC:-moestream.requests}"
  "${MOESTREAM_OUTPUT_TOPIC:-moestream.generations}"
  "${MOESTREAM_DEAD_LETTER_TOPIC:-moestream.dead-letters}"
)

for attempt in $(seq 1 30); do
  if "$kafka_topics" --bootstrap-server "$bootstrap" --list >/dev/null 2>&1; then
    break
  fi
  echo "topics: waiting for the broker at $bootstrap ($attempt/30)"
  sleep 2
done

for topic in "${topics[@]}"; do
  "$kafka_topics" --bootstrap-server "$bootstrap" --create --if-not-exists \
    --topic "$topic" --partitions "$partitions" --replication-factor 1
done
"$kafka_topics" --bootstrap-server "$bootstrap" --describe --topic "${topics[0]}"
echo "topics: ready: ${topics[*]}"
