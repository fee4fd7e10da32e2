package io.moestream.engine.generate;

import io.moestream.engine.backend.Backend;
import io.moestream.engine.backend.StepBatch;
import io.moestream.engine.backend.StepOutput;
import io.moestream.engine.cpu.CpuBackend;
import io.moestream.engine.format.Checkpoint;
import io.moestream.engine.kv.PagedKvCache;
import io.moestream.engine.model.GenerationDefaults;
import io.moestream.engine.model.Int8Weights;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.model.ModelWeights;
import io.moestream.engine.model.WeightsMode;
import io.moestream.engine.moe.ExpertSelection;
import io.moestream.engine.plan.MachineMemory;
import io.moestream.engine.plan.MemoryCheck;
import io.moestream.engine.plan.MemoryException;
import io.moestream.engine.plan.MemoryPlan;
import java.nio.file.Path;
import java.util.Arrays;

/** A model folder loaded and validated, with its backend and a continuous-batching engine over it. */
public final class LoadedModel implements AutoCloseable {
  private final Path folder;
  private final ModelWeights weights;
  private final Backend backend;
  private final Engine engine;
  private final EngineOptions options;

  private LoadedModel(Path folder, ModelWeights weights, Backend backend, Engine engine, EngineOptions options) {
    this.folder = folder;
    this.weights = weights;
    this.backend = backend;
    this.engine = engine;
    this.options = options;
  }

  /**
   * Reads config.json, maps and checks every tensor, and sizes the KV cache from the options. Before any
   * of that is allocated the memory plan is held to this machine: a model that cannot fit fails here
   * with {@link MemoryException} and the numbers ({@link MemoryCheck}).
   */
  public static LoadedModel load(Path folder, EngineOptions options) {
    return load(folder, options, java.util.function.UnaryOperator.identity());
  }

  /**
   * The same, with the checked weights passed through {@code weightsTransform} before the backend sees
   * them (expert pruning nulls experts there, so their weights are never read), then, with
   * {@code weights int8} in the options, quantized ({@link Int8Weights}).
   */
  public static LoadedModel load(Path folder, EngineOptions options,
      java.util.function.UnaryOperator<ModelWeights> weightsTransform) {
    ModelConfig config = ModelConfig.read(folder);
    Checkpoint checkpoint = Checkpoint.open(folder); // maps the files and reads their headers; no weight is read
    MemoryPlan plan = MemoryPlan.of(config, checkpoint, options);
    MemoryCheck.require(plan, MachineMemory.read(options.backend(), options.deviceIndex()),
        options.allowWeightsOverRam(), MemoryCheck.Knobs.ENGINE);
    ModelWeights weights = weightsTransform.apply(ModelWeights.load(config, checkpoint));
    if (options.weights() == WeightsMode.INT8) {
      weights = Int8Weights.quantize(weights, options.threads()).weights(); // after pruning: pruned experts are null
    }
    PagedKvCache cache = CpuBackend.newKvCache(config, plan.kvLayout()); // windowed layers keep only their window
    Backend backend = BackendSelector.create(options, weights, cache); // auto: CUDA when usable, else CPU
    Engine engine = new Engine(backend, options, GenerationDefaults.eosTokenIds(folder, config));
    return new LoadedModel(folder, weights, backend, engine, options);
  }

  public Path folder() {
    return folder;
  }

  public ModelConfig config() {
    return weights.config();
  }

  public ModelWeights weights() {
    return weights;
  }

  public Backend backend() {
    return backend;
  }

  public Engine engine() {
    return engine;
  }

  /**
   * Teacher-forced logits of one token sequence: row i holds the next-token logits after
   * {@code tokens[0..i]}. Runs in chunks of the step budget through its own cache sequence.
   *
   * @param allPositions every position's row, or only the last one
   * @return (rows, vocabSize)
   */
  public float[][] logits(int[] tokens, int[] expertsPerLayer, boolean allPositions) {
    return logits(tokens, expertsPerLayer, ExpertSelection.AS_REQUESTED, allPositions);
  }

  /**
   * The same under a selection rule (a policy's {@link io.moestream.engine.policy.ExpertPolicy#selection}),
   * which goes into every step's batch.
   */
  public float[][] logits(int[] tokens, int[] expertsPerLayer, ExpertSelection selection, boolean allPositions) {
    ModelConfig config = config();
    if (tokens.length == 0) {
      throw new IllegalArgumentException("no token ids given");
    }
    if (tokens.length > config.maxPositionEmbeddings()) {
      throw new IllegalArgumentException(tokens.length + " tokens exceed the model's context of "
          + config.maxPositionEmbeddings());
    }
    for (int token : tokens) {
      if (token < 0 || token >= config.vocabSize()) {
        throw new IllegalArgumentException("token id " + token + " outside the vocabulary [0, " + config.vocabSize() + ")");
      }
    }
    if (expertsPerLayer.length != config.numLayers()) {
      throw new IllegalArgumentException("expertsPerLayer has " + expertsPerLayer.length + " entries, the model has "
          + config.numLayers() + " layers");
    }
    for (int layer = 0; layer < expertsPerLayer.length; layer++) {
      int k = expertsPerLayer[layer];
      if (config.isSparse(layer) && (k < 1 || k > config.numExpertsPerTok())) {
        throw new IllegalArgumentException("experts per token at layer " + layer + " must be in [1, "
            + config.numExpertsPerTok() + "], found " + k);
      }
    }
    PagedKvCache cache = backend.kvCache();
    PagedKvCache.Sequence sequence = cache.newSequence();
    try {
      float[][] rows = new float[allPositions ? tokens.length : 1][];
      int chunk = options.maxBatchTokens();
      for (int start = 0; start < tokens.length; start += chunk) {
        int n = Math.min(chunk, tokens.length - start);
        // chunk by chunk, as the engine reserves: windowed layers free what they no longer attend
        if (!cache.reserve(sequence, start + n)) {
          throw new IllegalStateException("KV cache too small for " + tokens.length + " tokens (holds "
              + (long) cache.numBlocks() * cache.blockSize() + "; raise the KV cache size)");
        }
        int[] ids = Arrays.copyOfRange(tokens, start, start + n);
        int[] positions = new int[n];
        PagedKvCache.Sequence[] kv = new PagedKvCache.Sequence[n];
        int[][] experts = new int[config.numLayers()][n];
        for (int i = 0; i < n; i++) {
          positions[i] = start + i;
          kv[i] = sequence;
          for (int layer = 0; layer < config.numLayers(); layer++) {
            experts[layer][i] = expertsPerLayer[layer];
          }
        }
        boolean last = start + n == tokens.length;
        int[] logitTokens = allPositions ? range(n) : last ? new int[] {n - 1} : new int[0];
        StepOutput out = backend.forward(new StepBatch(ids, positions, kv, experts, logitTokens, null, selection));
        sequence.setLength(start + n);
        for (int i = 0; i < logitTokens.length; i++) {
          rows[allPositions ? start + i : 0] = out.logitsRow(i);
        }
      }
      return rows;
    } finally {
      cache.release(sequence);
    }
  }

  private static int[] range(int n) {
    int[] r = new int[n];
    for (int i = 0; i < n; i++) {
      r[i] = i;
    }
    return r;
  }

  /** The per-layer experts array with every sparse layer at {@code k} (the config's when k <= 0). */
  public int[] expertsPerLayer(int k) {
    int[] experts = engine.defaultExpertsPerLayer();
    if (k > 0) {
      Arrays.fill(experts, k);
    }
    return experts;
  }

  @Override
  public void close() {
    engine.close();
  }
}
