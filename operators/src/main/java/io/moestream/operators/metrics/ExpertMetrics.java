package io.moestream.operators.metrics;

import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.policy.ExpertUsage;
import io.moestream.engine.policy.PolicyDriver;
import org.apache.flink.metrics.MetricGroup;

/**
 * What the experts did, as Flink metrics: experts per token over the last interval (mean and per
 * layer), tokens per expert (a group per layer and expert, so Prometheus gets {@code layer} and
 * {@code expert} labels for a heat map), and the policy's level, pressure and level changes.
 *
 * <p>Experts per token come from each step's own report of what its tokens used ({@link #stepDone} with
 * the engine's {@code lastStepExpertsUsed}); tokens per expert from {@link ExpertUsage}, which counts on
 * the task thread as the backend routes. {@link #roll} (also on the task thread, after steps) turns the
 * running totals into interval means at most once per interval, so the gauges show recent behaviour
 * rather than the average since the job started.
 */
public final class ExpertMetrics {
  private static final long INTERVAL_NANOS = 1_000_000_000L;

  private final ExpertUsage usage;
  private final PolicyDriver driver;
  private final long[] tokens; // (numLayers): tokens routed at the layer, since the job started
  private final long[] selected; // (numLayers): experts they used, summed
  private final long[] tokensAtRoll; // (numLayers)
  private final long[] selectedAtRoll; // (numLayers)
  private final double[] layerMeans; // (numLayers): NaN at dense layers and before any token
  private volatile double mean = Double.NaN;
  private volatile double stepMean = Double.NaN;
  private long rolledAt;

  /** @param expertsKept experts per sparse layer left by pruning (the model's num_experts when not pruned) */
  public ExpertMetrics(MetricGroup group, ModelConfig config, ExpertUsage usage, PolicyDriver driver, int expertsKept) {
    this.usage = usage;
    this.driver = driver;
    int numLayers = config.numLayers();
    this.tokens = new long[numLayers];
    this.selected = new long[numLayers];
    this.tokensAtRoll = new long[numLayers];
    this.selectedAtRoll = new long[numLayers];
    this.layerMeans = new double[numLayers];
    java.util.Arrays.fill(layerMeans, Double.NaN);
    group.gauge(MetricNames.EXPERTS_PER_TOKEN, () -> mean);
    group.gauge(MetricNames.STEP_EXPERTS_PER_TOKEN, () -> stepMean);
    group.gauge(MetricNames.MODEL_EXPERTS_PER_TOKEN, config::numExpertsPerTok);
    group.gauge(MetricNames.EXPERTS_KEPT, () -> expertsKept);
    group.gauge(MetricNames.EXPERT_LEVEL, driver::level);
    group.gauge(MetricNames.EXPERT_PRESSURE, () -> driver.controller().lastPressure());
    group.gauge(MetricNames.EXPERT_LEVEL_CHANGES, () -> driver.controller().transitions());
    for (int layer = 0; layer < numLayers; layer++) {
      if (!config.isSparse(layer)) {
        continue;
      }
      int l = layer;
      MetricGroup layerGroup = group.addGroup(MetricNames.LAYER_GROUP, Integer.toString(layer));
      layerGroup.gauge(MetricNames.LAYER_EXPERTS_PER_TOKEN, () -> layerMeans[l]);
      for (int expert = 0; expert < config.numExperts(); expert++) {
        int e = expert;
        layerGroup.addGroup(MetricNames.EXPERT_GROUP, Integer.toString(expert))
            .gauge(MetricNames.EXPERT_TOKENS, () -> usage.tokenCount(l, e));
      }
    }
  }

  /**
   * After an engine step: counts what its tokens used, sets that step's mean, then {@link #roll}.
   *
   * @param expertsUsed (numLayers, numTokens): the step's experts per token, 0 on dense layers
   */
  public void stepDone(long nowNanos, int[][] expertsUsed) {
    long stepTokens = 0;
    long stepSelected = 0;
    for (int layer = 0; layer < expertsUsed.length; layer++) {
      for (int k : expertsUsed[layer]) {
        if (k > 0) { // a sparse layer: every token uses at least one expert there
          tokens[layer]++;
          selected[layer] += k;
          stepTokens++;
          stepSelected += k;
        }
      }
    }
    if (stepTokens > 0) {
      stepMean = stepSelected / (double) stepTokens;
    }
    roll(nowNanos);
  }

  /** Closes the interval when it is due; the interval's means replace the previous ones. */
  public void roll(long nowNanos) {
    if (nowNanos - rolledAt < INTERVAL_NANOS) {
      return;
    }
    rolledAt = nowNanos;
    long intervalTokens = 0;
    long intervalSelected = 0;
    for (int layer = 0; layer < layerMeans.length; layer++) {
      long t = tokens[layer] - tokensAtRoll[layer];
      long s = selected[layer] - selectedAtRoll[layer];
      tokensAtRoll[layer] = tokens[layer];
      selectedAtRoll[layer] = selected[layer];
      if (t > 0) {
        layerMeans[layer] = s / (double) t;
      }
      intervalTokens += t;
      intervalSelected += s;
    }
    if (intervalTokens > 0) {
      mean = intervalSelected / (double) intervalTokens;
    }
  }

  /** Mean experts per token of the last closed interval (NaN before any token). */
  public double expertsPerToken() {
    return mean;
  }

  /** Mean experts per token of the last step that routed tokens (NaN before any). */
  public double stepExpertsPerToken() {
    return stepMean;
  }
}
