package io.moestream.job.kafka;

import io.moestream.operators.validate.TopicExistence;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Whether a reply topic exists, asked of the brokers with the Admin client before a request is
 * accepted, with a small cache: an answer that a topic exists holds for {@link #EXISTS_FOR_MS}, that
 * it does not for {@link #MISSING_FOR_MS} (a topic created a moment later is found soon, and a flood
 * of requests to one missing topic costs one call per interval). A topic deleted while it is cached as
 * existing is not caught here; the sink then fails as it would without the check.
 */
public final class KafkaTopicExistence implements TopicExistence {
  static final long EXISTS_FOR_MS = 60_000;
  static final long MISSING_FOR_MS = 2_000;
  /** Topics cached at most; past it the cache starts over (reply topics are few, request ids are not). */
  static final int MAX_CACHED = 10_000;
  private static final long CALL_TIMEOUT_MS = 30_000;

  private final Admin admin;
  /** Topic -> when its answer expires (ms); the answer is {@link #exists}'s value then. */
  private final Map<String, Long> validUntil = new HashMap<>();
  private final Map<String, Boolean> answers = new HashMap<>();

  private KafkaTopicExistence(Admin admin) {
    this.admin = admin;
  }

  /** A recipe that opens one Admin client per subtask on the TaskManager ({@code kafka.properties} included). */
  public static TopicExistence.Factory factory(java.util.Map<String, String> clientConfig) {
    java.util.Map<String, String> config = java.util.Map.copyOf(clientConfig); // serializable, for the TaskManagers
    return () -> {
      Properties p = new Properties();
      p.putAll(config);
      return new KafkaTopicExistence(Admin.create(p));
    };
  }

  @Override
  public boolean exists(String topic) {
    long now = System.currentTimeMillis();
    Long until = validUntil.get(topic);
    if (until != null && now < until) {
      return answers.get(topic);
    }
    boolean exists = ask(topic);
    if (validUntil.size() >= MAX_CACHED) {
      validUntil.clear();
      answers.clear();
    }
    validUntil.put(topic, now + (exists ? EXISTS_FOR_MS : MISSING_FOR_MS));
    answers.put(topic, exists);
    return exists;
  }

  private boolean ask(String topic) {
    try {
      admin.describeTopics(List.of(topic)).allTopicNames().get(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS);
      return true;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UnknownTopicOrPartitionException) {
        return false;
      }
      throw new IllegalStateException("cannot ask the brokers whether reply topic '" + topic + "' exists: "
          + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new IllegalStateException("cannot ask the brokers whether reply topic '" + topic + "' exists: no answer"
          + " in " + CALL_TIMEOUT_MS + " ms", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted asking whether reply topic '" + topic + "' exists", e);
    }
  }

  @Override
  public void close() {
    admin.close(java.time.Duration.ofSeconds(5));
  }
}
