package io.moestream.engine.generate;

import static io.moestream.engine.generate.EngineRuns.assertSameGenerations;
import static io.moestream.engine.generate.EngineRuns.prompt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.ModelFolderEdits;
import io.moestream.engine.cpu.CpuBackend;
import io.moestream.engine.format.Checkpoint;
import io.moestream.engine.generate.EngineRuns.Generation;
import io.moestream.engine.kernel.Kernels;
import io.moestream.engine.kv.KvCacheLayout;
import io.moestream.engine.kv.PagedKvCache;
import io.moestream.engine.model.Architecture;
import io.moestream.engine.model.GenerationDefaults;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.model.ModelWeights;
import io.moestream.engine.testmodel.GptOssSpec;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The KV cache of a windowed layer keeps only its window: long generations (prompts and outputs many
 * times the window) give the same tokens as with a cache where every layer keeps every position, while
 * the windowed pools hold at most a window and a step per sequence and the cache's peak use is lower.
 * With a cache too small for all requests at once, preempted sequences are recomputed and still give
 * the same tokens.
 */
class SlidingWindowCacheTest {
  /** 4-token blocks so a window of 4 or 16 frees blocks as it moves; 8-token prefill chunks. */
  private static final EngineOptions OPTIONS = new EngineOptions(2, "vector", 4 << 20, 4, 8, 8);

  @TempDir
  Path tmp;

  @ParameterizedTest(name = "{0}, window {1}")
  @CsvSource({"gpt_oss, 4", "gpt_oss, 16", "mixtral, 6"})
  void longGenerationsMatchTheFullCacheWithFewerBlocks(String family, int window) throws Exception {
    Path folder = model(family, window);
    KvCacheLayout layout = MemoryPlanOf.layout(folder, OPTIONS);
    assertTrue(layout.windowed(), "the model has windowed layers");
    List<GenerationRequest> requests = requests(6, 70);

    Run full = run(folder, OPTIONS, requests, false);
    Run windowed = run(folder, OPTIONS, requests, true);
    assertSameGenerations(full.generations, windowed.generations);
    int generated = windowed.generations.values().stream().mapToInt(g -> g.tokens().length).sum();
    assertTrue(generated >= 6 * 40, "only " + generated + " tokens generated: too short to outrun the window");

    int span = KvCacheLayout.windowSpanBlocks(window, OPTIONS.maxBatchTokens(), OPTIONS.kvBlockSize());
    int windowPool = layout.poolWindow()[0] == 0 ? 1 : 0;
    assertTrue(windowed.peakBlocks[windowPool] <= requests.size() * span,
        "windowed pool peaked at " + windowed.peakBlocks[windowPool] + " blocks, more than " + requests.size()
            + " sequences x " + span);
    assertTrue(windowed.peakBytes < full.peakBytes,
        "windowed cache peaked at " + windowed.peakBytes + " bytes, the full one at " + full.peakBytes);
  }

  /** A cache too small for every request at once: sequences are preempted, recomputed, and agree. */
  @Test
  void preemptedWindowedSequencesAreRecomputedWithTheSameTokens() throws Exception {
    Path folder = model("gpt_oss", 4);
    List<GenerationRequest> requests = requests(5, 60);
    Run ample = run(folder, OPTIONS, requests, false);
    ModelConfig config = ModelConfig.read(folder);
    // 40 blocks without windows; planned: 32 in the windowed pool (8 sequences x a span of 4), 48 (192
    // positions) for full attention, against about 430 positions the five requests reach together
    long bytesPerBlock = (long) config.numLayers() * OPTIONS.kvBlockSize() * (config.kvKeyWidth() + config.kvValueWidth())
        * Float.BYTES;
    EngineOptions tiny = new EngineOptions(2, "vector", 40 * bytesPerBlock, 4, 8, 8);
    Run small = run(folder, tiny, requests, true);
    assertEquals(48, MemoryPlanOf.layout(folder, tiny).primaryBlocks(), "cache size this test assumes");
    int generated = small.generations.values().stream().mapToInt(g -> g.tokens().length).sum();
    assertTrue(small.sawWaiting, "every request ran at once (" + generated + " tokens generated); the cache is not"
        + " small enough to preempt");
    assertSameGenerations(ample.generations, small.generations);
  }

