package io.moestream.engine.testmodel;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.format.DType;
import io.moestream.engine.format.SafetensorsWriter;
import io.moestream.engine.kernel.ExpertLayouts;
import io.moestream.engine.kernel.Matrix;
import io.moestream.engine.model.Architecture;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The gpt-oss ({@code gpt_oss}) test model: config.json with the fields of the released configs and
 * Hugging Face's tensor names. Experts are stacked per layer: BF16-layout {@code gate_up_proj}
 * (numExperts, hidden, 2 * inter) with gate and up interleaved by column and {@code down_proj}
 * (numExperts, inter, hidden), in the spec's dtype; or, with MXFP4, the same values quantized into
 * {@code *_blocks} (numExperts, out, in / 32, 16) and {@code *_scales} (numExperts, out, in / 32) in the
 * (out, in) order the release stores, plus {@code quantization_config} as the release writes it.
 */
final class GptOssModelWriter {
  private GptOssModelWriter() {}

  static void writeConfig(TestModelSpec spec, Path file) throws IOException {
    GptOssSpec oss = spec.gptOss();
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode c = json.createObjectNode();
    c.putArray("architectures").add("GptOssForCausalLM");
    c.put("model_type", Architecture.GPT_OSS.modelType());
    c.put("vocab_size", spec.vocabSize());
    c.put("hidden_size", spec.hiddenSize());
    c.put("intermediate_size", spec.moeIntermediateSize());
    c.put("num_hidden_layers", spec.numLayers());
    c.put("num_attention_heads", spec.numHeads());
    c.put("num_key_value_heads", spec.numKvHeads());
    c.put("head_dim", spec.headDim());
    c.put("hidden_act", "silu");
    c.put("attention_bias", true);
    c.put("attention_dropout", 0.0);
    c.put("num_local_experts", spec.numExperts());
    c.put("num_experts_per_tok", spec.expertsPerToken());
    c.put("experts_per_token", spec.expertsPerToken());
    c.put("swiglu_limit", oss.swigluLimit());
    c.put("sliding_window", Math.max(oss.slidingWindow(), 1));
    ArrayNode types = c.putArray("layer_types");
    for (int layer = 0; layer < spec.numLayers(); layer++) {
      types.add(oss.slidingWindow() > 0 && layer % 2 == 0 ? "sliding_attention" : "full_attention");
    }
    c.put("rms_norm_eps", 1e-5);
    c.put("rope_theta", 150000.0);
    if (oss.yarn()) {
      ObjectNode rope = c.putObject("rope_scaling");
      rope.put("rope_type", "yarn");
      rope.put("factor", 32.0);
      rope.put("beta_fast", 32.0);
      rope.put("beta_slow", 1.0);
      rope.put("original_max_position_embeddings", 4096);
      rope.put("truncate", false);
    } else {
      c.putNull("rope_scaling");
    }
    c.put("initial_context_length", 4096);
    c.put("max_position_embeddings", spec.maxPositionEmbeddings());
    c.put("tie_word_embeddings", false);
    c.put("bos_token_id", spec.bosTokenId());
    c.put("eos_token_id", spec.eosTokenId());
    c.put("pad_token_id", spec.eosTokenId());
    c.put("router_aux_loss_coef", 0.9);
    c.put("output_router_logits", false);
    c.put("torch_dtype", switch (spec.dtype()) {
      case BF16 -> "bfloat16";
      case F16 -> "float16";
      default -> "float32";
    });
    if (oss.mxfp4()) {
      ObjectNode q = c.putObject("quantization_config");
      q.put("quant_method", "mxfp4");
      q.putArray("modules_to_not_convert").add("model.layers.*.self_attn").add("model.layers.*.mlp.router")
          .add("model.embed_tokens").add("lm_head");
    }
    c.put("initializer_range", 0.02);
    c.put("use_cache", true);
    c.put("transformers_version", "4.55.0");
    json.writeValue(file.toFile(), c);
  }

