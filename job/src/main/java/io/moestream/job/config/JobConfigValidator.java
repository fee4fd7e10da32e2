package io.moestream.job.config;

import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.policy.AdaptivePolicy;
import io.moestream.engine.policy.ExpertPolicies;
import io.moestream.engine.policy.ExpertPolicy;
import io.moestream.engine.policy.ExpertProfile;
import io.moestream.engine.policy.ExpertPruning;
import io.moestream.engine.tokenizer.SpecialTokensInContent;
import io.moestream.job.config.JobConfig.Batching;
import io.moestream.job.config.JobConfig.Experts;
import io.moestream.job.config.JobConfig.Flink;
import io.moestream.job.config.JobConfig.Kafka;
import io.moestream.job.config.JobConfig.Limits;
import io.moestream.job.config.JobConfig.Model;
import io.moestream.operators.validate.RoutingRules;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** Turns the merged fields into a {@link JobConfig}, checking each; the first bad field fails. */
final class JobConfigValidator {
  /** The most header names kafka.carried_headers may list. */
  static final int MAX_CARRIED_HEADERS = 16;
  private JobConfigValidator() {}

  static JobConfig validate(JobConfigLoader.Fields f) {
    Model model = new Model(
        modelDir(f.string("model", "dir")),
        f.oneOf("model", "backend", Set.of("cpu", "auto", "cuda")),
        (int) f.integer("model", "threads", 1, 1024),
        f.oneOf("model", "kernels", Set.copyOf(io.moestream.engine.kernel.Kernels.NAMES)),
        f.integer("model", "kv_cache_mb", 1, 1L << 20),
        (int) f.integer("model", "max_batch_tokens", 1, 1 << 20),
        (int) f.integer("model", "max_running_sequences", 1, 1 << 16),
        SpecialTokensInContent.parse(f.oneOf("model", "special_tokens_in_content", Set.of("text", "control")),
            "model.special_tokens_in_content"),
        f.bool("model", "allow_weights_over_ram"),
        f.bool("model", "allow_cpu_fallback"),
        f.oneOf("model", "weights", Set.of("checkpoint", "int8")));
    if (model.weights().equals("int8") && !model.backend().equals("cpu")) {
      throw new ConfigException("model.weights", "'int8' runs on the CPU backend only, but model.backend is '"
          + model.backend() + "' (set model.backend: cpu, or model.weights: checkpoint)");
    }
    Kafka kafka = new Kafka(
        f.string("kafka", "bootstrap_servers"),
        f.string("kafka", "group_id"),
        f.string("kafka", "input_topic"),
        f.string("kafka", "output_topic"),
        f.string("kafka", "dead_letter_topic"),
        WireFormatConfig.format(f, "input_format"),
        f.string("kafka", "transactional_id_prefix"),
        f.oneOf("kafka", "starting_offsets", Set.of("committed", "earliest", "latest")),
        f.integer("kafka", "transaction_timeout_ms", 1_000, 900_000),
        KafkaClientProperties.parse(f.raw("kafka", "properties"), "kafka.properties.", f.environment(),
            KafkaClientProperties.JOB_OWNED),
        WireFormatConfig.format(f, "output_format"),
        WireFormatConfig.deadLetterFormat(f),
        WireFormatConfig.registry(f),
        f.oneOf("kafka", "delivery_guarantee", Set.of("exactly_once", "at_least_once")),
        carriedHeaders(f),
        allowedReplyTopics(f));
    distinctTopics(kafka);
    WireFormatConfig.checkRegistryNeeded(kafka);
    Batching batching = new Batching(
        (int) f.integer("batching", "max_batch_size", 1, 4096),
        f.integer("batching", "latency_budget_ms", 0, 60_000),
        (int) f.integer("batching", "max_in_flight", 1, 1 << 16));
    if (batching.maxBatchSize() > batching.maxInFlight()) {
      throw new ConfigException("batching.max_batch_size", "must not exceed batching.max_in_flight ("
          + batching.maxInFlight() + "), found " + batching.maxBatchSize());
    }
    Experts experts = experts(f, model);
    Flink flink = new Flink(
        f.string("flink", "job_name"),
        (int) f.integer("flink", "parallelism", 1, 4096),
        f.integer("flink", "checkpoint_interval_ms", 100, 3_600_000),
        f.integer("flink", "checkpoint_min_pause_ms", 0, 3_600_000),
        (int) f.integer("flink", "restart_attempts", 0, 1_000_000),
        f.integer("flink", "restart_delay_ms", 0, 3_600_000),
        (int) f.integer("flink", "max_attempts_per_request", 1, 1_000));
    Limits limits = new Limits(
        (int) f.integer("limits", "max_new_tokens", 1, 1 << 20),
        (int) f.integer("limits", "max_stop_strings", 0, 64),
        (int) f.integer("limits", "max_record_bytes", 64, 64 << 20),
        (int) f.integer("limits", "max_prompt_bytes", 1, 64 << 20),
        (int) f.integer("limits", "max_messages", 1, 1 << 16),
        (int) f.integer("limits", "max_dead_letter_raw_bytes", 0, 64 << 20),
        (int) f.integer("limits", "max_output_record_bytes", 4096, 1 << 30),
        (int) f.integer("limits", "max_header_bytes", 1, 64 << 10));
    if (limits.maxDeadLetterRawBytes() > limits.maxOutputRecordBytes() - 4096) {
      // the rest of a dead letter (reason, id, topic, hash) needs room next to its raw bytes
      throw new ConfigException("limits.max_dead_letter_raw_bytes", "must leave 4096 bytes of"
          + " limits.max_output_record_bytes (" + limits.maxOutputRecordBytes() + ") for the rest of a dead letter, found "
          + limits.maxDeadLetterRawBytes());
    }
    outputRecordsFitTheProducer(kafka, limits);
    return new JobConfig(model, kafka, batching, experts, flink, limits);
  }

