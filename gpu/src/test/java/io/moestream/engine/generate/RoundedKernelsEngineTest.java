package io.moestream.engine.generate;

import static io.moestream.engine.generate.EngineRuns.assertSameGenerations;
import static io.moestream.engine.generate.EngineRuns.prompt;
import static io.moestream.engine.generate.EngineRuns.runAlone;
import static io.moestream.engine.generate.EngineRuns.runTogether;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.moestream.engine.format.DType;
import io.moestream.engine.kernel.Kernels;
import io.moestream.engine.kernel.NativeKernels;
import io.moestream.engine.model.Architecture;
import io.moestream.engine.testmodel.GlmSpec;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The engine on the kernels that round activations to BF16 ({@code kernels: amx}, on AMX tiles, and
 * {@code avx512bf16}, by AVX512_BF16 dot products): a batch generates what each request generates alone, token for
 * token (the kernels give a token the same bits in any batch), and the logits stay close to the exact kernels'
 * (BF16 activations keep 8 significant bits: tolerances below). Each is skipped where the CPU cannot run it;
 * MatmulBf16AmxTest and MatmulBf16DotTest fail where it can and the kernels do not load.
 */
class RoundedKernelsEngineTest {
  private static final EngineOptions EXACT = EngineOptions.defaults().withBackend("cpu").withThreads(2)
      .withKvCacheBytes(4 << 20);
  /**
   * Per position, max |rounded - exact| / max |exact| of the logits: the median at most this (measured 0.8-0.9e-2 on these
   * random-weight models)...
   */
  private static final double MEDIAN_TOLERANCE = 0.02;
  /**
   * ... and at most 1 position in 10 over this: where two experts' router scores nearly tie, the rounding
   * upstream can flip the choice and that position moves far (measured: 1 of 30 on the GLM model, 0.33).
   */
  private static final double FAR = 0.1;

  @TempDir
  static Path models;

  static Path qwen3;
  static Path qwen2;
  static Path glm;

  @BeforeAll
  static void writeModels() throws IOException {
    qwen3 = models.resolve("qwen3-bf16");
    TestModelWriter.write(TestModelSpec.defaults(Architecture.QWEN3_MOE).withExperts(8, 3, 32).withDType(DType.BF16),
        qwen3);
    qwen2 = models.resolve("qwen2-bf16"); // a shared expert and a dense first layer
    TestModelWriter.write(TestModelSpec.defaults(Architecture.QWEN2_MOE).withNumLayers(3).withDenseLayers(64, 2)
        .withDType(DType.BF16), qwen2);
    glm = models.resolve("glm4-moe-bf16");
    TestModelWriter.write(TestModelSpec.defaults(Architecture.GLM4_MOE)
        .withGlm(GlmSpec.defaults().withAttention(0.5, true, true).withRouting(4, 2, 2.5, true))
        .withDType(DType.BF16), glm);
  }

  private static List<GenerationRequest> requests() {
    int[] lengths = {3, 17, 6, 25, 40};
    int[] budgets = {14, 6, 11, 18, 9};
    List<GenerationRequest> list = new ArrayList<>();
    for (int i = 0; i < lengths.length; i++) {
      SamplingParams sampling = i % 2 == 0 ? SamplingParams.GREEDY : new SamplingParams(0.9f, 0.95f, 0, 2000 + i);
      list.add(new GenerationRequest("r" + i, prompt(40 + i, lengths[i]), sampling, budgets[i], null));
    }
    return list;
  }

  /** The options of {@code kernels}, or the test skipped where this CPU cannot run them. */
  private static EngineOptions rounded(String kernels) {
    if (kernels.equals(Kernels.AMX)) {
      assumeTrue(NativeKernels.amxAvailable(), () -> "AMX kernels unavailable: " + NativeKernels.amxUnavailableReason());
    } else {
      assumeTrue(NativeKernels.bf16DotAvailable(),
          () -> "AVX512_BF16 kernels unavailable: " + NativeKernels.bf16DotUnavailableReason());
    }
    return EXACT.withKernels(kernels);
  }

  @ParameterizedTest
  @ValueSource(strings = {Kernels.AMX, Kernels.AVX512_BF16})
  void aBatchGeneratesWhatSeparateRunsGenerate(String kernels) {
    EngineOptions options = rounded(kernels);
    for (Path model : List.of(qwen3, qwen2, glm)) {
      List<GenerationRequest> requests = requests();
      assertSameGenerations(runAlone(model, options, requests), runTogether(model, options, requests));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {Kernels.AMX, Kernels.AVX512_BF16})
  void logitsStayCloseToTheExactKernels(String kernels) {
    EngineOptions options = rounded(kernels);
    String marker = kernels.equals(Kernels.AMX) ? "AMX" : "AVX512_BF16";
    for (Path model : List.of(qwen3, qwen2, glm)) {
      int[] tokens = prompt(77, 30);
      float[][] exact;
      float[][] rounded;
      try (LoadedModel loaded = LoadedModel.load(model, EXACT)) {
        exact = loaded.logits(tokens, loaded.expertsPerLayer(0), true);
      }
      try (LoadedModel loaded = LoadedModel.load(model, options)) {
        assertTrue(loaded.backend().name().contains(marker), loaded.backend().name());
        rounded = loaded.logits(tokens, loaded.expertsPerLayer(0), true);
      }
      // per position: max |rounded - exact| / max |exact|
      double[] relative = new double[exact.length];
      for (int p = 0; p < exact.length; p++) {
        double maxDiff = 0;
        double maxRef = 0;
        for (int v = 0; v < exact[p].length; v++) {
          maxDiff = Math.max(maxDiff, Math.abs(exact[p][v] - rounded[p][v]));
          maxRef = Math.max(maxRef, Math.abs(exact[p][v]));
        }
        relative[p] = maxDiff / maxRef;
      }
      double[] sorted = relative.clone();
      Arrays.sort(sorted);
      double median = sorted[sorted.length / 2];
      long far = Arrays.stream(relative).filter(r -> r > FAR).count();
      System.out.printf("%s, %s: per-position max|rounded - exact| / max|exact|: median %.2e, max %.2e, %d of %d over "
          + "%.2f%n", kernels, model.getFileName(), median, sorted[sorted.length - 1], far, relative.length, FAR);
      assertTrue(median <= MEDIAN_TOLERANCE, model.getFileName() + ": median " + median + " > " + MEDIAN_TOLERANCE
          + " " + Arrays.toString(relative));
      assertTrue(far <= relative.length / 10, model.getFileName() + ": " + far + " positions over " + FAR + " "
          + Arrays.toString(relative));
    }
  }
}
