package io.moestream.job.cli;

import io.moestream.engine.backend.Backend;
import io.moestream.engine.backend.PhaseTimes;
import io.moestream.engine.backend.StepBatch;
import io.moestream.engine.backend.StepOutput;
import io.moestream.engine.kv.PagedKvCache;
import io.moestream.engine.model.ModelConfig;

/**
 * A backend that passes everything through and counts, from each step's {@link StepOutput}, the
 * distinct experts each sparse layer read (what a memory-bound decode step pays for) and the experts
 * the tokens used. Closing it leaves the wrapped backend open.
 */
final class CountingBackend implements Backend {
  private final Backend backend;
  private long steps;
  private double distinctSum; // mean over sparse layers, summed over steps
  private long tokenLayers; // (token, sparse layer) pairs routed, over every step
  private long expertsUsed; // experts those pairs used, summed

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
    for (int[] layer : out.expertsUsed()) {
      for (int k : layer) {
        tokenLayers += k > 0 ? 1 : 0; // 0: a dense layer
        expertsUsed += k;
      }
    }
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

  /** Distinct experts read per sparse layer, mean over the steps so far (NaN before any). */
  double distinctExpertsPerLayer() {
    return steps == 0 ? Double.NaN : distinctSum / steps;
  }

  /** Mean experts a token used per sparse layer, over every step so far (NaN before any). */
  double expertsPerToken() {
    return tokenLayers == 0 ? Double.NaN : expertsUsed / (double) tokenLayers;
  }

  /** Restarts {@link #distinctExpertsPerLayer} (the experts-per-token count goes on). */
  void resetDistinct() {
    steps = 0;
    distinctSum = 0;
  }

  @Override
  public void close() {
    // the wrapped backend belongs to the caller
  }
}
