package io.moestream.job.cli;

import io.moestream.engine.backend.Backend;
import io.moestream.engine.backend.PhaseTimes;
import io.moestream.engine.backend.RoutingObserver;
import io.moestream.engine.backend.StepBatch;
import io.moestream.engine.backend.StepOutput;
import io.moestream.engine.kv.PagedKvCache;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.moe.ExpertSelection;

/**
 * A backend that passes everything through and counts, per step, the distinct experts each sparse
 * layer read: what a memory-bound decode step pays for. Closing it leaves the wrapped backend open.
 */
final class CountingBackend implements Backend {
  private final Backend backend;
  private long steps;
  private double distinctSum; // mean over sparse layers, summed over steps

  CountingBackend(Backend backend) {
    this.backend = backend;
  }

  @Override
  public String name() {
    return backend.name();
  }

  @Override
  public ModelConfig config() {
    return backend.config();
  }

  @Override
  public PagedKvCache kvCache() {
    return backend.kvCache();
  }

  @Override
  public StepOutput forward(StepBatch batch) {
    StepOutput out = backend.forward(batch);
    int sparse = 0;
    long distinct = 0;
    for (int layer = 0; layer < config().numLayers(); layer++) {
      if (config().isSparse(layer)) {
        sparse++;
        distinct += out.distinctExpertsTouched()[layer];
      }
    }
    if (sparse > 0) {
      steps++;
      distinctSum += distinct / (double) sparse;
    }
    return out;
  }

  @Override
  public PhaseTimes phaseTimes() {
    return backend.phaseTimes();
  }

  @Override
  public void setRoutingObserver(RoutingObserver observer) {
    backend.setRoutingObserver(observer);
  }

  @Override
  public void setExpertSelection(ExpertSelection selection) {
    backend.setExpertSelection(selection);
  }

  /** Distinct experts read per sparse layer, mean over the steps so far (NaN before any). */
  double distinctExpertsPerLayer() {
    return steps == 0 ? Double.NaN : distinctSum / steps;
  }

  void reset() {
    steps = 0;
    distinctSum = 0;
  }

  @Override
  public void close() {
    // the wrapped backend belongs to the caller
  }
}
