package io.moestream.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.ModelFolderEdits;
import io.moestream.engine.format.DType;
import io.moestream.engine.generate.EngineOptions;
import io.moestream.engine.generate.LoadedModel;
import io.moestream.engine.model.Architecture;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine's logits for every position against {@link ReferenceForward} (float64, written from the
 * Hugging Face modeling code) on random-weight models of each family.
 *
 * <p>Tolerance: max|engine - reference| / max|reference| over all positions <= 1e-4 for F32 weights and
 * 1e-3 for BF16 (the reference reads the same bf16 values; the engine keeps activations in float32).
 * The argmax must agree wherever the reference's top-two gap exceeds 10x the tolerance (in units of
 * max|reference|). Sequences of 1, 7 and 40 tokens; k = the config's top-k and k = 1 below it.
 */
class ArchitecturesTest {
  private static final int[] LENGTHS = {1, 7, 40};

  @TempDir
  static Path models;

  /** A change to the written folder (config fields, extra or missing tensors). */
  @FunctionalInterface
  private interface FolderEdit {
    void apply(Path folder) throws IOException;
  }

  private record Case(String name, TestModelSpec spec, FolderEdit edit) {
    Case(String name, TestModelSpec spec) {
      this(name, spec, folder -> { });
    }
  }

  private static List<Case> cases() {
    List<Case> cases = new ArrayList<>();
    for (DType dtype : new DType[] {DType.F32, DType.BF16}) {
      for (Architecture arch : new Architecture[] {
          Architecture.QWEN3_MOE, Architecture.QWEN2_MOE, Architecture.MIXTRAL, Architecture.OLMOE}) {
        // Defaults: GQA (4 query heads over 2 KV heads), 8 experts, top-2; Qwen2-MoE with a shared expert.
        cases.add(new Case(arch.modelType() + " gqa", TestModelSpec.defaults(arch).withDType(dtype)));
      }
      for (Architecture arch : new Architecture[] {Architecture.QWEN3_MOE, Architecture.QWEN2_MOE}) {
        // Layers 0 and 2 dense (decoder_sparse_step 2), layer 1 sparse.
        cases.add(new Case(arch.modelType() + " dense layers",
            TestModelSpec.defaults(arch).withNumLayers(3).withDenseLayers(96, 2).withDType(dtype)));
      }
      cases.add(new Case("qwen2_moe no shared expert",
          TestModelSpec.defaults(Architecture.QWEN2_MOE).withSharedExpert(0).withDType(dtype)));
      // One KV head for 4 query heads, head_dim 24 so q_proj is (96, 64), not square.
      cases.add(new Case("qwen3_moe mqa head_dim 24",
          TestModelSpec.defaults(Architecture.QWEN3_MOE).withAttention(64, 4, 1, 24).withExperts(6, 3, 40)
              .withSeed(7).withDType(dtype)));
      cases.add(new Case("mixtral top-3 of 6",
          TestModelSpec.defaults(Architecture.MIXTRAL).withExperts(6, 3, 40).withSeed(9).withDType(dtype)));
      // Dense layers chosen by mlp_only_layers instead of decoder_sparse_step.
      cases.add(new Case("qwen3_moe mlp_only_layers",
          TestModelSpec.defaults(Architecture.QWEN3_MOE).withNumLayers(3).withDenseLayers(96, 2).withDType(dtype),
          folder -> ModelFolderEdits.editConfig(folder, c -> {
            c.put("decoder_sparse_step", 1);
            c.putArray("mlp_only_layers").add(0).add(2);
          })));
      cases.add(new Case("olmoe clip_qkv 0.4", TestModelSpec.defaults(Architecture.OLMOE).withDType(dtype),
          folder -> ModelFolderEdits.editConfig(folder, c -> c.put("clip_qkv", 0.4))));
      cases.add(new Case("qwen3_moe tied embeddings", TestModelSpec.defaults(Architecture.QWEN3_MOE).withDType(dtype),
          folder -> {
            ModelFolderEdits.editConfig(folder, c -> c.put("tie_word_embeddings", true));
            ModelFolderEdits.rewriteTensors(folder, (t, out) -> {
              if (!t.name().equals("lm_head.weight")) {
                ModelFolderEdits.copy(t, out);
              }
            }, out -> { });
          }));
    }
    // norm_topk_prob the other way round from the written configs, and linear RoPE scaling.
    cases.add(new Case("qwen3_moe norm_topk_prob false",
        TestModelSpec.defaults(Architecture.QWEN3_MOE).withExperts(8, 3, 32),
        folder -> ModelFolderEdits.editConfig(folder, c -> c.put("norm_topk_prob", false))));
    cases.add(new Case("qwen2_moe norm_topk_prob true",
        TestModelSpec.defaults(Architecture.QWEN2_MOE).withExperts(8, 3, 32),
        folder -> ModelFolderEdits.editConfig(folder, c -> c.put("norm_topk_prob", true))));
    cases.add(new Case("mixtral linear rope scaling 4", TestModelSpec.defaults(Architecture.MIXTRAL),
        folder -> ModelFolderEdits.editConfig(folder,
            c -> c.putObject("rope_scaling").put("type", "linear").put("factor", 4.0))));
    // Defaults for absent fields: head_dim = hidden / heads, num_key_value_heads = heads (plain MHA).
    cases.add(new Case("mixtral mha, head_dim and num_key_value_heads absent",
        TestModelSpec.defaults(Architecture.MIXTRAL).withAttention(64, 4, 4, 16),
        folder -> ModelFolderEdits.editConfig(folder, c -> c.remove(List.of("head_dim", "num_key_value_heads")))));
    // Values the engine must read rather than assume.
    cases.add(new Case("qwen2_moe rope_theta 10000, rms_norm_eps 0.05", TestModelSpec.defaults(Architecture.QWEN2_MOE),
        folder -> ModelFolderEdits.editConfig(folder, c -> c.put("rope_theta", 10000.0).put("rms_norm_eps", 0.05))));
    // F16 weights (the rebias widening in the matmul), at the BF16 tolerance.
    cases.add(new Case("qwen3_moe gqa", TestModelSpec.defaults(Architecture.QWEN3_MOE).withDType(DType.F16)));
    cases.add(new Case("mixtral gqa", TestModelSpec.defaults(Architecture.MIXTRAL).withDType(DType.F16)));
    // FP8 E4M3 linear weights with block scales (the Qwen3 FP8 releases' scheme), at several block sizes:
    // 32 splits every matrix into several blocks, 24 leaves partial blocks at the edges.
    cases.add(new Case("qwen3_moe fp8 blocks 32", TestModelSpec.defaults(Architecture.QWEN3_MOE).withFp8Block(32)));
    cases.add(new Case("qwen3_moe fp8 blocks 128 dense layers", TestModelSpec.defaults(Architecture.QWEN3_MOE)
        .withNumLayers(3).withDenseLayers(96, 2).withFp8Block(128)));
    cases.add(new Case("qwen2_moe fp8 blocks 24", TestModelSpec.defaults(Architecture.QWEN2_MOE).withFp8Block(24)));
    cases.add(new Case("mixtral fp8 blocks 16", TestModelSpec.defaults(Architecture.MIXTRAL).withFp8Block(16)));
    cases.add(new Case("olmoe fp8 blocks 32 bf16", TestModelSpec.defaults(Architecture.OLMOE).withDType(DType.BF16)
        .withFp8Block(32)));
    for (Architecture arch : new Architecture[] {Architecture.QWEN3_MOE, Architecture.OLMOE}) {
      // attention_bias: q/k/v_proj and o_proj all get a bias in Hugging Face's Qwen3-MoE and OLMoE.
      cases.add(new Case(arch.modelType() + " attention_bias", TestModelSpec.defaults(arch),
          folder -> addAttentionBiases(folder, TestModelSpec.defaults(arch))));
    }
    return cases;
  }

