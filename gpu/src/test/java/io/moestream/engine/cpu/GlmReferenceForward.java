package io.moestream.engine.cpu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.engine.format.Checkpoint;
import java.io.IOException;
import java.nio.file.Path;

/**
 * GLM-4.5 ({@code glm4_moe}) logits in float64, written from Hugging Face's modeling_glm4_moe.py and
 * independent of the engine: config.json and the checkpoint read directly, plain loops, every position
 * of one sequence attending to all earlier ones.
 *
 * <pre>
 *   Glm4MoeAttention: q/k/v = *_proj(x) (+ bias with attention_bias); q_norm/k_norm per head (use_qk_norm);
 *     apply_rotary_pos_emb on q[..., :rotary_dim] (rotate_half, cos = cat(freqs, freqs)), the rest passes;
 *     softmax(q k^T * head_dim^-0.5) v over repeat_kv; o_proj without bias
 *   Glm4MoeDecoderLayer: MoE where layer_idx >= first_k_dense_replace, else Glm4MoeMLP(intermediate_size)
 *   Glm4MoeMoE.route_tokens_to_experts: sigmoid, + e_score_correction_bias, group score = sum of the top 2,
 *     topk_group groups kept, the others masked_fill'ed with 0.0, topk; weights = unbiased sigmoid scores,
 *     / (sum + 1e-20) with norm_topk_prob, * routed_scaling_factor; + shared_experts(x)
 * </pre>
 *
 * Layers at index >= num_hidden_layers (the MTP layers) are never read: Glm4MoeModel builds
 * num_hidden_layers decoder layers only.
 */
final class GlmReferenceForward {
  private final Checkpoint checkpoint;
  private final ReferenceTensors tensors;
  private final int hidden;
  private final int numLayers;
  private final int numHeads;
  private final int numKvHeads;
  private final int headDim;
  private final int rotaryDim;
  private final int vocab;
  private final int numExperts;
  private final int nGroup;
  private final int topkGroup;
  private final boolean normTopKProb;
  private final double routedScalingFactor;
  private final int firstKDenseReplace;
  private final boolean attentionBias;
  private final boolean useQkNorm;
  private final double theta;
  private final boolean tied;

  /** Smallest gap between the k-th and (k+1)-th choice score (biased, group-masked) in the last call. */
  double smallestRoutingGap = Double.POSITIVE_INFINITY;

