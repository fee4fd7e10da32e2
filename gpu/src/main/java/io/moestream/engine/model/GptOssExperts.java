package io.moestream.engine.model;

import io.moestream.engine.format.Numerics;
import io.moestream.engine.format.TensorData;
import io.moestream.engine.kernel.Matrix;
import java.util.Arrays;

/**
 * Binds gpt-oss's stacked expert tensors of one layer to one {@link ExpertWeights} per expert, each a
 * view into the mapped tensor (expert e's bytes are entry e of the first dimension; nothing is copied
 * but the biases):
 *
 * <ul>
 *   <li>MXFP4 ({@code *_blocks} U8 (numExperts, out, in / 32, 16) and {@code *_scales} U8
 *       (numExperts, out, in / 32)): already (out, in), so each expert is an MXFP4 {@link Matrix}.
 *   <li>BF16 / F32 ({@code gate_up_proj} (numExperts, hidden, 2 * inter), {@code down_proj}
 *       (numExperts, inter, hidden)): the input dimension first, as {@code x @ W} reads it, so each
 *       expert is a matrix stored transposed.
 * </ul>
 *
 * Biases: {@code gate_up_proj_bias} (numExperts, 2 * inter) and {@code down_proj_bias} (numExperts, hidden).
 */
final class GptOssExperts {
  private GptOssExperts() {}

  static ExpertWeights[] load(ModelConfig config, TensorChecker tensors, int layer) {
    int numExperts = config.numExperts();
    int hidden = config.hiddenSize();
    int inter = config.moeIntermediateSize();
    String gateUp = Architecture.stackedExperts(layer, "gate_up_proj");
    String down = Architecture.stackedExperts(layer, "down_proj");
    float[] gateUpBias = tensors.floats(gateUp + "_bias", new long[] {numExperts, 2L * inter});
    float[] downBias = tensors.floats(down + "_bias", new long[] {numExperts, hidden});
    boolean mxfp4 = tensors.has(gateUp + "_blocks");
    TensorData gateUpData;
    TensorData gateUpScales = null;
    TensorData downData;
    TensorData downScales = null;
    if (mxfp4) {
      int block = Matrix.MXFP4_BLOCK;
      gateUpData = tensors.mapped(gateUp + "_blocks", new long[] {numExperts, 2L * inter, hidden / block, 16}, true);
      gateUpScales = tensors.mapped(gateUp + "_scales", new long[] {numExperts, 2L * inter, hidden / block}, true);
      downData = tensors.mapped(down + "_blocks", new long[] {numExperts, hidden, inter / block, 16}, true);
      downScales = tensors.mapped(down + "_scales", new long[] {numExperts, hidden, inter / block}, true);
      if (hidden % block != 0 || inter % block != 0) {
        throw new ConfigException("gpt_oss layer " + layer + ": MXFP4 experts need hidden_size (" + hidden
            + ") and intermediate_size (" + inter + ") divisible by " + block);
      }
    } else {
      gateUpData = tensors.mapped(gateUp, new long[] {numExperts, hidden, 2L * inter}, false);
      downData = tensors.mapped(down, new long[] {numExperts, inter, hidden}, false);
    }
    if (gateUpBias == null || downBias == null || gateUpData == null || downData == null
        || (mxfp4 && (gateUpScales == null || downScales == null))) {
      return new ExpertWeights[numExperts]; // the checker reports what is wrong
    }
    if (mxfp4 && (hasNanScale(tensors, gateUpScales, hidden) | hasNanScale(tensors, downScales, inter))) {
      return new ExpertWeights[numExperts];
    }
    ExpertWeights[] experts = new ExpertWeights[numExperts];
    for (int e = 0; e < numExperts; e++) {
      String suffix = "[" + e + "]";
      Matrix gateUpProj = mxfp4
          ? Matrix.mxfp4(gateUp + suffix, 2 * inter, hidden, gateUpData.firstDimSlice(e), gateUpScales.firstDimSlice(e))
          : Matrix.transposed(gateUp + suffix, gateUpData.dtype(), 2 * inter, hidden, gateUpData.firstDimSlice(e));
      Matrix downProj = mxfp4
          ? Matrix.mxfp4(down + suffix, hidden, inter, downData.firstDimSlice(e), downScales.firstDimSlice(e))
          : Matrix.transposed(down + suffix, downData.dtype(), hidden, inter, downData.firstDimSlice(e));
      experts[e] = ExpertWeights.fused(gateUpProj,
          Arrays.copyOfRange(gateUpBias, e * 2 * inter, (e + 1) * 2 * inter), downProj,
          Arrays.copyOfRange(downBias, e * hidden, (e + 1) * hidden));
    }
    return experts;
  }

  /**
   * OCP MX reserves the E8M0 byte 0xFF for NaN, which would make a whole block of 32 weights NaN and every
   * logit after it; no released checkpoint holds one, so one found is a corrupt file, refused at load with
   * its expert, row and block rather than surfacing as NaN tokens. Records the first per tensor.
   */
  private static boolean hasNanScale(TensorChecker tensors, TensorData scales, int cols) {
    int blocksPerRow = cols / Matrix.MXFP4_BLOCK;
    for (int e = 0; e < scales.dim(0); e++) {
      long index = Numerics.firstNanE8m0(scales.firstDimSlice(e));
      if (index >= 0) {
        tensors.addProblem(scales, "holds the NaN scale 0xFF at expert " + e + ", row " + index / blocksPerRow
            + ", block " + index % blocksPerRow + " (MXFP4 E8M0 scales must be 0..254)");
        return true;
      }
    }
    return false;
  }
}
