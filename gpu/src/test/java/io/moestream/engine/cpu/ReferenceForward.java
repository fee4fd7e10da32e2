package io.moestream.engine.cpu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.engine.format.Checkpoint;
import io.moestream.engine.format.TensorData;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * A float64 forward pass written from the Hugging Face modeling code, independent of the engine: plain
 * loops, no paging, no batching, weights read element by element from the checkpoint (so a BF16 model
 * is evaluated on exactly its bf16 values, an FP8 one on its codes times their block scales). Covers qwen3_moe,
 * qwen2_moe, mixtral and olmoe.
 *
 * <p>Per layer (modeling_*.py, DecoderLayer.forward):
 * <pre>
 *   h += o_proj(attention(rope(qk_norm(q_proj(rms(h)) [+bias]), ...)))
 *   h += mlp(rms(h))            mlp = sparse MoE block, or the dense MLP where the config says so
 * </pre>
 * then the final RMSNorm and the LM head.
 */
final class ReferenceForward {
  private final Checkpoint checkpoint;
  private final ReferenceTensors tensors;
  private final String modelType;
  private final int hidden;
  private final int numLayers;
  private final int numHeads;
  private final int numKvHeads;
  private final int headDim;
  private final int vocab;
  private final int numExperts;
  private final int topK;
  private final boolean normTopKProb;
  private final double theta;
  /** Linear RoPE scaling divides positions by this factor; 1 without scaling. */
  private final double linearScaling;
  private final boolean[] sparse;
  private final boolean tied;
  /** q/k/v_proj have biases: Qwen2-MoE always; Qwen3-MoE and OLMoE when attention_bias. */
  private final boolean qkvBias;
  /** o_proj has a bias: Qwen3-MoE and OLMoE when attention_bias (never Qwen2-MoE or Mixtral). */
  private final boolean oBias;
  /** OLMoE's clamp of q, k and v after the norms; NaN when absent. */
  private final double clipQkv;

  /** Smallest gap between the k-th and (k+1)-th routing probability seen in the last forward call. */
  double smallestRoutingGap = Double.POSITIVE_INFINITY;

  ReferenceForward(Path folder) throws IOException {
    JsonNode c = new ObjectMapper().readTree(folder.resolve("config.json").toFile());
    checkpoint = Checkpoint.open(folder);
    modelType = c.get("model_type").asText();
    hidden = c.get("hidden_size").asInt();
    numLayers = c.get("num_hidden_layers").asInt();
    numHeads = c.get("num_attention_heads").asInt();
    numKvHeads = c.has("num_key_value_heads") ? c.get("num_key_value_heads").asInt() : numHeads;
    headDim = c.has("head_dim") && !c.get("head_dim").isNull() ? c.get("head_dim").asInt() : hidden / numHeads;
    vocab = c.get("vocab_size").asInt();
    numExperts = modelType.equals("mixtral") ? c.get("num_local_experts").asInt() : c.get("num_experts").asInt();
    topK = c.get("num_experts_per_tok").asInt();
    // MixtralSparseMoeBlock always renormalizes; the others follow norm_topk_prob (default False).
    normTopKProb = modelType.equals("mixtral") || c.path("norm_topk_prob").asBoolean(false);
    double eps = c.get("rms_norm_eps").asDouble();
    theta = c.path("rope_theta").asDouble(10000.0);
    JsonNode scaling = c.path("rope_scaling");
    String scalingType = scaling.path("rope_type").asText(scaling.path("type").asText("default"));
    linearScaling = scalingType.equals("linear") ? scaling.get("factor").asDouble() : 1.0;
    tied = c.path("tie_word_embeddings").asBoolean(false);
    boolean attentionBias = c.path("attention_bias").asBoolean(false)
        && (modelType.equals("qwen3_moe") || modelType.equals("olmoe"));
    qkvBias = modelType.equals("qwen2_moe") || attentionBias;
    oBias = attentionBias;
    clipQkv = modelType.equals("olmoe") && c.hasNonNull("clip_qkv") ? c.get("clip_qkv").asDouble() : Double.NaN;
    JsonNode block = c.path("quantization_config").path("weight_block_size");
    // quantization_config.weight_block_size (rows, cols) of FP8 weights' scales; null when not quantized
    int[] fp8Block = block.isArray() ? new int[] {block.get(0).asInt(), block.get(1).asInt()} : null;
    tensors = new ReferenceTensors(checkpoint, fp8Block, eps);
    sparse = new boolean[numLayers];
    Set<Integer> mlpOnly = new HashSet<>();
    c.path("mlp_only_layers").forEach(n -> mlpOnly.add(n.asInt()));
    int step = c.path("decoder_sparse_step").asInt(1);
    for (int layer = 0; layer < numLayers; layer++) {
      boolean qwen = modelType.equals("qwen2_moe") || modelType.equals("qwen3_moe");
      // Qwen2/3-MoE: experts where (layer + 1) % decoder_sparse_step == 0 and not in mlp_only_layers;
      // Mixtral and OLMoE have experts in every layer.
      sparse[layer] = !qwen || (!mlpOnly.contains(layer) && numExperts > 0 && (layer + 1) % step == 0);
    }
  }

