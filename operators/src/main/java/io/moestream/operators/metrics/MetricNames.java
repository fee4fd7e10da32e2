package io.moestream.operators.metrics;

/** Every metric the operators register, by name. Gauges and counters live in the operator metric group. */
public final class MetricNames {
  private MetricNames() {}

  // ---- load signals (inference operator): what the expert-activation policy reads --------------
  /** Requests accepted by the operator and not yet admitted to the running decode batch. */
  public static final String WAITING_REQUESTS = "moeWaitingRequests";
  /** Sequences in the engine's running decode batch. */
  public static final String RUNNING_BATCH_SIZE = "moeRunningBatchSize";
  /** Requests accepted and not yet answered (waiting + running); capped by max-in-flight. */
  public static final String IN_FLIGHT_REQUESTS = "moeInFlightRequests";
  /** The fixed cap on in-flight requests. */
  public static final String MAX_IN_FLIGHT_REQUESTS = "moeMaxInFlightRequests";
  /** Total ms the operator has refused input because the in-flight cap was reached. */
  public static final String BACKPRESSURED_TIME_MS = "moeBackpressuredTimeMs";
  /** Share of the last second spent refusing input (0..1). */
  public static final String BACKPRESSURED_RATIO = "moeBackpressuredRatio";
  /** Free KV-cache blocks. */
  public static final String KV_FREE_BLOCKS = "moeKvCacheFreeBlocks";
  /** Records the job's consumer group is behind on the input topic (-1 while unknown). */
  public static final String CONSUMER_LAG = "moeConsumerLag";
  /** Used KV-cache blocks (pages) and the pool's size. */
  public static final String KV_USED_BLOCKS = "moeKvCacheUsedBlocks";
  public static final String KV_TOTAL_BLOCKS = "moeKvCacheTotalBlocks";

  // ---- expert activation (inference operator) ------------------------------------------------
  /** Routed experts per token the tokens of the last reporting interval used, mean over sparse layers. */
  public static final String EXPERTS_PER_TOKEN = "moeExpertsPerToken";
  /** The same mean over the tokens of the last engine step alone. */
  public static final String STEP_EXPERTS_PER_TOKEN = "moeStepExpertsPerToken";
  /** The model's num_experts_per_tok: the full-quality reference for the gauge above. */
  public static final String MODEL_EXPERTS_PER_TOKEN = "moeModelExpertsPerToken";
  /** Experts per sparse layer the model keeps: num_experts, or N with {@code experts.prune_experts = N}. */
  public static final String EXPERTS_KEPT = "moeExpertsKept";
  /** Group key of per-layer metrics: {@code <operator>.layer.<index>} (a Prometheus label {@code layer}). */
  public static final String LAYER_GROUP = "layer";
  /** Group key of per-expert metrics inside a layer group (a Prometheus label {@code expert}). */
  public static final String EXPERT_GROUP = "expert";
  /** Per layer: the mean experts per token of the last interval. */
  public static final String LAYER_EXPERTS_PER_TOKEN = "moeLayerExpertsPerToken";
  /** Per layer and expert: tokens routed to the expert since the job started (a counter). */
  public static final String EXPERT_TOKENS = "moeExpertTokens";
  /** The expert policy's level now in force: 0 = full quality (the first level). */
  public static final String EXPERT_LEVEL = "moeExpertLevel";
  /** The adaptive controller's last pressure (1 = overloaded). */
  public static final String EXPERT_PRESSURE = "moeExpertPressure";
  /** Times the controller moved between levels. */
  public static final String EXPERT_LEVEL_CHANGES = "moeExpertLevelChanges";