  GlmReferenceForward(Path folder) throws IOException {
    JsonNode c = new ObjectMapper().readTree(folder.resolve("config.json").toFile());
    checkpoint = Checkpoint.open(folder);
    JsonNode rope = c.path("rope_parameters");
    hidden = c.get("hidden_size").asInt();
    numLayers = c.get("num_hidden_layers").asInt();
    numHeads = c.get("num_attention_heads").asInt();
    numKvHeads = c.get("num_key_value_heads").asInt();
    headDim = c.hasNonNull("head_dim") ? c.get("head_dim").asInt() : hidden / numHeads;
    double partial = c.has("partial_rotary_factor") ? c.get("partial_rotary_factor").asDouble()
        : rope.path("partial_rotary_factor").asDouble(0.5);
    rotaryDim = (int) (headDim * partial);
    theta = c.has("rope_theta") ? c.get("rope_theta").asDouble() : rope.path("rope_theta").asDouble(10000.0);
    vocab = c.get("vocab_size").asInt();
    numExperts = c.get("n_routed_experts").asInt();
    nGroup = c.path("n_group").asInt(1);
    topkGroup = c.path("topk_group").asInt(1);
    normTopKProb = c.path("norm_topk_prob").asBoolean(true);
    routedScalingFactor = c.path("routed_scaling_factor").asDouble(1.0);
    firstKDenseReplace = c.path("first_k_dense_replace").asInt(1);
    attentionBias = c.path("attention_bias").asBoolean(false);
    useQkNorm = c.path("use_qk_norm").asBoolean(false);
    double eps = c.path("rms_norm_eps").asDouble(1e-5);
    tied = c.path("tie_word_embeddings").asBoolean(false);
    JsonNode block = c.path("quantization_config").path("weight_block_size");
    // quantization_config.weight_block_size (rows, cols) of FP8 weights' scales; null when not quantized
    int[] fp8Block = block.isArray() ? new int[] {block.get(0).asInt(), block.get(1).asInt()} : null;
    tensors = new ReferenceTensors(checkpoint, fp8Block, eps);
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
      double[] postNorm = tensors.vector(p + "post_attention_layernorm.weight", hidden);
      for (int t = 0; t < n; t++) {
        ReferenceTensors.add(h[t], attn[t]);
        double[] normed = tensors.rmsNorm(h[t], 0, hidden, postNorm);
        ReferenceTensors.add(h[t], layer >= firstKDenseReplace ? moe(p + "mlp.", normed, k) : mlp(p + "mlp.", normed));
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
      if (attentionBias) {
        ReferenceTensors.add(q[t], tensors.vector(p + "q_proj.bias", qDim));
        ReferenceTensors.add(k[t], tensors.vector(p + "k_proj.bias", kvDim));
        ReferenceTensors.add(v[t], tensors.vector(p + "v_proj.bias", kvDim));
      }
      if (useQkNorm) { // Glm4MoeRMSNorm(head_dim) on the (…, heads, head_dim) view
        double[] qNorm = tensors.vector(p + "q_norm.weight", headDim);
        double[] kNorm = tensors.vector(p + "k_norm.weight", headDim);
        for (int head = 0; head < numHeads; head++) {
          System.arraycopy(tensors.rmsNorm(q[t], head * headDim, headDim, qNorm), 0, q[t], head * headDim, headDim);
        }
        for (int head = 0; head < numKvHeads; head++) {
          System.arraycopy(tensors.rmsNorm(k[t], head * headDim, headDim, kNorm), 0, k[t], head * headDim, headDim);
        }
      }
      for (int head = 0; head < numHeads; head++) {
        applyRotaryPosEmb(q[t], head * headDim, t);
      }
      for (int head = 0; head < numKvHeads; head++) {
        applyRotaryPosEmb(k[t], head * headDim, t);
      }
    }
    int groups = numHeads / numKvHeads; // repeat_kv
    double scaling = Math.pow(headDim, -0.5);
    double[][] attended = new double[n][qDim];
    for (int t = 0; t < n; t++) {
      for (int head = 0; head < numHeads; head++) {
        int kvHead = head / groups;
        double[] weights = new double[t + 1]; // the causal mask leaves positions 0..t
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j <= t; j++) {
          double s = 0;
          for (int d = 0; d < headDim; d++) {
            s += q[t][head * headDim + d] * k[j][kvHead * headDim + d];
          }
          weights[j] = s * scaling;
          max = Math.max(max, weights[j]);
        }
        double sum = 0;
        for (int j = 0; j <= t; j++) {
          weights[j] = Math.exp(weights[j] - max);
          sum += weights[j];
        }
        for (int j = 0; j <= t; j++) {
          for (int d = 0; d < headDim; d++) {
            attended[t][head * headDim + d] += weights[j] / sum * v[j][kvHead * headDim + d];
          }
        }
      }
    }
    double[][] out = new double[n][];
    for (int t = 0; t < n; t++) {
      out[t] = tensors.linear(p + "o_proj.weight", hidden, qDim, attended[t]);
    }
    return out;
  }

  /**
   * q_rot = x[:rotary_dim]; x_rot * cos + rotate_half(x_rot) * sin with cos = cat(freqs, freqs).cos(),
   * freqs[i] = position * base^(-2i / rotary_dim), rotate_half(y) = cat(-y2, y1); x[rotary_dim:] unchanged.
   */
  private void applyRotaryPosEmb(double[] x, int offset, int position) {
    int half = rotaryDim / 2;
    double[] cos = new double[rotaryDim];
    double[] sin = new double[rotaryDim];
    for (int i = 0; i < half; i++) {
      double freq = position * (1.0 / Math.pow(theta, (2.0 * i) / rotaryDim));
      cos[i] = cos[i + half] = Math.cos(freq);
      sin[i] = sin[i + half] = Math.sin(freq);
    }
    double[] rot = new double[rotaryDim];
    double[] rotated = new double[rotaryDim];
    System.arraycopy(x, offset, rot, 0, rotaryDim);
    for (int i = 0; i < half; i++) {
      rotated[i] = -rot[half + i];
      rotated[half + i] = rot[i];
    }
    for (int i = 0; i < rotaryDim; i++) {
      x[offset + i] = rot[i] * cos[i] + rotated[i] * sin[i];
    }
  }

  private double[] moe(String p, double[] x, int k) {
    double[] routerLogits = tensors.linear(p + "gate.weight", numExperts, hidden, x);
    double[] bias = tensors.vector(p + "gate.e_score_correction_bias", numExperts);
    double[] scores = new double[numExperts];
    double[] forChoice = new double[numExperts];
    for (int e = 0; e < numExperts; e++) {
      scores[e] = 1.0 / (1.0 + Math.exp(-routerLogits[e]));
      forChoice[e] = scores[e] + bias[e];
    }
    int groupSize = numExperts / nGroup;
    double[] groupScores = new double[nGroup];
    for (int g = 0; g < nGroup; g++) {
      int[] top2 = ReferenceTensors.topk(java.util.Arrays.copyOfRange(forChoice, g * groupSize, (g + 1) * groupSize), 2);
      groupScores[g] = forChoice[g * groupSize + top2[0]] + forChoice[g * groupSize + top2[1]];
    }
    boolean[] groupKept = new boolean[nGroup];
    for (int g : ReferenceTensors.topk(groupScores, topkGroup)) {
      groupKept[g] = true;
    }
    double[] masked = new double[numExperts];
    for (int e = 0; e < numExperts; e++) {
      masked[e] = groupKept[e / groupSize] ? forChoice[e] : 0.0; // masked_fill(~score_mask, 0.0)
    }
    int[] selected = ReferenceTensors.topk(masked, k);
    if (k < numExperts) {
      double next = Double.NEGATIVE_INFINITY;
      for (int e = 0; e < numExperts; e++) {
        boolean chosen = false;
        for (int s : selected) {
          chosen |= s == e;
        }
        if (!chosen) {
          next = Math.max(next, masked[e]);
        }
      }
      smallestRoutingGap = Math.min(smallestRoutingGap, masked[selected[k - 1]] - next);
    }
    double[] weights = new double[k];
    double sum = 0;
    for (int j = 0; j < k; j++) {
      weights[j] = scores[selected[j]];
      sum += weights[j];
    }
    double[] out = new double[hidden];
    for (int j = 0; j < k; j++) {
      double weight = (normTopKProb ? weights[j] / (sum + 1e-20) : weights[j]) * routedScalingFactor;
      double[] y = mlp(p + "experts." + selected[j] + ".", x);
      for (int i = 0; i < hidden; i++) {
        out[i] += weight * y[i];
      }
    }
    if (checkpoint.find(p + "shared_experts.gate_proj.weight").isPresent()) { // n_shared_experts > 0
      ReferenceTensors.add(out, mlp(p + "shared_experts.", x));
    }
    return out;
  }


  /** Glm4MoeMLP: down_proj(silu(gate_proj(x)) * up_proj(x)). */
  private double[] mlp(String prefix, double[] x) {
    int inter = (int) checkpoint.require(prefix + "gate_proj.weight").dim(0);
    double[] gate = tensors.linear(prefix + "gate_proj.weight", inter, hidden, x);
    double[] up = tensors.linear(prefix + "up_proj.weight", inter, hidden, x);
    for (int i = 0; i < inter; i++) {
      gate[i] = gate[i] / (1.0 + Math.exp(-gate[i])) * up[i];
    }
    return tensors.linear(prefix + "down_proj.weight", hidden, inter, gate);
  }





}
