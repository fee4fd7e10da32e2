package io.moestream.engine.moe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * DeepSeek routing on hand-made scores: 8 experts in 4 groups of 2 ({0,1} {2,3} {4,5} {6,7}), 2 groups
 * per token, top-3. The scores are chosen so that the rules disagree: the best single expert (0) sits in
 * a group whose two best sum lowest, so V3's sum-of-top-2 rule excludes it while V2's max rule keeps it.
 */
class GroupLimitedRouterTest {
  private static final float[] SCORES = {0.90f, 0.10f, 0.60f, 0.55f, 0.59f, 0.57f, 0.20f, 0.30f};

  private static float[] logits(float[] probabilities) {
    float[] logits = new float[probabilities.length];
    for (int i = 0; i < logits.length; i++) {
      logits[i] = (float) Math.log(probabilities[i] / (1 - probabilities[i]));
    }
    return logits;
  }

  private static int[] rank(Router router, float[] routerLogits, float[] scores) {
    int[] candidates = new int[router.maxK()];
    router.rank(routerLogits, 0, scores, candidates, 0);
    return candidates;
  }

  @Test
  void v3PicksInsideGroupsWithBestTopTwoSum() {
    // Group sums: {0,1} 1.00, {2,3} 1.15, {4,5} 1.16, {6,7} 0.50 -> groups {4,5} and {2,3}.
    SigmoidRouter router = new SigmoidRouter(8, 3, true, 2.5, 4, 2, new float[8]);
    float[] scores = new float[8];
    int[] candidates = rank(router, logits(SCORES), scores);
    assertArrayEquals(new int[] {2, 4, 5}, candidates);
    assertArrayEquals(SCORES, scores, 1e-6f);
    float[] weights = new float[3];
    router.weights(scores, candidates, 0, 3, weights);
    float sum = 0.60f + 0.59f + 0.57f;
    assertArrayEquals(new float[] {0.60f / sum * 2.5f, 0.59f / sum * 2.5f, 0.57f / sum * 2.5f}, weights, 1e-5f);
  }

  @Test
  void v3CorrectionBiasChoosesButDoesNotWeigh() {
    float[] bias = new float[8];
    bias[3] = 0.1f; // expert 3 is chosen by 0.55 + 0.1 = 0.65, first
    SigmoidRouter router = new SigmoidRouter(8, 3, true, 2.5, 4, 2, bias);
    float[] scores = new float[8];
    int[] candidates = rank(router, logits(SCORES), scores);
    assertArrayEquals(new int[] {3, 2, 4}, candidates);
    float[] weights = new float[3];
    router.weights(scores, candidates, 0, 3, weights);
    float sum = 0.55f + 0.60f + 0.59f;
    assertArrayEquals(new float[] {0.55f / sum * 2.5f, 0.60f / sum * 2.5f, 0.59f / sum * 2.5f}, weights, 1e-5f);

    // Fewer experts: a prefix of the same ranking, renormalized over itself; k = 1 is not renormalized.
    float[] two = new float[2];
    router.weights(scores, candidates, 0, 2, two);
    assertArrayEquals(new float[] {0.55f / 1.15f * 2.5f, 0.60f / 1.15f * 2.5f}, two, 1e-5f);
    float[] one = new float[1];
    router.weights(scores, candidates, 0, 1, one);
    assertEquals(0.55f * 2.5f, one[0], 1e-5f);
  }

  /** GLM-4.5's Glm4MoeMoE renormalizes whatever k is: one expert weighs routed_scaling_factor. */
  @Test
  void glmRenormalizesASingleExpertToo() {
    float[] bias = new float[8];
    bias[3] = 0.1f;
    SigmoidRouter router = new SigmoidRouter(8, 3, true, 2.5, 4, 2, bias, true);
    float[] scores = new float[8];
    int[] candidates = rank(router, logits(SCORES), scores);
    assertArrayEquals(new int[] {3, 2, 4}, candidates);
    float[] one = new float[1];
    router.weights(scores, candidates, 0, 1, one);
    assertEquals(2.5f, one[0], 1e-5f);
    float[] two = new float[2];
    router.weights(scores, candidates, 0, 2, two);
    assertArrayEquals(new float[] {0.55f / 1.15f * 2.5f, 0.60f / 1.15f * 2.5f}, two, 1e-5f);
    // Without norm_topk_prob the flag changes nothing.
    new SigmoidRouter(8, 3, false, 2.5, 4, 2, bias, true).weights(scores, candidates, 0, 1, one);
    assertEquals(0.55f * 2.5f, one[0], 1e-5f);
  }

  @Test
  void v3WithoutGroupLimitIsPlainTopKOfBiasedScores() {
    SigmoidRouter router = new SigmoidRouter(8, 3, false, 1.0, 1, 1, new float[8]);
    int[] candidates = rank(router, logits(SCORES), new float[8]);
    assertArrayEquals(new int[] {0, 2, 4}, candidates);
  }

  @Test
  void v2GroupLimitedGreedyScoresGroupsByTheirBestExpert() {
    // Softmax preserves the order of the logits; group maxima: {0,1} 0.90, {2,3} 0.60, {4,5} 0.59, {6,7} 0.30.
    GroupLimitedRouter router = new GroupLimitedRouter(8, 3, false, 16.0, 4, 2);
    float[] scores = new float[8];
    int[] candidates = rank(router, SCORES, scores);
    assertArrayEquals(new int[] {0, 2, 3}, candidates);
    float[] weights = new float[3];
    router.weights(scores, candidates, 0, 3, weights);
    // norm_topk_prob false: the softmax probabilities times routed_scaling_factor.
    assertArrayEquals(new float[] {scores[0] * 16, scores[2] * 16, scores[3] * 16}, weights, 1e-5f);
    double total = 0;
    for (float s : scores) {
      total += s;
    }
    assertEquals(1.0, total, 1e-6);
  }

  @Test
  void v2NormalizedWeightsAreNotScaled() {
    GroupLimitedRouter router = new GroupLimitedRouter(8, 3, true, 16.0, 4, 2);
    float[] scores = new float[8];
    int[] candidates = rank(router, SCORES, scores);
    float[] weights = new float[3];
    router.weights(scores, candidates, 0, 3, weights);
    float sum = scores[0] + scores[2] + scores[3];
    assertArrayEquals(new float[] {scores[0] / sum, scores[2] / sum, scores[3] / sum}, weights, 1e-6f);
  }

  @Test
  void v2GreedyIgnoresGroups() {
    GroupLimitedRouter router = new GroupLimitedRouter(8, 3, false, 1.0, 1, 1);
    assertArrayEquals(new int[] {0, 2, 4}, rank(router, SCORES, new float[8]));
  }

  @Test
  void prunedExpertsAreNeverChosenWhateverTheirBias() {
    float[] bias = new float[8];
    java.util.Arrays.fill(bias, 5f); // large enough to win on bias alone
    bias[2] = 0f;
    float[] logits = logits(SCORES);
    for (int e = 3; e < 8; e++) {
      logits[e] = Float.NEGATIVE_INFINITY;
    }
    int[] candidates = rank(new SigmoidRouter(8, 3, true, 1.0, 1, 1, bias), logits, new float[8]);
    assertArrayEquals(new int[] {0, 1, 2}, candidates);
    float[] softmaxLogits = SCORES.clone();
    for (int e = 3; e < 8; e++) {
      softmaxLogits[e] = Float.NEGATIVE_INFINITY;
    }
    assertArrayEquals(new int[] {0, 2, 1}, rank(new GroupLimitedRouter(8, 3, false, 1.0, 4, 2), softmaxLogits,
        new float[8]));
  }
}
