package io.moestream.engine.cpu;

import io.moestream.engine.backend.StepBatch;
import io.moestream.engine.kernel.Kernels;
import io.moestream.engine.kernel.MatmulInput;
import io.moestream.engine.kernel.Matrix;
import io.moestream.engine.kernel.WorkerPool;
import io.moestream.engine.kv.PagedKvCache;
import io.moestream.engine.model.LayerWeights;
import io.moestream.engine.model.MlaConfig;
import io.moestream.engine.model.MlaWeights;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.model.RopeScaling;

/**
 * DeepSeek's multi-head latent attention with the projections absorbed, for prompt and decode tokens
 * alike. H heads; per head nope + rope query values and v value values; r = kv_lora_rank.
 *
 * <p>The reference expands the cached latent c (r) of every position into per-head keys
 * [W_UK c | k_pe] and values W_UV c. Attention never needs them: q_nope . (W_UK c) = (W_UK^T q_nope) . c,
 * and sum_j p_j W_UV c_j = W_UV (sum_j p_j c_j). So each query is mapped into the latent space once
 * (q_lat = W_UK^T q_nope, r values), scores are q_lat . c_j + q_pe . k_pe_j, the probabilities weigh the
 * latents, and only the weighted latent is expanded by W_UV. The cache holds [c | k_pe]
 * (r + rope floats per token per layer) and nothing is ever expanded per position.
 *
 * <p>Steps: q = q_proj x, or q_b_proj(RMSNorm(q_a_proj x)); [c | k_pe] = kv_a_proj_with_mqa x;
 * c = kv_a_layernorm(c); RoPE (interleaved pairs) on q_pe and k_pe; cache; attend in the latent space;
 * expand; o_proj. Softmax scale 1 / sqrt(nope + rope), times mscale(factor, mscale_all_dim)^2 under YaRN.
 */
final class LatentAttention implements AttentionLayer {
  /** q_a_layernorm and kv_a_layernorm are built with the reference's default epsilon, not rms_norm_eps. */
  private static final float LATENT_NORM_EPS = 1e-6f;
  /** Tokens per value-expansion matmul (a multiple of the kernels' 4-token tile). */
  private static final int EXPAND_CHUNK = 16;
  /** W_UK rows decoded at a time in absorbKeys: 16 rows of a 512-value latent are 32 KiB, an L1's worth. */
  private static final int ABSORB_ROWS = 16;

  private final ModelConfig config;
  private final MlaConfig mla;
  private final Kernels kernels;
  private final WorkerPool pool;
  private final Rope rope;
  private final float softmaxScale;

  LatentAttention(ModelConfig config, Kernels kernels, WorkerPool pool) {
    this.config = config;
    this.mla = config.mla();
    this.kernels = kernels;
    this.pool = pool;
    this.rope = new Rope(mla.qkRopeHeadDim(), config.ropeTheta(), config.ropeScaling());
    this.softmaxScale = (float) softmaxScale(mla, config.ropeScaling());
  }

  /** 1 / sqrt(qk head dim), times mscale(factor, mscale_all_dim)^2 when YaRN sets mscale_all_dim. */
  static double softmaxScale(MlaConfig mla, RopeScaling scaling) {
    double scale = 1.0 / Math.sqrt(mla.qHeadDim());
    if (scaling.type() == RopeScaling.Type.YARN && scaling.mscaleAllDim() != 0) {
      double m = Rope.yarnMscale(scaling.factor(), scaling.mscaleAllDim());
      scale *= m * m;
    }
    return scale;
  }

  @Override
  public CpuAttention.RopeTables ropeTables(int[] positions, StepScratch scratch) {
    float[] cos = scratch.floats(positions.length * rope.half());
    float[] sin = scratch.floats(positions.length * rope.half());
    rope.tables(positions, cos, sin);
    return new CpuAttention.RopeTables(cos, sin);
  }

