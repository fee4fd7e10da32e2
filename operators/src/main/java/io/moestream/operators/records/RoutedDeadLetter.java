package io.moestream.operators.records;

import io.moestream.schemas.DeadLetter;

/**
 * What every stage sends to the dead-letter side output: the dead letter and the Kafka headers of the
 * request it is about (kafka.carried_headers: a trace context, a correlation id), which the dead-letter
 * sink writes as Kafka headers, as the generations sink does for an answer. Headers are not part of the
 * DeadLetter record: its schema, and every consumer of it, stays as it is.
 */
public class RoutedDeadLetter {
  public DeadLetter deadLetter;
  /** null when the request carried none (or corpus mode: files have no headers). */
  public CarriedHeaders headers;

  public RoutedDeadLetter() {}

  public RoutedDeadLetter(DeadLetter deadLetter, CarriedHeaders headers) {
    this.deadLetter = deadLetter;
    this.headers = headers;
  }
}
