package io.moestream.engine.generate;

import io.moestream.engine.backend.Backend;
import io.moestream.engine.backend.StepBatch;
import io.moestream.engine.backend.StepOutput;
import io.moestream.engine.kv.PagedKvCache;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.moe.ExpertSelection;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;

/**
 * Continuous batching over a backend. Each {@link #step()} runs the pending decode token of every
 * running sequence plus prompt chunks of sequences still prefilling, up to the token budget, then
 * samples a token for every sequence whose pending tokens are all processed. New requests join
 * between steps when their prompt fits in the KV cache; when the cache runs out mid-generation the
 * most recently admitted sequence is preempted (its blocks freed, it is recomputed later).
 *
 * <p>Not thread-safe: one thread submits and steps (the Flink operator's engine thread).
 */
public final class Engine implements AutoCloseable {
  private final Backend backend;
  private final EngineOptions options;
  private final ModelConfig config;
  private final int[] eosTokenIds;
  private final PagedKvCache cache;
  private final Deque<ActiveSequence> waiting = new ArrayDeque<>();
  private final List<ActiveSequence> running = new ArrayList<>();
  private final List<TokenEvent> pendingEvents = new ArrayList<>();
  private long admissions;
  private int[][] lastStepExpertsUsed; // (numLayers, numTokens) of the last step; numTokens 0 when none ran
  private volatile int[] expertLevel; // (numLayers): caps every request's experts per token; null = none
  private volatile ExpertSelection expertSelection = ExpertSelection.AS_REQUESTED; // goes into every StepBatch

  public Engine(Backend backend, EngineOptions options, int[] eosTokenIds) {
    this.backend = backend;
    this.options = options;
    this.config = backend.config();
    this.eosTokenIds = eosTokenIds.clone();
    this.cache = backend.kvCache();
    this.lastStepExpertsUsed = new int[config.numLayers()][0];
  }

  public ModelConfig config() {
    return config;
  }

  public Backend backend() {
    return backend;
  }

  public int[] eosTokenIds() {
    return eosTokenIds.clone();
  }

  /** The per-layer experts when a request does not say: the config's num_experts_per_tok everywhere. */
  public int[] defaultExpertsPerLayer() {
    int[] k = new int[config.numLayers()];
    Arrays.fill(k, config.numExpertsPerTok());
    return k;
  }

  /** {@link #setExpertLevel(int[], ExpertSelection)} with every token using the k it may use. */
  public void setExpertLevel(int[] levelExpertsPerLayer) {
    setExpertLevel(levelExpertsPerLayer, ExpertSelection.AS_REQUESTED);
  }

  /**
   * Sets the expert-activation level every following step runs at: each token may use
   * {@code min(its request's k, level[layer])} experts, raised to its request's floor (the model's k for
   * a full-quality request), and {@code selection} decides per step how many of those it uses. Null
   * experts (the default) runs every request exactly as it asked. Both go into every {@link StepBatch}
   * the engine builds, so the backend holds no policy state. Takes effect at the next step; call from
   * the stepping thread or between steps.
   *
   * @param levelExpertsPerLayer (numLayers), each sparse layer's entry in [1, num_experts_per_tok]
   * @param selection the level's per-token rule; null = {@link ExpertSelection#AS_REQUESTED}
   */
  public void setExpertLevel(int[] levelExpertsPerLayer, ExpertSelection selection) {
    if (levelExpertsPerLayer != null) {
      if (levelExpertsPerLayer.length != config.numLayers()) {
        throw new IllegalArgumentException("expert level has " + levelExpertsPerLayer.length + " entries, the model has "
            + config.numLayers() + " layers");
      }
      for (int layer = 0; layer < levelExpertsPerLayer.length; layer++) {
        int k = levelExpertsPerLayer[layer];
        if (config.isSparse(layer) && (k < 1 || k > config.numExpertsPerTok())) {
          throw new IllegalArgumentException("expert level at layer " + layer + " must be in [1, "
              + config.numExpertsPerTok() + "], found " + k);
        }
      }
      levelExpertsPerLayer = levelExpertsPerLayer.clone();
    }
    this.expertLevel = levelExpertsPerLayer;
    this.expertSelection = selection == null ? ExpertSelection.AS_REQUESTED : selection;
  }

