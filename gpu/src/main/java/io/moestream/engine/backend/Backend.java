package io.moestream.engine.backend;

import io.moestream.engine.kv.PagedKvCache;
import io.moestream.engine.model.ModelConfig;

/**
 * Runs forward steps of one loaded model. The CPU backend is the reference and the default; a CUDA
 * backend implements the same contract with weights and KV pages on the device.
 */
public interface Backend extends AutoCloseable {

  String name();

  ModelConfig config();

  /** The KV cache this backend's steps read and write. */
  PagedKvCache kvCache();

  /** Runs one step: writes the batch's keys/values into the cache and returns the requested logits. */
  StepOutput forward(StepBatch batch);

  /** Time spent per phase of the steps run so far. */
  PhaseTimes phaseTimes();

  /** Optional hook that sees every token's routing probabilities (expert profiling, metrics). */
  default void setRoutingObserver(RoutingObserver observer) {
    throw new UnsupportedOperationException(name() + " does not report routing");
  }

  /** The rule that picks each token's experts from its ranked candidates (default: as the batch asks). */
  default void setExpertSelection(io.moestream.engine.moe.ExpertSelection selection) {
    throw new UnsupportedOperationException(name() + " does not take an expert selection rule");
  }

  /** Device memory this backend holds (weights, KV pages, scratch), in bytes; -1 on the CPU. */
  default long deviceMemoryBytes() {
    return -1;
  }

  @Override
  void close();
}
