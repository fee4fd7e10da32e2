package io.moestream.engine.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Tensor names of every family land in the kind the memory plan reports them under. */
class WeightKindTest {
  @Test
  void namesOfEveryFamily() {
    assertEquals(WeightKind.EMBEDDINGS_AND_LM_HEAD, WeightKind.of("model.embed_tokens.weight"));
    assertEquals(WeightKind.EMBEDDINGS_AND_LM_HEAD, WeightKind.of("lm_head.weight"));
    assertEquals(WeightKind.ATTENTION, WeightKind.of("model.layers.3.self_attn.q_proj.weight"));
    assertEquals(WeightKind.ATTENTION, WeightKind.of("model.layers.3.self_attn.kv_a_layernorm.weight"));
    assertEquals(WeightKind.ATTENTION, WeightKind.of("model.layers.3.self_attn.o_proj.weight_scale_inv"));
    assertEquals(WeightKind.ROUTED_EXPERTS, WeightKind.of("model.layers.0.mlp.experts.17.down_proj.weight"));
    assertEquals(WeightKind.ROUTED_EXPERTS, WeightKind.of("model.layers.0.block_sparse_moe.experts.7.w1.weight"));
    assertEquals(WeightKind.ROUTED_EXPERTS, WeightKind.of("model.layers.0.mlp.experts.1.up_proj.weight_scale_inv"));
    assertEquals(WeightKind.SHARED_AND_DENSE_MLP, WeightKind.of("model.layers.1.mlp.shared_experts.gate_proj.weight"));
    assertEquals(WeightKind.SHARED_AND_DENSE_MLP, WeightKind.of("model.layers.1.mlp.shared_expert.up_proj.weight"));
    assertEquals(WeightKind.SHARED_AND_DENSE_MLP, WeightKind.of("model.layers.1.mlp.shared_expert_gate.weight"));
    assertEquals(WeightKind.SHARED_AND_DENSE_MLP, WeightKind.of("model.layers.0.mlp.down_proj.weight"));
    assertEquals(WeightKind.ROUTERS, WeightKind.of("model.layers.2.mlp.gate.weight"));
    assertEquals(WeightKind.ROUTERS, WeightKind.of("model.layers.2.mlp.gate.e_score_correction_bias"));
    assertEquals(WeightKind.ROUTERS, WeightKind.of("model.layers.2.block_sparse_moe.gate.weight"));
    assertEquals(WeightKind.ROUTERS, WeightKind.of("model.layers.2.mlp.router.weight")); // gpt-oss
    assertEquals(WeightKind.ROUTERS, WeightKind.of("model.layers.2.mlp.router.bias"));
    assertEquals(WeightKind.ROUTED_EXPERTS, WeightKind.of("model.layers.2.mlp.experts.gate_up_proj_blocks"));
    assertEquals(WeightKind.ROUTED_EXPERTS, WeightKind.of("model.layers.2.mlp.experts.down_proj_scales"));
    assertEquals(WeightKind.ROUTED_EXPERTS, WeightKind.of("model.layers.2.mlp.experts.gate_up_proj_bias"));
    assertEquals(WeightKind.ROUTED_EXPERTS, WeightKind.of("model.layers.2.mlp.experts.down_proj"));
    assertEquals(WeightKind.ATTENTION, WeightKind.of("model.layers.2.self_attn.sinks"));
    assertEquals(WeightKind.NORMS_AND_OTHER, WeightKind.of("model.layers.2.input_layernorm.weight"));
    assertEquals(WeightKind.NORMS_AND_OTHER, WeightKind.of("model.norm.weight"));
  }
}