  /** Kafka's default producer max.request.size, used when kafka.properties does not set one. */
  static final int DEFAULT_MAX_REQUEST_SIZE = 1_048_576;
  /**
   * Bytes an output record may take beyond its value and carried headers: the key (a request id, at most
   * 256 bytes), the record and batch framing, each header's name and varints.
   */
  static final int RECORD_OVERHEAD_BYTES = 1024;

  /**
   * The size guard cuts a generation or dead letter to limits.max_output_record_bytes, but the request's
   * carried headers travel on top of that: the sum must still fit the producer's max.request.size, or a
   * record the guard let through would fail the sink on every restart.
   */
  private static void outputRecordsFitTheProducer(Kafka kafka, Limits limits) {
    String configured = kafka.properties().values().get("max.request.size");
    long maxRequestSize;
    try {
      maxRequestSize = configured == null ? DEFAULT_MAX_REQUEST_SIZE : Long.parseLong(configured.trim());
    } catch (NumberFormatException e) {
      throw new ConfigException("kafka.properties.max.request.size", "must be a number of bytes, found '"
          + configured + "'");
    }
    long headers = (long) kafka.carriedHeaders().size() * limits.maxHeaderBytes();
    long largest = limits.maxOutputRecordBytes() + headers + RECORD_OVERHEAD_BYTES;
    if (largest > maxRequestSize) {
      throw new ConfigException("limits.max_output_record_bytes", "an output record may reach " + largest
          + " bytes (max_output_record_bytes " + limits.maxOutputRecordBytes() + " + " + kafka.carriedHeaders().size()
          + " carried headers x max_header_bytes " + limits.maxHeaderBytes() + " + " + RECORD_OVERHEAD_BYTES
          + " of key and framing), more than the producer's max.request.size " + maxRequestSize
          + (configured == null ? " (Kafka's default)" : "") + ": lower one of those or raise"
          + " kafka.properties.max.request.size (and the topics' max.message.bytes)");
    }
  }

  /** Header names, each once: at most {@link #MAX_CARRIED_HEADERS}, so a request carries that many values at most. */
  private static List<String> carriedHeaders(JobConfigLoader.Fields f) {
    List<String> names = f.list("kafka", "carried_headers");
    if (names.size() > MAX_CARRIED_HEADERS) {
      throw new ConfigException("kafka.carried_headers", "at most " + MAX_CARRIED_HEADERS + " names, found "
          + names.size());
    }
    if (new java.util.HashSet<>(names).size() != names.size()) {
      throw new ConfigException("kafka.carried_headers", "names a header twice: " + names);
    }
    return names;
  }

  private static List<String> allowedReplyTopics(JobConfigLoader.Fields f) {
    List<String> entries = f.list("kafka", "allowed_reply_topics");
    try {
      new RoutingRules(entries, 1, null); // the same check the validate stage relies on
    } catch (IllegalArgumentException e) {
      throw new ConfigException("kafka.allowed_reply_topics", e.getMessage().substring(e.getMessage().indexOf(' ') + 1));
    }
    return entries;
  }

