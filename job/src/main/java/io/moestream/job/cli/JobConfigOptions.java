package io.moestream.job.cli;

import io.moestream.job.config.JobConfigLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The job configuration on the command line: a YAML file, then the common fields, then --set. */
final class JobConfigOptions {
  @Option(names = "--config", description = "YAML configuration (fields and defaults: README, Configuration).")
  Path config;

  @Option(names = "--model", description = "Hugging Face model folder (model.dir).")
  Path model;

  @Option(names = "--bootstrap-servers", description = "Kafka bootstrap servers (kafka.bootstrap_servers).")
  String bootstrapServers;

  @Option(names = "--group-id", description = "Kafka consumer group of the job (kafka.group_id).")
  String groupId;

  @Option(names = "--input-topic", description = "kafka.input_topic") String inputTopic;
  @Option(names = "--output-topic", description = "kafka.output_topic") String outputTopic;
  @Option(names = "--dead-letter-topic", description = "kafka.dead_letter_topic") String deadLetterTopic;
  @Option(names = "--input-format", description = "avro or json (kafka.input_format)") String inputFormat;
  @Option(names = "--parallelism", description = "Inference subtasks, one engine each (flink.parallelism).") Integer parallelism;
  @Option(names = "--max-batch-size", description = "batching.max_batch_size") Integer maxBatchSize;
  @Option(names = "--latency-budget-ms", description = "batching.latency_budget_ms") Long latencyBudgetMs;
  @Option(names = "--max-in-flight", description = "batching.max_in_flight") Integer maxInFlight;
  @Option(names = "--backend", description = "cpu (model.backend)") String backend;
  @Option(names = "--threads", description = "model.threads") Integer threads;
  @Option(names = "--policy", description = "Expert policy: full, fixed:K, schedule:B,H,E,P, threshold:KMIN,T, "
      + "batch:KMIN,T or adaptive[:L1|L2|...] (experts.policy; default adaptive).") String policy;

  @Option(names = "--set", paramLabel = "SECTION.FIELD=VALUE", description = "Any other field, e.g. --set flink.checkpoint_interval_ms=5000.")
  List<String> sets = new ArrayList<>();

  /** Defaults, then the file, then these options; not yet validated. */
  JobConfigLoader loader() {
    JobConfigLoader loader = JobConfigLoader.defaults();
    if (config != null) {
      loader.file(config);
    }
    setIf(loader, "model.dir", model == null ? null : model.toAbsolutePath().toString());
    setIf(loader, "kafka.bootstrap_servers", bootstrapServers);
    setIf(loader, "kafka.group_id", groupId);
    setIf(loader, "kafka.input_topic", inputTopic);
    setIf(loader, "kafka.output_topic", outputTopic);
    setIf(loader, "kafka.dead_letter_topic", deadLetterTopic);
    setIf(loader, "kafka.input_format", inputFormat);
    setIf(loader, "flink.parallelism", parallelism);
    setIf(loader, "batching.max_batch_size", maxBatchSize);
    setIf(loader, "batching.latency_budget_ms", latencyBudgetMs);
    setIf(loader, "batching.max_in_flight", maxInFlight);
    setIf(loader, "model.backend", backend);
    setIf(loader, "model.threads", threads);
    setIf(loader, "experts.policy", policy);
    return loader.overrides(sets);
  }

  private static void setIf(JobConfigLoader loader, String field, Object value) {
    if (value != null) {
      loader.set(field, value);
    }
  }
}
