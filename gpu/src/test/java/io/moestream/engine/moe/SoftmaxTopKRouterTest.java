package io.moestream.engine.moe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The router on hand-made logits: which experts, in which order, with which weights, for every k from 1
 * to maxK, with and without norm_topk_prob. Expected probabilities are computed here in double;
 * tolerance 1e-6 absolute (the router works in float).
 */
class SoftmaxTopKRouterTest {
  // Experts 1 and 3 tie for first, 2 is next, then 0; 5 is far behind.
  private static final float[] LOGITS = {1f, 3f, 2f, 3f, 0.5f, -4f};
  private static final int[] RANKED = {1, 3, 2, 0, 4, 5};

  private static double[] softmax(float[] logits) {
    double max = Arrays.stream(toDouble(logits)).max().orElseThrow();
    double[] p = new double[logits.length];
    double sum = 0;
    for (int i = 0; i < p.length; i++) {
      p[i] = Math.exp(logits[i] - max);
      sum += p[i];
    }
    for (int i = 0; i < p.length; i++) {
      p[i] /= sum;
    }
    return p;
  }

  private static double[] toDouble(float[] v) {
    double[] d = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      d[i] = v[i];
    }
    return d;
  }

  @Test
  void ranksBestFirstWithTiesToTheLowerIndexAndWritesTheProbabilities() {
    for (int maxK = 1; maxK <= LOGITS.length; maxK++) {
      SoftmaxTopKRouter router = new SoftmaxTopKRouter(LOGITS.length, maxK, true);
      assertEquals(maxK, router.maxK());
      float[] scores = new float[LOGITS.length];
      int[] candidates = new int[maxK];
      router.rank(LOGITS, 0, scores, candidates, 0);
      assertArrayEquals(Arrays.copyOf(RANKED, maxK), candidates, "maxK " + maxK);
      double[] expected = softmax(LOGITS);
      for (int e = 0; e < LOGITS.length; e++) {
        assertEquals(expected[e], scores[e], 1e-6, "probability of expert " + e);
      }
    }
  }

  @Test
  void weightsAreTheProbabilitiesRenormalizedOnlyWhenAsked() {
    int maxK = 4;
    double[] p = softmax(LOGITS);
    for (boolean normalize : new boolean[] {true, false}) {
      SoftmaxTopKRouter router = new SoftmaxTopKRouter(LOGITS.length, maxK, normalize);
      float[] scores = new float[LOGITS.length];
      int[] candidates = new int[maxK];
      router.rank(LOGITS, 0, scores, candidates, 0);
      for (int k = 1; k <= maxK; k++) {
        float[] weights = new float[maxK];
        Arrays.fill(weights, Float.NaN);
        router.weights(scores, candidates, 0, k, weights);
        double sum = 0;
        for (int j = 0; j < k; j++) {
          sum += p[RANKED[j]];
        }
        for (int j = 0; j < k; j++) {
          double expected = normalize ? p[RANKED[j]] / sum : p[RANKED[j]];
          assertEquals(expected, weights[j], 1e-6, "normalize=" + normalize + " k=" + k + " slot " + j);
        }
        for (int j = k; j < maxK; j++) {
          assertEquals(Float.NaN, weights[j], "slot " + j + " past k=" + k + " untouched");
        }
        if (normalize) {
          double total = 0;
          for (int j = 0; j < k; j++) {
            total += weights[j];
          }
          assertEquals(1.0, total, 1e-6);
        }
      }
    }
  }

  @Test
  void honoursOffsetsIntoSharedArrays() {
    // Two tokens' logits in one array, candidates and weights of token 1 at offset maxK.
    int numExperts = 4;
    int maxK = 2;
    float[] logits = {9f, 9f, 9f, 9f, -1f, 0f, 2f, 1f};
    SoftmaxTopKRouter router = new SoftmaxTopKRouter(numExperts, maxK, false);
    float[] scores = new float[numExperts];
    int[] candidates = {-7, -7, -7, -7};
    float[] weights = new float[2 * maxK];
    router.rank(logits, numExperts, scores, candidates, maxK);
    router.weights(scores, candidates, maxK, maxK, weights);
    assertArrayEquals(new int[] {-7, -7, 2, 3}, candidates);
    double[] p = softmax(new float[] {-1f, 0f, 2f, 1f});
    assertEquals(p[2], weights[2], 1e-6);
    assertEquals(p[3], weights[3], 1e-6);
    assertEquals(0f, weights[0]);
  }

  @Test
  void allEqualLogitsPickTheLowestIndices() {
    SoftmaxTopKRouter router = new SoftmaxTopKRouter(5, 3, true);
    float[] scores = new float[5];
    int[] candidates = new int[3];
    router.rank(new float[] {0.25f, 0.25f, 0.25f, 0.25f, 0.25f}, 0, scores, candidates, 0);
    assertArrayEquals(new int[] {0, 1, 2}, candidates);
    float[] weights = new float[3];
    router.weights(scores, candidates, 0, 3, weights);
    assertArrayEquals(new float[] {1 / 3f, 1 / 3f, 1 / 3f}, weights, 1e-6f);
  }

  @Test
  void prunedExpertsAreNeverSelected() {
    float[] scores = {Float.NEGATIVE_INFINITY, 0.2f, Float.NaN, 0.1f};
    int[] out = new int[2];
    SoftmaxTopKRouter.selectTopK(scores, 4, 2, out, 0);
    assertArrayEquals(new int[] {1, 3}, out);
    assertThrows(IllegalStateException.class, () -> SoftmaxTopKRouter.selectTopK(scores, 4, 3, new int[3], 0));
  }

  @Test
  void softmaxIsStableForLargeLogits() {
    float[] out = new float[3];
    SoftmaxTopKRouter.softmax(new float[] {1000f, 1000f, 999f}, 0, 3, out);
    double[] expected = softmax(new float[] {1f, 1f, 0f});
    for (int i = 0; i < 3; i++) {
      assertEquals(expected[i], out[i], 1e-6);
    }
  }
}
