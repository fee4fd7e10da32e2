package io.moestream.engine.testmodel;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.format.DType;
import io.moestream.engine.format.SafetensorsWriter;
import io.moestream.engine.model.Architecture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Writes a random-weight model folder (config.json + model.safetensors) with the tensor names and the
 * config fields Hugging Face transformers uses for the family, so transformers would load it. Weights
 * are uniform with the variance of a 1/sqrt(fanIn) init; each tensor's values depend only on the seed
 * and the tensor's name.
 */
public final class TestModelWriter {
  private TestModelWriter() {}

  public static void write(TestModelSpec spec, Path folder) throws IOException {
    spec.validate();
    Files.createDirectories(folder);
    if (spec.architecture().isDeepseek()) {
      DeepseekModelWriter.writeConfig(spec, folder.resolve("config.json"));
      DeepseekModelWriter.writeWeights(spec, folder.resolve("model.safetensors"));
      return;
    }
    if (spec.architecture() == Architecture.GLM4_MOE) {
      Glm4MoeModelWriter.writeConfig(spec, folder.resolve("config.json"));
      Glm4MoeModelWriter.writeWeights(spec, folder.resolve("model.safetensors"));
      return;
    }
    if (spec.architecture() == Architecture.GPT_OSS) {
      GptOssModelWriter.writeConfig(spec, folder.resolve("config.json"));
      GptOssModelWriter.writeWeights(spec, folder.resolve("model.safetensors"));
      return;
    }
    writeConfig(spec, folder.resolve("config.json"));
    writeWeights(spec, folder.resolve("model.safetensors"));
  }

  private static boolean isSparse(TestModelSpec spec, int layer) {
    return (layer + 1) % spec.decoderSparseStep() == 0;
  }

  static void writeConfig(TestModelSpec spec, Path file) throws IOException {
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode c = json.createObjectNode();
    Architecture arch = spec.architecture();
    c.putArray("architectures").add(switch (arch) {
      case QWEN3_MOE -> "Qwen3MoeForCausalLM";
      case QWEN2_MOE -> "Qwen2MoeForCausalLM";
      case MIXTRAL -> "MixtralForCausalLM";
      case OLMOE -> "OlmoeForCausalLM";
      case DEEPSEEK_V2 -> "DeepseekV2ForCausalLM";
      case DEEPSEEK_V3 -> "DeepseekV3ForCausalLM";
      case GLM4_MOE -> "Glm4MoeForCausalLM";
      case GPT_OSS -> "GptOssForCausalLM";
    });
    c.put("model_type", arch.modelType());
    c.put("vocab_size", spec.vocabSize());
    c.put("hidden_size", spec.hiddenSize());
    c.put("num_hidden_layers", spec.numLayers());
    c.put("num_attention_heads", spec.numHeads());
    c.put("num_key_value_heads", spec.numKvHeads());
    c.put("head_dim", spec.headDim());
    c.put("hidden_act", "silu");
    c.put("num_experts_per_tok", spec.expertsPerToken());
    switch (arch) {
      case MIXTRAL -> {
        c.put("num_local_experts", spec.numExperts());
        c.put("intermediate_size", spec.moeIntermediateSize());
        c.putNull("sliding_window");
        c.put("router_aux_loss_coef", 0.02);
      }
      case OLMOE -> {
        c.put("num_experts", spec.numExperts());
        c.put("intermediate_size", spec.moeIntermediateSize());
        c.put("norm_topk_prob", false);
        c.putNull("clip_qkv");
      }
      case QWEN2_MOE -> {
        c.put("num_experts", spec.numExperts());
        c.put("moe_intermediate_size", spec.moeIntermediateSize());
        c.put("intermediate_size", spec.intermediateSize());
        c.put("shared_expert_intermediate_size", spec.sharedExpertIntermediateSize());
        c.put("norm_topk_prob", false);
        c.put("decoder_sparse_step", spec.decoderSparseStep());
        c.putArray("mlp_only_layers");
        c.put("use_sliding_window", false);
      }
      case DEEPSEEK_V2, DEEPSEEK_V3 -> throw new IllegalStateException("written by DeepseekModelWriter");
      case GLM4_MOE -> throw new IllegalStateException("written by Glm4MoeModelWriter");
      case GPT_OSS -> throw new IllegalStateException("written by GptOssModelWriter");
      case QWEN3_MOE -> {
        c.put("num_experts", spec.numExperts());
        c.put("moe_intermediate_size", spec.moeIntermediateSize());
        c.put("intermediate_size", spec.intermediateSize());
        c.put("norm_topk_prob", true);
        c.put("decoder_sparse_step", spec.decoderSparseStep());
        c.putArray("mlp_only_layers");
        c.put("attention_bias", false);
        c.put("use_sliding_window", false);
      }
    }
    c.put("rms_norm_eps", 1e-6);
    c.put("rope_theta", 1000000.0);
    c.putNull("rope_scaling");
    c.put("max_position_embeddings", spec.maxPositionEmbeddings());
    c.put("tie_word_embeddings", false);
    c.put("bos_token_id", spec.bosTokenId());
    c.put("eos_token_id", spec.eosTokenId());
    c.put("torch_dtype", switch (spec.dtype()) {
      case BF16 -> "bfloat16";
      case F16 -> "float16";
      default -> "float32";
    });
    if (spec.fp8Block() > 0) {
      fp8Config(c, spec.fp8Block());
    }
    c.put("initializer_range", 0.02);
    c.put("use_cache", true);
    c.put("transformers_version", "4.51.0");
    json.writeValue(file.toFile(), c);
  }

