package io.moestream.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.backend.StepBatch;
import io.moestream.engine.kernel.Kernels;
import io.moestream.engine.kernel.Matrix;
import io.moestream.engine.kernel.ScalarKernels;
import io.moestream.engine.kernel.VectorKernels;
import io.moestream.engine.kernel.WorkerPool;
import io.moestream.engine.kv.PagedKvCache;
import io.moestream.engine.model.Architecture;
import io.moestream.engine.model.MlaConfig;
import io.moestream.engine.model.MlaWeights;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.model.ModelWeights;
import io.moestream.engine.model.RopeScaling;
import io.moestream.engine.testmodel.DeepseekSpec;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The absorbed latent attention (cache of [latent | k_pe] only) against a float64 recomputation done the
 * plain way, as Hugging Face's DeepseekV2Attention does it: keys and values of every head expanded from
 * each cached latent with kv_b_proj, RoPE applied after permuting interleaved pairs to halves, YaRN
 * frequencies and scales from the formulas of the reference. Two sequences share a prompt step of 23
 * tokens (blocks of 4 positions), then decode two steps together.
 *
 * <p>Tolerance: max|engine - reference| / max|reference| <= 1e-4 on F32 weights, scalar and vector kernels.
 */
class LatentAttentionTest {
  private static final double TOLERANCE = 1e-4;

  @TempDir
  Path folder;

  @ParameterizedTest
  @ValueSource(strings = {"v2-lite", "v3", "v2-yarn-scaled-cos", "v2-no-rope-scaling"})
  void absorbedPathMatchesExpandedReference(String name) throws Exception {
    TestModelSpec spec = switch (name) {
      case "v2-lite" -> TestModelSpec.defaults(Architecture.DEEPSEEK_V2);
      case "v3" -> TestModelSpec.defaults(Architecture.DEEPSEEK_V3);
      case "v2-yarn-scaled-cos" -> TestModelSpec.defaults(Architecture.DEEPSEEK_V2)
          .withDeepseek(DeepseekSpec.defaults(Architecture.DEEPSEEK_V2).withYarn(4, 64, 0.8, 1.0));
      default -> TestModelSpec.defaults(Architecture.DEEPSEEK_V2)
          .withDeepseek(DeepseekSpec.defaults(Architecture.DEEPSEEK_V2).withYarn(0, 0, 0, 0)
              .withAttention(0, 24, 8, 4, 12));
    };
    TestModelWriter.write(spec.withNumLayers(2), folder);
    ModelWeights weights = ModelWeights.load(folder);
    for (Kernels kernels : new Kernels[] {new ScalarKernels(), new VectorKernels()}) {
      check(weights, kernels, name);
    }
  }

