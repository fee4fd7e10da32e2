package io.moestream.engine.cpu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.engine.format.Checkpoint;
import io.moestream.engine.format.TensorData;
import java.io.IOException;
import java.nio.file.Path;

/**
 * gpt-oss ({@code gpt_oss}) logits in float64, written from Hugging Face's modeling_gpt_oss.py,
 * modeling_rope_utils.py (YaRN) and integrations/mxfp4.py (dequantization), independent of the engine:
 * config.json and the checkpoint read directly, plain loops, one sequence.
 *
 * <pre>
 *   GptOssAttention: q/k/v/o_proj with bias; _apply_rotary_emb on halves (cos/sin of the half dim, times
 *     YaRN's attention_factor); eager_attention_forward: logits = q k^T * head_dim^-0.5 + mask (sliding
 *     layers: kv > q - sliding_window), cat with sinks[head], minus the row max, softmax, drop the sink
 *   GptOssTopKRouter: logits = W x + b; ReferenceTensors.topk(logits, k); softmax over those k
 *   GptOssExperts: gate_up = x @ gate_up_proj[e] + bias; gate = gate_up[::2], up = gate_up[1::2];
 *     gate.clamp(max=limit), up.clamp(-limit, limit); (up + 1) * gate * sigmoid(gate * alpha);
 *     @ down_proj[e] + bias; times the routing weight, summed
 *   convert_moe_packed_tensors: blocks (E, rows, G, 16) -> low nibble at even, high nibble at odd
 *     column of FP4_VALUES, ldexp(scale - 127); (E, rows, G * 32).transpose(1, 2) = (E, in, out)
 * </pre>
 */
final class GptOssReferenceForward {
  private static final double[] FP4_VALUES = {+0.0, +0.5, +1.0, +1.5, +2.0, +3.0, +4.0, +6.0, -0.0, -0.5, -1.0, -1.5,
      -2.0, -3.0, -4.0, -6.0};
  private static final double ALPHA = 1.702;

  private final Checkpoint checkpoint;
  private final ReferenceTensors tensors;
  private final int hidden;
  private final int numLayers;
  private final int numHeads;
  private final int numKvHeads;
  private final int headDim;
  private final int vocab;
  private final int numExperts;
  private final int inter;
  private final double limit;
  private final int[] windows; // 0: full attention
  private final double[] invFreq; // (headDim / 2)
  private final double attentionFactor;

  /** Smallest gap between the k-th and (k+1)-th router logit in the last call. */
  double smallestRoutingGap = Double.POSITIVE_INFINITY;

  GptOssReferenceForward(Path folder) throws IOException {
    JsonNode c = new ObjectMapper().readTree(folder.resolve("config.json").toFile());
    checkpoint = Checkpoint.open(folder);
    hidden = c.get("hidden_size").asInt();
    numLayers = c.get("num_hidden_layers").asInt();
    numHeads = c.get("num_attention_heads").asInt();
    numKvHeads = c.get("num_key_value_heads").asInt();
    headDim = c.get("head_dim").asInt();
    vocab = c.get("vocab_size").asInt();
    numExperts = c.get("num_local_experts").asInt();
    inter = c.get("intermediate_size").asInt();
    limit = c.path("swiglu_limit").asDouble(7.0);
    double eps = c.path("rms_norm_eps").asDouble(1e-5);
    tensors = new ReferenceTensors(checkpoint, null, eps); // MXFP4 experts are read in expertWeight
    windows = new int[numLayers];
    for (int layer = 0; layer < numLayers; layer++) {
      if (c.get("layer_types").get(layer).asText().equals("sliding_attention")) {
        windows[layer] = c.get("sliding_window").asInt();
      }
    }
    double base = c.get("rope_theta").asDouble();
    int dim = headDim;
    invFreq = new double[dim / 2];
    JsonNode rope = c.path("rope_scaling");
    if (rope.isObject() && rope.path("rope_type").asText().equals("yarn")) {
      // _compute_yarn_parameters
      double factor = rope.get("factor").asDouble();
      attentionFactor = 0.1 * Math.log(factor) + 1.0; // get_mscale(factor), no mscale fields
      double betaFast = rope.path("beta_fast").asDouble(32);
      double betaSlow = rope.path("beta_slow").asDouble(1);
      int original = rope.get("original_max_position_embeddings").asInt();
      double low = dim * Math.log(original / (betaFast * 2 * Math.PI)) / (2 * Math.log(base));
      double high = dim * Math.log(original / (betaSlow * 2 * Math.PI)) / (2 * Math.log(base));
      if (rope.path("truncate").asBoolean(true)) {
        low = Math.floor(low);
        high = Math.ceil(high);
      }
      low = Math.max(low, 0);
      high = Math.min(high, dim - 1);
      if (low == high) {
        high += 0.001;
      }
      for (int i = 0; i < dim / 2; i++) {
        double posFreq = Math.pow(base, (2.0 * i) / dim);
        double ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
        double extrapolationFactor = 1 - ramp;
        invFreq[i] = (1 / (factor * posFreq)) * (1 - extrapolationFactor) + (1 / posFreq) * extrapolationFactor;
      }
    } else {
      attentionFactor = 1.0;
      for (int i = 0; i < dim / 2; i++) {
        invFreq[i] = 1.0 / Math.pow(base, (2.0 * i) / dim);
      }
    }
  }

