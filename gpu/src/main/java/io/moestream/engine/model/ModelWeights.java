package io.moestream.engine.model;

import io.moestream.engine.format.Checkpoint;
import io.moestream.engine.kernel.Matrix;
import java.nio.file.Path;
import java.util.SortedSet;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every weight of a model, checked against its config before the first step. Matrices stay in the
 * memory-mapped checkpoint; only norm weights and biases (small) are copied to the heap.
 *
 * @param embedTokens (vocabSize, hiddenSize)
 * @param finalNorm (hiddenSize)
 * @param lmHead (vocabSize, hiddenSize); the same matrix as embedTokens when the config ties them
 */
public record ModelWeights(
    ModelConfig config, Matrix embedTokens, LayerWeights[] layers, float[] finalNorm, Matrix lmHead) {
  private static final Logger LOG = LoggerFactory.getLogger(ModelWeights.class);

  public static ModelWeights load(Path modelFolder) {
    ModelConfig config = ModelConfig.read(modelFolder);
    return load(config, Checkpoint.open(modelFolder));
  }

  public static ModelWeights load(ModelConfig config, Checkpoint checkpoint) {
    SortedSet<Integer> skipped = layersBeyondConfig(config, checkpoint);
    if (!skipped.isEmpty()) {
      LOG.info("{}: skipping checkpoint layers {} beyond num_hidden_layers = {}: next-token-prediction (MTP) layers,"
          + " which the engine does not run", checkpoint.folder(), skipped, config.numLayers());
    }
    TensorChecker tensors = new TensorChecker(checkpoint, config.fp8WeightBlock());
    Architecture arch = config.architecture();
    int hidden = config.hiddenSize();
    Matrix embed = tensors.matrix("model.embed_tokens.weight", config.vocabSize(), hidden);
    LayerWeights[] layers = new LayerWeights[config.numLayers()];
    for (int layer = 0; layer < layers.length; layer++) {
      String prefix = Architecture.layerPrefix(layer);
      AttentionWeights attention = config.mla() == null ? attention(config, tensors, prefix) : null;
      MlaWeights latent = config.mla() != null ? latentAttention(config, tensors, layer) : null;
      MoeWeights moe = null;
      ExpertWeights dense = null;
      if (config.isSparse(layer)) {
        moe = moe(config, tensors, layer);
      } else {
        int inter = config.intermediateSize();
        dense = new ExpertWeights(
            tensors.matrix(arch.denseProj(layer, "gate_proj"), inter, hidden),
            tensors.matrix(arch.denseProj(layer, "up_proj"), inter, hidden),
            tensors.matrix(arch.denseProj(layer, "down_proj"), hidden, inter));
      }
      layers[layer] = new LayerWeights(
          tensors.vector(prefix + "input_layernorm.weight", hidden), attention,
          tensors.vector(prefix + "post_attention_layernorm.weight", hidden), moe, dense, latent);
    }
    float[] finalNorm = tensors.vector("model.norm.weight", hidden);
    Matrix lmHead = config.tieWordEmbeddings() && !tensors.has("lm_head.weight")
        ? embed
        : tensors.matrix("lm_head.weight", config.vocabSize(), hidden);
    tensors.throwIfProblems();
    return new ModelWeights(config, embed, layers, finalNorm, lmHead);
  }

  /**
   * Layer indices {@code >= num_hidden_layers} that have tensors in the checkpoint: GLM-4.5's and
   * DeepSeek-V3's next-token-prediction layers ({@code num_nextn_predict_layers}), stored after the
   * decoder layers. Hugging Face's models ignore them too.
   */
  public static SortedSet<Integer> layersBeyondConfig(ModelConfig config, Checkpoint checkpoint) {
    SortedSet<Integer> layers = new TreeSet<>();
    String prefix = "model.layers.";
    for (String name : checkpoint.tensors().keySet()) {
      int end = name.indexOf('.', prefix.length());
      if (name.startsWith(prefix) && end > prefix.length()) {
        try {
          int layer = Integer.parseInt(name.substring(prefix.length(), end));
          if (layer >= config.numLayers()) {
            layers.add(layer);
          }
        } catch (NumberFormatException e) {
          // not a numbered layer: nothing to skip
        }
      }
    }
    return layers;
  }

  private static AttentionWeights attention(ModelConfig config, TensorChecker tensors, String prefix) {
    int hidden = config.hiddenSize();
    int qDim = config.qDim();
    int kvDim = config.kvDim();
    String p = prefix + "self_attn.";
    boolean bias = config.attentionBias();
    float[] qNorm = null;
    float[] kNorm = null;
    switch (config.qkNorm()) {
      case PER_HEAD -> {
        qNorm = tensors.vector(p + "q_norm.weight", config.headDim());
        kNorm = tensors.vector(p + "k_norm.weight", config.headDim());
      }
      case WHOLE_PROJECTION -> {
        qNorm = tensors.vector(p + "q_norm.weight", qDim);
        kNorm = tensors.vector(p + "k_norm.weight", kvDim);
      }
      default -> { }
    }
    return new AttentionWeights(
        tensors.matrix(p + "q_proj.weight", qDim, hidden),
        tensors.matrix(p + "k_proj.weight", kvDim, hidden),
        tensors.matrix(p + "v_proj.weight", kvDim, hidden),
        tensors.matrix(p + "o_proj.weight", hidden, qDim),
        bias ? tensors.vector(p + "q_proj.bias", qDim) : null,
        bias ? tensors.vector(p + "k_proj.bias", kvDim) : null,
        bias ? tensors.vector(p + "v_proj.bias", kvDim) : null,
        qNorm, kNorm,
        // Hugging Face gives o_proj a bias with attention_bias, except Qwen2-MoE and GLM-4.5 (q/k/v biases only).
        bias && !qkvBiasOnly(config.architecture()) ? tensors.vector(p + "o_proj.bias", hidden) : null,
        config.architecture() == Architecture.GPT_OSS ? tensors.vector(p + "sinks", config.numHeads()) : null);
  }

  private static boolean qkvBiasOnly(Architecture arch) {
    return arch == Architecture.QWEN2_MOE || arch == Architecture.GLM4_MOE;
  }

  private static MlaWeights latentAttention(ModelConfig config, TensorChecker tensors, int layer) {
    MlaConfig mla = config.mla();
    int hidden = config.hiddenSize();
    int heads = config.numHeads();
    int qRows = heads * mla.qHeadDim();
    boolean compressedQ = mla.qLoraRank() > 0;
    String norm = Architecture.layerPrefix(layer) + "self_attn.";
    return new MlaWeights(
        compressedQ ? null : tensors.matrix(Architecture.attentionWeight(layer, "q_proj"), qRows, hidden),
        compressedQ ? tensors.matrix(Architecture.attentionWeight(layer, "q_a_proj"), mla.qLoraRank(), hidden) : null,
        compressedQ ? tensors.vector(norm + "q_a_layernorm.weight", mla.qLoraRank()) : null,
        compressedQ ? tensors.matrix(Architecture.attentionWeight(layer, "q_b_proj"), qRows, mla.qLoraRank()) : null,
        tensors.matrix(Architecture.attentionWeight(layer, "kv_a_proj_with_mqa"), mla.cacheWidth(), hidden),
        tensors.vector(norm + "kv_a_layernorm.weight", mla.kvLoraRank()),
        tensors.matrix(Architecture.attentionWeight(layer, "kv_b_proj"),
            heads * (mla.qkNopeHeadDim() + mla.vHeadDim()), mla.kvLoraRank()),
        tensors.matrix(Architecture.attentionWeight(layer, "o_proj"), hidden, heads * mla.vHeadDim()));
  }

  private static MoeWeights moe(ModelConfig config, TensorChecker tensors, int layer) {
    Architecture arch = config.architecture();
    int hidden = config.hiddenSize();
    int inter = config.moeIntermediateSize();
    if (arch == Architecture.GPT_OSS) {
      return new MoeWeights(tensors.plainMatrix(arch.router(layer), config.numExperts(), hidden),
          GptOssExperts.load(config, tensors, layer), null, null, null,
          tensors.vector(arch.routerBias(layer), config.numExperts()));
    }
    ExpertWeights[] experts = new ExpertWeights[config.numExperts()];
    for (int e = 0; e < experts.length; e++) {
      experts[e] = new ExpertWeights(
          tensors.matrix(arch.expertGateProj(layer, e), inter, hidden),
          tensors.matrix(arch.expertUpProj(layer, e), inter, hidden),
          tensors.matrix(arch.expertDownProj(layer, e), hidden, inter));
    }
    ExpertWeights shared = null;
    Matrix sharedGate = null;
    if (config.sharedExpertIntermediateSize() > 0) {
      int sharedInter = config.sharedExpertIntermediateSize();
      shared = new ExpertWeights(
          tensors.matrix(arch.sharedExpertProj(layer, "gate_proj"), sharedInter, hidden),
          tensors.matrix(arch.sharedExpertProj(layer, "up_proj"), sharedInter, hidden),
          tensors.matrix(arch.sharedExpertProj(layer, "down_proj"), hidden, sharedInter));
      if (config.sharedExpertGated()) {
        sharedGate = tensors.matrix(arch.sharedExpertGate(layer), 1, hidden);
      }
    }
    float[] scoreBias = config.routing().topkMethod() == RoutingConfig.TopkMethod.NOAUX_TC
        ? tensors.vector(arch.routerScoreCorrectionBias(layer), config.numExperts())
        : null;
    return new MoeWeights(tensors.matrix(arch.router(layer), config.numExperts(), hidden), experts, shared, sharedGate,
        scoreBias);
  }

  /** Every weight's element count: matrices (FP8 codes, not their block scales), norms and biases. */
  public long parameterCount() {
    long count = embedTokens.rows() * (long) embedTokens.cols() + finalNorm.length;
    if (lmHead != embedTokens) {
      count += lmHead.rows() * (long) lmHead.cols();
    }
    for (LayerWeights layer : layers) {
      count += layer.inputNorm().length + layer.postAttentionNorm().length;
      if (layer.attention() != null) {
        AttentionWeights a = layer.attention();
        count += elements(a.qProj(), a.kProj(), a.vProj(), a.oProj())
            + length(a.qBias()) + length(a.kBias()) + length(a.vBias()) + length(a.qNorm()) + length(a.kNorm())
            + length(a.oBias()) + length(a.sinks());
      } else {
        MlaWeights m = layer.latentAttention();
        count += elements(m.qProj(), m.qAProj(), m.qBProj(), m.kvAProj(), m.kvBProj(), m.oProj())
            + length(m.qANorm()) + length(m.kvANorm());
      }
      if (layer.moe() != null) {
        MoeWeights moe = layer.moe();
        count += elements(moe.router(), moe.sharedExpertGate()) + length(moe.routerScoreCorrectionBias())
            + length(moe.routerBias());
        for (ExpertWeights expert : moe.experts()) {
          count += elements(expert);
        }
        count += elements(moe.sharedExpert());
      } else {
        count += elements(layer.denseMlp());
      }
    }
    return count;
  }

  /**
   * Bytes these weights copied onto the heap: every norm weight and bias (float32) and FP8 block scales.
   * What the memory plan states from the headers as weights copied.
   */
  public long heapBytes() {
    long floats = finalNorm.length;
    long bytes = embedTokens.heapBytes() + (lmHead != embedTokens ? lmHead.heapBytes() : 0);
    for (LayerWeights layer : layers) {
      floats += layer.inputNorm().length + layer.postAttentionNorm().length;
      if (layer.attention() != null) {
        AttentionWeights a = layer.attention();
        floats += length(a.qBias()) + length(a.kBias()) + length(a.vBias()) + length(a.qNorm()) + length(a.kNorm())
            + length(a.oBias()) + length(a.sinks());
        bytes += heap(a.qProj(), a.kProj(), a.vProj(), a.oProj());
      } else {
        MlaWeights m = layer.latentAttention();
        floats += length(m.qANorm()) + length(m.kvANorm());
        bytes += heap(m.qProj(), m.qAProj(), m.qBProj(), m.kvAProj(), m.kvBProj(), m.oProj());
      }
      if (layer.moe() != null) {
        MoeWeights moe = layer.moe();
        floats += length(moe.routerScoreCorrectionBias()) + length(moe.routerBias());
        bytes += heap(moe.router(), moe.sharedExpertGate()) + heap(moe.sharedExpert());
        for (ExpertWeights expert : moe.experts()) {
          bytes += heap(expert);
        }
      } else {
        bytes += heap(layer.denseMlp());
      }
    }
    return bytes + floats * Float.BYTES;
  }

  /** An expert's heap: its matrices' (FP8 scales) and gpt-oss's biases, copied per expert as float32. */
  private static long heap(ExpertWeights w) {
    return w == null ? 0 : heap(w.gateProj(), w.upProj(), w.downProj(), w.gateUpProj())
        + (length(w.gateUpBias()) + length(w.downBias())) * Float.BYTES;
  }

  private static long heap(Matrix... matrices) {
    long bytes = 0;
    for (Matrix m : matrices) {
      bytes += m == null ? 0 : m.heapBytes();
    }
    return bytes;
  }

  private static long elements(ExpertWeights w) {
    return w == null ? 0 : elements(w.gateProj(), w.upProj(), w.downProj(), w.gateUpProj()) + length(w.gateUpBias())
        + length(w.downBias());
  }

  private static long elements(Matrix... matrices) {
    long count = 0;
    for (Matrix m : matrices) {
      count += m == null ? 0 : (long) m.rows() * m.cols();
    }
    return count;
  }

  private static long length(float[] v) {
    return v == null ? 0 : v.length;
  }

  /** Bytes of weights a decode step reads for one token at {@code expertsPerToken}, LM head included. */
  public long bytesPerTokenAt(int expertsPerToken) {
    long bytes = lmHead.byteSize();
    for (LayerWeights layer : layers) {
      bytes += layer.attentionByteSize();
      if (layer.moe() != null) {
        bytes += layer.moe().router().byteSize();
        bytes += expertsPerToken * java.util.Arrays.stream(layer.moe().experts()).filter(java.util.Objects::nonNull)
            .findFirst().orElseThrow().byteSize(); // pruned experts are null
        if (layer.moe().sharedExpert() != null) {
          bytes += layer.moe().sharedExpert().byteSize();
        }
      } else {
        bytes += layer.denseMlp().byteSize();
      }
    }
    return bytes;
  }
}
