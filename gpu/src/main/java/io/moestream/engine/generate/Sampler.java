package io.moestream.engine.generate;

import java.util.Arrays;

/**
 * Draws a token from a logits row as Hugging Face's warpers do: temperature, then top-k, then top-p
 * over the probabilities renormalized to the top-k set, then a draw. The draw's uniform number is a
 * function of (seed, token index) only. Stateless and thread-safe.
 *
 * <p>Only candidates that can matter are sorted: with top-p, a token whose probability is below
 * (1 - topP) / (n - 1) cannot belong to the nucleus (the tokens above it would already hold more than
 * topP), so a 150k vocabulary usually leaves a few dozen candidates.
 */
public final class Sampler {
  private Sampler() {}

  /** Samples from {@code logits} (vocabSize). */
  public static int sample(float[] logits, SamplingParams params, int tokenIndex) {
    return sample(logits, 0, logits.length, params, tokenIndex);
  }

  /**
   * Samples from {@code logits[offset..offset+n)}; not modified.
   *
   * @param tokenIndex index of the token being generated (0 for the first), mixed into the draw
   */
  public static int sample(float[] logits, int offset, int n, SamplingParams params, int tokenIndex) {
    int best = argmax(logits, offset, n);
    if (params.greedy()) {
      return best;
    }
    double max = logits[offset + best];
    double inverseTemperature = 1.0 / params.temperature();
    double[] weights = new double[n];
    double total = 0;
    for (int i = 0; i < n; i++) {
      double w = Math.exp((logits[offset + i] - max) * inverseTemperature);
      weights[i] = w;
      total += w;
    }
    int topK = params.topK() > 0 ? Math.min(params.topK(), n) : n;
    double topP = params.topP();
    if (topK == n && topP >= 1.0) {
      return draw(weights, null, n, total, uniform(params.seed(), tokenIndex));
    }
    // Candidates, sorted by weight (descending, lower index first among equals).
    double floor = topK < n ? kthLargest(weights, topK) : total * (1.0 - topP) / Math.max(1, n - 1);
    int[] order = candidatesAbove(weights, floor, best);
    int kept = Math.min(topK, order.length);
    if (topP < 1.0) {
      // The nucleus is a share of the top-k set's mass, or of all tokens' mass without top-k: the
      // candidates alone would miss the tokens below the floor and cut the nucleus short.
      double keptMass = 0;
      if (topK < n) {
        for (int i = 0; i < kept; i++) {
          keptMass += weights[order[i]];
        }
      } else {
        keptMass = total;
      }
      double cumulative = 0;
      int nucleus = 0;
      while (nucleus < kept) {
        cumulative += weights[order[nucleus]];
        nucleus++;
        if (cumulative >= topP * keptMass) {
          break;
        }
      }
      kept = Math.max(1, nucleus);
    }
    double keptMass = 0;
    for (int i = 0; i < kept; i++) {
      keptMass += weights[order[i]];
    }
    return draw(weights, order, kept, keptMass, uniform(params.seed(), tokenIndex));
  }

  /** Indices with weight >= floor (the best always), by weight descending, index ascending. */
  private static int[] candidatesAbove(double[] weights, double floor, int best) {
    int count = 0;
    for (double w : weights) {
      if (w >= floor) {
        count++;
      }
    }
    long[] keys = new long[Math.max(count, 1)];
    int k = 0;
    for (int i = 0; i < weights.length; i++) {
      if (weights[i] >= floor || (count == 0 && i == best)) {
        // Non-negative floats order like their bits: MAX - bits sorts descending, the index breaks ties.
        int bits = Float.floatToRawIntBits((float) weights[i]);
        keys[k++] = ((long) (Integer.MAX_VALUE - bits) << 32) | i;
      }
    }
    Arrays.sort(keys, 0, k);
    int[] order = new int[k];
    for (int i = 0; i < k; i++) {
      order[i] = (int) keys[i];
    }
    return order;
  }

  /** The k-th largest value (1-based) of {@code values}, by quickselect on a copy. */
  static double kthLargest(double[] values, int k) {
    double[] a = values.clone();
    int target = a.length - k; // index of the k-th largest in ascending order
    int low = 0;
    int high = a.length - 1;
    while (low < high) {
      double pivot = a[(low + high) >>> 1];
      int i = low;
      int j = high;
      while (i <= j) {
        while (a[i] < pivot) {
          i++;
        }
        while (a[j] > pivot) {
          j--;
        }
        if (i <= j) {
          double tmp = a[i];
          a[i] = a[j];
          a[j] = tmp;
          i++;
          j--;
        }
      }
      if (target <= j) {
        high = j;
      } else if (target >= i) {
        low = i;
      } else {
        break;
      }
    }
    return a[target];
  }

  private static int draw(double[] weights, int[] order, int count, double mass, double u) {
    double target = u * mass;
    double cumulative = 0;
    for (int i = 0; i < count; i++) {
      int token = order == null ? i : order[i];
      cumulative += weights[token];
      if (target < cumulative) {
        return token;
      }
    }
    return order == null ? count - 1 : order[count - 1];
  }

  /** Index of the largest logit; the lower index among equals. */
  public static int argmax(float[] logits) {
    return argmax(logits, 0, logits.length);
  }

  /** Index (relative to offset) of the largest of {@code logits[offset..offset+n)}. */
  public static int argmax(float[] logits, int offset, int n) {
    int best = 0;
    float bestValue = logits[offset];
    for (int i = 1; i < n; i++) {
      if (logits[offset + i] > bestValue) {
        bestValue = logits[offset + i];
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
