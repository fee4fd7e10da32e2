#!/usr/bin/env bash
# One-shot: submits the moestream job to the compose cluster (flink run --detached), unless a job
# with that name already runs. Settings come from ../.env; every job field can be set through
# MOESTREAM_OVERRIDES ("section.field=value ...", each passed as --set). The paths and the JobManager
# address are the compose stack's; MOESTREAM_JOB_JAR, MOESTREAM_MODELS_MOUNT and FLINK_REST_ADDRESS
# point it elsewhere (SessionClusterEndToEndTest runs it against a standalone cluster that way).
set -euo pipefail

jar=${MOESTREAM_JOB_JAR:-/opt/moestream/moestream-job.jar}
model_dir="${MOESTREAM_MODELS_MOUNT:-/models}/${MOESTREAM_MODEL:?set MOESTREAM_MODEL in docker-compose/.env}"
job_name=moestream
rest=${FLINK_REST_ADDRESS:-jobmanager:8081}

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

# `flink list` prints "<date> : <job id> : <name> (<state>)" for running, restarting and scheduled jobs
if flink list -m "$rest" 2>/dev/null | grep -qE " : ${job_name} \((CREATED|INITIALIZING|RUNNING|RESTARTING|RECONCILING)\)$"; then
  echo "submit: a job named '${job_name}' is already running; nothing to do"
  exit 0
fi

# The arguments of `./moestream run` (io.moestream.job.pipeline.StreamingJob parses them with it).
args=(
  --model "${model_dir}"
  --bootstrap-servers "${KAFKA_BOOTSTRAP:-kafka:19092}"
  --input-topic "${MOESTREAM_INPUT_TOPIC:-moestream.requests}"
  --output-topic "${MOESTREAM_OUTPUT_TOPIC:-moestream.generations}"
  --dead-letter-topic "${MOESTREAM_DEAD_LETTER_TOPIC:-moestream.dead-letters}"
  --parallelism "${MOESTREAM_PARALLELISM:-1}"
  --backend "${MOESTREAM_BACKEND:-auto}"
  --set "flink.job_name=${job_name}"
)
for override in ${MOESTREAM_OVERRIDES:-}; do
  args+=(--set "$override")
done

echo "submit: flink run -d -m $rest -c io.moestream.job.pipeline.StreamingJob $jar ${args[*]}"
exec flink run -d -m "$rest" -c io.moestream.job.pipeline.StreamingJob "$jar" "${args[@]}"
