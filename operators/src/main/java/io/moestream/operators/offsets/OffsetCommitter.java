package io.moestream.operators.offsets;

import java.io.Serializable;
import java.util.Map;

/**
 * Where the inference operator commits its input offsets once a checkpoint is complete. The
 * operators know nothing of Kafka; the job supplies an implementation that writes the consumer
 * group's offsets.
 */
public interface OffsetCommitter extends AutoCloseable {
  /** Commits in the background (never blocks the task thread); a later call supersedes an earlier one. */
  void commit(Map<SourcePartition, OffsetCommit> commits);

  @Override
  void close();

  /** A serializable recipe, opened once per subtask in the operator's {@code open()}. */
  @FunctionalInterface
  interface Factory extends Serializable {
    OffsetCommitter open();
  }
}
