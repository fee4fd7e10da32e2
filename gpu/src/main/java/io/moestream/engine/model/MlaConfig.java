package io.moestream.engine.model;

/**
 * DeepSeek-V2/V3 multi-head latent attention. Each head's query and key are {@code qkNopeHeadDim}
 * values without position plus {@code qkRopeHeadDim} rotated ones; keys and values of all heads come
 * from one compressed latent of {@code kvLoraRank} values per token, which (with the single shared
 * rotated key) is all the KV cache holds.
 *
 * @param qLoraRank rank of the query compression (q_a_proj -> q_a_layernorm -> q_b_proj); 0 when the
 *     model projects queries directly with q_proj (V2-Lite)
 * @param kvLoraRank width of the compressed latent (kv_a_proj_with_mqa -> kv_a_layernorm)
 * @param qkNopeHeadDim per-head query/key values without RoPE
 * @param qkRopeHeadDim per-head query values with RoPE; the rotated key of this width is shared by all heads
 * @param vHeadDim per-head value width
 */
public record MlaConfig(int qLoraRank, int kvLoraRank, int qkNopeHeadDim, int qkRopeHeadDim, int vHeadDim) {

  /** A query head: nope then rope values. */
  public int qHeadDim() {
    return qkNopeHeadDim + qkRopeHeadDim;
  }

  /** One cached token of one layer: the normalized latent, then the rotated shared key. */
  public int cacheWidth() {
    return kvLoraRank + qkRopeHeadDim;
  }

  void validate(String file) {
    if (qLoraRank < 0) {
      throw new ConfigException(file + ": field 'q_lora_rank' must be null or > 0, found " + qLoraRank);
    }
    positive(file, "kv_lora_rank", kvLoraRank);
    positive(file, "qk_nope_head_dim", qkNopeHeadDim);
    positive(file, "qk_rope_head_dim", qkRopeHeadDim);
    positive(file, "v_head_dim", vHeadDim);
    if (qkRopeHeadDim % 2 != 0) {
      throw new ConfigException(file + ": qk_rope_head_dim must be even for rotary embeddings, found " + qkRopeHeadDim);
    }
  }

  private static void positive(String file, String field, int value) {
    if (value <= 0) {
      throw new ConfigException(file + ": field '" + field + "' must be > 0, found " + value);
    }
  }
}
