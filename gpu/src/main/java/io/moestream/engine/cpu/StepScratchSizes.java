package io.moestream.engine.cpu;

import io.moestream.engine.kernel.MatmulInput;
import io.moestream.engine.model.MlaConfig;
import io.moestream.engine.model.ModelConfig;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * The heap one CPU step takes, from the config alone, in the order {@link CpuBackend#forward} allocates
 * it: the step-level buffers, then the largest stage (attention, MoE or dense MLP, LM head). Elements are
 * floats or ints, 4 bytes each. A test holds each part of {@link Estimate#meteredByPart} to the peak
 * {@link StepScratch} meters for it in a real step, so a change of the allocations that is not made here fails.
 */
public final class StepScratchSizes {
  /** Tokens per value-expansion chunk of latent attention (LatentAttention.EXPAND_CHUNK). */
  private static final int EXPAND_CHUNK = 16;

  private StepScratchSizes() {}

  /** The parts of a step: the step-level buffers, held throughout, and the stages, one at a time on top. */
  public enum Part { STEP_LEVEL, ATTENTION, MOE, DENSE_MLP, LM_HEAD }

  /**
   * @param meteredByPart what {@link StepScratch} meters for each part at its peak, in bytes (0 for a
   *     part the model does not have, such as dense layers)
   * @param perThreadBytes the bound of the rows one worker thread allocates in a task (an expert's group of
   *     up to all step tokens, an attention score row over the whole context), times the threads
   * @param shiftedCopyBytes the bound of the shifted input copies 16-bit kernels make for matrices whose
   *     data is not 64-byte aligned (one per matrix reading an input), for the largest stage
   */
  public record Estimate(Map<Part, Long> meteredByPart, long perThreadBytes, long shiftedCopyBytes) {
    public Estimate {
      meteredByPart = Collections.unmodifiableMap(new EnumMap<>(meteredByPart));
    }

    /** The metered peak of a step: its step-level buffers and its largest stage. */
    public long meteredBytes() {
      long stage = 0;
      for (Map.Entry<Part, Long> part : meteredByPart.entrySet()) {
        if (part.getKey() != Part.STEP_LEVEL) {
          stage = Math.max(stage, part.getValue());
        }
      }
      return meteredByPart.get(Part.STEP_LEVEL) + stage;
    }

    /** What the plan holds the heap to: the metered peak plus both bounds. */
    public long totalBytes() {
      return meteredBytes() + perThreadBytes + shiftedCopyBytes;
    }
  }

  /**
   * @param tokens tokens of the step (the configured max batch tokens)
   * @param logitRows tokens whose logits the step returns (at most {@code tokens})
   * @param contextTokens the longest context a token attends over (the KV cache's capacity or the model's context)
   * @param threads CPU threads of the forward pass
   * @param sixteenBitWeights whether matrices are BF16/F16 (only their kernels make shifted copies)
   */
  public static Estimate estimate(ModelConfig config, int tokens, int logitRows, int contextTokens, int threads,
      boolean sixteenBitWeights) {
    long t = tokens;
    long hidden = config.hiddenSize();
    EnumMap<Part, Long> parts = new EnumMap<>(Part.class);
    for (Part part : Part.values()) {
      parts.put(part, 0L);
    }
    // residual, normed, block output; rope tables; experts used (numLayers, t) and distinct experts (numLayers)
    parts.put(Part.STEP_LEVEL, 3 * t * hidden + 2 * t * StepScratch.ropeHalf(config) + (t + 1) * config.numLayers());
    long attention = config.mla() != null ? latentAttention(config, t) : groupedQueryAttention(config, t);
    parts.put(Part.ATTENTION, attention);
    long stageShifted = attention
        + (sixteenBitWeights ? (config.mla() != null ? latentShifted(config, tokens) : groupedShifted(config, tokens)) : 0);
    long expertTask = 0;
    for (int layer = 0; layer < config.numLayers(); layer++) {
      long mlp;
      long shifted;
      if (config.isSparse(layer)) {
        mlp = moe(config, t);
        parts.put(Part.MOE, mlp);
        shifted = moeShifted(config, tokens);
        long inter = config.moeIntermediateSize();
        // gathered, its paired copy, gate, up, gate's paired copy, down; gpt-oss's fused expert holds gate_up
        // (2 * inter), the activation and its paired copy: one inter more.
        expertTask = t * (3 * hidden + (config.swiglu() != null ? 4 : 3) * inter)
            + (sixteenBitWeights ? 2L * MatmulInput.shiftedFloats(tokens, config.hiddenSize())
                + MatmulInput.shiftedFloats(tokens, config.moeIntermediateSize()) : 0);
      } else {
        long inter = config.intermediateSize();
        mlp = t * hidden + 3 * t * inter; // input's paired copy, gate, up, gate's paired copy
        parts.put(Part.DENSE_MLP, mlp);
        shifted = 2L * MatmulInput.shiftedFloats(tokens, config.hiddenSize())
            + MatmulInput.shiftedFloats(tokens, config.intermediateSize());
      }
      stageShifted = Math.max(stageShifted, mlp + (sixteenBitWeights ? shifted : 0));
    }
    long rows = logitRows;
    long lmHead = rows * hidden + rows * config.vocabSize() + (rows > 0 ? rows * hidden : 0);
    parts.put(Part.LM_HEAD, lmHead);
    stageShifted = Math.max(stageShifted,
        lmHead + (sixteenBitWeights && rows > 0 ? MatmulInput.shiftedFloats(logitRows, config.hiddenSize()) : 0));
    long stage = Math.max(Math.max(parts.get(Part.ATTENTION), parts.get(Part.MOE)),
        Math.max(parts.get(Part.DENSE_MLP), parts.get(Part.LM_HEAD)));
    parts.replaceAll((part, elements) -> elements * Float.BYTES);
    long perTask = Math.max(expertTask, attentionTask(config, tokens, contextTokens, sixteenBitWeights));
    return new Estimate(parts, (long) threads * perTask * Float.BYTES, (stageShifted - stage) * Float.BYTES);
  }

  /** Paired input, q, k, v, attended, o's paired input. */
  private static long groupedQueryAttention(ModelConfig config, long t) {
    return t * config.hiddenSize() + 3 * t * config.qDim() + 2 * t * config.kvDim();
  }

  /** q, k and v read the layer input; o reads the attended values. */
  private static long groupedShifted(ModelConfig config, int tokens) {
    return 3L * MatmulInput.shiftedFloats(tokens, config.hiddenSize()) + MatmulInput.shiftedFloats(tokens, config.qDim());
  }

  /** Paired input, q, [compressed q and its paired copy], compressed kv, q latent, latent out, attended, o's input. */
  private static long latentAttention(ModelConfig config, long t) {
    MlaConfig mla = config.mla();
    long heads = config.numHeads();
    return t * config.hiddenSize() + t * heads * mla.qHeadDim() + 2 * t * mla.qLoraRank() + t * mla.cacheWidth()
        + 2 * t * heads * mla.kvLoraRank() + 2 * t * heads * mla.vHeadDim();
  }

  private static long latentShifted(ModelConfig config, int tokens) {
    MlaConfig mla = config.mla();
    long shifted = 2L * MatmulInput.shiftedFloats(tokens, config.hiddenSize())
        + MatmulInput.shiftedFloats(tokens, config.numHeads() * mla.vHeadDim());
    return mla.qLoraRank() > 0 ? shifted + MatmulInput.shiftedFloats(tokens, mla.qLoraRank()) : shifted;
  }

  /**
   * Paired input, router logits, scores, candidates, token scores, selected k, routing weights, counts,
   * assignments (every token at full k), fill, slot outputs; the shared expert's output, gate and up rows, their
   * paired copy and its gate logit.
   */
  private static long moe(ModelConfig config, long t) {
    long hidden = config.hiddenSize();
    long experts = config.numExperts();
    long k = config.numExpertsPerTok();
    long elements = t * hidden + 2 * t * experts + t * k + experts + t + t * k + experts + t * k + experts
        + t * k * hidden;
    long shared = config.sharedExpertIntermediateSize();
    return shared > 0 ? elements + t * hidden + 3 * t * shared + t : elements;
  }

  /** The router (and the shared expert's gate, up and scalar gate) read the input; its down reads the gated rows. */
  private static long moeShifted(ModelConfig config, int tokens) {
    long router = MatmulInput.shiftedFloats(tokens, config.hiddenSize());
    int shared = config.sharedExpertIntermediateSize();
    if (shared == 0) {
      return router;
    }
    int readers = config.sharedExpertGated() ? 3 : 2;
    return router + (long) readers * MatmulInput.shiftedFloats(tokens, config.hiddenSize())
        + MatmulInput.shiftedFloats(tokens, shared);
  }

  /** One attention task's rows: the score row over the context; latent attention's expansion chunk too. */
  private static long attentionTask(ModelConfig config, int tokens, int contextTokens, boolean sixteenBitWeights) {
    MlaConfig mla = config.mla();
    if (mla == null) {
      return contextTokens;
    }
    long chunk = Math.min(EXPAND_CHUNK, tokens);
    long kvBRows = (long) config.numHeads() * (mla.qkNopeHeadDim() + mla.vHeadDim());
    long expand = 2 * chunk * mla.kvLoraRank() + chunk * kvBRows
        + (sixteenBitWeights ? MatmulInput.shiftedFloats((int) chunk, mla.kvLoraRank()) : 0);
    return Math.max(contextTokens, Math.max(mla.kvLoraRank(), expand));
  }
}