  @Override
  public void forward(int layer, LayerWeights weights, StepBatch batch, CpuAttention.RopeTables tables,
      PagedKvCache cache, float[] normed, float[] out, StepScratch scratch) {
    MlaWeights w = weights.latentAttention();
    int numTokens = batch.numTokens();
    int heads = config.numHeads();
    int nope = mla.qkNopeHeadDim();
    int ropeDim = mla.qkRopeHeadDim();
    int qHead = mla.qHeadDim();
    int rank = mla.kvLoraRank();
    int width = mla.cacheWidth();
    MatmulInput input = scratch.input(normed, numTokens, config.hiddenSize());

    float[] q = queries(w, input, numTokens, scratch); // (numTokens, heads, nope + rope)
    float[] compressed = scratch.floats(numTokens * width); // (numTokens, r + rope)
    project(w.kvAProj(), input, compressed);
    float[] cacheRows = cache.keys(layer);
    pool.run(numTokens, t -> {
      kernels.rmsNorm(compressed, t * width, w.kvANorm(), LATENT_NORM_EPS, compressed, t * width, rank);
      rope.applyInterleaved(compressed, t * width + rank, tables.cos(), tables.sin(), t);
      for (int h = 0; h < heads; h++) {
        rope.applyInterleaved(q, (t * heads + h) * qHead + nope, tables.cos(), tables.sin(), t);
      }
      int slot = batch.kvSequences()[t].slot(batch.positions()[t]);
      System.arraycopy(compressed, t * width, cacheRows, slot * width, width);
    });

    float[] qLatent = absorbKeys(w.kvBProj(), q, numTokens, scratch); // (numTokens, heads, r)
    float[] latentOut = scratch.floats(numTokens * heads * rank); // (numTokens, heads, r): sum_j p_j c_j
    // Every head of a token reads the same latent rows (MLA shares one latent KV across heads, as MQA), so a task
    // takes a group of heads and the shared-key kernels read each row once for the group. Groups only split the
    // heads for parallelism: each head's sums are the same whatever its group.
    int wanted = Math.min(heads, Math.max(1, (2 * pool.threads() + numTokens - 1) / numTokens));
    int headsPerGroup = (heads + wanted - 1) / wanted;
    int groups = (heads + headsPerGroup - 1) / headsPerGroup; // none empty
    pool.run(numTokens * groups, task -> {
      int t = task / groups;
      int firstHead = task % groups * headsPerGroup;
      int groupHeads = Math.min(headsPerGroup, heads - firstHead);
      PagedKvCache.Sequence sequence = batch.kvSequences()[t];
      int contextLength = batch.positions()[t] + 1;
      int[] latentRows = new int[contextLength]; // [c_j | k_pe_j] of each position in the cache
      int[] ropeRows = new int[contextLength];
      sequence.rowOffsets(layer, 0, contextLength, width, 0, latentRows);
      for (int j = 0; j < contextLength; j++) {
        ropeRows[j] = latentRows[j] + rank;
      }
      float[] qPe = new float[groupHeads * ropeDim]; // the group's rope queries, contiguous per head
      for (int h = 0; h < groupHeads; h++) {
        System.arraycopy(q, (t * heads + firstHead + h) * qHead + nope, qPe, h * ropeDim, ropeDim);
      }
      float[] latentScores = new float[groupHeads * contextLength]; // (groupHeads, contextLength)
      float[] ropeScores = new float[groupHeads * contextLength];
      int qLatOffset = (t * heads + firstHead) * rank;
      kernels.scaledDots(qLatent, qLatOffset, groupHeads, cacheRows, latentRows, contextLength, rank, 1f, latentScores);
      kernels.scaledDots(qPe, 0, groupHeads, cacheRows, ropeRows, contextLength, ropeDim, 1f, ropeScores);
      float[] probabilities = latentScores; // overwritten in place, head by head
      for (int h = 0; h < groupHeads; h++) {
        int at = h * contextLength;
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < contextLength; j++) {
          float score = (latentScores[at + j] + ropeScores[at + j]) * softmaxScale;
          ropeScores[at + j] = score;
          max = Math.max(max, score);
        }
        float sum = 0;
        for (int j = 0; j < contextLength; j++) {
          ropeScores[at + j] = (float) Math.exp(ropeScores[at + j] - max);
          sum += ropeScores[at + j];
        }
        float inv = 1f / sum;
        for (int j = 0; j < contextLength; j++) {
          probabilities[at + j] = ropeScores[at + j] * inv;
        }
      }
      kernels.weightedSum(probabilities, groupHeads, cacheRows, latentRows, contextLength, latentOut, qLatOffset, rank);
    });

