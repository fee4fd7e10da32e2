package io.moestream.engine.generate;

import java.util.Arrays;

/** Draws a token from a logits row according to {@link SamplingParams}. Stateless and thread-safe. */
public final class Sampler {
  private Sampler() {}

  /**
   * @param logits (vocabSize); not modified
   * @param tokenIndex index of the token being generated (0 for the first), mixed into the random draw
   */
  public static int sample(float[] logits, SamplingParams params, int tokenIndex) {
    if (params.greedy()) {
      return argmax(logits);
    }
    int n = logits.length;
    Integer[] order = null;
    int kept = n;
    float max = logits[argmax(logits)];
    double[] probs = new double[n];
    double sum = 0;
    for (int i = 0; i < n; i++) {
      probs[i] = Math.exp((logits[i] - max) / params.temperature());
      sum += probs[i];
    }
    for (int i = 0; i < n; i++) {
      probs[i] /= sum;
    }
    if (params.topK() > 0 || params.topP() < 1f) {
      order = new Integer[n];
      for (int i = 0; i < n; i++) {
        order[i] = i;
      }
      final double[] p = probs;
      Arrays.sort(order, (a, b) -> p[b] != p[a] ? Double.compare(p[b], p[a]) : Integer.compare(a, b));
      if (params.topK() > 0) {
        kept = Math.min(kept, params.topK());
      }
      if (params.topP() < 1f) {
        double cumulative = 0;
        int nucleus = 0;
        while (nucleus < kept) {
          cumulative += probs[order[nucleus]];
          nucleus++;
          if (cumulative >= params.topP()) {
            break;
          }
        }
        kept = Math.max(1, nucleus);
      }
    }
    double u = uniform(params.seed(), tokenIndex);
    if (order == null) {
      double cumulative = 0;
      for (int i = 0; i < n; i++) {
        cumulative += probs[i];
        if (u < cumulative) {
          return i;
        }
      }
      return argmax(logits);
    }
    double keptMass = 0;
    for (int i = 0; i < kept; i++) {
      keptMass += probs[order[i]];
    }
    double target = u * keptMass;
    double cumulative = 0;
    for (int i = 0; i < kept; i++) {
      cumulative += probs[order[i]];
      if (target < cumulative) {
        return order[i];
      }
    }
    return order[kept - 1];
  }

  /** Index of the largest logit; the lower index among equals. */
  public static int argmax(float[] logits) {
    int best = 0;
    for (int i = 1; i < logits.length; i++) {
      if (logits[i] > logits[best]) {
        best = i;
      }
    }
    return best;
  }

  /** A uniform double in [0, 1) from (seed, index): SplitMix64 over both. */
  static double uniform(long seed, int index) {
    long z = seed * 0x9E3779B97F4A7C15L + (index + 1) * 0xD1B54A32D192ED03L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    z = z ^ (z >>> 31);
    return (z >>> 11) * 0x1.0p-53;
  }
}
