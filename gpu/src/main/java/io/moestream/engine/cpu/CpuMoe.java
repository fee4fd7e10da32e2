package io.moestream.engine.cpu;

import io.moestream.engine.backend.PhaseTimes;
import io.moestream.engine.backend.RoutingObserver;
import io.moestream.engine.kernel.Kernels;
import io.moestream.engine.kernel.MatmulInput;
import io.moestream.engine.kernel.Matrix;
import io.moestream.engine.kernel.WorkerPool;
import io.moestream.engine.model.ExpertWeights;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.model.MoeWeights;
import io.moestream.engine.moe.ExpertSelection;
import io.moestream.engine.moe.Router;
import java.util.Arrays;
import java.util.function.IntFunction;

/**
 * The sparse MLP, in vLLM's stages: Router -> Dispatch (group tokens by expert) -> Experts -> Combine.
 *
 * <p>Grouping means each activated expert's weights are read once per step for all tokens routed to
 * it. Each expert writes its outputs into per-(token, slot) rows and the combine sums them in slot
 * order, so a token's result does not depend on which tokens share its step.
 */
final class CpuMoe {
  private final ModelConfig config;
  private final Kernels kernels;
  private final WorkerPool pool;
  private final IntFunction<Router> routers; // by layer
  private final int maxK;
  /**
   * Each thread's expert buffers, kept between experts, layers and steps: allocated per expert they were most of
   * what a step allocated (a 512-token prefill of the small shape: about 400 of 600 MB, a young collection every
   * prefill). Grown to the largest group a thread has run; every element a group reads is written first, so a
   * buffer's old contents never reach a result.
   */
  private final ThreadLocal<ExpertBuffers> expertBuffers = ThreadLocal.withInitial(ExpertBuffers::new);
  /** (tokens, maxK, hiddenSize) slot rows, kept between layers and steps for the same reason (metered each layer). */
  private float[] slotOutputs = new float[0];

  CpuMoe(ModelConfig config, Kernels kernels, WorkerPool pool, Router router) {
    this(config, kernels, pool, layer -> router, router.maxK());
  }

  /** @param routers each sparse layer's router (DeepSeek-V3's differ by their score correction bias) */
  CpuMoe(ModelConfig config, Kernels kernels, WorkerPool pool, IntFunction<Router> routers, int maxK) {
    this.config = config;
    this.kernels = kernels;
    this.pool = pool;
    this.routers = routers;
    this.maxK = maxK;
  }

