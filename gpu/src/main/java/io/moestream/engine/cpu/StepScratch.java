package io.moestream.engine.cpu;

import io.moestream.engine.cpu.StepScratchSizes.Part;
import io.moestream.engine.kernel.MatmulInput;
import io.moestream.engine.model.MlaConfig;
import io.moestream.engine.model.ModelConfig;

/**
 * The activation buffers of one CPU step, allocated through a per-step instance that meters them; the
 * memory plan states the same figures before any model is loaded with the formulas in
 * {@link StepScratchSizes}. Why a meter: a test runs a real step at the configured batch and holds each
 * of those formulas to the peak the meter saw, so the plan cannot drift from what the backend allocates.
 *
 * <p>A step holds its step-level buffers (residual, normed, block output, rotary tables) throughout and
 * one stage at a time on top (a layer's attention, its MoE or dense MLP, the LM head); a stage's
 * buffers are dead once it returns ({@link #beginStage()} / {@link #endStage}). The meter keeps each
 * part's peak apart, so a test checks each of the plan's formulas, not only the largest. Metered:
 * every buffer the stepping thread allocates whose size follows the step's tokens, and the paired copy
 * each matmul input makes. Not metered, bounded by the plan instead: rows allocated inside parallel
 * tasks (attention score rows, one expert's group buffers) and the shifted input copies of 16-bit
 * matrices whose data is not 64-byte aligned. Left out as too small to matter: one-row copies made per
 * token (router scores for the weights and the routing observer) and arrays of references.
 *
 * <p>Owned by one {@code forward} call; not thread-safe (parallel tasks never allocate through it).
 */
final class StepScratch {
  private long live; // elements (4 bytes each) held now
  private long peak;
  private long stageHigh; // the most held since the current stage began
  private final long[] partPeaks = new long[Part.values().length]; // elements, by part

  float[] floats(int n) {
    add(n);
    return new float[n];
  }

  /**
   * {@code buffer} where it holds at least {@code n} floats, else a new one of {@code n}: a buffer its owner keeps
   * between steps, metered as if allocated here (the memory plan counts it the same). Its old contents remain.
   */
  float[] reuse(float[] buffer, int n) {
    add(n);
    return buffer.length >= n ? buffer : new float[n];
  }

  int[] ints(int n) {
    add(n);
    return new int[n];
  }

  /** A matmul input over {@code values} (numTokens, cols), its paired copy metered. */
  MatmulInput input(float[] values, int numTokens, int cols) {
    MatmulInput input = MatmulInput.of(values, numTokens, cols);
    add(MatmulInput.pairedFloats(numTokens, cols));
    return input;
  }

  /** Ends the step-level allocations: what is held now is held until the step ends. */
  void endStepLevel() {
    partPeaks[Part.STEP_LEVEL.ordinal()] = Math.max(partPeaks[Part.STEP_LEVEL.ordinal()], live);
  }

  /** Starts a stage; returns the amount held now, to return to when it ends. */
  long beginStage() {
    stageHigh = live;
    return live;
  }

  /** Ends a stage of {@code part}: what it allocated since {@code mark} is dead. */
  void endStage(Part part, long mark) {
    partPeaks[part.ordinal()] = Math.max(partPeaks[part.ordinal()], stageHigh - mark);
    live = mark;
  }

  /** The most bytes {@code part} held at once in this step. */
  long peakBytes(Part part) {
    return partPeaks[part.ordinal()] * Float.BYTES;
  }

  /** The most elements held at once so far, in bytes. */
  long peakBytes() {
    return peak * Float.BYTES;
  }

  private void add(long n) {
    live += n;
    peak = Math.max(peak, live);
    stageHigh = Math.max(stageHigh, live);
  }

  /** Rotary table floats per token (cos or sin): half the rotated dimension. */
  static int ropeHalf(ModelConfig config) {
    MlaConfig mla = config.mla();
    return (mla != null ? mla.qkRopeHeadDim() : config.rotaryDim()) / 2; // partial rotary: only rotaryDim turns
  }
}
