package io.moestream.operators.validate;

import io.moestream.operators.records.CarriedHeaders;
import java.io.Serializable;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What a request's reply_topic and carried headers must be before the job accepts it. A reply topic
 * the producer cannot write to would not fail one request but the sink's transaction, every restart
 * meeting the same request again; so it is refused here, naming the field and the value, and the
 * request is dead-lettered instead.
 *
 * @param allowedReplyTopics empty: any legal topic name; else each entry is a topic name, or a prefix
 *     when it ends in {@code *} ({@code replies.*} allows {@code replies.a}, not {@code replies})
 * @param maxHeaderBytes the most bytes one carried header's value may have (limits.max_header_bytes)
 * @param topicExistence checks that a reply topic exists (the job never creates topics); null: not checked
 */
public record RoutingRules(List<String> allowedReplyTopics, int maxHeaderBytes, TopicExistence.Factory topicExistence)
    implements Serializable {
  /** Kafka's own limit on a topic name's length. */
  public static final int MAX_TOPIC_NAME_LENGTH = 249;
  private static final Pattern LEGAL_TOPIC = Pattern.compile("[a-zA-Z0-9._-]+");

  /** Any legal reply topic, headers up to 4 KiB, existence not checked: corpus mode and tests. */
  public static final RoutingRules ANY = new RoutingRules(List.of(), 4096, null);

  public RoutingRules {
    allowedReplyTopics = List.copyOf(allowedReplyTopics);
    for (String entry : allowedReplyTopics) {
      String name = entry.endsWith("*") ? entry.substring(0, entry.length() - 1) : entry;
      if (!name.isEmpty() && !LEGAL_TOPIC.matcher(name).matches()) {
        throw new IllegalArgumentException("allowedReplyTopics: '" + entry + "' is not a topic name or a prefix"
            + " ending in * (letters, digits, '.', '_', '-')");
      }
    }
    if (maxHeaderBytes < 1) {
      throw new IllegalArgumentException("maxHeaderBytes: must be >= 1, found " + maxHeaderBytes);
    }
  }

  /** Why {@code topic} cannot be a reply topic (name and allow list; not existence), or empty. */
  public Optional<String> replyTopicProblem(String topic) {
    if (topic.length() > MAX_TOPIC_NAME_LENGTH) {
      return Optional.of("reply_topic: longer than " + MAX_TOPIC_NAME_LENGTH + " characters, found "
          + topic.length());
    }
    if (!LEGAL_TOPIC.matcher(topic).matches() || topic.equals(".") || topic.equals("..")) {
      return Optional.of("reply_topic: '" + topic + "' is not a legal Kafka topic name (letters, digits, '.', '_',"
          + " '-')");
    }
    if (!allowedReplyTopics.isEmpty() && allowedReplyTopics.stream().noneMatch(entry -> allows(entry, topic))) {
      return Optional.of("reply_topic: '" + topic + "' is not allowed by kafka.allowed_reply_topics "
          + allowedReplyTopics);
    }
    return Optional.empty();
  }

  /** Why the carried headers cannot travel (one over limits.max_header_bytes), or empty. */
  public Optional<String> headersProblem(CarriedHeaders headers) {
    for (int i = 0; headers != null && i < headers.size(); i++) {
      if (headers.valueBytes(i) > maxHeaderBytes) {
        return Optional.of("header '" + headers.keys[i] + "': " + headers.valueBytes(i)
            + " bytes, over limits.max_header_bytes (" + maxHeaderBytes + ")");
      }
    }
    return Optional.empty();
  }

  /**
   * The headers a dead letter about this request may carry: those within limits.max_header_bytes. A
   * request dead-lettered for a header over the limit (or before it was checked, at decode) keeps its
   * other headers, a correlation id among them; null when none is left.
   */
  public CarriedHeaders headersWithinLimit(CarriedHeaders headers) {
    if (headersProblem(headers).isEmpty()) {
      return headers;
    }
    List<String> keys = new java.util.ArrayList<>();
    List<byte[]> values = new java.util.ArrayList<>();
    for (int i = 0; i < headers.size(); i++) {
      if (headers.valueBytes(i) <= maxHeaderBytes) {
        keys.add(headers.keys[i]);
        values.add(headers.values[i]);
      }
    }
    return keys.isEmpty() ? null : new CarriedHeaders(keys.toArray(new String[0]), values.toArray(new byte[0][]));
  }

  private static boolean allows(String entry, String topic) {
    return entry.endsWith("*") ? topic.startsWith(entry.substring(0, entry.length() - 1)) : entry.equals(topic);
  }
}