  private static Experts experts(JobConfigLoader.Fields f, Model model) {
    String spec = f.string("experts", "policy");
    ModelConfig config;
    try {
      config = ModelConfig.read(Path.of(model.dir()));
    } catch (RuntimeException e) {
      throw new ConfigException("model.dir", e.getMessage());
    }
    try {
      ExpertPolicy policy = ExpertPolicies.parse(spec);
      for (ExpertPolicy level : policy instanceof AdaptivePolicy adaptive ? adaptive.levels(config) : java.util.List.of(policy)) {
        level.expertsPerLayer(config); // K beyond the model's num_experts_per_tok fails here, not on a TaskManager
      }
    } catch (IllegalArgumentException e) {
      throw new ConfigException("experts.policy", e.getMessage());
    }
    Experts experts = new Experts(spec,
        f.decimal("experts", "high_watermark", 0, 1e6),
        f.decimal("experts", "low_watermark", 0, 1e6),
        f.integer("experts", "dwell_down_ms", 0, 3_600_000),
        f.integer("experts", "dwell_up_ms", 0, 3_600_000),
        f.decimal("experts", "waiting_at_full", 1e-9, 1e9),
        f.decimal("experts", "backpressure_at_full", 1e-9, 1),
        f.decimal("experts", "batch_fill_weight", 0, 1e6),
        f.integer("experts", "lag_at_full", 0, Long.MAX_VALUE),
        f.integer("experts", "latency_target_ms", 0, 3_600_000),
        (int) f.integer("experts", "prune_experts", 0, 1 << 20),
        expertProfile(f.optionalString("experts", "expert_profile")));
    if (experts.lowWatermark() >= experts.highWatermark()) {
      throw new ConfigException("experts.low_watermark", "must be below experts.high_watermark ("
          + experts.highWatermark() + "), found " + experts.lowWatermark());
    }
    prunedExperts(experts, config);
    return experts;
  }

  private static String expertProfile(String file) {
    return file == null ? "" : Path.of(file).toAbsolutePath().normalize().toString();
  }

  /**
   * The experts {@code experts.prune_experts} keeps, (numLayers, numExperts), read from the profile and
   * checked against the model; null without pruning. Errors name the field.
   */
  static boolean[][] prunedExperts(Experts experts, ModelConfig config) {
    if (experts.pruneExperts() == 0 && experts.expertProfile().isEmpty()) {
      return null;
    }
    if (experts.pruneExperts() == 0) {
      throw new ConfigException("experts.prune_experts", "experts.expert_profile is set ("
          + experts.expertProfile() + "); say how many experts per layer to keep, found 0");
    }
    if (experts.expertProfile().isEmpty()) {
      throw new ConfigException("experts.expert_profile", "experts.prune_experts = " + experts.pruneExperts()
          + " needs the profile written by `./moestream profile-experts`, found none");
    }
    ExpertProfile profile;
    try {
      profile = ExpertProfile.read(Path.of(experts.expertProfile()), config);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("experts.expert_profile", e.getMessage());
    }
    try {
      return ExpertPruning.keepMostUsed(profile, config, experts.pruneExperts());
    } catch (IllegalArgumentException e) {
      throw new ConfigException("experts.prune_experts", e.getMessage().replace("--prune-experts ", ""));
    }
  }

  private static String modelDir(String dir) {
    Path path = Path.of(dir).toAbsolutePath().normalize();
    if (!Files.isRegularFile(path.resolve("config.json"))) {
      throw new ConfigException("model.dir", path + " has no config.json (expected a Hugging Face model folder)");
    }
    if (!Files.isRegularFile(path.resolve("tokenizer.json"))) {
      throw new ConfigException("model.dir", path + " has no tokenizer.json (the job tokenizes prompts)");
    }
    return path.toString();
  }

  private static void distinctTopics(Kafka kafka) {
    if (kafka.inputTopic().equals(kafka.outputTopic()) || kafka.inputTopic().equals(kafka.deadLetterTopic())
        || kafka.outputTopic().equals(kafka.deadLetterTopic())) {
      throw new ConfigException("kafka.output_topic", "input, output and dead-letter topics must differ");
    }
  }
}
