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
 * The DeepSeek-V2/V3 test model: config.json with the fields of Hugging Face's DeepseekV2Config /
 * DeepseekV3Config and the released checkpoints' tensor names. With {@code fp8}, every linear layer but
 * the embeddings, the router and the LM head is stored as E4M3 with a {@code weight_scale_inv} per
 * 128 x 128 block, as in the DeepSeek-V3 release.
 */
final class DeepseekModelWriter {
  private DeepseekModelWriter() {}

  static void writeConfig(TestModelSpec spec, Path file) throws IOException {
    DeepseekSpec ds = spec.deepseek();
    boolean v3 = spec.architecture() == Architecture.DEEPSEEK_V3;
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode c = json.createObjectNode();
    c.putArray("architectures").add(v3 ? "DeepseekV3ForCausalLM" : "DeepseekV2ForCausalLM");
    c.put("model_type", spec.architecture().modelType());
    c.put("vocab_size", spec.vocabSize());
    c.put("hidden_size", spec.hiddenSize());
    c.put("intermediate_size", spec.intermediateSize());
    c.put("moe_intermediate_size", spec.moeIntermediateSize());
    c.put("num_hidden_layers", spec.numLayers());
    c.put("num_attention_heads", spec.numHeads());
    c.put("num_key_value_heads", spec.numHeads());
    c.put("n_shared_experts", ds.nSharedExperts());
    c.put("n_routed_experts", spec.numExperts());
    c.put("routed_scaling_factor", ds.routedScalingFactor());
    c.put("kv_lora_rank", ds.kvLoraRank());
    if (ds.qLoraRank() > 0) {
      c.put("q_lora_rank", ds.qLoraRank());
    } else {
      c.putNull("q_lora_rank");
    }
    c.put("qk_rope_head_dim", ds.qkRopeHeadDim());
    c.put("v_head_dim", ds.vHeadDim());
    c.put("qk_nope_head_dim", ds.qkNopeHeadDim());
    c.put("topk_method", ds.topkMethod());
    c.put("n_group", ds.nGroup());
    c.put("topk_group", ds.topkGroup());
    c.put("num_experts_per_tok", spec.expertsPerToken());
    c.put("moe_layer_freq", ds.moeLayerFreq());
    c.put("first_k_dense_replace", ds.firstKDenseReplace());
    c.put("norm_topk_prob", ds.normTopKProb());
    c.put("scoring_func", v3 ? "sigmoid" : "softmax");
    c.put("aux_loss_alpha", 0.001);
    c.put("seq_aux", true);
    c.put("hidden_act", "silu");
    c.put("max_position_embeddings", spec.maxPositionEmbeddings());
    c.put("initializer_range", 0.02);
    c.put("rms_norm_eps", 1e-6);
    c.put("use_cache", true);
    c.put("bos_token_id", spec.bosTokenId());
    c.put("eos_token_id", spec.eosTokenId());
    c.put("tie_word_embeddings", false);
    c.put("rope_theta", 10000.0);
    if (ds.yarnFactor() > 0) {
      ObjectNode rope = c.putObject("rope_scaling");
      rope.put("beta_fast", 32);
      rope.put("beta_slow", 1);
      rope.put("factor", ds.yarnFactor());
      rope.put("mscale", ds.yarnMscale());
      rope.put("mscale_all_dim", ds.yarnMscaleAllDim());
      rope.put("original_max_position_embeddings", ds.yarnOriginalMaxPositions());
      rope.put("type", "yarn");
    } else {
      c.putNull("rope_scaling");
    }
    c.put("attention_bias", false);
    c.put("attention_dropout", 0.0);
    c.put("torch_dtype", switch (spec.dtype()) {
      case BF16 -> "bfloat16";
      case F16 -> "float16";
      default -> "float32";
    });
    if (ds.fp8()) {
      TestModelWriter.fp8Config(c, DeepseekSpec.FP8_BLOCK);
    }
    c.put("transformers_version", "4.51.0");
    json.writeValue(file.toFile(), c);
  }

