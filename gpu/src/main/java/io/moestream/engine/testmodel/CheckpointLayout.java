package io.moestream.engine.testmodel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.engine.format.DType;
import io.moestream.engine.kernel.Matrix;
import io.moestream.engine.model.Architecture;
import io.moestream.engine.model.MlaConfig;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.model.QuantizationConfig;
import io.moestream.engine.model.RoutingConfig;
import io.moestream.engine.testmodel.CheckpointTensor.Role;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Every tensor the Hugging Face checkpoint of a model holds, from the engine's own parsed
 * {@link ModelConfig}: the names {@link io.moestream.engine.model.ModelWeights} reads, in the order the
 * modeling code registers them (save_pretrained writes them so), with the released dtypes.
 *
 * <p>Dtypes: everything in config.json's {@code torch_dtype}, except with FP8 ({@code quantization_config}
 * with {@code weight_block_size}) the linear projections (attention, dense MLP, experts, shared experts),
 * which are F8_E4M3 with an F32 {@code weight_scale_inv} of (ceil(rows / block), ceil(cols / block)).
 * Embeddings, norms, routers and the LM head stay unquantized, as do modules named by
 * {@code modules_to_not_convert} / {@code ignored_layers} (an entry matches a module of that name, or one
 * it is a dotted part of). DeepSeek-V3's router bias is F32, as released.
 *
 * <p>gpt-oss ({@code gpt_oss}): attention with q/k/v/o biases and {@code self_attn.sinks} (numHeads);
 * {@code mlp.router} weight and bias; the experts stacked per layer, with {@code quant_method: mxfp4} (the
 * releases) as U8 {@code gate_up_proj_blocks} (E, 2 * inter, hidden / 32, 16), {@code gate_up_proj_scales}
 * (E, 2 * inter, hidden / 32), {@code down_proj_blocks} (E, hidden, inter / 32, 16), {@code down_proj_scales}
 * (E, hidden, inter / 32), otherwise {@code gate_up_proj} (E, hidden, 2 * inter) and {@code down_proj}
 * (E, inter, hidden) in torch_dtype; {@code gate_up_proj_bias} (E, 2 * inter) and {@code down_proj_bias}
 * (E, hidden) in torch_dtype either way.
 *
 * <p>Tensors the engine ignores are included where a public listing of the release confirms them:
 * DeepSeek-V3's multi-token-prediction layers ({@code num_nextn_predict_layers}, layer index
 * {@code num_hidden_layers} on: a full decoder layer plus {@code embed_tokens}, {@code enorm},
 * {@code hnorm}, {@code eh_proj}, {@code shared_head.norm}, {@code shared_head.head}, the last three
 * unquantized), and GLM-4.5's (a full decoder layer plus {@code enorm}, {@code hnorm}, {@code eh_proj} and
 * {@code shared_head.norm}: the names public listings confirm; GLM's MTP layer shares the main
 * embedding and LM head). No release of these families stores rotary {@code inv_freq} buffers, so none
 * are written.
 */
public final class CheckpointLayout {
  private final ModelConfig config;
  private final List<String> notConverted;
  private final DType plain;
  /** gpt-oss only: experts as MXFP4 blocks and scales (quant_method mxfp4) rather than torch_dtype. */
  private final boolean mxfp4;
  private final List<CheckpointTensor> tensors = new ArrayList<>();

  private CheckpointLayout(ModelConfig config, List<String> notConverted, int mtpLayers, boolean mxfp4) {
    this.config = config;
    this.notConverted = List.copyOf(notConverted);
    this.mxfp4 = mxfp4;
    this.plain = switch (config.torchDtype()) {
      case "float32" -> DType.F32;
      case "float16" -> DType.F16;
      default -> DType.BF16; // "bfloat16", and the releases that do not say
    };
    build(mtpLayers);
  }

  /** The layout of the model whose config.json is in {@code modelFolder}. */
  public static List<CheckpointTensor> read(Path modelFolder) {
    ModelConfig config = ModelConfig.read(modelFolder);
    if (config.architecture() == Architecture.GPT_OSS) { // MXFP4 is gpt-oss's own scheme, not the FP8 one
      boolean mxfp4 = json(modelFolder).path("quantization_config").path("quant_method").asText("").equals("mxfp4");
      return Collections.unmodifiableList(new CheckpointLayout(config, List.of(), 0, mxfp4).tensors);
    }
    return of(config, QuantizationConfig.modulesToNotConvert(modelFolder), mtpLayers(modelFolder, config));
  }

  /**
   * @param notConverted modules left unquantized in an FP8 model
   * @param mtpLayers DeepSeek-V3's or GLM-4.5's multi-token-prediction layers after the main ones (0 for none)
   */
  public static List<CheckpointTensor> of(ModelConfig config, List<String> notConverted, int mtpLayers) {
    return Collections.unmodifiableList(new CheckpointLayout(config, notConverted, mtpLayers, false).tensors);
  }