  /** The selection rule set by {@link #setExpertLevel(int[], ExpertSelection)}. */
  public ExpertSelection expertSelection() {
    return expertSelection;
  }

  /** The experts per layer set by {@link #setExpertLevel}, or null. */
  public int[] expertLevel() {
    int[] level = expertLevel;
    return level == null ? null : level.clone();
  }

  /**
   * Queues a request. Problems with the request itself (token ids outside the vocabulary, a prompt at
   * or over the context length, experts per token out of range) are thrown here, before any work.
   */
  public void submit(GenerationRequest request) {
    int[] experts = request.expertsPerLayer() == null ? defaultExpertsPerLayer() : request.expertsPerLayer().clone();
    validate(request, experts);
    ActiveSequence sequence = new ActiveSequence(request, experts);
    if (finishedBeforeStart(sequence)) {
      return;
    }
    waiting.add(sequence);
  }

  private void validate(GenerationRequest request, int[] experts) {
    String id = request.id();
    if (experts.length != config.numLayers()) {
      throw new IllegalArgumentException("request " + id + ": expertsPerLayer has " + experts.length
          + " entries, the model has " + config.numLayers() + " layers");
    }
    for (int layer = 0; layer < experts.length; layer++) {
      if (config.isSparse(layer) && (experts[layer] < 1 || experts[layer] > config.numExpertsPerTok())) {
        throw new IllegalArgumentException("request " + id + ": experts per token at layer " + layer + " must be in [1, "
            + config.numExpertsPerTok() + "], found " + experts[layer]);
      }
    }
    int contextLength = request.promptIds().length + request.alreadyGenerated().length;
    if (contextLength >= config.maxPositionEmbeddings()) {
      throw new IllegalArgumentException("request " + id + ": prompt of " + contextLength
          + " tokens does not fit the model's context of " + config.maxPositionEmbeddings() + " positions");
    }
    for (int[] tokens : new int[][] {request.promptIds(), request.alreadyGenerated()}) {
      // Generated tokens of a restored request run through the model like the prompt.
      for (int token : tokens) {
        if (token < 0 || token >= config.vocabSize()) {
          throw new IllegalArgumentException("request " + id + ": token id " + token + " outside the vocabulary [0, "
              + config.vocabSize() + ")");
        }
      }
    }
  }

  private boolean finishedBeforeStart(ActiveSequence sequence) {
    int[] previous = sequence.request.alreadyGenerated();
    if (previous.length > 0 && isEos(previous[previous.length - 1])) {
      pendingEvents.add(new TokenEvent(sequence.request.id(), -1, -1, FinishReason.STOP, null, 0, 0));
      return true;
    }
    if (sequence.generated >= sequence.request.maxNewTokens()) {
      pendingEvents.add(new TokenEvent(sequence.request.id(), -1, -1, FinishReason.LENGTH, null, 0, 0));
      return true;
    }
    return false;
  }

  /** Drops a request wherever it is, freeing its cache. Returns whether it was known. */
  public boolean cancel(String requestId) {
    for (ActiveSequence s : running) {
      if (s.request.id().equals(requestId)) {
        running.remove(s);
        cache.release(s.kv);
        return true;
      }
    }
    return waiting.removeIf(s -> s.request.id().equals(requestId));
  }

  public boolean hasWork() {
    return !waiting.isEmpty() || !running.isEmpty() || !pendingEvents.isEmpty();
  }

  public int waitingCount() {
    return waiting.size();
  }

  public int runningCount() {
    return running.size();
  }

  public PagedKvCache kvCache() {
    return cache;
  }

