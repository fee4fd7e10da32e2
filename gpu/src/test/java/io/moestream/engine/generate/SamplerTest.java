package io.moestream.engine.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Sampling: greedy and its equivalents, determinism in (seed, index), the kept set of top-k / top-p, and
 * the distribution (20,000 draws within 2 percentage points of the probabilities computed here).
 */
class SamplerTest {
  private static final float[] LOGITS = {1.0f, 2.5f, 0.2f, 1.9f};

  private static double[] softmax(float[] logits, double temperature) {
    double max = Double.NEGATIVE_INFINITY;
    for (float l : logits) {
      max = Math.max(max, l);
    }
    double[] p = new double[logits.length];
    double sum = 0;
    for (int i = 0; i < p.length; i++) {
      p[i] = Math.exp((logits[i] - max) / temperature);
      sum += p[i];
    }
    for (int i = 0; i < p.length; i++) {
      p[i] /= sum;
    }
    return p;
  }

  private static double[] frequencies(float[] logits, SamplingParams params, int draws) {
    double[] counts = new double[logits.length];
    for (int i = 0; i < draws; i++) {
      counts[Sampler.sample(logits, params, i)]++;
    }
    for (int i = 0; i < counts.length; i++) {
      counts[i] /= draws;
    }
    return counts;
  }