  /** Logits (tokens.length, vocab) for every position, each token using {@code k} experts. */
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
        x[t] = tensors.rmsNorm(h[t], inputNorm);
      }
      double[][] attn = attention(p + "self_attn.", x, windows[layer]);
      double[] postNorm = tensors.vector(p + "post_attention_layernorm.weight", hidden);
      for (int t = 0; t < n; t++) {
        ReferenceTensors.add(h[t], attn[t]);
        ReferenceTensors.add(h[t], mlp(layer, tensors.rmsNorm(h[t], postNorm), k));
      }
    }
    double[] finalNorm = tensors.vector("model.norm.weight", hidden);
    double[][] logits = new double[n][];
    for (int t = 0; t < n; t++) {
      logits[t] = tensors.linear("lm_head.weight", vocab, hidden, tensors.rmsNorm(h[t], finalNorm));
    }
    return logits;
  }

  private double[][] attention(String p, double[][] x, int window) {
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
      ReferenceTensors.add(q[t], tensors.vector(p + "q_proj.bias", qDim));
      ReferenceTensors.add(k[t], tensors.vector(p + "k_proj.bias", kvDim));
      ReferenceTensors.add(v[t], tensors.vector(p + "v_proj.bias", kvDim));
      for (int head = 0; head < numHeads; head++) {
        applyRotaryEmb(q[t], head * headDim, t);
      }
      for (int head = 0; head < numKvHeads; head++) {
        applyRotaryEmb(k[t], head * headDim, t);
      }
    }
    double[] sinks = tensors.vector(p + "sinks", numHeads);
    int groups = numHeads / numKvHeads;
    double scaling = Math.pow(headDim, -0.5);
    double[][] attended = new double[n][qDim];
    for (int t = 0; t < n; t++) {
      for (int head = 0; head < numHeads; head++) {
        int kvHead = head / groups;
        double[] combined = new double[t + 2]; // logits of positions 0..t, then the sink
        for (int j = 0; j <= t; j++) {
          boolean visible = window == 0 || j > t - window;
          double s = 0;
          for (int d = 0; d < headDim; d++) {
            s += q[t][head * headDim + d] * k[j][kvHead * headDim + d];
          }
          combined[j] = visible ? s * scaling : Double.NEGATIVE_INFINITY;
        }
        combined[t + 1] = sinks[head];
        double max = Double.NEGATIVE_INFINITY;
        for (double value : combined) {
          max = Math.max(max, value);
        }
        double sum = 0;
        for (int j = 0; j < combined.length; j++) {
          combined[j] = Math.exp(combined[j] - max);
          sum += combined[j];
        }
        for (int j = 0; j <= t; j++) { // the sink's probability is dropped
          for (int d = 0; d < headDim; d++) {
            attended[t][head * headDim + d] += combined[j] / sum * v[j][kvHead * headDim + d];
          }
        }
      }
    }
    double[][] out = new double[n][];
    for (int t = 0; t < n; t++) {
      out[t] = tensors.linear(p + "o_proj.weight", hidden, qDim, attended[t]);
      ReferenceTensors.add(out[t], tensors.vector(p + "o_proj.bias", hidden));
    }
    return out;
  }

  /** _apply_rotary_emb: first_half * cos - second_half * sin, second_half * cos + first_half * sin. */
  private void applyRotaryEmb(double[] x, int offset, int position) {
    int half = headDim / 2;
    for (int i = 0; i < half; i++) {
      double freq = position * invFreq[i];
      double cos = Math.cos(freq) * attentionFactor;
      double sin = Math.sin(freq) * attentionFactor;
      double first = x[offset + i];
      double second = x[offset + half + i];
      x[offset + i] = first * cos - second * sin;
      x[offset + half + i] = second * cos + first * sin;
    }
  }

  private double[] mlp(int layer, double[] x, int k) {
    String p = "model.layers." + layer + ".mlp.";
    double[] routerLogits = tensors.linear(p + "router.weight", numExperts, hidden, x);
    ReferenceTensors.add(routerLogits, tensors.vector(p + "router.bias", numExperts));
    int[] selected = ReferenceTensors.topk(routerLogits, k);
    if (k < numExperts) {
      double next = Double.NEGATIVE_INFINITY;
      for (int e = 0; e < numExperts; e++) {
        boolean chosen = false;
        for (int s : selected) {
          chosen |= s == e;
        }
        if (!chosen) {
          next = Math.max(next, routerLogits[e]);
        }
      }
      smallestRoutingGap = Math.min(smallestRoutingGap, routerLogits[selected[k - 1]] - next);
    }
    double max = routerLogits[selected[0]];
    double sum = 0;
    double[] weights = new double[k];
    for (int j = 0; j < k; j++) {
      weights[j] = Math.exp(routerLogits[selected[j]] - max);
      sum += weights[j];
    }
    double[] out = new double[hidden];
    for (int j = 0; j < k; j++) {
      double[] y = expert(p + "experts.", selected[j], x);
      for (int i = 0; i < hidden; i++) {
        out[i] += weights[j] / sum * y[i];
      }
    }
    return out;
  }

  private double[] expert(String p, int e, double[] x) {
    double[][] gateUpProj = expertWeight(p + "gate_up_proj", e, hidden, 2 * inter); // (hidden, 2 * inter)
    double[][] downProj = expertWeight(p + "down_proj", e, inter, hidden); // (inter, hidden)
    double[] gateUpBias = tensors.row(p + "gate_up_proj_bias", e, 2 * inter);
    double[] downBias = tensors.row(p + "down_proj_bias", e, hidden);
    double[] gated = new double[inter];
    for (int j = 0; j < inter; j++) {
      double gate = gateUpBias[2 * j];
      double up = gateUpBias[2 * j + 1];
      for (int i = 0; i < hidden; i++) {
        gate += x[i] * gateUpProj[i][2 * j];
        up += x[i] * gateUpProj[i][2 * j + 1];
      }
      gate = Math.min(gate, limit);
      up = Math.max(-limit, Math.min(limit, up));
      gated[j] = (up + 1) * gate / (1 + Math.exp(-gate * ALPHA));
    }
    double[] out = downBias.clone();
    for (int o = 0; o < hidden; o++) {
      for (int j = 0; j < inter; j++) {
        out[o] += gated[j] * downProj[j][o];
      }
    }
    return out;
  }

  /** Expert e's (in, out) weight: the BF16 tensor's entry, or the MXFP4 pair dequantized and transposed. */
  private double[][] expertWeight(String name, int e, int in, int out) {
    double[][] w = new double[in][out];
    if (checkpoint.find(name + "_blocks").isPresent()) {
      TensorData blocks = checkpoint.require(name + "_blocks"); // (E, out, in / 32, 16)
      TensorData scales = checkpoint.require(name + "_scales"); // (E, out, in / 32)
      int groups = in / 32;
      for (int r = 0; r < out; r++) {
        for (int g = 0; g < groups; g++) {
          long scaleIndex = ((long) e * out + r) * groups + g;
          int exponent = (int) scales.getFloat(scaleIndex) - 127;
          for (int b = 0; b < 16; b++) {
            int packed = (int) blocks.getFloat(scaleIndex * 16 + b);
            w[g * 32 + 2 * b][r] = FP4_VALUES[packed & 0x0F] * Math.pow(2, exponent);
            w[g * 32 + 2 * b + 1][r] = FP4_VALUES[packed >> 4] * Math.pow(2, exponent);
          }
        }
      }
    } else {
      TensorData tensor = checkpoint.require(name); // (E, in, out)
      for (int i = 0; i < in; i++) {
        for (int o = 0; o < out; o++) {
          w[i][o] = tensor.getFloat(((long) e * in + i) * out + o);
        }
      }
    }
    return w;
  }






}
