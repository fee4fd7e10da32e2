package io.moestream.operators.metrics;

import java.io.Serializable;

/**
 * How far the job's Kafka consumer group is behind its input topic, for the load signals. The
 * operators know nothing of Kafka; the job supplies an implementation that asks the broker.
 */
public interface ConsumerLag extends AutoCloseable {
  /** Records behind the end of the input topic (all partitions), or -1 while unknown. */
  long recordsBehind();

  @Override
  void close();

  /** A serializable recipe, opened once per subtask in the operator's {@code open()}. */
  @FunctionalInterface
  interface Factory extends Serializable {
    ConsumerLag open();
  }
}