  static void writeWeights(TestModelSpec spec, Path file) throws IOException {
    SafetensorsWriter out = new SafetensorsWriter();
    Architecture arch = spec.architecture();
    int hidden = spec.hiddenSize();
    int qDim = spec.numHeads() * spec.headDim();
    int kvDim = spec.numKvHeads() * spec.headDim();
    matrix(out, spec, "model.embed_tokens.weight", spec.vocabSize(), hidden, 1.0);
    for (int layer = 0; layer < spec.numLayers(); layer++) {
      String p = Architecture.layerPrefix(layer);
      norm(out, spec, p + "input_layernorm.weight", hidden);
      linear(out, spec, p + "self_attn.q_proj.weight", qDim, hidden);
      linear(out, spec, p + "self_attn.k_proj.weight", kvDim, hidden);
      linear(out, spec, p + "self_attn.v_proj.weight", kvDim, hidden);
      linear(out, spec, p + "self_attn.o_proj.weight", hidden, qDim);
      if (arch == Architecture.QWEN2_MOE) {
        vector(out, spec, p + "self_attn.q_proj.bias", qDim, 0.1);
        vector(out, spec, p + "self_attn.k_proj.bias", kvDim, 0.1);
        vector(out, spec, p + "self_attn.v_proj.bias", kvDim, 0.1);
      }
      if (arch == Architecture.QWEN3_MOE) {
        norm(out, spec, p + "self_attn.q_norm.weight", spec.headDim());
        norm(out, spec, p + "self_attn.k_norm.weight", spec.headDim());
      }
      if (arch == Architecture.OLMOE) {
        norm(out, spec, p + "self_attn.q_norm.weight", qDim);
        norm(out, spec, p + "self_attn.k_norm.weight", kvDim);
      }
      norm(out, spec, p + "post_attention_layernorm.weight", hidden);
      boolean sparse = arch == Architecture.MIXTRAL || arch == Architecture.OLMOE || isSparse(spec, layer);
      if (sparse) {
        // A larger router scale spreads routing probabilities, so top-k choices are not ties.
        matrix(out, spec, arch.router(layer), spec.numExperts(), hidden, 4.0);
        int inter = spec.moeIntermediateSize();
        for (int e = 0; e < spec.numExperts(); e++) {
          linear(out, spec, arch.expertGateProj(layer, e), inter, hidden);
          linear(out, spec, arch.expertUpProj(layer, e), inter, hidden);
          linear(out, spec, arch.expertDownProj(layer, e), hidden, inter);
        }
        if (arch == Architecture.QWEN2_MOE && spec.sharedExpertIntermediateSize() > 0) {
          int shared = spec.sharedExpertIntermediateSize();
          linear(out, spec, arch.sharedExpertProj(layer, "gate_proj"), shared, hidden);
          linear(out, spec, arch.sharedExpertProj(layer, "up_proj"), shared, hidden);
          linear(out, spec, arch.sharedExpertProj(layer, "down_proj"), hidden, shared);
          matrix(out, spec, arch.sharedExpertGate(layer), 1, hidden, 1.0);
        }
      } else {
        int inter = spec.intermediateSize();
        linear(out, spec, arch.denseProj(layer, "gate_proj"), inter, hidden);
        linear(out, spec, arch.denseProj(layer, "up_proj"), inter, hidden);
        linear(out, spec, arch.denseProj(layer, "down_proj"), hidden, inter);
      }
    }
    norm(out, spec, "model.norm.weight", hidden);
    matrix(out, spec, "lm_head.weight", spec.vocabSize(), hidden, 1.0);
    out.write(file);
  }

