package io.moestream.engine.cpu;

import io.moestream.engine.model.RopeScaling;

/**
 * Rotary position embeddings as Hugging Face applies them ("rotate half"): the first and second halves
 * of each head vector form the (x, y) pairs, {@code inv_freq[i] = theta^(-2i/d)}. Angles are computed
 * in float32 the way the reference does, so long positions round the same way.
 */
final class Rope {
  private final int rotaryDim;
  private final float[] invFreq; // (rotaryDim / 2)

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
      throw new UnsupportedOperationException("yarn rope scaling comes with the DeepSeek architectures");
    }
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
      }
    }
  }

  int half() {
    return invFreq.length;
  }

  /** Rotates {@code x[offset..offset+rotaryDim)} in place with token {@code t}'s tables. */
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
}