  @TestFactory
  Stream<DynamicTest> engineMatchesFloat64Reference() {
    List<DynamicTest> tests = new ArrayList<>();
    int index = 0;
    for (Case c : cases()) {
      String label = c.name + " " + c.spec.dtype();
      Path folder = models.resolve("model-" + index++);
      tests.add(DynamicTest.dynamicTest(label, () -> check(c, folder, label)));
    }
    return tests.stream();
  }

  private static void addAttentionBiases(Path folder, TestModelSpec spec) throws IOException {
    ModelFolderEdits.editConfig(folder, c -> c.put("attention_bias", true));
    int qDim = spec.numHeads() * spec.headDim();
    int kvDim = spec.numKvHeads() * spec.headDim();
    SplittableRandom random = new SplittableRandom(77);
    ModelFolderEdits.rewriteTensors(folder, ModelFolderEdits::copy, out -> {
      for (int layer = 0; layer < spec.numLayers(); layer++) {
        String p = "model.layers." + layer + ".self_attn.";
        for (String[] bias : new String[][] {{"q_proj", "" + qDim}, {"k_proj", "" + kvDim}, {"v_proj", "" + kvDim},
            {"o_proj", "" + spec.hiddenSize()}}) {
          int n = Integer.parseInt(bias[1]);
          float[] values = new float[n];
          for (int i = 0; i < n; i++) {
            values[i] = (float) (random.nextDouble() * 0.4 - 0.2);
          }
          out.add(p + bias[0] + ".bias", spec.dtype(), new long[] {n}, values);
        }
      }
    });
  }