  /**
   * @param normed (numTokens, hiddenSize): input after post_attention_layernorm
   * @param minExpertsPerToken (numTokens): each token's floor for the selection rule, or null
   * @param selection the step's rule for how many of its ranked candidates each token uses
   * @param out (numTokens, hiddenSize): receives the MLP output
   * @param expertsUsed (numTokens) out: the experts each token used at this layer
   * @return distinct experts the step read
   */
  int forward(int layer, MoeWeights w, int numTokens, int[] expertsPerToken, int[] minExpertsPerToken,
      ExpertSelection selection, float[] normed, float[] out, int[] expertsUsed, RoutingObserver observer,
      PhaseTimes times, StepScratch scratch) {
    long started = System.nanoTime();
    int hidden = config.hiddenSize();
    int numExperts = config.numExperts();
    Router router = routers.apply(layer);
    MatmulInput input = scratch.input(normed, numTokens, hidden);

    // Router: rank every token's candidates, let the selection rule pick each token's k, then weigh.
    float[] routerLogits = scratch.floats(numTokens * numExperts); // (numTokens, numExperts)
    Matrix routerWeight = w.router();
    pool.runRanges(numExperts, 4, (start, end) -> kernels.routerMatmul(routerWeight, input, routerLogits, start, end));
    if (w.routerBias() != null) { // gpt-oss
      for (int t = 0; t < numTokens; t++) {
        for (int e = 0; e < numExperts; e++) {
          routerLogits[t * numExperts + e] += w.routerBias()[e];
        }
      }
    }
    maskPrunedExperts(w, numTokens, routerLogits);
    float[] scores = scratch.floats(numTokens * numExperts); // (numTokens, numExperts)
    int[] candidates = scratch.ints(numTokens * maxK); // (numTokens, maxK)
    float[] tokenScores = scratch.floats(numExperts);
    for (int t = 0; t < numTokens; t++) {
      int k = expertsPerToken[t];
      if (k < 1 || k > maxK) {
        throw new IllegalArgumentException("experts per token must be in [1, " + maxK + "], found " + k
            + " (layer " + layer + ", token " + t + ")");
      }
      router.rank(routerLogits, t * numExperts, tokenScores, candidates, t * maxK);
      System.arraycopy(tokenScores, 0, scores, t * numExperts, numExperts);
    }
    int[] selectedK = scratch.ints(numTokens);
    selection.select(layer, numTokens, expertsPerToken, minExpertsPerToken, scores, numExperts, candidates, maxK,
        selectedK);
    float[] routingWeights = scratch.floats(numTokens * maxK); // (numTokens, maxK)
    for (int t = 0; t < numTokens; t++) {
      int k = selectedK[t];
      if (k < 1 || k > expertsPerToken[t]) {
        throw new IllegalStateException("expert selection chose " + k + " experts for token " + t + " at layer " + layer
            + "; allowed 1.." + expertsPerToken[t]);
      }
      router.weights(Arrays.copyOfRange(scores, t * numExperts, (t + 1) * numExperts), candidates, t * maxK, k,
          routingWeights);
      expertsUsed[t] = k;
      if (observer != null) {
        observer.onToken(layer, Arrays.copyOfRange(scores, t * numExperts, (t + 1) * numExperts),
            Arrays.copyOfRange(candidates, t * maxK, t * maxK + k), k);
      }
    }

    // Dispatch: for each expert, the (token * maxK + slot) entries routed to it.
    int[] counts = scratch.ints(numExperts);
    for (int t = 0; t < numTokens; t++) {
      for (int j = 0; j < selectedK[t]; j++) {
        counts[candidates[t * maxK + j]]++;
      }
    }
    int[][] assignments = new int[numExperts][];
    int active = 0;
    for (int e = 0; e < numExperts; e++) {
      if (counts[e] > 0) {
        assignments[e] = scratch.ints(counts[e]);
        active++;
      }
    }
    int[] fill = scratch.ints(numExperts);
    for (int t = 0; t < numTokens; t++) {
      for (int j = 0; j < selectedK[t]; j++) {
        int e = candidates[t * maxK + j];
        assignments[e][fill[e]++] = t * maxK + j;
      }
    }
    Integer[] order = new Integer[active];
    for (int e = 0, i = 0; e < numExperts; e++) {
      if (counts[e] > 0) {
        order[i++] = e;
      }
    }
    // Largest groups first, so the dynamic hand-out of experts to threads ends balanced.
    Arrays.sort(order, (a, b) -> counts[b] != counts[a] ? counts[b] - counts[a] : a - b);

    long routed = System.nanoTime();
    times.add(PhaseTimes.Phase.ROUTER, routed - started);

    // Experts
    float[] slotOutputs = scratch.reuse(this.slotOutputs, numTokens * maxK * hidden); // (numTokens, maxK, hiddenSize)
    this.slotOutputs = slotOutputs;
    pool.run(active, i -> {
      int expert = order[i];
      ExpertWeights weights = w.experts()[expert];
      if (weights == null) {
        throw new IllegalStateException("layer " + layer + ": token routed to pruned expert " + expert);
      }
      runExpert(weights, assignments[expert], normed, slotOutputs, maxK);
    });

    // Combine, in slot order.
    for (int t = 0; t < numTokens; t++) {
      Arrays.fill(out, t * hidden, (t + 1) * hidden, 0f);
      for (int j = 0; j < selectedK[t]; j++) {
        kernels.axpy(routingWeights[t * maxK + j], slotOutputs, (t * maxK + j) * hidden, out, t * hidden, hidden);
      }
    }
    if (w.sharedExpert() != null) {
      addSharedExpert(w, input, numTokens, out, scratch);
    }
    times.add(PhaseTimes.Phase.EXPERTS, System.nanoTime() - routed);
    return active;
  }

  /**
   * A pruned expert (null weights) gets a router logit of -infinity: the softmax runs over the kept
   * experts only and top-k never picks a pruned one, so its weights are never read.
   */
  private static void maskPrunedExperts(MoeWeights w, int numTokens, float[] routerLogits) {
    ExpertWeights[] experts = w.experts();
    for (int e = 0; e < experts.length; e++) {
      if (experts[e] == null) {
        for (int t = 0; t < numTokens; t++) {
          routerLogits[t * experts.length + e] = Float.NEGATIVE_INFINITY;
        }
      }
    }
  }

