package io.moestream.engine.cuda;

import io.moestream.engine.kernel.Matrix;
import io.moestream.engine.model.AttentionWeights;
import io.moestream.engine.model.ExpertWeights;
import io.moestream.engine.model.LayerWeights;
import io.moestream.engine.model.ModelWeights;
import io.moestream.engine.model.MoeWeights;

/**
 * The model on the device, uploaded once: every matrix as BF16, norm weights and biases as float32.
 * Matrices are grouped in sets of one shape (a layer's experts' gate projections, or one projection
 * alone); a set is one allocation plus a table of its matrices' addresses that the grouped GEMMs
 * index by expert (0 for a pruned expert, which the router never picks).
 */
final class DeviceWeights {

  /** Matrices of shape (rows, cols); {@code first} is the address of matrix 0 (the embedding table). */
  record MatrixSet(DevicePointer table, DevicePointer first, int count, int rows, int cols) {}

  /** A SiLU-gated MLP, or a layer's experts as parallel sets. */
  record Mlp(MatrixSet gate, MatrixSet up, MatrixSet down) {
    int intermediateSize() {
      return gate.rows();
    }
  }

  /** Grouped-query attention; biases and q/k norm weights are null when the model has none. */
  record Attention(MatrixSet q, MatrixSet k, MatrixSet v, MatrixSet o, DevicePointer qBias, DevicePointer kBias,
      DevicePointer vBias, DevicePointer qNorm, DevicePointer kNorm, DevicePointer oBias) {}

  /** @param logitBias (numExperts): 0, or -inf for pruned experts; null when none is pruned */
  record Moe(MatrixSet router, Mlp experts, Mlp shared, MatrixSet sharedGate, DevicePointer logitBias) {}

  record Layer(DevicePointer inputNorm, Attention attention, DevicePointer postNorm, Moe moe, Mlp dense) {}

  final MatrixSet embedTokens; // (vocabSize, hiddenSize)
  final MatrixSet lmHead; // (vocabSize, hiddenSize)
  final DevicePointer finalNorm; // (hiddenSize)
  final Layer[] layers;

  DeviceWeights(ModelWeights weights, DeviceMemory memory, WeightUploader uploader) {
    this.embedTokens = uploader.set(new Matrix[] {weights.embedTokens()});
    this.lmHead = weights.lmHead() == weights.embedTokens() ? embedTokens : uploader.set(new Matrix[] {weights.lmHead()});
    this.finalNorm = memory.upload(weights.finalNorm());
    this.layers = new Layer[weights.layers().length];
    for (int i = 0; i < layers.length; i++) {
      LayerWeights lw = weights.layers()[i];
      AttentionWeights a = lw.attention();
      Attention attention = new Attention(uploader.set(one(a.qProj())), uploader.set(one(a.kProj())),
          uploader.set(one(a.vProj())), uploader.set(one(a.oProj())), memory.uploadOrNull(a.qBias()),
          memory.uploadOrNull(a.kBias()), memory.uploadOrNull(a.vBias()), memory.uploadOrNull(a.qNorm()),
          memory.uploadOrNull(a.kNorm()), memory.uploadOrNull(a.oBias()));
      Moe moe = lw.moe() == null ? null : moe(lw.moe(), memory, uploader);
      Mlp dense = lw.denseMlp() == null ? null : mlp(new ExpertWeights[] {lw.denseMlp()}, uploader);
      layers[i] = new Layer(memory.upload(lw.inputNorm()), attention, memory.upload(lw.postAttentionNorm()), moe, dense);
    }
  }

  private static Moe moe(MoeWeights w, DeviceMemory memory, WeightUploader uploader) {
    ExpertWeights[] experts = w.experts();
    float[] logitBias = null;
    for (int e = 0; e < experts.length; e++) {
      if (experts[e] == null) {
        if (logitBias == null) {
          logitBias = new float[experts.length];
        }
        logitBias[e] = Float.NEGATIVE_INFINITY;
      }
    }
    Mlp shared = w.sharedExpert() == null ? null : mlp(new ExpertWeights[] {w.sharedExpert()}, uploader);
    MatrixSet sharedGate = w.sharedExpertGate() == null ? null : uploader.set(one(w.sharedExpertGate()));
    return new Moe(uploader.set(one(w.router())), mlp(experts, uploader), shared, sharedGate,
        memory.uploadOrNull(logitBias));
  }

  private static Mlp mlp(ExpertWeights[] experts, WeightUploader uploader) {
    Matrix[] gate = new Matrix[experts.length];
    Matrix[] up = new Matrix[experts.length];
    Matrix[] down = new Matrix[experts.length];
    for (int e = 0; e < experts.length; e++) {
      if (experts[e] != null) {
        gate[e] = experts[e].gateProj();
        up[e] = experts[e].upProj();
        down[e] = experts[e].downProj();
      }
    }
    return new Mlp(uploader.set(gate), uploader.set(up), uploader.set(down));
  }

  private static Matrix[] one(Matrix m) {
    return new Matrix[] {m};
  }
}
