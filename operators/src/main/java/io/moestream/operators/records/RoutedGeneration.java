package io.moestream.operators.records;

import io.moestream.schemas.Generation;

/**
 * What the inference operator emits: the answer and where it goes. The generations sink writes it
 * to {@link #replyTopic} (the request's reply_topic) or, when null, to kafka.output_topic, with the
 * request's carried headers, in the same transaction either way. Neither is part of the Generation
 * record: the topic is where it is, and the headers are Kafka headers.
 */
public class RoutedGeneration {
  public Generation generation;
  /** null: the job's output topic. */
  public String replyTopic;
  /** null when the request carried none. */
  public CarriedHeaders headers;

  public RoutedGeneration() {}

  public RoutedGeneration(Generation generation, String replyTopic, CarriedHeaders headers) {
    this.generation = generation;
    this.replyTopic = replyTopic;
    this.headers = headers;
  }
}
