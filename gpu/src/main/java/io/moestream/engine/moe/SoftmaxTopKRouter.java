package io.moestream.engine.moe;

/**
 * softmax over all experts -> the k most probable -> renormalized to sum 1 when the config says so
 * ({@code norm_topk_prob}; Mixtral always). With k below the config's top-k this is exactly what
 * Hugging Face computes with {@code num_experts_per_tok = k}, and what llama.cpp's
 * {@code expert_used_count} override does. Ties go to the lower expert index, as torch.topk does.
 */
public final class SoftmaxTopKRouter implements Router {
  private final int numExperts;
  private final boolean normalizeTopK;

  public SoftmaxTopKRouter(int numExperts, boolean normalizeTopK) {
    this.numExperts = numExperts;
    this.normalizeTopK = normalizeTopK;
  }

  @Override
  public void route(float[] routerLogits, int logitsOffset, int k, float[] probabilities,
      int[] selectedExperts, float[] routingWeights, int outOffset) {
    softmax(routerLogits, logitsOffset, numExperts, probabilities);
    selectTopK(probabilities, numExperts, k, selectedExperts, outOffset);
    float sum = 0;
    for (int j = 0; j < k; j++) {
      float p = probabilities[selectedExperts[outOffset + j]];
      routingWeights[outOffset + j] = p;
      sum += p;
    }
    if (normalizeTopK) {
      for (int j = 0; j < k; j++) {
        routingWeights[outOffset + j] /= sum;
      }
    }
  }

  static void softmax(float[] logits, int offset, int n, float[] out) {
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

  /** Writes the indices of the k largest scores, largest first, lower index first among equals. */
  public static void selectTopK(float[] scores, int n, int k, int[] out, int outOffset) {
    for (int j = 0; j < k; j++) {
      int best = -1;
      for (int i = 0; i < n; i++) {
        if (best >= 0 && !(scores[i] > scores[best])) {
          continue;
        }
        if (alreadySelected(out, outOffset, j, i)) {
          continue;
        }
        best = i;
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
