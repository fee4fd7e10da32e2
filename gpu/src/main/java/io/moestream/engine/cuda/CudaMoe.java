package io.moestream.engine.cuda;

import io.moestream.engine.backend.RoutingObserver;
import io.moestream.engine.cuda.DeviceScratch.Buffer;
import io.moestream.engine.cuda.DeviceWeights.Moe;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.moe.ExpertSelection;
import io.moestream.engine.moe.Router;
import java.util.Arrays;

/**
 * The sparse MLP on the device, mirroring cpu/CpuMoe: Router (device: logits, softmax, ranked
 * candidates, weights for the requested k) -> Align ({@link MoeAlign}: the (token, slot) pairs sorted
 * by expert on the device) -> Experts (one gate/up/SiLU launch and one down launch over every active
 * expert, grids sized for the worst case) -> Combine (per token in slot order) -> shared expert.
 *
 * <p>With the default selection and no routing observer the host reads nothing back: the layer is
 * queued and the step goes on. An expert-selection policy or an observer needs the scores on the host
 * (one synchronization per sparse layer, as before): they come back, the policy chooses each token's k,
 * and k and the weights go back. The layer's summary (experts used, slots the router could not fill)
 * stays on the device until the step's end ({@link #checkSummaries}).
 */
final class CudaMoe {
  private final ModelConfig config;
  private final KernelLauncher launcher;
  private final DeviceGemm gemm;
  private final DeviceScratch scratch;
  private final HostStaging staging;
  private final MoeAlign align;
  private final int maxK;

  CudaMoe(ModelConfig config, KernelLauncher launcher, DeviceGemm gemm, DeviceScratch scratch, HostStaging staging) {
    this.config = config;
    this.launcher = launcher;
    this.gemm = gemm;
    this.scratch = scratch;
    this.staging = staging;
    this.align = new MoeAlign(launcher, scratch);
    this.maxK = config.numExpertsPerTok();
  }

  /** The step's per-layer summaries, {@link MoeAlign#SUMMARY_INTS} ints per layer, written by the align kernels. */
  DevicePointer summaries() {
    return scratch.get(Buffer.MOE_SUMMARY, (long) config.numLayers() * MoeAlign.SUMMARY_INTS);
  }

  /**
   * After the step has run: the distinct experts each sparse layer read into {@code distinctExperts}, and
   * an error if the router could not fill a used slot (fewer selectable experts than k, e.g. pruning).
   */
  void checkSummaries(boolean[] sparse, int[] distinctExperts) {
    int[] summary = new int[config.numLayers() * MoeAlign.SUMMARY_INTS];
    staging.download(summaries(), summary);
    for (int layer = 0; layer < sparse.length; layer++) {
      if (!sparse[layer]) {
        continue;
      }
      int invalid = summary[layer * MoeAlign.SUMMARY_INTS + MoeAlign.SUMMARY_INVALID];
      if (invalid > 0) {
        throw new IllegalStateException("layer " + layer + ": the router found no selectable expert for " + invalid
            + " used slot(s) (fewer selectable experts than k?); those slots were left out of the step");
      }
      distinctExperts[layer] = summary[layer * MoeAlign.SUMMARY_INTS + MoeAlign.SUMMARY_ACTIVE];
    }
  }

