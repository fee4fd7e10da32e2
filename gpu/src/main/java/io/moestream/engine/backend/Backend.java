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

  /**
   * Runs one step: writes the batch's keys/values into the cache and returns the requested logits and the
   * experts each token used. Everything the step depends on is in the batch (tokens, experts per token,
   * floors, selection rule); the backend carries no setting that changes a result from one step to the next.
   */
  StepOutput forward(StepBatch batch);

  /** Time spent per phase of the steps run so far. */
  PhaseTimes phaseTimes();

  /** Optional hook that sees every token's routing probabilities (expert profiling, metrics). */
  default void setRoutingObserver(RoutingObserver observer) {
    throw new UnsupportedOperationException(name() + " does not report routing");
  }

  /** Device memory this backend holds (weights, KV pages, scratch), in bytes; -1 on the CPU. */
  default long deviceMemoryBytes() {
    return -1;
  }

  @Override
  void close();
}
