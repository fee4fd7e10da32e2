package io.moestream.operators.offsets;

import java.io.Serializable;

/** A partition of the input: a Kafka topic's partition (in corpus mode a file, partition 0). */
public record SourcePartition(String topic, int partition) implements Serializable {}