  /**
   * Queues the layer; reads the routing back only for a policy or an observer.
   *
   * @param normed (numTokens, hiddenSize) on the device: input after post_attention_layernorm
   * @param out (numTokens, hiddenSize) on the device: receives the MLP output
   * @param router the layer's host router, which weighs tokens when a policy or an observer is set
   * @param expertsUsed (numTokens) out: the experts each token used at this layer
   * @param selection the step's rule for how many of its ranked candidates each token uses
   */
  void forward(int layer, Moe w, Router router, int numTokens, int[] expertsPerToken, int[] minExpertsPerToken,
      DevicePointer normed, DevicePointer out, int[] expertsUsed, ExpertSelection selection,
      RoutingObserver observer) {
    int hidden = config.hiddenSize();
    int numExperts = config.numExperts();
    int[] requestedK = Arrays.copyOf(expertsPerToken, numTokens);
    for (int t = 0; t < numTokens; t++) {
      if (requestedK[t] < 1 || requestedK[t] > maxK) {
        throw new IllegalArgumentException("experts per token must be in [1, " + maxK + "], found " + requestedK[t]
            + " (layer " + layer + ", token " + t + ")");
      }
    }

    // Router
    DevicePointer routerLogits = scratch.get(Buffer.ROUTER_LOGITS, (long) numTokens * numExperts);
    DevicePointer scores = scratch.get(Buffer.SCORES, (long) numTokens * numExperts);
    DevicePointer candidates = scratch.get(Buffer.CANDIDATES, (long) numTokens * maxK);
    DevicePointer routingWeights = scratch.get(Buffer.ROUTING_WEIGHTS, (long) numTokens * maxK);
    gemm.linear(w.router(), normed, numTokens, routerLogits);
    DevicePointer requested = DeviceStep.put(scratch, staging, Buffer.REQUESTED_K, requestedK);
    launcher.launch2d(CudaKernel.ROUTER_SOFTMAX_TOPK, numTokens, 1, LaunchGeometry.ELEMENTWISE_THREADS,
        numExperts * Float.BYTES, routerLogits, w.logitBias(), requested, numExperts, maxK,
        config.normTopKProb() ? 1 : 0, scores, candidates, routingWeights);

    int[] selectedK = requestedK;
    DevicePointer selected = requested;
    if (selection != ExpertSelection.AS_REQUESTED || observer != null) {
      int[] ranked = new int[numTokens * maxK];
      staging.download(candidates, ranked); // waits for the router
      selectedK = selectOnHost(layer, router, numTokens, requestedK, minExpertsPerToken, scores, ranked, routingWeights,
          selection, observer);
      selected = DeviceStep.put(scratch, staging, Buffer.SELECTED_K, selectedK);
    }

    // Align: the pairs by expert, on the device
    DevicePointer summary = summaries().plus((long) layer * MoeAlign.SUMMARY_INTS * Integer.BYTES);
    MoeAlign.Layout layout = align.run(candidates, selected, numTokens, maxK, numExperts, summary);

    // Experts: every active expert in one launch per projection, rows addressed by pair
    int inter = w.experts().intermediateSize();
    DevicePointer expertHidden = scratch.get(Buffer.MLP_HIDDEN, (long) numTokens * maxK * inter);
    DevicePointer expertOut = scratch.get(Buffer.EXPERT_OUT, (long) numTokens * maxK * hidden);
    gemm.gateUpSiluAligned(w.experts(), layout, maxK, normed, expertHidden);
    gemm.alignedByPair(w.experts().down(), layout, expertHidden, expertOut);

    // Combine, in slot order
    launcher.launch(CudaKernel.MOE_COMBINE, numTokens, LaunchGeometry.ELEMENTWISE_THREADS, expertOut, candidates,
        routingWeights, selected, maxK, numExperts, hidden, out);
    if (w.shared() != null) {
      addSharedExpert(w, numTokens, normed, out);
    }
    System.arraycopy(selectedK, 0, expertsUsed, 0, numTokens);
  }

  /** The policy path: scores come back, the selection rule and the host router decide, weights go back. */
  private int[] selectOnHost(int layer, Router router, int numTokens, int[] requestedK, int[] minExpertsPerToken,
      DevicePointer deviceScores, int[] ranked, DevicePointer routingWeights, ExpertSelection selection,
      RoutingObserver observer) {
    int numExperts = config.numExperts();
    float[] scores = new float[numTokens * numExperts];
    staging.download(deviceScores, scores);
    int[] selectedK = new int[numTokens];
    selection.select(layer, numTokens, requestedK, minExpertsPerToken, scores, numExperts, ranked, maxK, selectedK);
    float[] weights = new float[numTokens * maxK];
    for (int t = 0; t < numTokens; t++) {
      int k = selectedK[t];
      if (k < 1 || k > requestedK[t]) {
        throw new IllegalStateException("expert selection chose " + k + " experts for token " + t + " at layer " + layer
            + "; allowed 1.." + requestedK[t]);
      }
      float[] tokenScores = Arrays.copyOfRange(scores, t * numExperts, (t + 1) * numExperts);
      router.weights(tokenScores, ranked, t * maxK, k, weights);
      if (observer != null) {
        observer.onToken(layer, tokenScores, Arrays.copyOfRange(ranked, t * maxK, t * maxK + k), k);
      }
    }
    staging.upload(weights, routingWeights);
    return selectedK;
  }

  /** Qwen2-MoE's shared expert, scaled by sigmoid(shared_expert_gate x) when the model has that gate. */
  private void addSharedExpert(Moe w, int numTokens, DevicePointer normed, DevicePointer out) {
    int hidden = config.hiddenSize();
    DevicePointer sharedHidden = scratch.get(Buffer.SHARED_HIDDEN, (long) numTokens * w.shared().intermediateSize());
    DevicePointer sharedOut = scratch.get(Buffer.SHARED_OUT, (long) numTokens * hidden);
    gemm.mlp(w.shared(), normed, numTokens, sharedHidden, sharedOut);
    DevicePointer gateLogit = null;
    if (w.sharedGate() != null) {
      gateLogit = scratch.get(Buffer.SHARED_GATE, numTokens);
      gemm.linear(w.sharedGate(), normed, numTokens, gateLogit);
    }
    launcher.launch(CudaKernel.ADD_SIGMOID_SCALED, LaunchGeometry.blocksFor((long) numTokens * hidden,
        LaunchGeometry.ELEMENTWISE_THREADS), LaunchGeometry.ELEMENTWISE_THREADS, out, sharedOut, gateLogit, numTokens,
        hidden);
  }
}