  /** {@code quantization_config} as the DeepSeek-V3 and Qwen3 FP8 releases write it. */
  static void fp8Config(ObjectNode config, int block) {
    ObjectNode q = config.putObject("quantization_config");
    q.put("activation_scheme", "dynamic");
    q.put("fmt", "e4m3");
    q.put("quant_method", "fp8");
    q.putArray("weight_block_size").add(block).add(block);
  }

  /** A linear layer's weight: in the spec's dtype, or FP8 E4M3 + its block scales when the spec asks. */
  static void linear(SafetensorsWriter out, TestModelSpec spec, String name, int rows, int cols) {
    if (spec.fp8Block() > 0) {
      fp8Matrix(out, spec, name, rows, cols, spec.fp8Block());
    } else {
      matrix(out, spec, name, rows, cols, 1.0);
    }
  }

  /** The values {@link #matrix} would write at scale 1, quantized: E4M3 codes and F32 {@code <name>_scale_inv}. */
  static void fp8Matrix(SafetensorsWriter out, TestModelSpec spec, String name, int rows, int cols, int block) {
    Fp8RandomMatrix weight = new Fp8RandomMatrix(spec.seed(), name, rows, cols, block, block);
    out.addBytes(name, DType.F8_E4M3, new long[] {rows, cols}, weight);
    out.add(name + "_scale_inv", DType.F32, weight.scaleShape(), weight.scales());
  }

  /** Uniform values with standard deviation scale / sqrt(cols). */
  static void matrix(SafetensorsWriter out, TestModelSpec spec, String name, int rows, int cols, double scale) {
    matrix(out, spec.seed(), spec.dtype(), name, rows, cols, scale);
  }

  static void matrix(SafetensorsWriter out, long seed, DType dtype, String name, long rows, long cols, double scale) {
    double bound = scale * Math.sqrt(3.0 / cols);
    out.add(name, dtype, new long[] {rows, cols}, uniform(seed, name, -bound, bound));
  }

  static void vector(SafetensorsWriter out, TestModelSpec spec, String name, int n, double bound) {
    vector(out, spec.seed(), spec.dtype(), name, n, bound);
  }

  static void vector(SafetensorsWriter out, long seed, DType dtype, String name, long n, double bound) {
    out.add(name, dtype, new long[] {n}, uniform(seed, name, -bound, bound));
  }

  static void norm(SafetensorsWriter out, TestModelSpec spec, String name, int n) {
    norm(out, spec.seed(), spec.dtype(), name, n);
  }

  /** Norm weights near 1, so each layer's scale varies a little. */
  static void norm(SafetensorsWriter out, long seed, DType dtype, String name, long n) {
    out.add(name, dtype, new long[] {n}, uniform(seed, name, 0.8, 1.2));
  }

  static SafetensorsWriter.ValueSource uniform(long seed, String name, double low, double high) {
    SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L ^ name.hashCode());
    return (buffer, start, count) -> {
      for (int i = 0; i < count; i++) {
        buffer[i] = (float) (low + (high - low) * random.nextDouble());
      }
    };
  }
}
