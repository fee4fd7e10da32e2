package io.moestream.engine.generate;

import static io.moestream.engine.generate.EngineRuns.assertSameGenerations;
import static io.moestream.engine.generate.EngineRuns.prompt;
import static io.moestream.engine.generate.EngineRuns.run;
import static io.moestream.engine.generate.EngineRuns.runAlone;
import static io.moestream.engine.generate.EngineRuns.runTogether;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.backend.Backend;
import io.moestream.engine.backend.StepBatch;
import io.moestream.engine.backend.StepOutput;
import io.moestream.engine.format.DType;
import io.moestream.engine.generate.EngineRuns.Generation;
import io.moestream.engine.kv.PagedKvCache;
import io.moestream.engine.model.Architecture;
import io.moestream.engine.testmodel.GlmSpec;
import io.moestream.engine.testmodel.GptOssSpec;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What must not change a sequence's result: the other sequences of its batch, the KV cache versus
 * recomputation, chunked prefill, per-request experts, cache pressure (preemption and recompute) and a
 * restore from already generated tokens.
 *
 * <p>Token comparisons are exact. Logit comparisons: max|diff| / max|ref| <= 1e-6 for batch composition
 * and chunking (the kernels accumulate each (row, token) in the same order whatever the batch, so these
 * are expected to be bitwise equal, and the tests say so when they are not), <= 1e-5 for KV-cache
 * decoding against recomputation.
 */
class BatchInvariantsTest {

  private static final EngineOptions OPTIONS = EngineOptions.defaults().withBackend("cpu").withThreads(2).withKvCacheBytes(4 << 20);

  @TempDir
  static Path models;

  static Path f32Model;
  static Path bf16Model;
  static Path qwen2Model;
  static Path glmModel;
  static Path gptOssModel;
  static Path gptOssMxfp4Model;

  @BeforeAll
  static void writeModels() throws IOException {
    f32Model = models.resolve("qwen3-f32");
    TestModelWriter.write(TestModelSpec.defaults(Architecture.QWEN3_MOE).withExperts(8, 3, 32), f32Model);
    bf16Model = models.resolve("qwen3-bf16");
    TestModelWriter.write(TestModelSpec.defaults(Architecture.QWEN3_MOE).withExperts(8, 3, 32).withDType(DType.BF16),
        bf16Model);
    // Shared expert and a dense first layer.
    qwen2Model = models.resolve("qwen2-bf16");
    TestModelWriter.write(TestModelSpec.defaults(Architecture.QWEN2_MOE).withNumLayers(3).withDenseLayers(64, 2)
        .withDType(DType.BF16), qwen2Model);
    // GLM-4.5: partial rotary, q/k/v biases, q/k norm, sigmoid routing over 4 groups, a shared expert, a dense
    // first layer and an MTP layer in the checkpoint.
    glmModel = models.resolve("glm4-moe-bf16");
    TestModelWriter.write(TestModelSpec.defaults(Architecture.GLM4_MOE)
        .withGlm(GlmSpec.defaults().withAttention(0.5, true, true).withRouting(4, 2, 2.5, true))
        .withDType(DType.BF16), glmModel);
    // gpt-oss: a sliding window of 3 (shorter than the requests), sinks, YaRN, biases; BF16 experts stored
    // transposed, and MXFP4 experts.
    gptOssModel = models.resolve("gpt-oss-bf16");
    TestModelWriter.write(TestModelSpec.defaults(Architecture.GPT_OSS)
        .withGptOss(GptOssSpec.defaults().withSlidingWindow(3)).withDType(DType.BF16), gptOssModel);
    gptOssMxfp4Model = models.resolve("gpt-oss-mxfp4");
    TestModelWriter.write(TestModelSpec.defaults(Architecture.GPT_OSS)
        .withGptOss(GptOssSpec.defaults().withSlidingWindow(3).withMxfp4(true)), gptOssMxfp4Model);
  }

