package io.moestream.operators.validate;

import java.io.Serializable;

/**
 * Whether a topic exists, asked before a request's answer is routed to it: a transactional producer
 * sending to a missing topic blocks for max.block.ms waiting for its metadata and then fails the
 * transaction, so the job would restart, replay the request and fail again. Implementations may
 * cache; a broker that cannot be asked is an exception (the job cannot produce either).
 */
public interface TopicExistence extends AutoCloseable {
  boolean exists(String topic);

  @Override
  void close();

  /** Opens one per subtask, on the TaskManager (the recipe travels with the job graph). */
  interface Factory extends Serializable {
    TopicExistence open();
  }
}