  // ---- requests and tokens --------------------------------------------------------------------
  /** Records read by decode/validate (valid or not). */
  public static final String REQUESTS_IN = "moeRequestsIn";
  /** Input records skipped because an earlier job answered them (a resubmission without a savepoint). */
  public static final String REQUESTS_ALREADY_ANSWERED = "moeRequestsAlreadyAnswered";
  /** In-flight requests dead-lettered because the job was restored too often while they were in flight. */
  public static final String REQUESTS_GIVEN_UP = "moeRequestsGivenUpAfterRestores";
  /** Records read by decode/validate per second (a meter): the arrival rate. */
  public static final String REQUESTS_IN_PER_SECOND = "moeRequestsInPerSecond";
  /** Prompt tokens admitted to the engine (a counter) and per second (a meter). */
  public static final String PROMPT_TOKENS = "moePromptTokens";
  public static final String PROMPT_TOKENS_PER_SECOND = "moePromptTokensPerSecond";
  /** Generated tokens per second (a meter). */
  public static final String GENERATED_TOKENS_PER_SECOND = "moeGeneratedTokensPerSecond";
  /** Generations emitted per second (a meter). */
  public static final String GENERATIONS_PER_SECOND = "moeGenerationsPerSecond";
  /** Time from receipt to the first generated token, ms (a histogram over recent requests). */
  public static final String TIME_TO_FIRST_TOKEN_MS = "moeTimeToFirstTokenMs";
  /** Time per output token after the first, ms (a histogram over recent requests). */
  public static final String TIME_PER_OUTPUT_TOKEN_MS = "moeTimePerOutputTokenMs";
  /** Tokens (decode tokens + prompt-chunk tokens) in the last engine step. */
  public static final String STEP_TOKENS = "moeStepTokens";

  // ---- where the operator's wall time goes (WallTime; counters of ms since the operator opened) --
  /** Share of the last second the task thread spent inside the engine's step (0..1). */
  public static final String ENGINE_BUSY_RATIO = "moeEngineBusyRatio";
  public static final String TIME_ENGINE_STEP_MS = "moeTimeEngineStepMs";
  public static final String TIME_TOKENS_MS = "moeTimeTokensMs";
  public static final String TIME_EMIT_MS = "moeTimeEmitMs";
  public static final String TIME_INTAKE_MS = "moeTimeIntakeMs";
  public static final String TIME_SNAPSHOT_MS = "moeTimeSnapshotMs";
  public static final String TIME_WAITING_WITH_WORK_MS = "moeTimeWaitingWithWorkMs";
  public static final String TIME_WAITING_FOR_INPUT_MS = "moeTimeWaitingForInputMs";

  // ---- backend and memory ---------------------------------------------------------------------
  /** 1 when the engine runs on CUDA, 0 on the CPU. */
  public static final String BACKEND_CUDA = "moeBackendCuda";
  /** Bytes of model weights the engine maps (CPU) or holds on the device (CUDA). */
  public static final String WEIGHT_BYTES = "moeWeightBytes";
  /** Bytes of the KV cache pool. */
  public static final String KV_CACHE_BYTES = "moeKvCacheBytes";
  /** Device memory in use on the engine's GPU (bytes); -1 on the CPU backend. */
  public static final String DEVICE_MEMORY_USED_BYTES = "moeDeviceMemoryUsedBytes";

  // ---- work done ----------------------------------------------------------------------------
  public static final String GENERATIONS = "moeGenerations";
  public static final String GENERATED_TOKENS = "moeGeneratedTokens";
  public static final String DECODE_STEPS = "moeDecodeSteps";
  public static final String REPLAYED_REQUESTS = "moeReplayedRequests";
  public static final String BATCHES = "moeMicroBatches";
  public static final String BATCH_TARGET_SIZE = "moeMicroBatchTargetSize";

  // ---- rejects --------------------------------------------------------------------------------
  public static final String DEAD_LETTERS_VALIDATE = "moeDeadLettersValidate";
  public static final String DEAD_LETTERS_TOKENIZE = "moeDeadLettersTokenize";
  /**
   * Generations and dead letters that serialized bigger than limits.max_output_record_bytes and were
   * replaced by a small record saying so (a sink metric).
   */
  public static final String OUTPUT_RECORDS_CUT = "moeOutputRecordsCut";

  /**
   * How Flink's Prometheus reporter names an operator metric: {@code flink_taskmanager_job_task_operator_<name>},
   * with labels job_name, task_name, operator_name, subtask_index, ... A metric inside key/value groups
   * also carries the group keys in its name and their values as labels:
   * {@code ..._operator_layer_moeLayerExpertsPerToken{layer="3"}},
   * {@code ..._operator_layer_expert_moeExpertTokens{layer="3",expert="17"}} (see {@link #prometheusName(String, String...)}).
   */
  public static String prometheusName(String metric) {
    return "flink_taskmanager_job_task_operator_" + metric;
  }

  /** The Prometheus name of {@code metric} registered inside groups with these keys, outermost first. */
  public static String prometheusName(String metric, String... groupKeys) {
    StringBuilder name = new StringBuilder("flink_taskmanager_job_task_operator_");
    for (String key : groupKeys) {
      name.append(key).append('_');
    }
    return name.append(metric).toString();
  }
}
