package io.moestream.operators.inference;

import io.moestream.operators.offsets.OffsetCommitter;
import java.io.Serializable;

/**
 * How the inference operator recovers and what it commits.
 *
 * @param maxAttemptsPerRequest a request still in flight after this many attempts (the first and each
 *     restore of the job while it was in flight) is dead-lettered instead of replayed once more: a
 *     request that brings the TaskManager down every time cannot keep the job restarting
 * @param offsetCommitter where the oldest unanswered offset per input partition is committed after
 *     each checkpoint; null when nothing is (corpus mode)
 */
public record RecoverySettings(int maxAttemptsPerRequest, OffsetCommitter.Factory offsetCommitter)
    implements Serializable {
  public static final int DEFAULT_MAX_ATTEMPTS = 3;

  public RecoverySettings {
    if (maxAttemptsPerRequest < 1) {
      throw new IllegalArgumentException("maxAttemptsPerRequest must be >= 1, found " + maxAttemptsPerRequest);
    }
  }

  public static RecoverySettings defaults() {
    return new RecoverySettings(DEFAULT_MAX_ATTEMPTS, null);
  }
}
