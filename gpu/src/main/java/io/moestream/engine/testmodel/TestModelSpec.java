package io.moestream.engine.testmodel;

import io.moestream.engine.format.DType;
import io.moestream.engine.model.Architecture;

/**
 * The shape of a random-weight model for tests, benchmarks and the demo. Defaults are tiny; every
 * dimension can be set. Validated when written.
 *
 * @param intermediateSize the dense MLP size (layers without experts)
 * @param sharedExpertIntermediateSize Qwen2-MoE's shared expert (0 for none; ignored by other families)
 * @param decoderSparseStep every n-th layer has experts (Qwen2/3-MoE)
 * @param deepseek DeepSeek-V2/V3's attention, routing and FP8 settings; null for other families
 * @param fp8Block other families: 0, or FP8 E4M3 linear weights with (fp8Block, fp8Block) block scales as in the
 *     Qwen3 FP8 releases (embeddings, routers and the LM head stay unquantized); DeepSeek sets it in {@code deepseek}
 * @param glm GLM-4.5's partial rotary, attention, routing, dense-layer and MTP settings; null for other families
 * @param gptOss gpt-oss's window, sinks, clamped SwiGLU, YaRN and MXFP4 settings; null for other families
 */
public record TestModelSpec(
    Architecture architecture,
    long seed,
    DType dtype,
    int hiddenSize,
    int numLayers,
    int numHeads,
    int numKvHeads,
    int headDim,
    int numExperts,
    int expertsPerToken,
    int moeIntermediateSize,
    int intermediateSize,
    int sharedExpertIntermediateSize,
    int decoderSparseStep,
    int vocabSize,
    int maxPositionEmbeddings,
    int bosTokenId,
    int eosTokenId,
    DeepseekSpec deepseek,
    int fp8Block,
    GlmSpec glm,
    GptOssSpec gptOss) {

  public static TestModelSpec defaults(Architecture architecture) {
    if (architecture.isDeepseek()) {
      // numHeads x (nope + rope) queries; numKvHeads equals numHeads as in DeepSeek's configs.
      DeepseekSpec ds = DeepseekSpec.defaults(architecture);
      return new TestModelSpec(architecture, 42, DType.F32, 64, 3, 4, 4, ds.qkNopeHeadDim() + ds.qkRopeHeadDim(), 16, 4,
          32, 128, 0, 1, 512, 4096, 510, 511, ds, 0, null, null);
    }
    if (architecture == Architecture.GLM4_MOE) {
      // 3 layers: the first dense (first_k_dense_replace 1), then two with 8 experts, top-2, 1 shared expert.
      return new TestModelSpec(architecture, 42, DType.F32, 64, 3, 4, 2, 16, 8, 2, 32, 128, 0, 1, 512, 4096, 510, 511,
          null, 0, GlmSpec.defaults(), null);
    }
    if (architecture == Architecture.GPT_OSS) {
      // 3 layers: sliding, full, sliding; 8 experts of 32 (MXFP4 needs hidden and intermediate divisible by 32).
      return new TestModelSpec(architecture, 42, DType.F32, 64, 3, 4, 2, 16, 8, 2, 32, 32, 0, 1, 512, 4096, 510, 511,
          null, 0, null, GptOssSpec.defaults());
    }
    return new TestModelSpec(architecture, 42, DType.F32, 64, 2, 4, 2, 16, 8, 2, 32, 128,
        architecture == Architecture.QWEN2_MOE ? 48 : 0, 1, 512, 4096, 510, 511, null, 0, null, null);
  }

  public TestModelSpec withDeepseek(DeepseekSpec v) {
    return new TestModelSpec(architecture, seed, dtype, hiddenSize, numLayers, numHeads, numHeads,
        v.qkNopeHeadDim() + v.qkRopeHeadDim(), numExperts, expertsPerToken, moeIntermediateSize, intermediateSize,
        sharedExpertIntermediateSize, decoderSparseStep, vocabSize, maxPositionEmbeddings, bosTokenId, eosTokenId, v, fp8Block, glm, gptOss);
  }

  public TestModelSpec withGlm(GlmSpec v) {
    return new TestModelSpec(architecture, seed, dtype, hiddenSize, numLayers, numHeads, numKvHeads, headDim, numExperts,
        expertsPerToken, moeIntermediateSize, intermediateSize, sharedExpertIntermediateSize, decoderSparseStep, vocabSize,
        maxPositionEmbeddings, bosTokenId, eosTokenId, deepseek, fp8Block, v, gptOss);
  }

  public TestModelSpec withSeed(long v) {
    return new TestModelSpec(architecture, v, dtype, hiddenSize, numLayers, numHeads, numKvHeads, headDim, numExperts,
        expertsPerToken, moeIntermediateSize, intermediateSize, sharedExpertIntermediateSize, decoderSparseStep, vocabSize,
        maxPositionEmbeddings, bosTokenId, eosTokenId, deepseek, fp8Block, glm, gptOss);
  }

  public TestModelSpec withDType(DType v) {
    return new TestModelSpec(architecture, seed, v, hiddenSize, numLayers, numHeads, numKvHeads, headDim, numExperts,
        expertsPerToken, moeIntermediateSize, intermediateSize, sharedExpertIntermediateSize, decoderSparseStep, vocabSize,
        maxPositionEmbeddings, bosTokenId, eosTokenId, deepseek, fp8Block, glm, gptOss);
  }

  public TestModelSpec withAttention(int hidden, int heads, int kvHeads, int headDimension) {
    return new TestModelSpec(architecture, seed, dtype, hidden, numLayers, heads, kvHeads, headDimension, numExperts,
        expertsPerToken, moeIntermediateSize, intermediateSize, sharedExpertIntermediateSize, decoderSparseStep, vocabSize,
        maxPositionEmbeddings, bosTokenId, eosTokenId, deepseek, fp8Block, glm, gptOss);
  }

  public TestModelSpec withNumLayers(int v) {
    return new TestModelSpec(architecture, seed, dtype, hiddenSize, v, numHeads, numKvHeads, headDim, numExperts,
        expertsPerToken, moeIntermediateSize, intermediateSize, sharedExpertIntermediateSize, decoderSparseStep, vocabSize,
        maxPositionEmbeddings, bosTokenId, eosTokenId, deepseek, fp8Block, glm, gptOss);
  }

  public TestModelSpec withExperts(int experts, int perToken, int moeIntermediate) {
    return new TestModelSpec(architecture, seed, dtype, hiddenSize, numLayers, numHeads, numKvHeads, headDim, experts,
        perToken, moeIntermediate, intermediateSize, sharedExpertIntermediateSize, decoderSparseStep, vocabSize,
        maxPositionEmbeddings, bosTokenId, eosTokenId, deepseek, fp8Block, glm, gptOss);
  }

  public TestModelSpec withDenseLayers(int intermediate, int sparseStep) {
    return new TestModelSpec(architecture, seed, dtype, hiddenSize, numLayers, numHeads, numKvHeads, headDim, numExperts,
        expertsPerToken, moeIntermediateSize, intermediate, sharedExpertIntermediateSize, sparseStep, vocabSize,
        maxPositionEmbeddings, bosTokenId, eosTokenId, deepseek, fp8Block, glm, gptOss);
  }

  public TestModelSpec withSharedExpert(int intermediate) {
    return new TestModelSpec(architecture, seed, dtype, hiddenSize, numLayers, numHeads, numKvHeads, headDim, numExperts,
        expertsPerToken, moeIntermediateSize, intermediateSize, intermediate, decoderSparseStep, vocabSize,
        maxPositionEmbeddings, bosTokenId, eosTokenId, deepseek, fp8Block, glm, gptOss);
  }

  /** The vocabulary; BOS and EOS become its last two ids unless set by {@link #withSpecialTokens}. */
  public TestModelSpec withVocabSize(int v) {
    return new TestModelSpec(architecture, seed, dtype, hiddenSize, numLayers, numHeads, numKvHeads, headDim, numExperts,
        expertsPerToken, moeIntermediateSize, intermediateSize, sharedExpertIntermediateSize, decoderSparseStep, v,
        maxPositionEmbeddings, v - 2, v - 1, deepseek, fp8Block, glm, gptOss);
  }

  public TestModelSpec withSpecialTokens(int bos, int eos) {
    return new TestModelSpec(architecture, seed, dtype, hiddenSize, numLayers, numHeads, numKvHeads, headDim, numExperts,
        expertsPerToken, moeIntermediateSize, intermediateSize, sharedExpertIntermediateSize, decoderSparseStep, vocabSize,
        maxPositionEmbeddings, bos, eos, deepseek, fp8Block, glm, gptOss);
  }

  public TestModelSpec withMaxPositionEmbeddings(int v) {
    return new TestModelSpec(architecture, seed, dtype, hiddenSize, numLayers, numHeads, numKvHeads, headDim, numExperts,
        expertsPerToken, moeIntermediateSize, intermediateSize, sharedExpertIntermediateSize, decoderSparseStep, vocabSize,
        v, bosTokenId, eosTokenId, deepseek, fp8Block, glm, gptOss);
  }

  public TestModelSpec withGptOss(GptOssSpec v) {
    return new TestModelSpec(architecture, seed, dtype, hiddenSize, numLayers, numHeads, numKvHeads, headDim, numExperts,
        expertsPerToken, moeIntermediateSize, intermediateSize, sharedExpertIntermediateSize, decoderSparseStep, vocabSize,
        maxPositionEmbeddings, bosTokenId, eosTokenId, deepseek, fp8Block, glm, v);
  }

  /** FP8 E4M3 linear weights with (block, block) scales (0 for none); not for DeepSeek (see {@link DeepseekSpec#fp8}). */
  public TestModelSpec withFp8Block(int block) {
    return new TestModelSpec(architecture, seed, dtype, hiddenSize, numLayers, numHeads, numKvHeads, headDim, numExperts,
        expertsPerToken, moeIntermediateSize, intermediateSize, sharedExpertIntermediateSize, decoderSparseStep, vocabSize,
        maxPositionEmbeddings, bosTokenId, eosTokenId, deepseek, block, glm, gptOss);
  }

  void validate() {
    require(hiddenSize > 0, "hidden-size", hiddenSize);
    require(numLayers > 0, "num-layers", numLayers);
    require(numHeads > 0, "num-heads", numHeads);
    require(numKvHeads > 0 && numHeads % numKvHeads == 0, "num-kv-heads (must divide num-heads)", numKvHeads);
    require(headDim > 0 && headDim % 2 == 0, "head-dim (even)", headDim);
    require(numExperts > 0, "num-experts", numExperts);
    require(expertsPerToken > 0 && expertsPerToken <= numExperts, "experts-per-token (1..num-experts)", expertsPerToken);
    require(moeIntermediateSize > 0, "moe-intermediate-size", moeIntermediateSize);
    require(vocabSize > 2, "vocab-size", vocabSize);
    require(decoderSparseStep >= 1, "decoder-sparse-step", decoderSparseStep);
    require(dtype == DType.F32 || dtype == DType.BF16 || dtype == DType.F16, "dtype", dtype);
    require(architecture.isDeepseek() == (deepseek != null), "deepseek settings (for deepseek_v2/v3 only)", deepseek);
    if (deepseek != null) {
      deepseek.validate(numExperts, expertsPerToken);
      require(!deepseek.fp8() || architecture == Architecture.DEEPSEEK_V3, "fp8 (deepseek_v3 only)", true);
    }
    require((architecture == Architecture.GLM4_MOE) == (glm != null), "glm settings (for glm4_moe only)", glm);
    if (glm != null) {
      glm.validate(headDim, numExperts, expertsPerToken, numLayers);
    }
    require((architecture == Architecture.GPT_OSS) == (gptOss != null), "gpt_oss settings (for gpt_oss only)", gptOss);
    if (gptOss != null) {
      require(fp8Block == 0, "fp8 (gpt_oss quantizes its experts to MXFP4 instead)", fp8Block);
      gptOss.validate(hiddenSize, moeIntermediateSize);
    }
    require(fp8Block >= 0 && (fp8Block == 0 || deepseek == null), "fp8 block (>= 0; DeepSeek sets fp8 in its own"
        + " settings)", fp8Block);
  }

  static void require(boolean ok, String field, Object value) {
    if (!ok) {
      throw new IllegalArgumentException("invalid test model " + field + ": " + value);
    }
  }
}