  private Path model(String family, int window) throws Exception {
    Path folder = tmp.resolve(family + "-" + window);
    if (family.equals("gpt_oss")) {
      TestModelWriter.write(TestModelSpec.defaults(Architecture.GPT_OSS)
          .withGptOss(GptOssSpec.defaults().withSlidingWindow(window)).withNumLayers(4).withSeed(3), folder);
    } else {
      TestModelWriter.write(TestModelSpec.defaults(Architecture.MIXTRAL).withSeed(3), folder);
      ModelFolderEdits.editConfig(folder, c -> c.put("sliding_window", window)); // every layer windowed
    }
    return folder;
  }

  private static List<GenerationRequest> requests(int n, int maxNewTokens) {
    List<GenerationRequest> requests = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      SamplingParams sampling = i % 2 == 0 ? SamplingParams.GREEDY : new SamplingParams(0.9f, 0.95f, 0, 300 + i);
      requests.add(new GenerationRequest("w" + i, prompt(90 + i, 12 + 7 * i), sampling, maxNewTokens, null));
    }
    return requests;
  }

  /** What a run generated and the most cache it used at once. */
  private record Run(Map<String, Generation> generations, int[] peakBlocks, long peakBytes, boolean sawWaiting) {}

  /**
   * Runs the requests to completion on an engine whose cache is the planned (windowed) layout or one
   * pool where every layer keeps every position, measuring blocks in use after every step.
   */
  private static Run run(Path folder, EngineOptions options, List<GenerationRequest> requests, boolean windowed)
      throws Exception {
    ModelConfig config = ModelConfig.read(folder);
    ModelWeights weights = ModelWeights.load(config, Checkpoint.open(folder));
    KvCacheLayout layout = windowed ? MemoryPlanOf.layout(folder, options)
        : KvCacheLayout.unwindowed(config.numLayers(), options.kvBlockSize(), PagedKvCache.blocksForBytes(
            options.kvCacheBytes(), config.numLayers(), config.kvKeyWidth(), config.kvValueWidth(), options.kvBlockSize()));
    PagedKvCache cache = CpuBackend.newKvCache(config, layout);
    int[] poolBlocks = layout.poolBlocks();
    int[] poolLayers = new int[poolBlocks.length];
    for (int pool : layout.layerPool()) {
      poolLayers[pool]++;
    }
    long blockBytesPerLayer = (long) options.kvBlockSize() * (config.kvKeyWidth() + config.kvValueWidth()) * Float.BYTES;
    int[] peak = new int[poolBlocks.length];
    long peakBytes = 0;
    boolean sawWaiting = false;
    Map<String, List<Integer>> tokens = new LinkedHashMap<>();
    Map<String, Generation> done = new LinkedHashMap<>();
    try (CpuBackend backend = new CpuBackend(weights, Kernels.named(options.kernels()), options.threads(), cache)) {
      Engine engine = new Engine(backend, options, GenerationDefaults.eosTokenIds(folder, config));
      requests.forEach(r -> {
        engine.submit(r);
        tokens.put(r.id(), new ArrayList<>());
      });
      int steps = 0;
      while (engine.hasWork()) {
        assertTrue(++steps < 5_000, "engine did not finish");
        for (TokenEvent e : engine.step()) {
          if (e.tokenId() >= 0) {
            tokens.get(e.requestId()).add(e.tokenId());
          }
          if (e.finished()) {
            done.put(e.requestId(), new Generation(tokens.get(e.requestId()).stream().mapToInt(Integer::intValue)
                .toArray(), e.finishReason(), e.error()));
          }
        }
        sawWaiting |= steps > 1 && engine.waitingCount() > 0;
        long bytes = 0;
        for (int pool = 0; pool < poolBlocks.length; pool++) {
          int used = poolBlocks[pool] - cache.freeBlocks(pool);
          peak[pool] = Math.max(peak[pool], used);
          bytes += used * poolLayers[pool] * blockBytesPerLayer;
        }
        peakBytes = Math.max(peakBytes, bytes);
      }
      for (int pool = 0; pool < poolBlocks.length; pool++) {
        assertEquals(poolBlocks[pool], cache.freeBlocks(pool), "every block of pool " + pool + " returned");
      }
    }
    assertEquals(requests.size(), done.size(), "every request finished");
    return new Run(done, peak, peakBytes, sawWaiting);
  }

  /** The layout the engine plans for a model folder (what LoadedModel builds its cache from). */
  private static final class MemoryPlanOf {
    static KvCacheLayout layout(Path folder, EngineOptions options) {
      return io.moestream.engine.plan.MemoryPlan.of(ModelConfig.read(folder), Checkpoint.open(folder), options)
          .kvLayout();
    }
  }
}