  private static void check(ModelWeights weights, Kernels kernels, String name) {
    ModelConfig config = weights.config();
    int hidden = config.hiddenSize();
    int layer = 1;
    MlaWeights w = weights.layers()[layer].latentAttention();
    PagedKvCache cache = CpuBackend.newKvCache(config, 4, 16);
    SplittableRandom random = new SplittableRandom(7);
    PagedKvCache.Sequence a = cache.newSequence();
    PagedKvCache.Sequence b = cache.newSequence();
    assertTrue(cache.reserve(a, 24) && cache.reserve(b, 8));
    List<double[]> inputsA = new ArrayList<>();
    List<double[]> inputsB = new ArrayList<>();
    List<float[]> outputsA = new ArrayList<>();
    List<float[]> outputsB = new ArrayList<>();
    try (WorkerPool pool = new WorkerPool(2)) {
      LatentAttention attention = new LatentAttention(config, kernels, pool);
      // Step 1: a's positions 0..19 and b's 0..2 (23 tokens: more than one value-expansion chunk).
      // Steps 2 and 3: one decode token of each.
      int[][] seqOfToken = {new int[23], {0, 1}, {1, 0}};
      java.util.Arrays.fill(seqOfToken[0], 20, 23, 1);
      int[] nextA = {0};
      int[] nextB = {0};
      for (int[] step : seqOfToken) {
        int n = step.length;
        int[] positions = new int[n];
        PagedKvCache.Sequence[] sequences = new PagedKvCache.Sequence[n];
        float[] normed = new float[n * hidden];
        for (int t = 0; t < n; t++) {
          boolean isA = step[t] == 0;
          positions[t] = isA ? nextA[0]++ : nextB[0]++;
          sequences[t] = isA ? a : b;
          double[] x = new double[hidden];
          for (int i = 0; i < hidden; i++) {
            x[i] = random.nextDouble(-1.5, 1.5);
            normed[t * hidden + i] = (float) x[i];
          }
          (isA ? inputsA : inputsB).add(toDouble(normed, t * hidden, hidden));
        }
        float[] out = new float[n * hidden];
        StepBatch batch = new StepBatch(new int[n], positions, sequences, new int[config.numLayers()][n], new int[0]);
        attention.forward(layer, weights.layers()[layer], batch, attention.ropeTables(positions), cache, normed, out);
        for (int t = 0; t < n; t++) {
          float[] row = java.util.Arrays.copyOfRange(out, t * hidden, (t + 1) * hidden);
          (step[t] == 0 ? outputsA : outputsB).add(row);
        }
      }
    }
    double maxRef = 0;
    double maxDiff = 0;
    for (int s = 0; s < 2; s++) {
      List<double[]> inputs = s == 0 ? inputsA : inputsB;
      List<float[]> outputs = s == 0 ? outputsA : outputsB;
      double[][] expected = reference(config, w, inputs);
      for (int p = 0; p < inputs.size(); p++) {
        for (int i = 0; i < hidden; i++) {
          maxRef = Math.max(maxRef, Math.abs(expected[p][i]));
          maxDiff = Math.max(maxDiff, Math.abs(expected[p][i] - outputs.get(p)[i]));
        }
      }
    }
    assertTrue(maxDiff / maxRef <= TOLERANCE, name + " " + kernels.getClass().getSimpleName()
        + ": max|engine - reference| / max|reference| = " + maxDiff / maxRef);
  }