  private static Path model(DType dtype) {
    return dtype == DType.F32 ? f32Model : bf16Model;
  }

  /** Four requests of different prompt lengths and budgets; sampled ones have their own seeds. */
  private static List<GenerationRequest> requests(boolean sampled) {
    int[] lengths = {3, 17, 6, 25};
    int[] budgets = {14, 6, 11, 18};
    List<GenerationRequest> list = new ArrayList<>();
    for (int i = 0; i < lengths.length; i++) {
      SamplingParams sampling = !sampled ? SamplingParams.GREEDY
          : new SamplingParams(0.8f + 0.1f * i, i == 3 ? 1f : 0.9f, i == 1 ? 20 : 0, 1000 + i);
      list.add(new GenerationRequest("r" + i, prompt(i, lengths[i]), sampling, budgets[i], null));
    }
    return list;
  }

  // ---- (a) batch composition ------------------------------------------------------------------

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16"})
  void aBatchGeneratesWhatSeparateRunsGenerate(DType dtype) {
    for (boolean sampled : new boolean[] {false, true}) {
      List<GenerationRequest> requests = requests(sampled);
      Map<String, Generation> alone = runAlone(model(dtype), OPTIONS, requests);
      Map<String, Generation> together = runTogether(model(dtype), OPTIONS, requests);
      assertSameGenerations(alone, together);
      for (GenerationRequest r : requests) {
        Generation g = together.get(r.id());
        assertTrue(g.reason() == FinishReason.STOP || g.tokens().length == r.maxNewTokens(),
            r.id() + ": " + g.tokens().length + " tokens, " + g.reason());
      }
    }
  }

  @Test
  void aBatchGeneratesWhatSeparateRunsGenerateWithSharedExpertAndDenseLayer() {
    List<GenerationRequest> requests = requests(true);
    assertSameGenerations(runAlone(qwen2Model, OPTIONS, requests), runTogether(qwen2Model, OPTIONS, requests));
  }

  @Test
  void aBatchGeneratesWhatSeparateRunsGenerateOnGptOss() {
    List<GenerationRequest> requests = requests(true);
    assertSameGenerations(runAlone(gptOssModel, OPTIONS, requests), runTogether(gptOssModel, OPTIONS, requests));
    assertSameGenerations(runAlone(gptOssMxfp4Model, OPTIONS, requests),
        runTogether(gptOssMxfp4Model, OPTIONS, requests));
  }

  @Test
  void aBatchGeneratesWhatSeparateRunsGenerateOnGlm() {
    List<GenerationRequest> requests = requests(true);
    assertSameGenerations(runAlone(glmModel, OPTIONS, requests), runTogether(glmModel, OPTIONS, requests));
  }

