package io.moestream.engine.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** eval-quality's statistics against hand-computed values. */
class QualityStatsTest {

  @Test
  void identicalDistributionsAgreeExactly() {
    QualityStats stats = new QualityStats();
    float[] logits = {1f, 2f, -3f, 0.5f};
    stats.add(logits, logits.clone(), 1);
    assertEquals(0.0, stats.klMean());
    assertEquals(1.0, stats.top1Agreement());
    assertEquals(stats.perplexityReference(), stats.perplexityEvaluated());
  }

  @Test
  void klTop1AndPerplexityOfTwoTokenDistributions() {
    QualityStats stats = new QualityStats();
    // p = (0.5, 0.5), q = (0.8, 0.2): KL(p||q) = 0.5 ln(0.5/0.8) + 0.5 ln(0.5/0.2)
    stats.add(new float[] {0f, 0f}, new float[] {(float) Math.log(0.8), (float) Math.log(0.2)}, 1);
    double kl = 0.5 * Math.log(0.5 / 0.8) + 0.5 * Math.log(0.5 / 0.2);
    assertEquals(kl, stats.klMean(), 1e-6);
    assertEquals(1.0, stats.top1Agreement()); // equal logits: argmax is the lower index, as for q
    assertEquals(2.0, stats.perplexityReference(), 1e-6); // -ln 0.5
    assertEquals(5.0, stats.perplexityEvaluated(), 1e-5); // -ln 0.2
    // A second position where the argmax differs.
    stats.add(new float[] {0f, 1f}, new float[] {1f, 0f}, 0);
    assertEquals(0.5, stats.top1Agreement());
    assertEquals(2, stats.count());
  }

  @Test
  void p95IsTheNearestRank() {
    QualityStats stats = new QualityStats();
    for (int i = 1; i <= 100; i++) {
      // KL between (1/2, 1/2) and a distribution sharpened by i: increasing in i.
      stats.add(new float[] {0f, 0f}, new float[] {0f, i * 0.05f}, 0);
    }
    QualityStats top = new QualityStats();
    top.add(new float[] {0f, 0f}, new float[] {0f, 95 * 0.05f}, 0);
    assertEquals(top.klMean(), stats.klQuantile(0.95), 1e-12);
  }
}
