package io.moestream.operators.codec;

import io.moestream.engine.generate.SamplingDefaults;
import io.moestream.engine.generate.SamplingParams;
import io.moestream.schemas.Sampling;

/**
 * The request schema's "unset" for sampling.temperature, top_p and top_k: exactly -1, the fields'
 * schema defaults. The fields keep their version 1 types (float, float, int) so that the bytes of
 * older producers keep their layout; a sentinel, not a null union, is what says "not given" (see
 * docs/STREAMING.md, Schema versions). Anything else negative is a bad value, refused by the
 * validator with the field named.
 *
 * <p>Outside the Avro record, unset is null: the accessors here turn the sentinel into null and
 * {@link #set} turns null into the sentinel, so no other class compares floats with -1.
 */
public final class UnsetSampling {
  /** sampling.temperature and sampling.top_p when unset (the schema's default). */
  public static final float UNSET_FLOAT = -1f;
  /** sampling.top_k when unset (the schema's default). */
  public static final int UNSET_INT = -1;

  private UnsetSampling() {}

  /** The request's temperature, or null when unset. */
  public static Float temperature(Sampling s) {
    return s.getTemperature() == UNSET_FLOAT ? null : s.getTemperature();
  }

  /** The request's top_p, or null when unset. */
  public static Float topP(Sampling s) {
    return s.getTopP() == UNSET_FLOAT ? null : s.getTopP();
  }

  /** The request's top_k, or null when unset. */
  public static Integer topK(Sampling s) {
    return s.getTopK() == UNSET_INT ? null : s.getTopK();
  }

  /** {@code b} with the three values set, each null one as the sentinel. */
  public static Sampling.Builder set(Sampling.Builder b, Float temperature, Float topP, Integer topK) {
    return b.setTemperature(temperature == null ? UNSET_FLOAT : temperature)
        .setTopP(topP == null ? UNSET_FLOAT : topP)
        .setTopK(topK == null ? UNSET_INT : topK);
  }

  /**
   * The sampling a request runs with: its own values, {@code defaults} (generation_config.json, else
   * greedy) for those it leaves unset.
   *
   * @throws IllegalArgumentException naming the field when a value given is out of range
   */
  public static SamplingParams resolve(Sampling s, SamplingDefaults defaults) {
    return defaults.resolve(temperature(s), topP(s), topK(s), s.getSeed());
  }
}