  /**
   * One hand-built step mixing a 6-token prompt chunk of sequence A with the decode tokens of B (k=1)
   * and C (k=3): each row's logits against that sequence run alone through {@link LoadedModel#logits}.
   */
  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16"})
  void mixedPromptAndDecodeStepGivesSingleSequenceLogits(DType dtype) {
    try (LoadedModel model = LoadedModel.load(model(dtype), OPTIONS)) {
      Backend backend = model.backend();
      PagedKvCache cache = backend.kvCache();
      int layers = model.config().numLayers();
      int[] a = prompt(21, 6);
      int[] b = prompt(22, 9); // 8 prefilled + 1 decode token
      int[] c = prompt(23, 13); // 12 prefilled + 1 decode token
      PagedKvCache.Sequence seqA = cache.newSequence();
      PagedKvCache.Sequence seqB = cache.newSequence();
      PagedKvCache.Sequence seqC = cache.newSequence();
      assertTrue(cache.reserve(seqA, a.length) && cache.reserve(seqB, b.length) && cache.reserve(seqC, c.length));
      prefill(backend, seqB, Arrays.copyOf(b, b.length - 1), 1, layers);
      prefill(backend, seqC, Arrays.copyOf(c, c.length - 1), 3, layers);

      int n = a.length + 2;
      int[] ids = new int[n];
      int[] positions = new int[n];
      PagedKvCache.Sequence[] kv = new PagedKvCache.Sequence[n];
      int[][] experts = new int[layers][n];
      // Decode tokens first, as the engine orders them, then A's chunk.
      ids[0] = b[b.length - 1];
      positions[0] = b.length - 1;
      kv[0] = seqB;
      ids[1] = c[c.length - 1];
      positions[1] = c.length - 1;
      kv[1] = seqC;
      for (int i = 0; i < a.length; i++) {
        ids[2 + i] = a[i];
        positions[2 + i] = i;
        kv[2 + i] = seqA;
      }
      for (int layer = 0; layer < layers; layer++) {
        Arrays.fill(experts[layer], 2);
        experts[layer][0] = 1;
        experts[layer][1] = 3;
      }
      int[] logitTokens = new int[n];
      for (int i = 0; i < n; i++) {
        logitTokens[i] = i;
      }
      StepOutput out = backend.forward(new StepBatch(ids, positions, kv, experts, logitTokens));
      cache.release(seqA);
      cache.release(seqB);
      cache.release(seqC);

      float[][] aloneA = model.logits(a, model.expertsPerLayer(2), true);
      float[] aloneB = model.logits(b, model.expertsPerLayer(1), false)[0];
      float[] aloneC = model.logits(c, model.expertsPerLayer(3), false)[0];
      List<String> notBitwise = new ArrayList<>();
      compareRow(aloneB, out.logitsRow(0), 1e-6, "B decode", notBitwise);
      compareRow(aloneC, out.logitsRow(1), 1e-6, "C decode", notBitwise);
      for (int i = 0; i < a.length; i++) {
        compareRow(aloneA[i], out.logitsRow(2 + i), 1e-6, "A position " + i, notBitwise);
      }
      assertTrue(notBitwise.isEmpty(), dtype + ": within tolerance but not bitwise equal: " + notBitwise);
    }
  }

  private static void prefill(Backend backend, PagedKvCache.Sequence sequence, int[] tokens, int k, int layers) {
    int[] positions = new int[tokens.length];
    PagedKvCache.Sequence[] kv = new PagedKvCache.Sequence[tokens.length];
    int[][] experts = new int[layers][tokens.length];
    for (int i = 0; i < tokens.length; i++) {
      positions[i] = i;
      kv[i] = sequence;
    }
    for (int[] row : experts) {
      Arrays.fill(row, k);
    }
    backend.forward(new StepBatch(tokens, positions, kv, experts, new int[0]));
    sequence.setLength(tokens.length);
  }