  static void writeWeights(TestModelSpec spec, Path file) throws IOException {
    DeepseekSpec ds = spec.deepseek();
    Architecture arch = spec.architecture();
    SafetensorsWriter out = new SafetensorsWriter();
    int hidden = spec.hiddenSize();
    int heads = spec.numHeads();
    int qRows = heads * (ds.qkNopeHeadDim() + ds.qkRopeHeadDim());
    TestModelWriter.matrix(out, spec, "model.embed_tokens.weight", spec.vocabSize(), hidden, 1.0);
    for (int layer = 0; layer < spec.numLayers(); layer++) {
      String p = Architecture.layerPrefix(layer);
      TestModelWriter.norm(out, spec, p + "input_layernorm.weight", hidden);
      if (ds.qLoraRank() > 0) {
        linear(out, spec, p + "self_attn.q_a_proj.weight", ds.qLoraRank(), hidden);
        TestModelWriter.norm(out, spec, p + "self_attn.q_a_layernorm.weight", ds.qLoraRank());
        linear(out, spec, p + "self_attn.q_b_proj.weight", qRows, ds.qLoraRank());
      } else {
        linear(out, spec, p + "self_attn.q_proj.weight", qRows, hidden);
      }
      linear(out, spec, p + "self_attn.kv_a_proj_with_mqa.weight", ds.kvLoraRank() + ds.qkRopeHeadDim(), hidden);
      TestModelWriter.norm(out, spec, p + "self_attn.kv_a_layernorm.weight", ds.kvLoraRank());
      linear(out, spec, p + "self_attn.kv_b_proj.weight", heads * (ds.qkNopeHeadDim() + ds.vHeadDim()), ds.kvLoraRank());
      linear(out, spec, p + "self_attn.o_proj.weight", hidden, heads * ds.vHeadDim());
      TestModelWriter.norm(out, spec, p + "post_attention_layernorm.weight", hidden);
      boolean sparse = layer >= ds.firstKDenseReplace() && layer % ds.moeLayerFreq() == 0;
      if (sparse) {
        // A larger router scale spreads routing scores, so top-k choices are not ties.
        TestModelWriter.matrix(out, spec, arch.router(layer), spec.numExperts(), hidden, 4.0);
        if (ds.topkMethod().equals("noaux_tc")) {
          out.add(arch.routerScoreCorrectionBias(layer), DType.F32, new long[] {spec.numExperts()},
              TestModelWriter.uniform(spec.seed(), arch.routerScoreCorrectionBias(layer), -0.05, 0.05));
        }
        int inter = spec.moeIntermediateSize();
        for (int e = 0; e < spec.numExperts(); e++) {
          linear(out, spec, arch.expertGateProj(layer, e), inter, hidden);
          linear(out, spec, arch.expertUpProj(layer, e), inter, hidden);
          linear(out, spec, arch.expertDownProj(layer, e), hidden, inter);
        }
        if (ds.nSharedExperts() > 0) {
          int shared = inter * ds.nSharedExperts();
          linear(out, spec, arch.sharedExpertProj(layer, "gate_proj"), shared, hidden);
          linear(out, spec, arch.sharedExpertProj(layer, "up_proj"), shared, hidden);
          linear(out, spec, arch.sharedExpertProj(layer, "down_proj"), hidden, shared);
        }
      } else {
        int inter = spec.intermediateSize();
        linear(out, spec, arch.denseProj(layer, "gate_proj"), inter, hidden);
        linear(out, spec, arch.denseProj(layer, "up_proj"), inter, hidden);
        linear(out, spec, arch.denseProj(layer, "down_proj"), hidden, inter);
      }
    }
    TestModelWriter.norm(out, spec, "model.norm.weight", hidden);
    TestModelWriter.matrix(out, spec, "lm_head.weight", spec.vocabSize(), hidden, 1.0);
    out.write(file);
  }

  /** A linear layer's weight: in the spec's dtype, or FP8 E4M3 + its block scales. */
  private static void linear(SafetensorsWriter out, TestModelSpec spec, String name, int rows, int cols) {
    if (!spec.deepseek().fp8()) {
      TestModelWriter.matrix(out, spec, name, rows, cols, 1.0);
      return;
    }
    TestModelWriter.fp8Matrix(out, spec, name, rows, cols, DeepseekSpec.FP8_BLOCK);
  }
}