  private static void assertDistribution(double[] expected, double[] actual, String what) {
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], actual[i], 0.02, what + ": token " + i + " expected " + Arrays.toString(expected)
          + " drew " + Arrays.toString(actual));
    }
  }

  @Test
  void greedyIsArgmaxWithTheLowestIndexOnTies() {
    assertEquals(1, Sampler.sample(LOGITS, SamplingParams.GREEDY, 0));
    float[] ties = {0f, 3f, -1f, 3f, 3f};
    assertEquals(1, Sampler.argmax(ties));
    for (int index = 0; index < 10; index++) {
      assertEquals(1, Sampler.sample(ties, SamplingParams.GREEDY, index));
    }
    assertEquals(0, Sampler.argmax(new float[] {-2f, -2f}));
    assertEquals(2, Sampler.argmax(new float[] {Float.NEGATIVE_INFINITY, -1e30f, 7f}));
  }

  @Test
  void topKOneAndATinyTopPAreGreedy() {
    SplittableRandom random = new SplittableRandom(2);
    for (int trial = 0; trial < 50; trial++) {
      float[] logits = new float[100];
      for (int i = 0; i < logits.length; i++) {
        logits[i] = (float) (random.nextDouble() * 10 - 5);
      }
      int best = Sampler.argmax(logits);
      for (int index = 0; index < 20; index++) {
        assertEquals(best, Sampler.sample(logits, new SamplingParams(1.5f, 1f, 1, trial), index), "top-k 1");
        assertEquals(best, Sampler.sample(logits, new SamplingParams(1.5f, 1e-6f, 0, trial), index), "top-p 1e-6");
      }
    }
  }

  @Test
  void theSameSeedAndIndexGiveTheSameToken() {
    float[] logits = new float[64];
    for (int i = 0; i < logits.length; i++) {
      logits[i] = (float) Math.sin(i);
    }
    SamplingParams a = new SamplingParams(1f, 0.9f, 0, 99);
    int[] first = new int[200];
    for (int index = 0; index < first.length; index++) {
      first[index] = Sampler.sample(logits, a, index);
    }
    for (int index = first.length - 1; index >= 0; index--) {
      assertEquals(first[index], Sampler.sample(logits.clone(), new SamplingParams(1f, 0.9f, 0, 99), index));
    }
    // Neither the seed nor the index is ignored.
    int differentSeed = 0;
    Set<Integer> seen = new HashSet<>();
    for (int index = 0; index < first.length; index++) {
      differentSeed += Sampler.sample(logits, new SamplingParams(1f, 0.9f, 0, 100), index) != first[index] ? 1 : 0;
      seen.add(first[index]);
    }
    assertTrue(differentSeed > 50, "another seed changed only " + differentSeed + " of 200 draws");
    assertTrue(seen.size() > 5, "200 indices drew only " + seen);
    assertNotEquals(Sampler.uniform(1, 0), Sampler.uniform(1, 1));
    assertNotEquals(Sampler.uniform(1, 0), Sampler.uniform(2, 0));
  }

  @Test
  void uniformNumbersAreUniform() {
    int[] buckets = new int[10];
    for (int i = 0; i < 100_000; i++) {
      double u = Sampler.uniform(5, i);
      assertTrue(u >= 0 && u < 1);
      buckets[(int) (u * 10)]++;
    }
    for (int b : buckets) {
      assertEquals(10_000, b, 400);
    }
  }

  @Test
  void drawsFollowTheSoftmaxAtTemperatureOne() {
    assertDistribution(softmax(LOGITS, 1.0), frequencies(LOGITS, new SamplingParams(1f, 1f, 0, 7), 20_000),
        "temperature 1");
  }

  @Test
  void temperatureSharpensAndFlattens() {
    assertDistribution(softmax(LOGITS, 0.5), frequencies(LOGITS, new SamplingParams(0.5f, 1f, 0, 8), 20_000),
        "temperature 0.5");
    assertDistribution(softmax(LOGITS, 2.0), frequencies(LOGITS, new SamplingParams(2f, 1f, 0, 9), 20_000),
        "temperature 2");
  }

  @Test
  void topKDrawsFromTheRenormalizedKeptSet() {
    double[] p = softmax(LOGITS, 1.0);
    // Top-2: tokens 1 and 3.
    double[] expected = {0, p[1] / (p[1] + p[3]), 0, p[3] / (p[1] + p[3])};
    assertDistribution(expected, frequencies(LOGITS, new SamplingParams(1f, 1f, 2, 10), 20_000), "top-k 2");
  }

  @Test
  void topPKeepsTheSmallestPrefixReachingP() {
    double[] p = softmax(LOGITS, 1.0); // sorted: 1, 3, 0, 2
    double firstTwo = p[1] + p[3];
    // A top-p just above the first two tokens' mass keeps three; just below keeps two.
    float above = (float) (firstTwo + 0.01);
    double mass3 = firstTwo + p[0];
    assertDistribution(new double[] {p[0] / mass3, p[1] / mass3, 0, p[3] / mass3},
        frequencies(LOGITS, new SamplingParams(1f, above, 0, 11), 20_000), "top-p " + above);
    float below = (float) (firstTwo - 0.01);
    assertDistribution(new double[] {0, p[1] / firstTwo, 0, p[3] / firstTwo},
        frequencies(LOGITS, new SamplingParams(1f, below, 0, 12), 20_000), "top-p " + below);
  }

  @Test
  void topKThenTopPRenormalizesOverTheTopK() {
    // Hugging Face applies top-p to the probabilities renormalized over the top-k set.
    double[] p = softmax(LOGITS, 1.0);
    double top2 = p[1] + p[3];
    // Token 1 holds p1 of all the mass but p1 / (p1 + p3) of the top-2 mass; a top-p between the two
    // keeps token 1 alone after renormalization, tokens 1 and 3 without it.
    float topP = (float) ((p[1] + p[1] / top2) / 2);
    assertTrue(p[1] < topP && topP < p[1] / top2);
    double[] f = frequencies(LOGITS, new SamplingParams(1f, topP, 2, 13), 20_000);
    assertDistribution(new double[] {0, 1, 0, 0}, f, "top-k 2 then top-p " + topP);
  }

  @Test
  void topKAndTopPNeverLeaveTheKeptSet() {
    SplittableRandom random = new SplittableRandom(3);
    for (int trial = 0; trial < 200; trial++) {
      int n = 2 + random.nextInt(300);
      float[] logits = new float[n];
      for (int i = 0; i < n; i++) {
        logits[i] = (float) (random.nextGaussian() * 3);
      }
      if (trial % 5 == 0) {
        Arrays.fill(logits, 0, n / 2, 1.5f); // many ties
      }
      int topK = random.nextInt(4) == 0 ? 0 : 1 + random.nextInt(Math.min(n, 20));
      float topP = random.nextBoolean() ? 1f : (float) (0.05 + random.nextDouble() * 0.9);
      float temperature = (float) (0.2 + random.nextDouble() * 2);
      SamplingParams params = new SamplingParams(temperature, topP, topK, trial);
      Set<Integer> kept = keptSet(logits, temperature, topK, topP);
      for (int index = 0; index < 30; index++) {
        int token = Sampler.sample(logits, params, index);
        assertTrue(kept.contains(token), "trial " + trial + " (n=" + n + ", top-k " + topK + ", top-p " + topP
            + "): drew " + token + " outside the kept set " + kept);
      }
    }
  }

  /**
   * The tokens top-k then top-p may keep, computed here: sort by probability (ties by index), keep k,
   * renormalize, keep the shortest prefix whose mass reaches top-p. Tokens tied with the last kept one
   * are allowed too, since the order among equals is a tie-break, not a rule of the warpers.
   */
  private static Set<Integer> keptSet(float[] logits, double temperature, int topK, double topP) {
    double[] p = softmax(logits, temperature);
    Integer[] order = new Integer[p.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> p[a] != p[b] ? Double.compare(p[b], p[a]) : Integer.compare(a, b));
    int k = topK > 0 ? Math.min(topK, p.length) : p.length;
    double mass = 0;
    for (int i = 0; i < k; i++) {
      mass += p[order[i]];
    }
    int kept = k;
    if (topP < 1) {
      double cumulative = 0;
      kept = 0;
      while (kept < k) {
        cumulative += p[order[kept]] / mass;
        kept++;
        if (cumulative >= topP - 1e-9) {
          break;
        }
      }
    }
    double last = p[order[kept - 1]];
    Set<Integer> set = new HashSet<>();
    for (int i = 0; i < p.length; i++) {
      if (p[i] >= last * (1 - 1e-6)) {
        set.add(i);
      }
    }
    return set;
  }

  @Test
  void invalidParametersAreRejectedWithTheirValue() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SamplingParams(-1f, 1f, 0, 0));
    assertTrue(e.getMessage().contains("-1"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new SamplingParams(Float.NaN, 1f, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1f, 0f, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1f, 1.5f, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1f, 1f, -1, 0));
  }
}