  private static double[] toDouble(float[] values, int offset, int n) {
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      out[i] = values[offset + i];
    }
    return out;
  }

  // ---- the plain recomputation, float64 -------------------------------------------------------

  /** Attention outputs of one sequence whose positions 0.. had these inputs. */
  static double[][] reference(ModelConfig config, MlaWeights w, List<double[]> inputs) {
    MlaConfig mla = config.mla();
    int heads = config.numHeads();
    int nope = mla.qkNopeHeadDim();
    int rope = mla.qkRopeHeadDim();
    int v = mla.vHeadDim();
    int r = mla.kvLoraRank();
    int n = inputs.size();
    double[] invFreq = invFreq(rope, config.ropeTheta(), config.ropeScaling());
    double cosSinScale = 1;
    double scale = 1 / Math.sqrt(nope + rope);
    RopeScaling s = config.ropeScaling();
    if (s.type() == RopeScaling.Type.YARN) {
      cosSinScale = mscale(s.factor(), s.mscale()) / mscale(s.factor(), s.mscaleAllDim());
      if (s.mscaleAllDim() != 0) {
        scale *= mscale(s.factor(), s.mscaleAllDim()) * mscale(s.factor(), s.mscaleAllDim());
      }
    }
    double[][][] keys = new double[n][heads][];
    double[][][] values = new double[n][heads][];
    double[][][] queries = new double[n][heads][];
    for (int p = 0; p < n; p++) {
      double[] x = inputs.get(p);
      double[] q = w.qProj() != null
          ? matvec(w.qProj(), x)
          : matvec(w.qBProj(), rmsNorm(matvec(w.qAProj(), x), w.qANorm()));
      double[] compressed = matvec(w.kvAProj(), x);
      double[] latent = rmsNorm(java.util.Arrays.copyOfRange(compressed, 0, r), w.kvANorm());
      double[] kPe = rotate(java.util.Arrays.copyOfRange(compressed, r, r + rope), p, invFreq, cosSinScale);
      double[] kv = matvec(w.kvBProj(), latent); // (heads * (nope + v))
      for (int h = 0; h < heads; h++) {
        double[] key = new double[nope + rope];
        System.arraycopy(kv, h * (nope + v), key, 0, nope);
        System.arraycopy(kPe, 0, key, nope, rope);
        keys[p][h] = key;
        values[p][h] = java.util.Arrays.copyOfRange(kv, h * (nope + v) + nope, (h + 1) * (nope + v));
        double[] query = java.util.Arrays.copyOfRange(q, h * (nope + rope), (h + 1) * (nope + rope));
        double[] qPe = rotate(java.util.Arrays.copyOfRange(query, nope, nope + rope), p, invFreq, cosSinScale);
        System.arraycopy(qPe, 0, query, nope, rope);
        queries[p][h] = query;
      }
    }
    double[][] out = new double[n][];
    for (int p = 0; p < n; p++) {
      double[] attended = new double[heads * v];
      for (int h = 0; h < heads; h++) {
        double[] scores = new double[p + 1];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j <= p; j++) {
          double dot = 0;
          for (int i = 0; i < nope + rope; i++) {
            dot += queries[p][h][i] * keys[j][h][i];
          }
          scores[j] = dot * scale;
          max = Math.max(max, scores[j]);
        }
        double sum = 0;
        for (int j = 0; j <= p; j++) {
          scores[j] = Math.exp(scores[j] - max);
          sum += scores[j];
        }
        for (int j = 0; j <= p; j++) {
          for (int i = 0; i < v; i++) {
            attended[h * v + i] += scores[j] / sum * values[j][h][i];
          }
        }
      }
      out[p] = matvec(w.oProj(), attended);
    }
    return out;
  }

  /** HF: x.view(d/2, 2).transpose -> halves; x * cos + rotate_half(x) * sin with cos = cat(freqs, freqs). */
  private static double[] rotate(double[] x, int position, double[] invFreq, double cosSinScale) {
    int half = x.length / 2;
    double[] permuted = new double[x.length];
    for (int i = 0; i < half; i++) {
      permuted[i] = x[2 * i];
      permuted[half + i] = x[2 * i + 1];
    }
    double[] out = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      double angle = position * invFreq[i % half];
      double rotated = i < half ? -permuted[i + half] : permuted[i - half];
      out[i] = permuted[i] * Math.cos(angle) * cosSinScale + rotated * Math.sin(angle) * cosSinScale;
    }
    // Back to interleaved order, so the test compares the same layout (dot products are unaffected).
    double[] interleaved = new double[x.length];
    for (int i = 0; i < half; i++) {
      interleaved[2 * i] = out[i];
      interleaved[2 * i + 1] = out[half + i];
    }
    return interleaved;
  }

  private static double[] invFreq(int dim, double base, RopeScaling s) {
    double[] extra = new double[dim / 2];
    for (int i = 0; i < dim / 2; i++) {
      extra[i] = 1.0 / Math.pow(base, 2.0 * i / dim);
    }
    if (s.type() != RopeScaling.Type.YARN) {
      return extra;
    }
    double low = Math.max(Math.floor(correctionDim(s.betaFast(), dim, base, s.originalMaxPositionEmbeddings())), 0);
    double high = Math.min(Math.ceil(correctionDim(s.betaSlow(), dim, base, s.originalMaxPositionEmbeddings())), dim - 1);
    if (low == high) {
      high += 0.001;
    }
    double[] out = new double[dim / 2];
    for (int i = 0; i < dim / 2; i++) {
      double ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
      double mask = 1 - ramp;
      out[i] = extra[i] / s.factor() * (1 - mask) + extra[i] * mask;
    }
    return out;
  }

  private static double correctionDim(double rotations, int dim, double base, int maxPositions) {
    return dim * Math.log(maxPositions / (rotations * 2 * Math.PI)) / (2 * Math.log(base));
  }

  private static double mscale(double factor, double m) {
    return factor <= 1 ? 1 : 0.1 * m * Math.log(factor) + 1;
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

  private static double[] rmsNorm(double[] x, float[] weight) {
    double sumSquares = 0;
    for (double value : x) {
      sumSquares += value * value;
    }
    double inv = 1 / Math.sqrt(sumSquares / x.length + 1e-6);
    double[] out = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = x[i] * inv * weight[i];
    }
    return out;
  }
}
