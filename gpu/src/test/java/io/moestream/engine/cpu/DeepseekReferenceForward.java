package io.moestream.engine.cpu;

import io.moestream.engine.kernel.Matrix;
import io.moestream.engine.model.ExpertWeights;
import io.moestream.engine.model.LayerWeights;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.model.ModelWeights;
import io.moestream.engine.model.MoeWeights;
import io.moestream.engine.model.RoutingConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * DeepSeek-V2/V3 logits computed the plain way in float64, from Hugging Face's DeepseekV2/V3 modeling
 * code: attention with expanded keys and values ({@link LatentAttentionTest#reference}), the MoE gate
 * written as the reference writes it (scores, group mask, top-k by sorting, gather, normalize, scale),
 * every selected expert weighted and the shared experts added unweighted.
 */
final class DeepseekReferenceForward {
  private DeepseekReferenceForward() {}

  /** (positions, vocab) logits of one sequence with {@code k} routed experts per token at every sparse layer. */
  static double[][] logits(ModelWeights weights, int[] tokens, int k) {
    ModelConfig config = weights.config();
    int hidden = config.hiddenSize();
    int n = tokens.length;
    double[][] h = new double[n][hidden];
    for (int p = 0; p < n; p++) {
      for (int i = 0; i < hidden; i++) {
        h[p][i] = weights.embedTokens().get(tokens[p], i);
      }
    }
    for (int layer = 0; layer < config.numLayers(); layer++) {
      LayerWeights lw = weights.layers()[layer];
      List<double[]> normed = new ArrayList<>();
      for (double[] row : h) {
        normed.add(rmsNorm(row, lw.inputNorm(), config.rmsNormEps()));
      }
      double[][] attention = LatentAttentionTest.reference(config, lw.latentAttention(), normed);
      for (int p = 0; p < n; p++) {
        ReferenceTensors.add(h[p], attention[p]);
        double[] x = rmsNorm(h[p], lw.postAttentionNorm(), config.rmsNormEps());
        ReferenceTensors.add(h[p], lw.moe() != null ? moe(config, lw.moe(), x, k) : mlp(lw.denseMlp(), x));
      }
    }
    double[][] logits = new double[n][];
    for (int p = 0; p < n; p++) {
      logits[p] = matvec(weights.lmHead(), rmsNorm(h[p], weights.finalNorm(), config.rmsNormEps()));
    }
    return logits;
  }

  private static double[] moe(ModelConfig config, MoeWeights w, double[] x, int k) {
    RoutingConfig routing = config.routing();
    int numExperts = config.numExperts();
    double[] logits = matvec(w.router(), x);
    double[] scores = new double[numExperts];
    if (routing.scoring() == RoutingConfig.Scoring.SIGMOID) {
      for (int e = 0; e < numExperts; e++) {
        scores[e] = 1 / (1 + Math.exp(-logits[e]));
      }
    } else {
      double max = Arrays.stream(logits).max().orElseThrow();
      double sum = Arrays.stream(logits).map(l -> Math.exp(l - max)).sum();
      for (int e = 0; e < numExperts; e++) {
        scores[e] = Math.exp(logits[e] - max) / sum;
      }
    }
    double[] choice = scores.clone();
    if (w.routerScoreCorrectionBias() != null) {
      for (int e = 0; e < numExperts; e++) {
        choice[e] += w.routerScoreCorrectionBias()[e];
      }
    }
    boolean grouped = routing.topkMethod() != RoutingConfig.TopkMethod.GREEDY && routing.topkGroup() < routing.numGroups();
    if (grouped) {
      int size = numExperts / routing.numGroups();
      double[] groupScores = new double[routing.numGroups()];
      for (int g = 0; g < groupScores.length; g++) {
        double[] members = Arrays.copyOfRange(choice, g * size, (g + 1) * size);
        Arrays.sort(members);
        groupScores[g] = routing.topkMethod() == RoutingConfig.TopkMethod.NOAUX_TC
            ? members[size - 1] + members[size - 2]
            : members[size - 1];
      }
      List<Integer> kept = top(groupScores, routing.topkGroup());
      for (int e = 0; e < numExperts; e++) {
        if (!kept.contains(e / size)) {
          choice[e] = Double.NEGATIVE_INFINITY;
        }
      }
    }
    List<Integer> selected = top(choice, k);
    double sum = selected.stream().mapToDouble(e -> scores[e]).sum();
    boolean v3 = routing.scoring() == RoutingConfig.Scoring.SIGMOID;
    double[] out = new double[x.length];
    for (int e : selected) {
      double weight;
      if (config.normTopKProb() && k > 1) {
        weight = scores[e] / (sum + 1e-20) * (v3 ? routing.routedScalingFactor() : 1);
      } else {
        weight = scores[e] * routing.routedScalingFactor();
      }
      double[] y = mlp(w.experts()[e], x);
      for (int i = 0; i < x.length; i++) {
        out[i] += weight * y[i];
      }
    }
    if (w.sharedExpert() != null) {
      ReferenceTensors.add(out, mlp(w.sharedExpert(), x));
    }
    return out;
  }

  private static List<Integer> top(double[] values, int k) {
    return IntStream.range(0, values.length).boxed()
        .sorted(Comparator.comparingDouble((Integer i) -> -values[i]).thenComparingInt(i -> i))
        .limit(k).toList();
  }

  private static double[] mlp(ExpertWeights w, double[] x) {
    double[] gate = matvec(w.gateProj(), x);
    double[] up = matvec(w.upProj(), x);
    for (int i = 0; i < gate.length; i++) {
      gate[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
    }
    return matvec(w.downProj(), gate);
  }

  private static double[] matvec(Matrix w, double[] x) {
    double[] y = new double[w.rows()];
    for (int r = 0; r < w.rows(); r++) {
      double sum = 0;
      for (int c = 0; c < w.cols(); c++) {
        sum += w.get(r, c) * x[c];
      }
      y[r] = sum;
    }
    return y;
  }

  private static double[] rmsNorm(double[] x, float[] weight, float eps) {
    double sumSquares = 0;
    for (double v : x) {
      sumSquares += v * v;
    }
    double inv = 1 / Math.sqrt(sumSquares / x.length + eps);
    double[] out = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = x[i] * inv * weight[i];
    }
    return out;
  }
}