  static void writeWeights(TestModelSpec spec, Path file) throws IOException {
    GptOssSpec oss = spec.gptOss();
    Architecture arch = Architecture.GPT_OSS;
    SafetensorsWriter out = new SafetensorsWriter();
    int hidden = spec.hiddenSize();
    int qDim = spec.numHeads() * spec.headDim();
    int kvDim = spec.numKvHeads() * spec.headDim();
    int experts = spec.numExperts();
    int inter = spec.moeIntermediateSize();
    TestModelWriter.matrix(out, spec, "model.embed_tokens.weight", spec.vocabSize(), hidden, 1.0);
    for (int layer = 0; layer < spec.numLayers(); layer++) {
      String p = Architecture.layerPrefix(layer);
      TestModelWriter.norm(out, spec, p + "input_layernorm.weight", hidden);
      TestModelWriter.matrix(out, spec, p + "self_attn.q_proj.weight", qDim, hidden, 1.0);
      TestModelWriter.matrix(out, spec, p + "self_attn.k_proj.weight", kvDim, hidden, 1.0);
      TestModelWriter.matrix(out, spec, p + "self_attn.v_proj.weight", kvDim, hidden, 1.0);
      TestModelWriter.matrix(out, spec, p + "self_attn.o_proj.weight", hidden, qDim, 1.0);
      TestModelWriter.vector(out, spec, p + "self_attn.q_proj.bias", qDim, 0.2);
      TestModelWriter.vector(out, spec, p + "self_attn.k_proj.bias", kvDim, 0.2);
      TestModelWriter.vector(out, spec, p + "self_attn.v_proj.bias", kvDim, 0.2);
      TestModelWriter.vector(out, spec, p + "self_attn.o_proj.bias", hidden, 0.2);
      if (oss.sinks()) {
        // Sinks of a few units, like the released ones, so they take a visible share of each softmax.
        out.add(p + "self_attn.sinks", spec.dtype(), new long[] {spec.numHeads()},
            TestModelWriter.uniform(spec.seed(), p + "self_attn.sinks", -1.0, 2.0));
      } else {
        float[] none = new float[spec.numHeads()];
        java.util.Arrays.fill(none, Float.NEGATIVE_INFINITY);
        out.add(p + "self_attn.sinks", DType.F32, new long[] {spec.numHeads()}, none);
      }
      TestModelWriter.norm(out, spec, p + "post_attention_layernorm.weight", hidden);
      // A larger router scale spreads routing probabilities, so top-k choices are not ties.
      TestModelWriter.matrix(out, spec, arch.router(layer), experts, hidden, 4.0);
      TestModelWriter.vector(out, spec, arch.routerBias(layer), experts, 0.5);
      String gateUp = Architecture.stackedExperts(layer, "gate_up_proj");
      String down = Architecture.stackedExperts(layer, "down_proj");
      if (oss.mxfp4()) {
        mxfp4(out, spec, gateUp, experts, 2 * inter, hidden);
        mxfp4(out, spec, down, experts, hidden, inter);
      } else {
        double gateUpBound = Math.sqrt(3.0 / hidden);
        double downBound = Math.sqrt(3.0 / inter);
        out.add(gateUp, spec.dtype(), new long[] {experts, hidden, 2L * inter},
            TestModelWriter.uniform(spec.seed(), gateUp, -gateUpBound, gateUpBound));
        out.add(down, spec.dtype(), new long[] {experts, inter, hidden},
            TestModelWriter.uniform(spec.seed(), down, -downBound, downBound));
      }
      out.add(gateUp + "_bias", spec.dtype(), new long[] {experts, 2L * inter},
          TestModelWriter.uniform(spec.seed(), gateUp + "_bias", -0.2, 0.2));
      out.add(down + "_bias", spec.dtype(), new long[] {experts, hidden},
          TestModelWriter.uniform(spec.seed(), down + "_bias", -0.2, 0.2));
    }
    TestModelWriter.norm(out, spec, "model.norm.weight", hidden);
    TestModelWriter.matrix(out, spec, "lm_head.weight", spec.vocabSize(), hidden, 1.0);
    out.write(file);
  }

  /** Per expert uniform (rows = out, cols = in) values of a 1/sqrt(in) init, quantized to MXFP4. */
  private static void mxfp4(SafetensorsWriter out, TestModelSpec spec, String name, int experts, int rows, int cols) {
    double bound = Math.sqrt(3.0 / cols);
    float[] values = new float[experts * rows * cols];
    TestModelWriter.uniform(spec.seed(), name, -bound, bound).fill(values, 0, values.length);
    int groups = cols / Matrix.MXFP4_BLOCK;
    byte[] blocks = new byte[experts * rows * cols / 2];
    byte[] scales = new byte[experts * rows * groups];
    ExpertLayouts.mxfp4Quantize(values, experts * rows, cols, blocks, scales);
    out.addRaw(name + "_blocks", DType.U8, new long[] {experts, rows, groups, 16}, blocks);
    out.addRaw(name + "_scales", DType.U8, new long[] {experts, rows, groups}, scales);
  }
}