  /** Logits (tokens.length, vocab) for every position, each token using {@code k} routed experts. */
  double[][] logits(int[] tokens, int k) {
    smallestRoutingGap = Double.POSITIVE_INFINITY;
    int n = tokens.length;
    double[][] h = new double[n][];
    for (int t = 0; t < n; t++) {
      h[t] = tensors.row("model.embed_tokens.weight", tokens[t], hidden);
    }
    for (int layer = 0; layer < numLayers; layer++) {
      String p = "model.layers." + layer + ".";
      double[] inputNorm = tensors.vector(p + "input_layernorm.weight", hidden);
      double[][] x = new double[n][];
      for (int t = 0; t < n; t++) {
        x[t] = tensors.rmsNorm(h[t], 0, hidden, inputNorm);
      }
      double[][] attn = attention(p + "self_attn.", x);
      for (int t = 0; t < n; t++) {
        ReferenceTensors.add(h[t], attn[t]);
      }
      double[] postNorm = tensors.vector(p + "post_attention_layernorm.weight", hidden);
      for (int t = 0; t < n; t++) {
        double[] normed = tensors.rmsNorm(h[t], 0, hidden, postNorm);
        ReferenceTensors.add(h[t], sparse[layer] ? moe(layer, normed, k) : mlp(p + "mlp.", "gate_proj", "up_proj", "down_proj", normed));
      }
    }
    double[] finalNorm = tensors.vector("model.norm.weight", hidden);
    String head = tied && checkpoint.find("lm_head.weight").isEmpty() ? "model.embed_tokens.weight" : "lm_head.weight";
    double[][] logits = new double[n][];
    for (int t = 0; t < n; t++) {
      logits[t] = tensors.linear(head, vocab, hidden, tensors.rmsNorm(h[t], 0, hidden, finalNorm));
    }
    return logits;
  }

  // ---- attention ------------------------------------------------------------------------------

