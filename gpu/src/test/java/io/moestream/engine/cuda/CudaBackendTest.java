package io.moestream.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.moestream.engine.backend.Backend;
import io.moestream.engine.backend.StepBatch;
import io.moestream.engine.backend.StepOutput;
import io.moestream.engine.cpu.CpuBackend;
import io.moestream.engine.format.Checkpoint;
import io.moestream.engine.format.DType;
import io.moestream.engine.kernel.ScalarKernels;
import io.moestream.engine.kv.PagedKvCache;
import io.moestream.engine.model.Architecture;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.model.ModelWeights;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CUDA backend against the CPU reference, step by step, on random-weight models of every family
 * it runs: a prompt in chunks (the prefill kernel), decode steps (flash-decoding), a mixed step of
 * two sequences with different experts per token. BF16 weights on both sides; logits within 2e-2.
 * Runs only where a CUDA device is usable; skipped elsewhere.
 */
class CudaBackendTest {
  private static final float TOLERANCE = 2e-2f;

  @TempDir static Path models;

  @BeforeAll
  static void needsADevice() {
    CudaProbe.Result probe = CudaProbe.probe(0);
    Assumptions.assumeTrue(probe.available(), "no CUDA device: " + probe.detail());
  }

  static List<Object[]> models() {
    List<Object[]> cases = new ArrayList<>();
    for (Architecture arch : new Architecture[] {
        Architecture.QWEN3_MOE, Architecture.QWEN2_MOE, Architecture.MIXTRAL, Architecture.OLMOE}) {
      // head_dim 32 (the kernels need a multiple of 32); 8 experts, 2 per token
      cases.add(new Object[] {arch.modelType(), TestModelSpec.defaults(arch).withAttention(128, 4, 2, 32)
          .withDType(DType.BF16)});
    }
    cases.add(new Object[] {"qwen3_moe dense layers, k 3 of 6, head_dim 64",
        TestModelSpec.defaults(Architecture.QWEN3_MOE).withAttention(128, 4, 1, 64).withNumLayers(3)
            .withDenseLayers(96, 2).withExperts(6, 3, 40).withDType(DType.BF16)});
    cases.add(new Object[] {"mixtral f32 weights converted to bf16",
        TestModelSpec.defaults(Architecture.MIXTRAL).withAttention(128, 4, 4, 32)});
    return cases;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void logitsMatchTheCpuBackend(String name, TestModelSpec spec) throws Exception {
    Path folder = models.resolve(name.replaceAll("[^a-z0-9]+", "-"));
    TestModelWriter.write(spec, folder);
    ModelConfig config = ModelConfig.read(folder);
    ModelWeights weights = ModelWeights.load(config, Checkpoint.open(folder));
    PagedKvCache cpuCache = CpuBackend.newKvCache(config, 16, 64);
    PagedKvCache gpuCache = CpuBackend.newKvCache(config, 16, 64);
    try (Backend cpu = new CpuBackend(weights, new ScalarKernels(), 1, cpuCache);
        Backend gpu = new CudaBackend(weights, 0, gpuCache, false)) {
      Random random = new Random(11);
      int maxK = config.numExpertsPerTok();
      // sequence a: a 40-token prompt in chunks of 24 and 16, then 3 decode steps; sequence b joins with
      // a 5-token prompt during a's decode, each token at its own k
      PagedKvCache.Sequence[] a = {cpuCache.newSequence(), gpuCache.newSequence()};
      PagedKvCache.Sequence[] b = {cpuCache.newSequence(), gpuCache.newSequence()};
      reserve(cpuCache, gpuCache, a, 64);
      reserve(cpuCache, gpuCache, b, 16);
      int[] prompt = random.ints(40, 0, config.vocabSize()).toArray();
      compare(name + " prefill 0..23", cpu, gpu, config, a, null, Arrays.copyOfRange(prompt, 0, 24), 0, null, maxK);
      compare(name + " prefill 24..39", cpu, gpu, config, a, null, Arrays.copyOfRange(prompt, 24, 40), 24, null, maxK);
      for (int step = 0; step < 3; step++) {
        int[] tokens = {random.nextInt(config.vocabSize())};
        compare(name + " decode " + step, cpu, gpu, config, a, null, tokens, 40 + step, null, maxK);
      }
      int[] bPrompt = random.ints(5, 0, config.vocabSize()).toArray();
      int[] perTokenK = new int[6];
      for (int i = 0; i < perTokenK.length; i++) {
        perTokenK[i] = 1 + random.nextInt(maxK);
      }
      compare(name + " mixed step", cpu, gpu, config, a, b, bPrompt, 43, perTokenK, maxK);
    }
  }

  private static void reserve(PagedKvCache cpuCache, PagedKvCache gpuCache, PagedKvCache.Sequence[] seq, int n) {
    assertEquals(true, cpuCache.reserve(seq[0], n) && gpuCache.reserve(seq[1], n));
  }

  /**
   * One step on both backends. Without {@code b}: {@code tokens} of sequence a from {@code start}. With
   * {@code b}: a's decode token at {@code start} first, then b's prompt from 0, all logits wanted.
   */
  private static void compare(String what, Backend cpu, Backend gpu, ModelConfig config, PagedKvCache.Sequence[] a,
      PagedKvCache.Sequence[] b, int[] tokens, int start, int[] perTokenK, int maxK) {
    StepOutput[] outs = new StepOutput[2];
    for (int side = 0; side < 2; side++) {
      int n = b == null ? tokens.length : tokens.length + 1;
      int[] ids = new int[n];
      int[] positions = new int[n];
      PagedKvCache.Sequence[] seqs = new PagedKvCache.Sequence[n];
      for (int i = 0; i < n; i++) {
        if (b == null) {
          ids[i] = tokens[i];
          positions[i] = start + i;
          seqs[i] = a[side];
        } else {
          ids[i] = i == 0 ? 7 : tokens[i - 1];
          positions[i] = i == 0 ? start : i - 1;
          seqs[i] = i == 0 ? a[side] : b[side];
        }
      }
      int[][] experts = new int[config.numLayers()][n];
      for (int[] layer : experts) {
        for (int i = 0; i < n; i++) {
          layer[i] = perTokenK == null ? maxK : perTokenK[i];
        }
      }
      int[] logitTokens = new int[n];
      for (int i = 0; i < n; i++) {
        logitTokens[i] = i;
      }
      outs[side] = (side == 0 ? cpu : gpu).forward(new StepBatch(ids, positions, seqs, experts, logitTokens));
    }
    if (b == null) {
      a[0].setLength(start + tokens.length);
      a[1].setLength(start + tokens.length);
    } else {
      a[0].setLength(start + 1);
      a[1].setLength(start + 1);
      b[0].setLength(tokens.length);
      b[1].setLength(tokens.length);
    }
    float[] want = outs[0].logits();
    float[] got = outs[1].logits();
    assertEquals(want.length, got.length, what);
    for (int i = 0; i < want.length; i++) {
      if (!(Math.abs(got[i] - want[i]) <= TOLERANCE * Math.max(1f, Math.abs(want[i])))) {
        fail(what + ": logit " + i + " is " + got[i] + " on the GPU, " + want[i] + " on the CPU");
      }
    }
    assertArrayEquals(outs[0].expertsUsed(), outs[1].expertsUsed(), what + ": experts used");
  }
}
