package io.moestream.engine.generate;

import io.moestream.engine.backend.StepBatch;
import io.moestream.engine.backend.StepOutput;
import io.moestream.engine.kv.PagedKvCache;
import io.moestream.engine.moe.ExpertSelection;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.List;
import java.util.function.Predicate;

/**
 * Which tokens of which sequences one step runs: every decoding sequence's pending token first (they
 * are latency-critical), then prompt chunks in admission order until the token budget is spent. KV
 * space is reserved here, before the backend runs, so running out is a scheduling decision (preempt a
 * younger sequence) and never an error deep inside the forward pass.
 */
final class StepPlan {
  private final List<ActiveSequence> sequences = new ArrayList<>();
  private final List<Integer> counts = new ArrayList<>();
  private StepBatch batch;
  private ActiveSequence cannotFit;

  static StepPlan build(List<ActiveSequence> running, int tokenBudget, PagedKvCache cache, int numLayers,
      Predicate<Set<ActiveSequence>> preemptOneNotIn, int[] expertLevel, ExpertSelection selection, int maxK) {
    StepPlan plan = new StepPlan();
    List<ActiveSequence> ordered = new ArrayList<>();
    for (ActiveSequence s : running) {
      if (s.pending() == 1) {
        ordered.add(s);
      }
    }
    for (ActiveSequence s : running) {
      if (s.pending() > 1) {
        ordered.add(s);
      }
    }
    Set<ActiveSequence> keep = new HashSet<>();
    int budget = tokenBudget;
    for (ActiveSequence s : ordered) {
      if (budget == 0) {
        break;
      }
      if (!running.contains(s)) {
        continue; // preempted earlier while planning this step
      }
      int n = Math.min(s.pending(), budget);
      keep.add(s);
      boolean reserved = cache.reserve(s.kv, s.processed + n);
      while (!reserved && preemptOneNotIn.test(keep)) {
        reserved = cache.reserve(s.kv, s.processed + n);
      }
      if (!reserved) {
        keep.remove(s);
        if (running.size() == 1) {
          plan.cannotFit = s;
        }
        continue;
      }
      plan.sequences.add(s);
      plan.counts.add(n);
      budget -= n;
    }
    plan.batch = plan.toBatch(numLayers, expertLevel, selection, maxK);
    return plan;
  }

  /** A sequence that cannot get KV space even with every other sequence preempted, or null. */
  ActiveSequence cannotFit() {
    return cannotFit;
  }

  /** The sequences this step runs. */
  List<ActiveSequence> sequences() {
    return sequences;
  }

  boolean isEmpty() {
    return sequences.isEmpty();
  }

  StepBatch batch() {
    return batch;
  }

  private StepBatch toBatch(int numLayers, int[] expertLevel, ExpertSelection selection, int maxK) {
    int total = 0;
    for (int n : counts) {
      total += n;
    }
    int[] tokenIds = new int[total];
    int[] positions = new int[total];
    PagedKvCache.Sequence[] kv = new PagedKvCache.Sequence[total];
    int[][] experts = new int[numLayers][total];
    int[] floors = new int[total];
    boolean anyFloor = false;
    List<Integer> logitTokens = new ArrayList<>();
    int t = 0;
    for (int i = 0; i < sequences.size(); i++) {
      ActiveSequence s = sequences.get(i);
      int n = counts.get(i);
      for (int j = 0; j < n; j++) {
        tokenIds[t] = s.tokens[s.processed + j];
        positions[t] = s.processed + j;
        kv[t] = s.kv;
        int floor = s.request.fullQuality() ? maxK : Math.min(maxK, s.request.minExpertsPerToken());
        for (int layer = 0; layer < numLayers; layer++) {
          experts[layer][t] = expertsAt(s, layer, expertLevel, floor, maxK);
        }
        floors[t] = floor;
        anyFloor |= floor > 1;
        t++;
      }
      if (n == s.pending()) {
        logitTokens.add(t - 1);
      }
    }
    return new StepBatch(tokenIds, positions, kv, experts, logitTokens.stream().mapToInt(Integer::intValue).toArray(),
        anyFloor ? floors : null, selection);
  }

  /**
   * A token's k at one layer: its request's own, capped by the engine's level, raised to its floor
   * (the model's k for a full-quality request).
   */
  private static int expertsAt(ActiveSequence s, int layer, int[] expertLevel, int floor, int maxK) {
    if (s.request.fullQuality()) {
      return maxK;
    }
    int k = s.expertsPerLayer[layer];
    if (expertLevel != null) {
      k = Math.min(k, expertLevel[layer]);
    }
    return Math.max(k, floor);
  }

  /** Applies the step's results: cache lengths, sampled tokens, finished requests. */
  void complete(StepOutput output, Engine engine, List<TokenEvent> events) {
    int t = 0;
    int logitRow = 0;
    for (int i = 0; i < sequences.size(); i++) {
      ActiveSequence s = sequences.get(i);
      int n = counts.get(i);
      for (int j = t; j < t + n; j++) {
        s.ranWith(output.expertsUsedFewest(j));
      }
      t += n;
      boolean sample = n == s.pending();
      int row = sample ? logitRow++ : -1;
      engine.advance(s, n, output, row, output.expertsUsedMean(t - 1), events);
    }
  }
}