  /** {@code num_nextn_predict_layers} of a DeepSeek or GLM config (the engine does not read it); 0 elsewhere. */
  static int mtpLayers(Path modelFolder, ModelConfig config) {
    if (!config.architecture().isDeepseek() && config.architecture() != Architecture.GLM4_MOE) {
      return 0;
    }
    JsonNode n = json(modelFolder).path("num_nextn_predict_layers");
    return n.canConvertToInt() ? Math.max(0, n.asInt()) : 0;
  }

  private static JsonNode json(Path modelFolder) {
    try {
      return new ObjectMapper().readTree(modelFolder.resolve(ModelConfig.FILE).toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(modelFolder.resolve(ModelConfig.FILE) + ": cannot read: " + e.getMessage(), e);
    }
  }

  public static long totalBytes(List<CheckpointTensor> tensors) {
    return tensors.stream().mapToLong(CheckpointTensor::byteSize).sum();
  }

  private void build(int mtpLayers) {
    int hidden = config.hiddenSize();
    add("model.embed_tokens.weight", plain, Role.MATRIX, config.vocabSize(), hidden);
    for (int layer = 0; layer < config.numLayers() + mtpLayers; layer++) {
      boolean mtp = layer >= config.numLayers();
      // An MTP layer has the FFN of the last main layer's kind (experts in DeepSeek-V3's).
      decoderLayer(layer, config.isSparse(mtp ? config.numLayers() - 1 : layer));
      if (mtp) {
        boolean deepseek = config.architecture().isDeepseek(); // GLM's MTP layer shares embedding and head
        String p = Architecture.layerPrefix(layer);
        if (deepseek) {
          add(p + "embed_tokens.weight", plain, Role.MATRIX, config.vocabSize(), hidden);
        }
        add(p + "enorm.weight", plain, Role.NORM, hidden);
        add(p + "hnorm.weight", plain, Role.NORM, hidden);
        add(p + "eh_proj.weight", plain, Role.MATRIX, hidden, 2L * hidden);
        add(p + "shared_head.norm.weight", plain, Role.NORM, hidden);
        if (deepseek) {
          add(p + "shared_head.head.weight", plain, Role.MATRIX, config.vocabSize(), hidden);
        }
      }
    }
    add("model.norm.weight", plain, Role.NORM, hidden);
    if (!config.tieWordEmbeddings()) {
      add("lm_head.weight", plain, Role.MATRIX, config.vocabSize(), hidden);
    }
  }

  private void decoderLayer(int layer, boolean sparse) {
    String p = Architecture.layerPrefix(layer);
    Architecture arch = config.architecture();
    int hidden = config.hiddenSize();
    if (config.mla() != null) {
      latentAttention(p + "self_attn.");
    } else {
      attention(p + "self_attn.");
    }
    if (sparse && arch == Architecture.GPT_OSS) {
      gptOssMoe(layer);
    } else if (sparse) {
      int experts = config.numExperts();
      int inter = config.moeIntermediateSize();
      add(arch.router(layer), plain, Role.ROUTER, experts, hidden);
      if (config.routing().topkMethod() == RoutingConfig.TopkMethod.NOAUX_TC) {
        add(arch.routerScoreCorrectionBias(layer), DType.F32, Role.SCORE_BIAS, experts);
      }
      for (int e = 0; e < experts; e++) {
        mlp(arch.expertGateProj(layer, e), arch.expertUpProj(layer, e), arch.expertDownProj(layer, e), inter);
      }
      int shared = config.sharedExpertIntermediateSize();
      if (shared > 0) {
        mlp(arch.sharedExpertProj(layer, "gate_proj"), arch.sharedExpertProj(layer, "up_proj"),
            arch.sharedExpertProj(layer, "down_proj"), shared);
        if (config.sharedExpertGated()) {
          add(arch.sharedExpertGate(layer), plain, Role.MATRIX, 1, hidden);
        }
      }
    } else {
      mlp(arch.denseProj(layer, "gate_proj"), arch.denseProj(layer, "up_proj"), arch.denseProj(layer, "down_proj"),
          config.intermediateSize());
    }
    add(p + "input_layernorm.weight", plain, Role.NORM, hidden);
    add(p + "post_attention_layernorm.weight", plain, Role.NORM, hidden);
  }

  /** gpt-oss's router with its bias and the stacked experts of one layer (order of GptOssMLP / GptOssExperts). */
  private void gptOssMoe(int layer) {
    Architecture arch = config.architecture();
    long experts = config.numExperts();
    long hidden = config.hiddenSize();
    long inter = config.moeIntermediateSize();
    add(arch.router(layer), plain, Role.ROUTER, experts, hidden);
    add(arch.routerBias(layer), plain, Role.BIAS, experts);
    String gateUp = Architecture.stackedExperts(layer, "gate_up_proj");
    String down = Architecture.stackedExperts(layer, "down_proj");
    long block = Matrix.MXFP4_BLOCK;
    if (mxfp4) {
      add(gateUp + "_blocks", DType.U8, Role.MXFP4_BLOCKS, experts, 2 * inter, hidden / block, block / 2);
      add(gateUp + "_scales", DType.U8, Role.MXFP4_SCALES, experts, 2 * inter, hidden / block);
    } else {
      add(gateUp, plain, Role.STACKED_TRANSPOSED, experts, hidden, 2 * inter);
    }
    add(gateUp + "_bias", plain, Role.STACKED_BIAS, experts, 2 * inter);
    if (mxfp4) {
      add(down + "_blocks", DType.U8, Role.MXFP4_BLOCKS, experts, hidden, inter / block, block / 2);
      add(down + "_scales", DType.U8, Role.MXFP4_SCALES, experts, hidden, inter / block);
    } else {
      add(down, plain, Role.STACKED_TRANSPOSED, experts, inter, hidden);
    }
    add(down + "_bias", plain, Role.STACKED_BIAS, experts, hidden);
  }

  private void attention(String p) {
    int hidden = config.hiddenSize();
    int qDim = config.qDim();
    int kvDim = config.kvDim();
    boolean bias = config.attentionBias();
    linear(p + "q_proj.weight", qDim, hidden);
    if (bias) {
      add(p + "q_proj.bias", plain, Role.BIAS, qDim);
    }
    linear(p + "k_proj.weight", kvDim, hidden);
    if (bias) {
      add(p + "k_proj.bias", plain, Role.BIAS, kvDim);
    }
    linear(p + "v_proj.weight", kvDim, hidden);
    if (bias) {
      add(p + "v_proj.bias", plain, Role.BIAS, kvDim);
    }
    linear(p + "o_proj.weight", hidden, qDim);
    // Hugging Face gives o_proj a bias with attention_bias, except Qwen2-MoE and GLM-4.5 (q/k/v biases only).
    if (bias && config.architecture() != Architecture.QWEN2_MOE && config.architecture() != Architecture.GLM4_MOE) {
      add(p + "o_proj.bias", plain, Role.BIAS, hidden);
    }
    if (config.architecture() == Architecture.GPT_OSS) {
      add(p + "sinks", plain, Role.BIAS, config.numHeads());
    }
    switch (config.qkNorm()) {
      case PER_HEAD -> {
        add(p + "q_norm.weight", plain, Role.NORM, config.headDim());
        add(p + "k_norm.weight", plain, Role.NORM, config.headDim());
      }
      case WHOLE_PROJECTION -> {
        add(p + "q_norm.weight", plain, Role.NORM, qDim);
        add(p + "k_norm.weight", plain, Role.NORM, kvDim);
      }
      default -> { }
    }
  }

  private void latentAttention(String p) {
    MlaConfig mla = config.mla();
    int hidden = config.hiddenSize();
    int heads = config.numHeads();
    int qRows = heads * mla.qHeadDim();
    if (mla.qLoraRank() > 0) {
      linear(p + "q_a_proj.weight", mla.qLoraRank(), hidden);
      add(p + "q_a_layernorm.weight", plain, Role.NORM, mla.qLoraRank());
      linear(p + "q_b_proj.weight", qRows, mla.qLoraRank());
    } else {
      linear(p + "q_proj.weight", qRows, hidden);
    }
    linear(p + "kv_a_proj_with_mqa.weight", mla.cacheWidth(), hidden);
    add(p + "kv_a_layernorm.weight", plain, Role.NORM, mla.kvLoraRank());
    linear(p + "kv_b_proj.weight", heads * (mla.qkNopeHeadDim() + mla.vHeadDim()), mla.kvLoraRank());
    linear(p + "o_proj.weight", hidden, heads * mla.vHeadDim());
  }

  /** A SiLU-gated MLP: gate (w1) and up (w3) are (inter, hidden), down (w2) is (hidden, inter). */
  private void mlp(String gate, String up, String down, int inter) {
    int hidden = config.hiddenSize();
    linear(gate, inter, hidden);
    linear(up, inter, hidden);
    linear(down, hidden, inter);
  }

  /** A projection weight: FP8 + its block scales in an FP8 model unless its module is left unconverted. */
  private void linear(String name, int rows, int cols) {
    int[] block = config.fp8WeightBlock();
    if (block == null || isNotConverted(name.substring(0, name.length() - ".weight".length()))) {
      add(name, plain, Role.MATRIX, rows, cols);
      return;
    }
    add(name, DType.F8_E4M3, Role.FP8_WEIGHT, rows, cols);
    add(name + "_scale_inv", DType.F32, Role.FP8_SCALE, (rows + block[0] - 1) / block[0], (cols + block[1] - 1) / block[1]);
  }

  private boolean isNotConverted(String module) {
    for (String entry : notConverted) {
      if (module.equals(entry) || module.startsWith(entry + ".") || module.endsWith("." + entry)
          || module.contains("." + entry + ".")) {
        return true;
      }
    }
    return false;
  }

  private void add(String name, DType dtype, Role role, long... shape) {
    tensors.add(new CheckpointTensor(name, dtype, shape, role));
  }
}
