#!/usr/bin/env bash
# One-shot: submits the moestream job to the compose cluster (flink run --detached), unless a job
# with that name already runs. Settings come from ../.env; every job field can be set through
# MOESTREAM_OVERRIDES ("section.field=value ...").
set -euo pipefail

jar=/opt/moestream/moestream-job.jar
model_dir="/models/${MOESTREAM_MODEL:?set MOESTREAM_MODEL in docker-compose/.env}"
job_name=moestream
rest=jobmanager:8081

if [ ! -s "$jar" ]; then
  echo "submit: no job jar at $jar: build job/target/moestream-job.jar first" >&2
  echo "        (mvn -B -pl job -am package -DskipTests), then: docker compose up submit" >&2
  exit 1
fi
if [ ! -f "$model_dir/config.json" ]; then
  echo "submit: no model at $model_dir (no config.json): put a model folder into" >&2
  echo "        docker-compose/models/ (or MOESTREAM_MODELS_DIR) and set MOESTREAM_MODEL" >&2
  exit 1
fi

for attempt in $(seq 1 60); do
  if flink list -m "$rest" >/dev/null 2>&1; then
    break
  fi
  echo "submit: waiting for the JobManager at $rest ($attempt/60)"
  sleep 2
done

if flink list -r -m "$rest" 2>/dev/null | grep -q " : ${job_name} (RUNNING)"; then
  echo "submit: a job named '${job_name}' is already running; nothing to do"
  exit 0
fi

args=(
  "model.dir=${model_dir}"
  "model.backend=${MOESTREAM_BACKEND:-auto}"
  "kafka.bootstrap_servers=${KAFKA_BOOTSTRAP:-kafka:19092}"
  "kafka.input_topic=${MOESTREAM_INPUT_TOPIC:-moestream.requests}"
  "kafka.output_topic=${MOESTREAM_OUTPUT_TOPIC:-moestream.generations}"
  "kafka.dead_letter_topic=${MOESTREAM_DEAD_LETTER_TOPIC:-moestream.dead-letters}"
  "flink.job_name=${job_name}"
  "flink.parallelism=${MOESTREAM_PARALLELISM:-1}"
)
# shellcheck disable=SC2206 # word splitting is the point: one override per word
args+=(${MOESTREAM_OVERRIDES:-})

echo "submit: flink run -d -m $rest -c io.moestream.job.pipeline.StreamingJob $jar ${args[*]}"
exec flink run -d -m "$rest" -c io.moestream.job.pipeline.StreamingJob "$jar" "${args[@]}"