  private double[][] attention(String p, double[][] x) {
    int n = x.length;
    int qDim = numHeads * headDim;
    int kvDim = numKvHeads * headDim;
    double[][] q = new double[n][];
    double[][] k = new double[n][];
    double[][] v = new double[n][];
    for (int t = 0; t < n; t++) {
      q[t] = tensors.linear(p + "q_proj.weight", qDim, hidden, x[t]);
      k[t] = tensors.linear(p + "k_proj.weight", kvDim, hidden, x[t]);
      v[t] = tensors.linear(p + "v_proj.weight", kvDim, hidden, x[t]);
      if (qkvBias) {
        ReferenceTensors.add(q[t], tensors.vector(p + "q_proj.bias", qDim));
        ReferenceTensors.add(k[t], tensors.vector(p + "k_proj.bias", kvDim));
        ReferenceTensors.add(v[t], tensors.vector(p + "v_proj.bias", kvDim));
      }
      if (modelType.equals("qwen3_moe")) { // q_norm/k_norm over head_dim, on each head
        double[] qNorm = tensors.vector(p + "q_norm.weight", headDim);
        double[] kNorm = tensors.vector(p + "k_norm.weight", headDim);
        for (int head = 0; head < numHeads; head++) {
          System.arraycopy(tensors.rmsNorm(q[t], head * headDim, headDim, qNorm), 0, q[t], head * headDim, headDim);
        }
        for (int head = 0; head < numKvHeads; head++) {
          System.arraycopy(tensors.rmsNorm(k[t], head * headDim, headDim, kNorm), 0, k[t], head * headDim, headDim);
        }
      }
      if (modelType.equals("olmoe")) { // q_norm/k_norm over the whole projection, before the head split
        q[t] = tensors.rmsNorm(q[t], 0, qDim, tensors.vector(p + "q_norm.weight", qDim));
        k[t] = tensors.rmsNorm(k[t], 0, kvDim, tensors.vector(p + "k_norm.weight", kvDim));
      }
      if (!Double.isNaN(clipQkv)) { // OlmoeAttention: clamp_ after the norms, before RoPE
        for (double[] values : new double[][] {q[t], k[t], v[t]}) {
          for (int i = 0; i < values.length; i++) {
            values[i] = Math.max(-clipQkv, Math.min(clipQkv, values[i]));
          }
        }
      }
      for (int head = 0; head < numHeads; head++) {
        rotateHalf(q[t], head * headDim, t);
      }
      for (int head = 0; head < numKvHeads; head++) {
        rotateHalf(k[t], head * headDim, t);
      }
    }
    // repeat_kv: query head h reads key/value head h / (numHeads / numKvHeads).
    int groups = numHeads / numKvHeads;
    double scale = 1.0 / Math.sqrt(headDim);
    double[][] attended = new double[n][qDim];
    for (int t = 0; t < n; t++) {
      for (int head = 0; head < numHeads; head++) {
        int kvHead = head / groups;
        double[] scores = new double[t + 1]; // causal: positions 0..t
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j <= t; j++) {
          double s = 0;
          for (int d = 0; d < headDim; d++) {
            s += q[t][head * headDim + d] * k[j][kvHead * headDim + d];
          }
          scores[j] = s * scale;
          max = Math.max(max, scores[j]);
        }
        double sum = 0;
        for (int j = 0; j <= t; j++) {
          scores[j] = Math.exp(scores[j] - max);
          sum += scores[j];
        }
        for (int j = 0; j <= t; j++) {
          for (int d = 0; d < headDim; d++) {
            attended[t][head * headDim + d] += scores[j] / sum * v[j][kvHead * headDim + d];
          }
        }
      }
    }
    double[][] out = new double[n][];
    for (int t = 0; t < n; t++) {
      out[t] = tensors.linear(p + "o_proj.weight", hidden, qDim, attended[t]);
      if (oBias) {
        ReferenceTensors.add(out[t], tensors.vector(p + "o_proj.bias", hidden));
      }
    }
    return out;
  }

  /** rotate_half RoPE: (x1, x2) = halves; x * cos + rotate_half(x) * sin, inv_freq[i] = theta^(-2i/d). */
  private void rotateHalf(double[] x, int offset, int position) {
    int half = headDim / 2;
    for (int i = 0; i < half; i++) {
      double invFreq = Math.pow(theta, -2.0 * i / headDim);
      double angle = position / linearScaling * invFreq;
      double cos = Math.cos(angle);
      double sin = Math.sin(angle);
      double x1 = x[offset + i];
      double x2 = x[offset + half + i];
      x[offset + i] = x1 * cos - x2 * sin;
      x[offset + half + i] = x2 * cos + x1 * sin;
    }
  }

  // ---- MLPs -----------------------------------------------------------------------------------

  private double[] moe(int layer, double[] x, int k) {
    String p = "model.layers." + layer + ".";
    boolean mixtral = modelType.equals("mixtral");
    String block = mixtral ? "block_sparse_moe." : "mlp.";
    double[] routerLogits = tensors.linear(p + block + "gate.weight", numExperts, hidden, x);
    double[] probabilities = softmax(routerLogits);
    // torch.topk: largest first; among equal values the lower index.
    int[] selected = new int[k];
    boolean[] taken = new boolean[numExperts];
    for (int j = 0; j < k; j++) {
      int best = -1;
      for (int e = 0; e < numExperts; e++) {
        if (!taken[e] && (best < 0 || probabilities[e] > probabilities[best])) {
          best = e;
        }
      }
      taken[best] = true;
      selected[j] = best;
    }
    double nextBest = 0;
    for (int e = 0; e < numExperts; e++) {
      if (!taken[e]) {
        nextBest = Math.max(nextBest, probabilities[e]);
      }
    }
    smallestRoutingGap = Math.min(smallestRoutingGap, probabilities[selected[k - 1]] - nextBest);
    double weightSum = 0;
    for (int e : selected) {
      weightSum += probabilities[e];
    }
    double[] out = new double[hidden];
    for (int e : selected) {
      double weight = normTopKProb ? probabilities[e] / weightSum : probabilities[e];
      String expert = p + block + "experts." + e + ".";
      double[] y = mixtral ? mlp(expert, "w1", "w3", "w2", x) : mlp(expert, "gate_proj", "up_proj", "down_proj", x);
      for (int i = 0; i < hidden; i++) {
        out[i] += weight * y[i];
      }
    }
    if (modelType.equals("qwen2_moe") && checkpoint.find(p + "mlp.shared_expert.gate_proj.weight").isPresent()) {
      // Qwen2MoeSparseMoeBlock: sigmoid(shared_expert_gate(x)) * shared_expert(x)
      double[] shared = mlp(p + "mlp.shared_expert.", "gate_proj", "up_proj", "down_proj", x);
      double gate = tensors.linear(p + "mlp.shared_expert_gate.weight", 1, hidden, x)[0];
      double scale = 1.0 / (1.0 + Math.exp(-gate));
      for (int i = 0; i < hidden; i++) {
        out[i] += scale * shared[i];
      }
    }
    return out;
  }

  /** down(silu(gate(x)) * up(x)). */
  private double[] mlp(String prefix, String gateName, String upName, String downName, double[] x) {
    TensorData gateWeight = checkpoint.require(prefix + gateName + ".weight");
    int inter = (int) gateWeight.dim(0);
    double[] gate = tensors.linear(prefix + gateName + ".weight", inter, hidden, x);
    double[] up = tensors.linear(prefix + upName + ".weight", inter, hidden, x);
    for (int i = 0; i < inter; i++) {
      gate[i] = gate[i] / (1.0 + Math.exp(-gate[i])) * up[i];
    }
    return tensors.linear(prefix + downName + ".weight", hidden, inter, gate);
  }

  // ---- basics ---------------------------------------------------------------------------------





  private static double[] softmax(double[] logits) {
    double max = Double.NEGATIVE_INFINITY;
    for (double l : logits) {
      max = Math.max(max, l);
    }
    double[] out = new double[logits.length];
    double sum = 0;
    for (int i = 0; i < logits.length; i++) {
      out[i] = Math.exp(logits[i] - max);
      sum += out[i];
    }
    for (int i = 0; i < out.length; i++) {
      out[i] /= sum;
    }
    return out;
  }

}
