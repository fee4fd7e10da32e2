package io.moestream.engine.model;

import io.moestream.engine.kernel.Matrix;

/**
 * Multi-head latent attention weights of one layer (DeepSeek-V2/V3). H heads, nope/rope/v the per-head
 * widths, r = kv_lora_rank, rq = q_lora_rank.
 *
 * @param qProj (H * (nope + rope), hiddenSize), or null when queries are compressed
 * @param qAProj (rq, hiddenSize), or null
 * @param qANorm (rq), or null
 * @param qBProj (H * (nope + rope), rq), or null
 * @param kvAProj (r + rope, hiddenSize): kv_a_proj_with_mqa, the latent then the shared rotated key
 * @param kvANorm (r): kv_a_layernorm over the latent
 * @param kvBProj (H * (nope + v), r): per head, nope rows expanding keys (W_UK) then v rows expanding values (W_UV)
 * @param oProj (hiddenSize, H * v)
 */
public record MlaWeights(
    Matrix qProj, Matrix qAProj, float[] qANorm, Matrix qBProj,
    Matrix kvAProj, float[] kvANorm, Matrix kvBProj, Matrix oProj) {

  public long byteSize() {
    long bytes = kvAProj.byteSize() + kvBProj.byteSize() + oProj.byteSize();
    return bytes + (qProj != null ? qProj.byteSize() : qAProj.byteSize() + qBProj.byteSize());
  }
}
