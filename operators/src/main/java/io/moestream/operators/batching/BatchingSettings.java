package io.moestream.operators.batching;

import java.io.Serializable;

/**
 * Limits of the micro-batcher.
 *
 * @param maxBatchSize requests per batch at most
 * @param latencyBudgetMs the longest a request waits in the batcher
 */
public record BatchingSettings(int maxBatchSize, long latencyBudgetMs) implements Serializable {
  public BatchingSettings {
    if (maxBatchSize < 1) {
      throw new IllegalArgumentException("maxBatchSize must be >= 1, found " + maxBatchSize);
    }
    if (latencyBudgetMs < 0) {
      throw new IllegalArgumentException("latencyBudgetMs must be >= 0, found " + latencyBudgetMs);
    }
  }
}