  /** One expert over its group: down(silu(gate x) * up x), or gpt-oss's fused form, into each entry's slot row. */
  private void runExpert(ExpertWeights w, int[] entries, float[] normed, float[] slotOutputs, int maxK) {
    if (w.isFused()) {
      runFusedExpert(w, entries, normed, slotOutputs, maxK);
      return;
    }
    int hidden = config.hiddenSize();
    int inter = w.intermediateSize();
    int n = entries.length;
    ExpertBuffers buffers = expertBuffers.get();
    float[] gathered = buffers.gathered(n * hidden);
    for (int i = 0; i < n; i++) {
      System.arraycopy(normed, (entries[i] / maxK) * hidden, gathered, i * hidden, hidden);
    }
    MatmulInput x = MatmulInput.of(gathered, n, hidden);
    float[] gate = buffers.gate(n * inter);
    float[] up = buffers.up(n * inter);
    kernels.matmul(w.gateProj(), x, gate, 0, inter);
    kernels.matmul(w.upProj(), x, up, 0, inter);
    kernels.siluMul(gate, up, 0, n * inter);
    float[] down = buffers.down(n * hidden);
    kernels.matmul(w.downProj(), MatmulInput.of(gate, n, inter), down, 0, hidden);
    for (int i = 0; i < n; i++) {
      System.arraycopy(down, i * hidden, slotOutputs, entries[i] * hidden, hidden);
    }
  }

  /**
   * gpt-oss's expert: {@code gate_up = W x + b}, gate at even and up at odd positions; gate clamped above
   * and up on both sides at the limit; {@code (up + 1) * gate * sigmoid(alpha * gate)}; {@code down h + b}.
   */
  private void runFusedExpert(ExpertWeights w, int[] entries, float[] normed, float[] slotOutputs, int maxK) {
    int hidden = config.hiddenSize();
    int inter = w.intermediateSize();
    int n = entries.length;
    float[] gathered = new float[n * hidden];
    for (int i = 0; i < n; i++) {
      System.arraycopy(normed, (entries[i] / maxK) * hidden, gathered, i * hidden, hidden);
    }
    float[] gateUp = new float[n * 2 * inter];
    kernels.matmul(w.gateUpProj(), MatmulInput.of(gathered, n, hidden), gateUp, 0, 2 * inter);
    float limit = (float) config.swiglu().limit();
    float alpha = (float) config.swiglu().alpha();
    float[] activated = new float[n * inter];
    float[] gateUpBias = w.gateUpBias();
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < inter; j++) {
        float gate = Math.min(gateUp[(i * inter + j) * 2] + gateUpBias[2 * j], limit);
        float up = Math.max(-limit, Math.min(limit, gateUp[(i * inter + j) * 2 + 1] + gateUpBias[2 * j + 1]));
        activated[i * inter + j] = (up + 1) * gate / (1 + (float) Math.exp(-alpha * gate));
      }
    }
    float[] down = new float[n * hidden];
    kernels.matmul(w.downProj(), MatmulInput.of(activated, n, inter), down, 0, hidden);
    for (int i = 0; i < n; i++) {
      for (int c = 0; c < hidden; c++) {
        slotOutputs[entries[i] * hidden + c] = down[i * hidden + c] + w.downBias()[c];
      }
    }
  }

  /** Qwen2-MoE's shared expert, scaled by sigmoid(shared_expert_gate x) when the model has that gate. */
  private void addSharedExpert(MoeWeights w, MatmulInput input, int numTokens, float[] out, StepScratch scratch) {
    int hidden = config.hiddenSize();
    float[] shared = scratch.floats(numTokens * hidden);
    DenseMlp.forward(w.sharedExpert(), input, numTokens, hidden, shared, kernels, pool, scratch);
    float[] gateLogit = scratch.floats(numTokens);
    if (w.sharedExpertGate() != null) {
      kernels.matmul(w.sharedExpertGate(), input, gateLogit, 0, 1);
    }
    for (int t = 0; t < numTokens; t++) {
      float scale = w.sharedExpertGate() == null ? 1f : (float) (1.0 / (1.0 + Math.exp(-gateLogit[t])));
      kernels.axpy(scale, shared, t * hidden, out, t * hidden, hidden);
    }
  }

  /**
   * One thread's buffers for an expert's group of n tokens (gpt-oss's fused experts allocate theirs): each at least
   * the size asked, its first elements the group's.
   */
  private static final class ExpertBuffers {
    private float[] gathered = new float[0]; // (n, hiddenSize)
    private float[] gate = new float[0]; // (n, intermediateSize)
    private float[] up = new float[0]; // (n, intermediateSize)
    private float[] down = new float[0]; // (n, hiddenSize)

    float[] gathered(int size) {
      return gathered = atLeast(gathered, size);
    }

    float[] gate(int size) {
      return gate = atLeast(gate, size);
    }

    float[] up(int size) {
      return up = atLeast(up, size);
    }

    float[] down(int size) {
      return down = atLeast(down, size);
    }

    private static float[] atLeast(float[] buffer, int size) {
      return buffer.length >= size ? buffer : new float[size];
    }
  }
}
