package io.moestream.engine.testmodel;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.format.DType;
import io.moestream.engine.format.SafetensorsWriter;
import io.moestream.engine.model.Architecture;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The GLM-4.5 ({@code glm4_moe}) test model: config.json with the fields of Hugging Face's Glm4MoeConfig
 * and the released checkpoints' tensor names. After the {@code num_hidden_layers} decoder layers come
 * {@code num_nextn_predict_layers} next-token-prediction layers as the release stores them: a full
 * decoder layer plus {@code enorm}, {@code hnorm}, {@code eh_proj} and {@code shared_head.norm}.
 */
final class Glm4MoeModelWriter {
  private Glm4MoeModelWriter() {}

  static void writeConfig(TestModelSpec spec, Path file) throws IOException {
    GlmSpec glm = spec.glm();
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode c = json.createObjectNode();
    c.putArray("architectures").add("Glm4MoeForCausalLM");
    c.put("model_type", Architecture.GLM4_MOE.modelType());
    c.put("vocab_size", spec.vocabSize());
    c.put("hidden_size", spec.hiddenSize());
    c.put("intermediate_size", spec.intermediateSize());
    c.put("moe_intermediate_size", spec.moeIntermediateSize());
    c.put("num_hidden_layers", spec.numLayers());
    c.put("num_attention_heads", spec.numHeads());
    c.put("num_key_value_heads", spec.numKvHeads());
    c.put("head_dim", spec.headDim());
    c.put("partial_rotary_factor", glm.partialRotaryFactor());
    c.put("hidden_act", "silu");
    c.put("attention_bias", glm.attentionBias());
    c.put("attention_dropout", 0.0);
    c.put("use_qk_norm", glm.useQkNorm());
    c.put("n_routed_experts", spec.numExperts());
    c.put("n_shared_experts", glm.nSharedExperts());
    c.put("num_experts_per_tok", spec.expertsPerToken());
    c.put("n_group", glm.nGroup());
    c.put("topk_group", glm.topkGroup());
    c.put("routed_scaling_factor", glm.routedScalingFactor());
    c.put("norm_topk_prob", glm.normTopKProb());
    c.put("first_k_dense_replace", glm.firstKDenseReplace());
    c.put("num_nextn_predict_layers", glm.nextnLayers());
    c.put("rms_norm_eps", 1e-5);
    c.put("rope_theta", 1000000.0);
    c.putNull("rope_scaling");
    c.put("max_position_embeddings", spec.maxPositionEmbeddings());
    c.put("tie_word_embeddings", false);
    c.put("bos_token_id", spec.bosTokenId());
    c.put("eos_token_id", spec.eosTokenId());
    c.put("pad_token_id", spec.eosTokenId());
    c.put("torch_dtype", switch (spec.dtype()) {
      case BF16 -> "bfloat16";
      case F16 -> "float16";
      default -> "float32";
    });
    if (spec.fp8Block() > 0) {
      TestModelWriter.fp8Config(c, spec.fp8Block());
    }
    c.put("initializer_range", 0.02);
    c.put("use_cache", true);
    c.put("transformers_version", "4.54.0");
    json.writeValue(file.toFile(), c);
  }

  static void writeWeights(TestModelSpec spec, Path file) throws IOException {
    GlmSpec glm = spec.glm();
    Architecture arch = Architecture.GLM4_MOE;
    SafetensorsWriter out = new SafetensorsWriter();
    int hidden = spec.hiddenSize();
    int qDim = spec.numHeads() * spec.headDim();
    int kvDim = spec.numKvHeads() * spec.headDim();
    TestModelWriter.matrix(out, spec, "model.embed_tokens.weight", spec.vocabSize(), hidden, 1.0);
    for (int layer = 0; layer < spec.numLayers() + glm.nextnLayers(); layer++) {
      String p = Architecture.layerPrefix(layer);
      TestModelWriter.norm(out, spec, p + "input_layernorm.weight", hidden);
      TestModelWriter.linear(out, spec, p + "self_attn.q_proj.weight", qDim, hidden);
      TestModelWriter.linear(out, spec, p + "self_attn.k_proj.weight", kvDim, hidden);
      TestModelWriter.linear(out, spec, p + "self_attn.v_proj.weight", kvDim, hidden);
      TestModelWriter.linear(out, spec, p + "self_attn.o_proj.weight", hidden, qDim);
      if (glm.attentionBias()) { // q/k/v only: Glm4MoeAttention's o_proj has no bias
        TestModelWriter.vector(out, spec, p + "self_attn.q_proj.bias", qDim, 0.2);
        TestModelWriter.vector(out, spec, p + "self_attn.k_proj.bias", kvDim, 0.2);
        TestModelWriter.vector(out, spec, p + "self_attn.v_proj.bias", kvDim, 0.2);
      }
      if (glm.useQkNorm()) {
        TestModelWriter.norm(out, spec, p + "self_attn.q_norm.weight", spec.headDim());
        TestModelWriter.norm(out, spec, p + "self_attn.k_norm.weight", spec.headDim());
      }
      TestModelWriter.norm(out, spec, p + "post_attention_layernorm.weight", hidden);
      if (layer >= glm.firstKDenseReplace()) {
        // A larger router scale spreads routing scores, so top-k choices are not ties.
        TestModelWriter.matrix(out, spec, arch.router(layer), spec.numExperts(), hidden, 4.0);
        out.add(arch.routerScoreCorrectionBias(layer), DType.F32, new long[] {spec.numExperts()},
            TestModelWriter.uniform(spec.seed(), arch.routerScoreCorrectionBias(layer), -0.05, 0.05));
        int inter = spec.moeIntermediateSize();
        for (int e = 0; e < spec.numExperts(); e++) {
          TestModelWriter.linear(out, spec, arch.expertGateProj(layer, e), inter, hidden);
          TestModelWriter.linear(out, spec, arch.expertUpProj(layer, e), inter, hidden);
          TestModelWriter.linear(out, spec, arch.expertDownProj(layer, e), hidden, inter);
        }
        if (glm.nSharedExperts() > 0) {
          int shared = inter * glm.nSharedExperts();
          TestModelWriter.linear(out, spec, arch.sharedExpertProj(layer, "gate_proj"), shared, hidden);
          TestModelWriter.linear(out, spec, arch.sharedExpertProj(layer, "up_proj"), shared, hidden);
          TestModelWriter.linear(out, spec, arch.sharedExpertProj(layer, "down_proj"), hidden, shared);
        }
      } else {
        int inter = spec.intermediateSize();
        TestModelWriter.linear(out, spec, arch.denseProj(layer, "gate_proj"), inter, hidden);
        TestModelWriter.linear(out, spec, arch.denseProj(layer, "up_proj"), inter, hidden);
        TestModelWriter.linear(out, spec, arch.denseProj(layer, "down_proj"), hidden, inter);
      }
      if (layer >= spec.numLayers()) { // the MTP layer's own tensors: it mixes the next token's embedding in
        TestModelWriter.norm(out, spec, p + "enorm.weight", hidden);
        TestModelWriter.norm(out, spec, p + "hnorm.weight", hidden);
        TestModelWriter.matrix(out, spec, p + "eh_proj.weight", hidden, 2 * hidden, 1.0);
        TestModelWriter.norm(out, spec, p + "shared_head.norm.weight", hidden);
      }
    }
    TestModelWriter.norm(out, spec, "model.norm.weight", hidden);
    TestModelWriter.matrix(out, spec, "lm_head.weight", spec.vocabSize(), hidden, 1.0);
    out.write(file);
  }
}
