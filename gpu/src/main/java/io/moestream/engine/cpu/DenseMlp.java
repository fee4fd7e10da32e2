package io.moestream.engine.cpu;

import io.moestream.engine.kernel.Kernels;
import io.moestream.engine.kernel.MatmulInput;
import io.moestream.engine.kernel.WorkerPool;
import io.moestream.engine.model.ExpertWeights;

/** A SiLU-gated MLP over all tokens, rows split across threads (dense layers and shared experts). */
final class DenseMlp {
  private DenseMlp() {}

  /** out (numTokens, hiddenSize) = down(silu(gate x) * up x) for x (numTokens, hiddenSize). */
  static void forward(ExpertWeights w, MatmulInput x, int numTokens, int hidden, float[] out, Kernels kernels,
      WorkerPool pool, StepScratch scratch) {
    int inter = w.intermediateSize();
    float[] gate = scratch.floats(numTokens * inter);
    float[] up = scratch.floats(numTokens * inter);
    pool.runRanges(inter, Kernels.ROW_ALIGN, (start, end) -> {
      kernels.matmul(w.gateProj(), x, gate, start, end);
      kernels.matmul(w.upProj(), x, up, start, end);
    });
    kernels.siluMul(gate, up, 0, numTokens * inter);
    MatmulInput h = scratch.input(gate, numTokens, inter);
    pool.runRanges(hidden, Kernels.ROW_ALIGN, (start, end) -> kernels.matmul(w.downProj(), h, out, start, end));
  }
}