  /** Runs one step and returns the tokens it generated and the requests it finished. */
  public List<TokenEvent> step() {
    List<TokenEvent> events = new ArrayList<>(pendingEvents);
    pendingEvents.clear();
    lastStepExpertsUsed = new int[config.numLayers()][0];
    admit();
    StepPlan plan = StepPlan.build(running, options.maxBatchTokens(), cache, config.numLayers(), this::preemptOne,
        expertLevel, expertSelection, config.numExpertsPerTok());
    if (plan.cannotFit() != null) {
      failForCache(plan.cannotFit(), events);
    }
    if (plan.isEmpty()) {
      return events;
    }
    StepOutput output;
    try {
      output = backend.forward(plan.batch());
    } catch (RuntimeException e) {
      // A failing step must not poison the engine: the sequences it ran end with the reason, the
      // others (and later requests) go on.
      for (ActiveSequence s : plan.sequences()) {
        running.remove(s);
        cache.release(s.kv);
        events.add(new TokenEvent(s.request.id(), -1, -1, FinishReason.ERROR,
            "forward pass failed: " + e, 0, s.expertsUsedFewest));
      }
      return events;
    }
    lastStepExpertsUsed = output.expertsUsed();
    plan.complete(output, this, events);
    return events;
  }

  /**
   * The experts each token of the last {@link #step} used, as its {@code StepOutput} reported them:
   * (numLayers, numTokens), 0 on dense layers; no tokens when that step ran none or failed. For metrics
   * (tokens per step, experts per token), read after the step; the array is not copied.
   */
  public int[][] lastStepExpertsUsed() {
    return lastStepExpertsUsed;
  }

  /** Admits waiting requests, oldest first, while their whole context fits in the cache now. */
  private void admit() {
    while (!waiting.isEmpty() && running.size() < options.maxRunningSequences()) {
      ActiveSequence next = waiting.peekFirst();
      if (!cache.canFit(next.numTokens + 1)) {
        if (running.isEmpty() && cache.freeBlocks() == cache.numBlocks()) {
          waiting.pollFirst();
          pendingEvents.add(new TokenEvent(next.request.id(), -1, -1, FinishReason.ERROR,
              "KV cache too small: " + (next.numTokens + 1) + " positions needed, the cache holds "
                  + (long) cache.numBlocks() * cache.blockSize(), 0, 0));
          continue;
        }
        return;
      }
      waiting.pollFirst();
      next.kv = cache.newSequence();
      next.processed = 0;
      next.admittedAt = admissions++;
      running.add(next);
    }
  }

  /** Frees the most recently admitted sequence not in {@code keep}; false if there is none. */
  private boolean preemptOne(java.util.Set<ActiveSequence> keep) {
    ActiveSequence victim = null;
    for (ActiveSequence s : running) {
      if (!keep.contains(s) && (victim == null || s.admittedAt > victim.admittedAt)) {
        victim = s;
      }
    }
    if (victim == null) {
      return false;
    }
    running.remove(victim);
    cache.release(victim.kv);
    victim.processed = 0;
    waiting.addFirst(victim);
    return true;
  }

  // ---- called by StepPlan ----------------------------------------------------------------------

  /** Marks {@code n} more tokens processed and, if the step returned its logits row, samples the next token. */
  void advance(ActiveSequence s, int n, StepOutput output, int logitsRow, double expertsUsedMean,
      List<TokenEvent> events) {
    s.processed += n;
    s.kv.setLength(s.processed);
    if (logitsRow < 0) {
      return;
    }
    int index = s.generated;
    int vocab = output.vocabSize();
    int token = Sampler.sample(output.logits(), logitsRow * vocab, vocab, s.request.sampling(), index);
    s.append(token);
    FinishReason reason = null;
    if (isEos(token)) {
      reason = FinishReason.STOP;
    } else if (s.generated >= s.request.maxNewTokens() || s.numTokens >= config.maxPositionEmbeddings()) {
      reason = FinishReason.LENGTH;
    }
    events.add(new TokenEvent(s.request.id(), token, index, reason, null, expertsUsedMean, s.expertsUsedFewest));
    if (reason != null) {
      running.remove(s);
      cache.release(s.kv);
    }
  }

  /** Ends a sequence that cannot get KV space even alone. */
  void failForCache(ActiveSequence s, List<TokenEvent> events) {
    running.remove(s);
    cache.release(s.kv);
    events.add(new TokenEvent(s.request.id(), -1, -1, FinishReason.ERROR,
        "KV cache full: sequence of " + s.numTokens + " tokens cannot grow even alone", 0, s.expertsUsedFewest));
  }

  List<ActiveSequence> runningView() {
    return running;
  }

  private boolean isEos(int token) {
    for (int eos : eosTokenIds) {
      if (eos == token) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void close() {
    backend.close();
  }
}
