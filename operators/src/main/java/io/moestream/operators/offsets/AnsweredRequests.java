package io.moestream.operators.offsets;

import java.io.Serializable;
import java.util.Map;

/**
 * The input offsets an earlier job answered (or dead-lettered) at or after the offsets its group
 * committed: what a job started without a savepoint will read again and must not answer twice. The
 * job supplies an implementation that reads the output and dead-letter topics back.
 */
public interface AnsweredRequests {
  /** Per input partition, the answered offsets at or after its committed offset, ascending. */
  Map<SourcePartition, long[]> answeredSinceCommit();

  /** A serializable recipe, used once when a job starts without restored state. */
  @FunctionalInterface
  interface Factory extends Serializable {
    AnsweredRequests open();
  }
}