    float[] attended = expandValues(w.kvBProj(), latentOut, numTokens, scratch); // (numTokens, heads * v)
    project(w.oProj(), scratch.input(attended, numTokens, heads * mla.vHeadDim()), out);
  }

  private float[] queries(MlaWeights w, MatmulInput input, int numTokens, StepScratch scratch) {
    float[] q = scratch.floats(numTokens * config.numHeads() * mla.qHeadDim());
    if (w.qProj() != null) {
      project(w.qProj(), input, q);
      return q;
    }
    int qRank = mla.qLoraRank();
    float[] compressedQ = scratch.floats(numTokens * qRank);
    project(w.qAProj(), input, compressedQ);
    for (int t = 0; t < numTokens; t++) {
      kernels.rmsNorm(compressedQ, t * qRank, w.qANorm(), LATENT_NORM_EPS, compressedQ, t * qRank, qRank);
    }
    project(w.qBProj(), scratch.input(compressedQ, numTokens, qRank), q);
    return q;
  }

  /**
   * q_lat[t, h] = W_UK_h^T q_nope[t, h]: a sum of W_UK_h's rows weighted by the query, so each head's rows
   * are decoded once per step and serve every token.
   */
  private float[] absorbKeys(Matrix kvB, float[] q, int numTokens, StepScratch scratch) {
    int heads = config.numHeads();
    int nope = mla.qkNopeHeadDim();
    int rank = mla.kvLoraRank();
    int qHead = mla.qHeadDim();
    int rowsPerHead = nope + mla.vHeadDim();
    float[] qLatent = scratch.floats(numTokens * heads * rank);
    pool.run(heads, h -> {
      // W_UK_h decoded ABSORB_ROWS rows at a time; each token sums them with y in registers (axpyRows: the same
      // bits as one axpy per row).
      float[] rows = new float[ABSORB_ROWS * rank];
      for (int i0 = 0; i0 < nope; i0 += ABSORB_ROWS) {
        int count = Math.min(ABSORB_ROWS, nope - i0);
        for (int i = 0; i < count; i++) {
          kvB.copyRow(h * rowsPerHead + i0 + i, rows, i * rank);
        }
        for (int t = 0; t < numTokens; t++) {
          kernels.axpyRows(q, (t * heads + h) * qHead + i0, rows, 0, count, qLatent, (t * heads + h) * rank, rank);
        }
      }
    });
    return qLatent;
  }

  /** attended[t, h * v + i] = W_UV_h[i] . latentOut[t, h]: the v rows of each head's block of kv_b_proj. */
  private float[] expandValues(Matrix kvB, float[] latentOut, int numTokens, StepScratch scratch) {
    int heads = config.numHeads();
    int nope = mla.qkNopeHeadDim();
    int v = mla.vHeadDim();
    int rank = mla.kvLoraRank();
    int rowsPerHead = nope + v;
    float[] attended = scratch.floats(numTokens * heads * v);
    // The matmul writes full kv_b_proj rows per token, each head its own v of them: one buffer per chunk of tokens
    // serves every head (chunks bound its size).
    for (int t0 = 0; t0 < numTokens; t0 += EXPAND_CHUNK) {
      int start = t0;
      int n = Math.min(EXPAND_CHUNK, numTokens - t0);
      float[] expanded = new float[n * kvB.rows()];
      pool.run(heads, h -> {
        int first = h * rowsPerHead + nope;
        float[] headLatent = new float[n * rank];
        for (int t = 0; t < n; t++) {
          System.arraycopy(latentOut, ((start + t) * heads + h) * rank, headLatent, t * rank, rank);
        }
        kernels.matmul(kvB, MatmulInput.of(headLatent, n, rank), expanded, first, first + v);
        for (int t = 0; t < n; t++) {
          System.arraycopy(expanded, t * kvB.rows() + first, attended, ((start + t) * heads + h) * v, v);
        }
      });
    }
    return attended;
  }

  private void project(Matrix w, MatmulInput input, float[] out) {
    pool.runRanges(w.rows(), Kernels.ROW_ALIGN, (start, end) -> kernels.matmul(w, input, out, start, end));
  }
}