  /** Asserts the relative tolerance; records rows that differ at all. */
  private static void compareRow(float[] expected, float[] actual, double tolerance, String where, List<String> notBitwise) {
    assertEquals(expected.length, actual.length);
    double maxDiff = 0;
    double maxRef = 0;
    for (int i = 0; i < expected.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(expected[i] - actual[i]));
      maxRef = Math.max(maxRef, Math.abs(expected[i]));
    }
    assertTrue(maxRef > 0, where + ": zero logits");
    assertTrue(maxDiff <= tolerance * maxRef, where + ": max|diff| " + maxDiff + " / max|ref| " + maxRef);
    if (maxDiff > 0) {
      notBitwise.add(where + " (" + maxDiff / maxRef + ")");
    }
  }

  // ---- (b) KV cache decoding vs recomputation -------------------------------------------------

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "BF16"})
  void decodingWithTheCacheMatchesRecomputingThePrefix(DType dtype) {
    try (LoadedModel model = LoadedModel.load(model(dtype), OPTIONS)) {
      int[] tokens = prompt(31, 30);
      int promptLength = 5;
      float[][] recomputed = model.logits(tokens, model.expertsPerLayer(0), true);
      Backend backend = model.backend();
      PagedKvCache cache = backend.kvCache();
      int layers = model.config().numLayers();
      int k = model.config().numExpertsPerTok();
      PagedKvCache.Sequence seq = cache.newSequence();
      assertTrue(cache.reserve(seq, tokens.length));
      try {
        int[] positions = {0, 1, 2, 3, 4};
        int[][] experts = new int[layers][promptLength];
        for (int[] row : experts) {
          Arrays.fill(row, k);
        }
        PagedKvCache.Sequence[] kv = new PagedKvCache.Sequence[promptLength];
        Arrays.fill(kv, seq);
        StepOutput prefill = backend.forward(new StepBatch(Arrays.copyOf(tokens, promptLength), positions, kv, experts,
            new int[] {promptLength - 1}));
        seq.setLength(promptLength);
        List<String> notBitwise = new ArrayList<>();
        compareRow(recomputed[promptLength - 1], prefill.logitsRow(0), 1e-5, "prefill", notBitwise);
        for (int p = promptLength; p < tokens.length; p++) {
          int[][] one = new int[layers][1];
          for (int[] row : one) {
            row[0] = k;
          }
          StepOutput step = backend.forward(new StepBatch(new int[] {tokens[p]}, new int[] {p},
              new PagedKvCache.Sequence[] {seq}, one, new int[] {0}));
          seq.setLength(p + 1);
          compareRow(recomputed[p], step.logitsRow(0), 1e-5, "decode position " + p, notBitwise);
        }
      } finally {
        cache.release(seq);
      }
    }
  }

  // ---- (c) chunked prefill --------------------------------------------------------------------

  @Test
  void chunkedPrefillMatchesUnchunked() {
    EngineOptions chunked = OPTIONS.withMaxBatchTokens(5);
    for (boolean sampled : new boolean[] {false, true}) {
      List<GenerationRequest> requests = requests(sampled);
      Map<String, Generation> unchunked = runTogether(bf16Model, OPTIONS, requests);
      assertSameGenerations(unchunked, runTogether(bf16Model, chunked, requests));
      // One token per step, and at most two sequences at a time: still the same tokens.
      assertSameGenerations(unchunked, runTogether(bf16Model, OPTIONS.withMaxBatchTokens(1), requests));
      assertSameGenerations(unchunked, runTogether(bf16Model, chunked.withMaxRunningSequences(2), requests));
    }
    int[] tokens = prompt(41, 23);
    try (LoadedModel whole = LoadedModel.load(f32Model, OPTIONS);
        LoadedModel inChunks = LoadedModel.load(f32Model, chunked)) {
      float[][] expected = whole.logits(tokens, whole.expertsPerLayer(0), true);
      float[][] actual = inChunks.logits(tokens, inChunks.expertsPerLayer(0), true);
      List<String> notBitwise = new ArrayList<>();
      for (int p = 0; p < tokens.length; p++) {
        compareRow(expected[p], actual[p], 1e-6, "position " + p, notBitwise);
      }
      // Only the last position's row, the prompt crossing chunk boundaries.
      float[][] last = inChunks.logits(tokens, inChunks.expertsPerLayer(0), false);
      assertEquals(1, last.length);
      compareRow(expected[tokens.length - 1], last[0], 1e-6, "last position only", notBitwise);
      assertTrue(notBitwise.isEmpty(), "chunked logits within tolerance but not bitwise equal: " + notBitwise);
    }
  }

  /** Rows split differently across threads, experts handed out in another order: the same bits. */
  @Test
  void theThreadCountDoesNotChangeLogits() {
    int[] tokens = prompt(45, 19);
    float[][] expected;
    try (LoadedModel one = LoadedModel.load(qwen2Model, OPTIONS.withThreads(1))) {
      expected = one.logits(tokens, one.expertsPerLayer(0), true);
    }
    for (int threads : new int[] {2, 3}) {
      try (LoadedModel model = LoadedModel.load(qwen2Model, OPTIONS.withThreads(threads))) {
        float[][] actual = model.logits(tokens, model.expertsPerLayer(0), true);
        for (int p = 0; p < tokens.length; p++) {
          assertArrayEquals(expected[p], actual[p], threads + " threads, position " + p);
        }
      }
    }
  }

  // ---- (d) per-request experts ----------------------------------------------------------------

  @Test
  void requestsWithDifferentExpertsShareABatchWithoutAffectingEachOther() {
    int layers = 2;
    List<GenerationRequest> requests = List.of(
        new GenerationRequest("k1", prompt(51, 8), SamplingParams.GREEDY, 12, fill(layers, 1)),
        new GenerationRequest("k3", prompt(52, 11), new SamplingParams(1f, 0.95f, 0, 7), 12, fill(layers, 3)),
        new GenerationRequest("k2-1", prompt(53, 4), SamplingParams.GREEDY, 12, new int[] {2, 1}));
    Map<String, Generation> alone = runAlone(f32Model, OPTIONS, requests);
    Map<String, Generation> together = runTogether(f32Model, OPTIONS, requests);
    assertSameGenerations(alone, together);
    // The setting matters: the same prompt at k=1 and k=3 generates something else.
    GenerationRequest sameAtK3 = new GenerationRequest("k1-at-3", prompt(51, 8), SamplingParams.GREEDY, 12, fill(layers, 3));
    Map<String, Generation> atK3 = runAlone(f32Model, OPTIONS, List.of(sameAtK3));
    assertTrue(!Arrays.equals(alone.get("k1").tokens(), atK3.get("k1-at-3").tokens()),
        "k=1 and k=3 generate the same tokens; the test cannot tell the settings apart");
  }

  private static int[] fill(int n, int value) {
    int[] a = new int[n];
    Arrays.fill(a, value);
    return a;
  }

  // ---- (e) KV cache pressure ------------------------------------------------------------------

  /** The smallest cache the options allow: 65536 bytes = 8 blocks of 16 positions = 128 positions. */
  private static final EngineOptions TINY_CACHE = OPTIONS.withKvCacheBytes(1 << 16);

  @Test
  void aTinyCacheFinishesEveryRequestWithTheSameTokens() {
    List<GenerationRequest> requests = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      SamplingParams sampling = i % 2 == 0 ? SamplingParams.GREEDY : new SamplingParams(0.9f, 0.9f, 0, 60 + i);
      requests.add(new GenerationRequest("long" + i, prompt(60 + i, 20 + 5 * i), sampling, 40, null));
    }
    Map<String, Generation> ample = runTogether(bf16Model, OPTIONS, requests);
    Map<String, Generation> tiny;
    boolean pressure = false;
    try (LoadedModel model = LoadedModel.load(bf16Model, TINY_CACHE)) {
      Engine engine = model.engine();
      assertEquals(8, engine.kvCache().numBlocks(), "cache size this test assumes");
      // Step once by hand to see that the cache, not the token budget, limits the batch: the four
      // prompts need 9 blocks, so one of them cannot start in the first step.
      requests.forEach(engine::submit);
      List<TokenEvent> first = engine.step();
      pressure = first.stream().filter(e -> e.tokenId() >= 0).count() < requests.size();
      assertTrue(first.stream().noneMatch(TokenEvent::finished));
      for (GenerationRequest r : requests) {
        engine.cancel(r.id());
      }
      assertEquals(8, engine.kvCache().freeBlocks(), "cancel returns every block");
      tiny = run(engine, requests);
    }
    assertTrue(pressure, "all requests fit at once; the cache is not small enough to test preemption");
    assertSameGenerations(ample, tiny);
    int total = ample.values().stream().mapToInt(g -> g.tokens().length).sum();
    assertTrue(total > 100, "the requests generated only " + total + " tokens: too short to need preemption");
  }

  @Test
  void aRequestThatCannotFitAloneEndsWithAnErrorNotAnException() {
    try (LoadedModel model = LoadedModel.load(bf16Model, TINY_CACHE)) {
      Engine engine = model.engine();
      // 130 prompt positions > 128 in the whole cache: refused at admission.
      GenerationRequest tooLong = new GenerationRequest("too-long", prompt(70, 130), SamplingParams.GREEDY, 4, null);
      GenerationRequest fine = new GenerationRequest("fine", prompt(71, 10), SamplingParams.GREEDY, 4, null);
      Map<String, Generation> result = run(engine, List.of(tooLong, fine));
      assertEquals(FinishReason.ERROR, result.get("too-long").reason());
      assertNotNull(result.get("too-long").error());
      assertTrue(result.get("too-long").error().contains("KV cache"), result.get("too-long").error());
      assertEquals(0, result.get("too-long").tokens().length);
      assertTrue(result.get("fine").reason() != FinishReason.ERROR);
      assertNull(result.get("fine").error());

      // A prompt that fits but whose generation outgrows the whole cache: tokens, then an error.
      GenerationRequest grows = new GenerationRequest("grows", prompt(72, 120), SamplingParams.GREEDY, 30, null);
      Generation g = run(engine, List.of(grows)).get("grows");
      if (g.reason() != FinishReason.STOP) {
        assertEquals(FinishReason.ERROR, g.reason(), "outgrew the cache");
        assertTrue(g.error() != null && g.error().contains("KV cache"), g.error());
        assertTrue(g.tokens().length >= 8 && g.tokens().length <= 9, "generated " + g.tokens().length + " of 30");
      }
    }
  }

  // ---- (f) replay from already generated tokens -----------------------------------------------

  @Test
  void aReplayContinuesWithTheOriginalTokens() {
    SamplingParams sampling = new SamplingParams(1.0f, 0.95f, 0, 2024);
    int[] promptIds = prompt(80, 9);
    GenerationRequest original = new GenerationRequest("orig", promptIds, sampling, 16, null);
    try (LoadedModel model = LoadedModel.load(bf16Model, OPTIONS)) {
      Generation full = run(model.engine(), List.of(original)).get("orig");
      int[] tokens = full.tokens();
      assertTrue(tokens.length >= 6, "original generation too short: " + Arrays.toString(tokens));
      for (int m : new int[] {1, tokens.length / 2, tokens.length - 1}) {
        GenerationRequest replay = new GenerationRequest("replay-" + m, promptIds, sampling, 16, null,
            Arrays.copyOf(tokens, m));
        Generation rest = run(model.engine(), List.of(replay)).get("replay-" + m);
        assertArrayEquals(Arrays.copyOfRange(tokens, m, tokens.length), rest.tokens(), "replay after " + m + " tokens");
        assertEquals(full.reason(), rest.reason());
      }
      // Replaying alongside other requests changes nothing either.
      GenerationRequest replay = new GenerationRequest("replay-batched", promptIds, sampling, 16, null,
          Arrays.copyOf(tokens, 3));
      List<GenerationRequest> batch = new ArrayList<>(requests(true));
      batch.add(replay);
      Generation rest = run(model.engine(), batch).get("replay-batched");
      assertArrayEquals(Arrays.copyOfRange(tokens, 3, tokens.length), rest.tokens());
    }
  }

  @Test
  void aReplayThatAlreadyEndedFinishesAtOnce() {
    try (LoadedModel model = LoadedModel.load(bf16Model, OPTIONS)) {
      int eos = model.engine().eosTokenIds()[0];
      Map<String, Generation> result = run(model.engine(), List.of(
          new GenerationRequest("ended", prompt(90, 5), SamplingParams.GREEDY, 10, null, new int[] {4, eos}),
          new GenerationRequest("full", prompt(91, 5), SamplingParams.GREEDY, 3, null, new int[] {4, 5, 6})));
      assertEquals(FinishReason.STOP, result.get("ended").reason());
      assertEquals(FinishReason.LENGTH, result.get("full").reason());
      assertEquals(0, result.get("ended").tokens().length + result.get("full").tokens().length);
    }
  }
}
