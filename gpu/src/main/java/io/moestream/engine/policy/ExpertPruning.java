package io.moestream.engine.policy;

import io.moestream.engine.model.LayerWeights;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.model.ModelWeights;

/**
 * Keeps the N most used experts of every sparse layer (by soft count; ties to the lower index) and
 * drops the rest: their entries in {@code MoeWeights.experts} become null, the router masks them to
 * -infinity before its softmax, and their weights are never read. The paper's negative result (far
 * worse than activating fewer experts per token) is offered so it can be reproduced, not recommended.
 */
public final class ExpertPruning {
  private ExpertPruning() {}

  /** (numLayers, numExperts): true for kept experts; all true at dense layers. */
  public static boolean[][] keepMostUsed(ExpertProfile profile, ModelConfig config, int keep) {
    if (keep < config.numExpertsPerTok() || keep > config.numExperts()) {
      throw new IllegalArgumentException("--prune-experts must be in [" + config.numExpertsPerTok() + ", "
          + config.numExperts() + "] (at least num_experts_per_tok, at most num_experts), found " + keep);
    }
    boolean[][] kept = new boolean[config.numLayers()][config.numExperts()];
    for (int layer = 0; layer < config.numLayers(); layer++) {
      if (!config.isSparse(layer)) {
        java.util.Arrays.fill(kept[layer], true);
        continue;
      }
      double[] soft = profile.softCounts()[layer];
      Integer[] order = new Integer[soft.length];
      for (int e = 0; e < order.length; e++) {
        order[e] = e;
      }
      java.util.Arrays.sort(order, (a, b) -> soft[a] != soft[b] ? Double.compare(soft[b], soft[a]) : a - b);
      for (int i = 0; i < keep; i++) {
        kept[layer][order[i]] = true;
      }
    }
    return kept;
  }

  /**
   * Nulls the dropped experts of freshly loaded weights in place (the loader calls this before any
   * backend sees them) and returns them.
   */
  public static ModelWeights apply(ModelWeights weights, boolean[][] kept) {
    for (int layer = 0; layer < weights.layers().length; layer++) {
      LayerWeights lw = weights.layers()[layer];
      if (lw.moe() == null) {
        continue;
      }
      for (int e = 0; e < lw.moe().experts().length; e++) {
        if (!kept[layer][e]) {
          lw.moe().experts()[e] = null;
        }
      }
    }
    return weights;
  }
}
