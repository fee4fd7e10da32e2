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
 * candidates, weights for the requested k) -> Dispatch (the candidates come back to the host, a few
 * hundred ints, where {@link ExpertDispatch} builds the permutation and {@link GemmWorkList} the work
 * lists) -> Experts (one gate/up/SiLU launch and one down launch over every active expert) ->
 * Combine (per token in slot order) -> shared expert.
 *
 * <p>The host sees the routing once per sparse layer (one synchronization) so that expert-selection
 * policies and routing observers work as on the CPU. With the default selection and no observer only
 * the candidates come back and the device's weights are used as they are.
 */
final class CudaMoe {
  private final ModelConfig config;
  private final KernelLauncher launcher;
  private final DeviceGemm gemm;
  private final DeviceScratch scratch;
  private final HostStaging staging;
  private final int maxK;

  CudaMoe(ModelConfig config, KernelLauncher launcher, DeviceGemm gemm, DeviceScratch scratch, HostStaging staging) {
    this.config = config;
    this.launcher = launcher;
    this.gemm = gemm;
    this.scratch = scratch;
    this.staging = staging;
    this.maxK = config.numExpertsPerTok();
  }

  /**
   * @param normed (numTokens, hiddenSize) on the device: input after post_attention_layernorm
   * @param out (numTokens, hiddenSize) on the device: receives the MLP output
   * @param router the layer's host router, which weighs tokens when a policy or an observer is set
   * @param expertsUsed (numTokens) out: the experts each token used at this layer
   * @param selection the step's rule for how many of its ranked candidates each token uses
   * @return distinct experts the step read
   */
  int forward(int layer, Moe w, Router router, int numTokens, int[] expertsPerToken, int[] minExpertsPerToken,
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
    int[] ranked = new int[numTokens * maxK];
    staging.download(candidates, ranked); // waits for the router

    int[] selectedK = requestedK;
    if (selection != ExpertSelection.AS_REQUESTED || observer != null) {
      selectedK = selectOnHost(layer, router, numTokens, requestedK, minExpertsPerToken, scores, ranked, routingWeights,
          selection, observer);
    }

    // Dispatch
    ExpertDispatch dispatch = ExpertDispatch.of(ranked, selectedK, numTokens, maxK, numExperts);
    int inter = w.experts().intermediateSize();
    int[] gateUpWork = GemmWorkList.grouped(dispatch.groupStart(), dispatch.groupExpert(), inter);
    int[] downWork = GemmWorkList.grouped(dispatch.groupStart(), dispatch.groupExpert(), hidden);
    DevicePointer gatherTokens = DeviceStep.put(scratch, staging, Buffer.GATHER_TOKENS, dispatch.gatherTokens());
    DevicePointer entryRow = DeviceStep.put(scratch, staging, Buffer.ENTRY_ROW, dispatch.entryRow());
    DevicePointer selected = DeviceStep.put(scratch, staging, Buffer.SELECTED_K, selectedK);
    DevicePointer gateUpList = DeviceStep.put(scratch, staging, Buffer.WORK_LIST, gateUpWork);
    DevicePointer downList = DeviceStep.put(scratch, staging, Buffer.WORK_LIST_2, downWork);
    int entries = dispatch.numEntries();
    DevicePointer gathered = scratch.get(Buffer.GATHERED, (long) entries * hidden);
    launcher.launch(CudaKernel.GATHER_ROWS, entries, LaunchGeometry.ELEMENTWISE_THREADS, normed, gatherTokens, entries,
        hidden, gathered);

    // Experts: every active expert in one launch per projection
    DevicePointer expertHidden = scratch.get(Buffer.MLP_HIDDEN, (long) entries * inter);
    DevicePointer expertOut = scratch.get(Buffer.EXPERT_OUT, (long) entries * hidden);
    gemm.gateUpSilu(w.experts(), gateUpList, GemmWorkList.numItems(gateUpWork), gathered, expertHidden);
    gemm.grouped(w.experts().down(), downList, GemmWorkList.numItems(downWork), expertHidden, expertOut);

    // Combine, in slot order
    launcher.launch(CudaKernel.MOE_COMBINE, numTokens, LaunchGeometry.ELEMENTWISE_THREADS, expertOut, entryRow,
        routingWeights, selected, maxK, hidden, out);
    if (w.shared() != null) {
      addSharedExpert(w, numTokens, normed, out);
    }
    System.arraycopy(selectedK, 0, expertsUsed, 0, numTokens);
    return dispatch.numActive();
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
