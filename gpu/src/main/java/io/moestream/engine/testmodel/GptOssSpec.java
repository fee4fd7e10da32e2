package io.moestream.engine.testmodel;

/**
 * The gpt-oss ({@code gpt_oss}) part of a test model. Defaults follow the released configs, scaled down:
 * layers alternate sliding (first) and full attention, with a window short enough that test prompts
 * outrun it; learned sinks; the releases' YaRN (factor 32, beta_fast 32, beta_slow 1, original context
 * 4096, truncate false) and rope_theta 150000; swiglu_limit 7; BF16-layout experts unless {@code mxfp4}.
 *
 * @param slidingWindow the sliding layers' window; 0 makes every layer full attention
 * @param sinks learned per-head sinks; without, the sinks are written as -infinity, which attend to nothing
 *     and leave the softmax as it would be without them
 * @param swigluLimit the clamp of the experts' gate and up values (small values make the clamp bite)
 * @param yarn YaRN rope scaling as released; without, plain RoPE
 * @param mxfp4 experts as MXFP4 {@code *_blocks} / {@code *_scales} with {@code quantization_config}
 */
public record GptOssSpec(int slidingWindow, boolean sinks, double swigluLimit, boolean yarn, boolean mxfp4) {

  public static GptOssSpec defaults() {
    return new GptOssSpec(4, true, 7.0, true, false);
  }

  public GptOssSpec withSlidingWindow(int window) {
    return new GptOssSpec(window, sinks, swigluLimit, yarn, mxfp4);
  }

  public GptOssSpec withSinks(boolean v) {
    return new GptOssSpec(slidingWindow, v, swigluLimit, yarn, mxfp4);
  }

  public GptOssSpec withSwigluLimit(double v) {
    return new GptOssSpec(slidingWindow, sinks, v, yarn, mxfp4);
  }

  public GptOssSpec withYarn(boolean v) {
    return new GptOssSpec(slidingWindow, sinks, swigluLimit, v, mxfp4);
  }

  public GptOssSpec withMxfp4(boolean v) {
    return new GptOssSpec(slidingWindow, sinks, swigluLimit, yarn, v);
  }

  void validate(int hiddenSize, int intermediateSize) {
    TestModelSpec.require(slidingWindow >= 0, "sliding-window (>= 0)", slidingWindow);
    TestModelSpec.require(swigluLimit > 0, "swiglu-limit (> 0)", swigluLimit);
    TestModelSpec.require(!mxfp4 || (hiddenSize % 32 == 0 && intermediateSize % 32 == 0),
        "hidden and moe-intermediate sizes (divisible by 32 for MXFP4)", hiddenSize + ", " + intermediateSize);
  }
}