  private static void check(Case c, Path folder, String label) throws IOException {
    TestModelSpec spec = c.spec;
    TestModelWriter.write(spec, folder);
    c.edit.apply(folder);
    double tolerance = spec.dtype() == DType.F32 ? 1e-4 : 1e-3;
    ReferenceForward reference = new ReferenceForward(folder);
    SplittableRandom random = new SplittableRandom(spec.seed() + 1);
    EngineOptions options = EngineOptions.defaults().withBackend("cpu").withThreads(2).withKvCacheBytes(4 << 20);
    try (LoadedModel model = LoadedModel.load(folder, options)) {
      for (int k : new int[] {spec.expertsPerToken(), 1}) {
        for (int length : LENGTHS) {
          int[] ids = random.ints(length, 0, spec.vocabSize()).toArray();
          float[][] ours = model.logits(ids, model.expertsPerLayer(k), true);
          double[][] expected = reference.logits(ids, k);
          String where = label + " k=" + k + " " + length + " tokens (smallest routing gap "
              + reference.smallestRoutingGap + ")";
          assertClose(expected, ours, tolerance, where);
        }
      }
    }
  }

  static void assertClose(double[][] expected, float[][] actual, double tolerance, String where) {
    assertEquals(expected.length, actual.length, where + ": rows");
    double maxRef = 0;
    double maxDiff = 0;
    for (int p = 0; p < expected.length; p++) {
      assertEquals(expected[p].length, actual[p].length, where + ": vocab");
      for (int i = 0; i < expected[p].length; i++) {
        maxRef = Math.max(maxRef, Math.abs(expected[p][i]));
        maxDiff = Math.max(maxDiff, Math.abs(expected[p][i] - actual[p][i]));
      }
    }
    assertTrue(maxRef > 0.1, where + ": degenerate reference logits, max " + maxRef);
    assertTrue(maxDiff <= tolerance * maxRef,
        where + ": max|diff| " + maxDiff + " / max|ref| " + maxRef + " = " + maxDiff / maxRef + " > " + tolerance);
    for (int p = 0; p < expected.length; p++) {
      int best = argmax(expected[p]);
      double second = Double.NEGATIVE_INFINITY;
      for (int i = 0; i < expected[p].length; i++) {
        if (i != best) {
          second = Math.max(second, expected[p][i]);
        }
      }
      if (expected[p][best] - second > 10 * tolerance * maxRef) {
        int ours = 0;
        for (int i = 1; i < actual[p].length; i++) {
          if (actual[p][i] > actual[p][ours]) {
            ours = i;
          }
        }
        assertEquals(best, ours, where + ": argmax at position " + p);
      }
    }
  }

  private static int argmax(double[] values) {
    int best = 0;
    for (int i = 1; i < values.length; i++) {
      if (values[i] > values[best]) {
        best = i;
      }
    }
    return best;
  }
}
