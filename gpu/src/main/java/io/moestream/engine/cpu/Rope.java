package io.moestream.engine.cpu;

import io.moestream.engine.model.RopeScaling;

/**
 * Rotary position embeddings. Hugging Face's Qwen/Mixtral/OLMoE code rotates "halves" (the first and
 * second halves of each head vector form the (x, y) pairs); DeepSeek rotates interleaved pairs
 * (x[2i], x[2i+1]) (its reference permutes q_pe/k_pe to halves and back, which leaves every dot product
 * the same). {@code inv_freq[i] = theta^(-2i/d)}, divided by the factor for linear scaling; YaRN blends
 * interpolated and original frequencies (see {@link #yarnInvFreq}) and scales cos and sin by
 * {@link #yarnCosSinScale}. Angles are computed in float32 the way the reference does, so long
 * positions round the same way.
 */
final class Rope {
  private final int rotaryDim;
  private final float[] invFreq; // (rotaryDim / 2)
  private final float cosSinScale;

  Rope(int rotaryDim, double theta, RopeScaling scaling) {
    this.rotaryDim = rotaryDim;
    this.invFreq = new float[rotaryDim / 2];
    for (int i = 0; i < invFreq.length; i++) {
      float inv = (float) (1.0 / Math.pow(theta, (2.0 * i) / rotaryDim));
      if (scaling.type() == RopeScaling.Type.LINEAR) {
        inv = (float) (inv / scaling.factor());
      }
      invFreq[i] = inv;
    }
    if (scaling.type() == RopeScaling.Type.YARN) {
      yarnInvFreq(rotaryDim, theta, scaling, invFreq);
      cosSinScale = (float) yarnCosSinScale(scaling);
    } else {
      cosSinScale = 1f;
    }
  }

  /**
   * YaRN as Hugging Face's {@code _compute_yarn_parameters} (DeepSeek, gpt-oss): dimensions rotating fewer than {@code beta_slow} times over the
   * original context are interpolated (frequency / factor), those rotating more than {@code beta_fast}
   * times keep their frequency, with a linear ramp between the two correction dimensions.
   */
  static void yarnInvFreq(int dim, double theta, RopeScaling s, float[] out) {
    double low = correctionDim(s.betaFast(), dim, theta, s.originalMaxPositionEmbeddings());
    double high = correctionDim(s.betaSlow(), dim, theta, s.originalMaxPositionEmbeddings());
    if (s.truncate()) { // gpt-oss keeps the fractional range (truncate: false)
      low = Math.floor(low);
      high = Math.ceil(high);
    }
    low = Math.max(low, 0);
    high = Math.min(high, dim - 1);
    double span = low == high ? 0.001 : high - low;
    for (int i = 0; i < dim / 2; i++) {
      float extrapolated = (float) (1.0 / Math.pow(theta, (2.0 * i) / dim));
      float interpolated = (float) (1.0 / (s.factor() * Math.pow(theta, (2.0 * i) / dim)));
      float ramp = (float) Math.min(1.0, Math.max(0.0, (i - low) / span));
      float extrapolationWeight = 1f - ramp;
      out[i] = interpolated * (1f - extrapolationWeight) + extrapolated * extrapolationWeight;
    }
  }

  private static double correctionDim(double numRotations, int dim, double theta, int originalMaxPositions) {
    return dim * Math.log(originalMaxPositions / (numRotations * 2 * Math.PI)) / (2 * Math.log(theta));
  }

  /** YaRN's magnitude correction {@code 0.1 * mscale * ln(factor) + 1} (1 when factor <= 1). */
  static double yarnMscale(double factor, double mscale) {
    return factor <= 1 ? 1.0 : 0.1 * mscale * Math.log(factor) + 1.0;
  }

  /** cos and sin are multiplied by mscale(factor, mscale) / mscale(factor, mscale_all_dim). */
  static double yarnCosSinScale(RopeScaling s) {
    return yarnMscale(s.factor(), s.mscale()) / yarnMscale(s.factor(), s.mscaleAllDim());
  }

  /** cos and sin tables for each token's position: (numTokens, rotaryDim / 2) each. */
  void tables(int[] positions, float[] cos, float[] sin) {
    int half = invFreq.length;
    for (int t = 0; t < positions.length; t++) {
      float position = positions[t];
      for (int i = 0; i < half; i++) {
        float angle = position * invFreq[i];
        cos[t * half + i] = (float) Math.cos(angle);
        sin[t * half + i] = (float) Math.sin(angle);
        if (cosSinScale != 1f) {
          cos[t * half + i] *= cosSinScale;
          sin[t * half + i] *= cosSinScale;
        }
      }
    }
  }

  int half() {
    return invFreq.length;
  }

  /** Rotates {@code x[offset..offset+rotaryDim)} in place with token {@code t}'s tables, halves as pairs. */
  void apply(float[] x, int offset, float[] cos, float[] sin, int t) {
    int half = invFreq.length;
    int table = t * half;
    for (int i = 0; i < half; i++) {
      float first = x[offset + i];
      float second = x[offset + half + i];
      float c = cos[table + i];
      float s = sin[table + i];
      x[offset + i] = first * c - second * s;
      x[offset + half + i] = second * c + first * s;
    }
  }

  /** Rotates {@code x[offset..offset+rotaryDim)} in place, (x[2i], x[2i+1]) as pairs (DeepSeek). */
  void applyInterleaved(float[] x, int offset, float[] cos, float[] sin, int t) {
    int half = invFreq.length;
    int table = t * half;
    for (int i = 0; i < half; i++) {
      float first = x[offset + 2 * i];
      float second = x[offset + 2 * i + 1];
      float c = cos[table + i];
      float s = sin[table + i];
      x[offset + 2 * i] = first * c - second * s;
      x[offset + 2 * i + 1] = second * c + first * s;
    }
  }
}
