package io.moestream.engine.moe;

/**
 * softmax over all experts -> the k most probable -> renormalized to sum 1 when the config says so
 * ({@code norm_topk_prob}; Mixtral always). With k below the config's top-k this is exactly what
 * Hugging Face computes with {@code num_experts_per_tok = k}, and what llama.cpp's
 * {@code expert_used_count} override does. Ties go to the lower expert index, as torch.topk does.
 */
public final class SoftmaxTopKRouter implements Router {
  private final int numExperts;
  private final int maxK;
  private final boolean normalizeTopK;

  public SoftmaxTopKRouter(int numExperts, int maxK, boolean normalizeTopK) {
    this.numExperts = numExperts;
    this.maxK = maxK;
    this.normalizeTopK = normalizeTopK;
  }

  @Override
  public int maxK() {
    return maxK;
  }

  @Override
  public void rank(float[] routerLogits, int logitsOffset, float[] scores, int[] candidates, int outOffset) {
    softmax(routerLogits, logitsOffset, numExperts, scores);
    selectTopK(scores, numExperts, maxK, candidates, outOffset);
  }

  @Override
  public void weights(float[] scores, int[] candidates, int outOffset, int k, float[] routingWeights) {
    float sum = 0;
    for (int j = 0; j < k; j++) {
      float p = scores[candidates[outOffset + j]];
      routingWeights[outOffset + j] = p;
      sum += p;
    }
    if (normalizeTopK) {
      for (int j = 0; j < k; j++) {
        routingWeights[outOffset + j] /= sum;
      }
    }
  }

  /** Numerically stable softmax of {@code n} logits into {@code out[0..n)}. */
  public static void softmax(float[] logits, int offset, int n, float[] out) {
    float max = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < n; i++) {
      max = Math.max(max, logits[offset + i]);
    }
    double sum = 0;
    for (int i = 0; i < n; i++) {
      float e = (float) Math.exp(logits[offset + i] - max);
      out[i] = e;
      sum += e;
    }
    float inv = (float) (1.0 / sum);
    for (int i = 0; i < n; i++) {
      out[i] *= inv;
    }
  }

  /**
   * Writes the indices of the k largest scores, largest first, lower index first among equals.
   * Experts whose score is NaN or -infinity (pruned ones) are never chosen.
   */
  public static void selectTopK(float[] scores, int n, int k, int[] out, int outOffset) {
    for (int j = 0; j < k; j++) {
      int best = -1;
      for (int i = 0; i < n; i++) {
        if (!(scores[i] > Float.NEGATIVE_INFINITY) || (best >= 0 && !(scores[i] > scores[best]))) {
          continue;
        }
        if (alreadySelected(out, outOffset, j, i)) {
          continue;
        }
        best = i;
      }
      if (best < 0) {
        throw new IllegalStateException("fewer than " + k + " selectable experts (scores " + java.util.Arrays.toString(scores) + ")");
      }
      out[outOffset + j] = best;
    }
  }

  private static boolean alreadySelected(int[] out, int offset, int count, int expert) {
    for (int j = 0; j < count; j++) {
      if (out[offset + j] == expert) {
        return true;
      }
    }
    return false;
  }
}
