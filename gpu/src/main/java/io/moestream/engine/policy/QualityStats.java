package io.moestream.engine.policy;

import java.util.Arrays;

/**
 * Next-token agreement of an evaluated model (a policy, a pruned model) with a reference (the full
 * model), accumulated position by position: KL(reference || evaluated) of the softmax distributions
 * in nats, top-1 agreement, and the perplexity of both on the actual next tokens. Computed in double.
 */
public final class QualityStats {
  private double[] kl = new double[256];
  private int count;
  private int agree;
  private double nllReference;
  private double nllEvaluated;

  /**
   * @param reference (vocabSize) the reference's logits at one position
   * @param evaluated (vocabSize) the evaluated model's logits at the same position
   * @param nextToken the token that actually follows
   */
  public void add(float[] reference, float[] evaluated, int nextToken) {
    double[] logP = logSoftmax(reference);
    double[] logQ = logSoftmax(evaluated);
    double d = 0;
    for (int i = 0; i < logP.length; i++) {
      double p = Math.exp(logP[i]);
      if (p > 0) {
        d += p * (logP[i] - logQ[i]);
      }
    }
    if (count == kl.length) {
      kl = Arrays.copyOf(kl, count * 2);
    }
    kl[count++] = Math.max(0, d); // rounding can make a zero divergence slightly negative
    if (argmax(reference) == argmax(evaluated)) {
      agree++;
    }
    nllReference -= logP[nextToken];
    nllEvaluated -= logQ[nextToken];
  }

  public int count() {
    return count;
  }

  public double klMean() {
    double sum = 0;
    for (int i = 0; i < count; i++) {
      sum += kl[i];
    }
    return count == 0 ? Double.NaN : sum / count;
  }

  /** The q-quantile of the per-position KL (nearest rank). */
  public double klQuantile(double q) {
    if (count == 0) {
      return Double.NaN;
    }
    double[] sorted = Arrays.copyOf(kl, count);
    Arrays.sort(sorted);
    int rank = (int) Math.ceil(q * count);
    return sorted[Math.max(0, Math.min(count - 1, rank - 1))];
  }

  public double top1Agreement() {
    return count == 0 ? Double.NaN : agree / (double) count;
  }

  public double perplexityReference() {
    return Math.exp(nllReference / count);
  }

  public double perplexityEvaluated() {
    return Math.exp(nllEvaluated / count);
  }

  static double[] logSoftmax(float[] logits) {
    double max = Double.NEGATIVE_INFINITY;
    for (float v : logits) {
      max = Math.max(max, v);
    }
    double sum = 0;
    for (float v : logits) {
      sum += Math.exp(v - max);
    }
    double logZ = max + Math.log(sum);
    double[] out = new double[logits.length];
    for (int i = 0; i < logits.length; i++) {
      out[i] = logits[i] - logZ;
    }
    return out;
  }

  /** Index of the largest logit, lowest index among equals. */
  static int argmax(float[] logits) {
    int best = 0;
    for (int i = 1; i < logits.length; i++) {
      if (logits[i] > logits[best]) {
        best = i;
      }
    }
    return best;
  }
}
