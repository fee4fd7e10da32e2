package io.moestream.engine.policy;

import io.moestream.engine.backend.RoutingObserver;
import io.moestream.engine.model.ModelConfig;

/**
 * Counts what the router did, per layer and expert: soft counts (summed routing probability, what
 * {@code profile-experts} writes and pruning ranks by), token counts (tokens routed to the expert) and
 * experts per token. Set it with {@code Backend.setRoutingObserver}; the operator's metrics read it.
 *
 * <p>Written by the stepping thread; readers on other threads (metric reporters) may see values a
 * step old; {@link #reset} starts a new interval.
 */
public final class ExpertUsage implements RoutingObserver {
  private final int numExperts;
  private final double[][] softCounts; // (numLayers, numExperts)
  private final long[][] tokenCounts; // (numLayers, numExperts)
  private final long[] tokens; // (numLayers): tokens routed at the layer
  private final long[] selected; // (numLayers): experts they used, summed

  public ExpertUsage(ModelConfig config) {
    this(config.numLayers(), config.numExperts());
  }

  public ExpertUsage(int numLayers, int numExperts) {
    this.numExperts = numExperts;
    this.softCounts = new double[numLayers][numExperts];
    this.tokenCounts = new long[numLayers][numExperts];
    this.tokens = new long[numLayers];
    this.selected = new long[numLayers];
  }

  @Override
  public void onToken(int layer, float[] routingProbabilities, int[] selectedExperts, int numSelected) {
    double[] soft = softCounts[layer];
    for (int e = 0; e < numExperts; e++) {
      float p = routingProbabilities[e];
      if (p > 0) { // pruned experts: 0 (or -infinity for other routers); never NaN into the sums
        soft[e] += p;
      }
    }
    for (int j = 0; j < numSelected; j++) {
      tokenCounts[layer][selectedExperts[j]]++;
    }
    tokens[layer]++;
    selected[layer] += numSelected;
  }

  /** (numLayers, numExperts): summed routing probability; dense layers are all zero. */
  public double[][] softCounts() {
    double[][] copy = new double[softCounts.length][];
    for (int l = 0; l < copy.length; l++) {
      copy[l] = softCounts[l].clone();
    }
    return copy;
  }

  /** (numLayers, numExperts): tokens routed to each expert. */
  public long[][] tokenCounts() {
    long[][] copy = new long[tokenCounts.length][];
    for (int l = 0; l < copy.length; l++) {
      copy[l] = tokenCounts[l].clone();
    }
    return copy;
  }

  /** Mean experts per token at {@code layer}; NaN before any token (or at a dense layer). */
  public double expertsPerToken(int layer) {
    return tokens[layer] == 0 ? Double.NaN : selected[layer] / (double) tokens[layer];
  }

  /** Mean experts per token over all sparse layers; NaN before any token. */
  public double expertsPerToken() {
    long t = tokensAllLayers();
    return t == 0 ? Double.NaN : selectedAllLayers() / (double) t;
  }

  /** {@link #tokens} summed over the layers. */
  public long tokensAllLayers() {
    long t = 0;
    for (long n : tokens) {
      t += n;
    }
    return t;
  }

  /** {@link #selected} summed over the layers. */
  public long selectedAllLayers() {
    long s = 0;
    for (long n : selected) {
      s += n;
    }
    return s;
  }

  /** Tokens routed at {@code layer} so far (0 at a dense layer): with {@link #selected}, for interval means. */
  public long tokens(int layer) {
    return tokens[layer];
  }

  /** Experts those tokens used at {@code layer}, summed. */
  public long selected(int layer) {
    return selected[layer];
  }

  /** Tokens routed to {@code expert} at {@code layer} so far (no copy: for a gauge per expert). */
  public long tokenCount(int layer, int expert) {
    return tokenCounts[layer][expert];
  }

  public int numLayers() {
    return tokens.length;
  }

  public int numExperts() {
    return numExperts;
  }

  /** Tokens seen at the first sparse layer (each token passes every sparse layer once). */
  public long tokensSeen() {
    for (long t : tokens) {
      if (t > 0) {
        return t;
      }
    }
    return 0;
  }

  public void reset() {
    for (int l = 0; l < tokens.length; l++) {
      java.util.Arrays.fill(softCounts[l], 0);
      java.util.Arrays.fill(tokenCounts[l], 0);
      tokens[l] = 0;
      selected[l] = 0;
    }
  }
}
