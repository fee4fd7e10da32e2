package io.moestream.job.cli;

import io.moestream.job.config.JobConfigLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import picocli.CommandLine.Option;

/**
 * The options of every command that runs the job's operators (streaming or corpus): a YAML file, the
 * model, engine, batching and expert fields, then {@code --set}. Kafka's options are added by
 * {@link JobConfigOptions}.
 */
final class PipelineOptions {
  @Option(names = "--config", paramLabel = "<file>",
      description = "YAML configuration (its fields and defaults: README.md, Configuration).")
  Path config;

  @Option(names = "--model", paramLabel = "<dir>", description = "Hugging Face model folder (model.dir).")
  Path model;

  @Option(names = "--parallelism", paramLabel = "<n>",
      description = "Inference subtasks, one engine each (flink.parallelism).")
  Integer parallelism;

  @Option(names = "--max-batch-size", paramLabel = "<n>",
      description = "Requests one engine runs together at most (batching.max_batch_size).")
  Integer maxBatchSize;

  @Option(names = "--latency-budget-ms", paramLabel = "<ms>",
      description = "How long a request may wait in a micro-batch before it is flushed (batching.latency_budget_ms).")
  Long latencyBudgetMs;

  @Option(names = "--max-in-flight", paramLabel = "<n>",
      description = "Requests accepted and not yet answered per inference subtask at most (batching.max_in_flight).")
  Integer maxInFlight;

  @Option(names = "--backend", paramLabel = "<backend>", description = "cpu, auto or cuda (model.backend).")
  String backend;

  @Option(names = "--allow-cpu-fallback", description = "With --backend auto, a TaskManager whose GPU cannot run the"
      + " model runs it on the CPU (warned) instead of failing (model.allow_cpu_fallback).")
  Boolean allowCpuFallback;

  @Option(names = "--threads", paramLabel = "<n>", description = "CPU threads of each engine (model.threads).")
  Integer threads;

  @Option(names = "--policy", paramLabel = "<policy>", description = "Expert policy: full, fixed:K, schedule:B,H,E,P,"
      + " threshold:KMIN,T, batch:KMIN,T or adaptive[:L1|L2|...] (experts.policy).")
  String policy;

  @Option(names = "--prune-experts", paramLabel = "<n>", description = "Keep only the n most used experts of each"
      + " layer, from --expert-profile (experts.prune_experts).")
  Integer pruneExperts;

  @Option(names = "--expert-profile", paramLabel = "<file>",
      description = "The profile profile-experts wrote (experts.expert_profile).")
  Path expertProfile;

  @Option(names = "--set", paramLabel = "<section.field=value>",
      description = "Any other configuration field, e.g. --set flink.checkpoint_interval_ms=5000 (repeatable).")
  List<String> sets = new ArrayList<>();

  /**
   * {@code base}, then the file, then these options and {@code more} (a command's own), then --set;
   * not yet validated.
   */
  JobConfigLoader layer(JobConfigLoader base, Consumer<JobConfigLoader> more) {
    if (config != null) {
      base.file(config);
    }
    setIf(base, "model.dir", model == null ? null : model.toAbsolutePath().toString());
    setIf(base, "flink.parallelism", parallelism);
    setIf(base, "batching.max_batch_size", maxBatchSize);
    setIf(base, "batching.latency_budget_ms", latencyBudgetMs);
    setIf(base, "batching.max_in_flight", maxInFlight);
    setIf(base, "model.backend", backend);
    setIf(base, "model.allow_cpu_fallback", allowCpuFallback);
    setIf(base, "model.threads", threads);
    setIf(base, "experts.policy", policy);
    setIf(base, "experts.prune_experts", pruneExperts);
    setIf(base, "experts.expert_profile", expertProfile == null ? null : expertProfile.toAbsolutePath().toString());
    more.accept(base);
    return base.overrides(sets);
  }

  static void setIf(JobConfigLoader loader, String field, Object value) {
    if (value != null) {
      loader.set(field, value);
    }
  }
}
