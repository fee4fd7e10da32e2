package io.moestream.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.job.config.JobConfig;
import io.moestream.job.kafka.EmbeddedKafka;
import io.moestream.job.kafka.TopicClients;
import io.moestream.job.pipeline.DemoModel;
import io.moestream.job.pipeline.InferencePipeline;
import io.moestream.schemas.DeadLetter;
import io.moestream.schemas.Generation;
import io.moestream.schemas.InferenceRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reply routing through the real job (issue 19): each generation on its request's reply topic (or the
 * output topic) exactly once, with the request's carried headers; a reply topic that does not exist or
 * is not allowed is dead-lettered with the reason while the job keeps serving, and every dead letter
 * (validate and decode stage) carries its request's headers too; at least once, output is readable
 * long before any checkpoint could have committed it.
 */
class ReplyRoutingEndToEndTest {
  static final int REQUESTS = 12;

  @RegisterExtension static final MiniClusterExtension FLINK = EndToEnd.miniCluster();
  @TempDir static Path tmp;
  static EmbeddedKafka kafka;
  static Path model;

  @BeforeAll
  static void start() throws Exception {
    kafka = EmbeddedKafka.start();
    model = DemoModel.write(DemoModel.spec(), tmp.resolve("model"));
  }

  @AfterAll
  static void stop() throws Exception {
    if (kafka != null) {
      kafka.close();
    }
  }

  /** Request i asks for replies.a, replies.b or nothing (the output topic), by i % 3. */
  private static String replyTopic(String name, int i) {
    return switch (i % 3) {
      case 0 -> name + ".replies.a";
      case 1 -> name + ".replies.b";
      default -> null;
    };
  }

  @Test
  void generationsGoToTheirReplyTopicsExactlyOnceWithTheirHeaders() throws Exception {
    String name = "reply-eo";
    JobConfig config = EndToEnd.config(name, model, kafka.bootstrapServers(), Map.of(
        "kafka.allowed_reply_topics", name + ".replies.*"));
    String a = name + ".replies.a";
    String b = name + ".replies.b";
    String notAllowed = name + ".elsewhere"; // exists, but not in kafka.allowed_reply_topics
    kafka.createTopics(2, config.kafka().inputTopic(), config.kafka().outputTopic(), config.kafka().deadLetterTopic(),
        a, b, notAllowed);
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    List<InferenceRequest> good = EndToEnd.goodRequests(REQUESTS);
    for (int i = 0; i < REQUESTS; i++) {
      records.add(request(config, good.get(i), replyTopic(name, i), i));
    }
    InferenceRequest missing = InferenceRequest.newBuilder(good.get(0)).setRequestId("missing")
        .setReplyTopic(name + ".replies.zz").build();
    InferenceRequest denied = InferenceRequest.newBuilder(good.get(0)).setRequestId("denied")
        .setReplyTopic(notAllowed).build();
    records.add(REQUESTS / 2, request(config, missing, missing.getReplyTopic(), 100));
    records.add(request(config, denied, denied.getReplyTopic(), 101));
    ProducerRecord<byte[], byte[]> notARequest = new ProducerRecord<>(config.kafka().inputTopic(),
        "not Avro".getBytes(StandardCharsets.UTF_8));
    withHeaders(notARequest, 102);
    records.add(notARequest);
    produce(records);

    JobClient job = submit(config, name);
    try {
      Map<String, List<ConsumerRecord<byte[], byte[]>>> byTopic = new HashMap<>();
      for (String topic : List.of(a, b, config.kafka().outputTopic())) {
        int want = (int) java.util.stream.IntStream.range(0, REQUESTS)
            .filter(i -> topic.equals(replyTopic(name, i) == null ? config.kafka().outputTopic() : replyTopic(name, i)))
            .count();
        byTopic.put(topic, read(topic, want, Duration.ofMinutes(3), Duration.ofSeconds(2)));
      }
      int total = 0;
      for (var e : byTopic.entrySet()) {
        for (ConsumerRecord<byte[], byte[]> r : e.getValue()) {
          Generation g = EndToEnd.GENERATIONS.decode(r.value());
          int i = Integer.parseInt(g.getRequestId().substring("req-".length()));
          String want = replyTopic(name, i) == null ? config.kafka().outputTopic() : replyTopic(name, i);
          assertEquals(want, e.getKey(), g.getRequestId() + " on the wrong topic");
          assertEquals("tp-" + i, header(r, "traceparent"), g.getRequestId());
          assertEquals("corr-" + i, header(r, "correlation_id"), g.getRequestId());
          assertNull(r.headers().lastHeader("x-not-carried"), "only kafka.carried_headers travel");
          total++;
        }
        assertEquals(e.getValue().size(), e.getValue().stream().map(ConsumerRecord::key).distinct().count(),
            "a duplicate generation on " + e.getKey());
      }
      assertEquals(REQUESTS, total, "each request answered once, on one topic: " + byTopic.keySet());
      assertTrue(read(notAllowed, 0, Duration.ofSeconds(1), Duration.ofSeconds(1)).isEmpty());

      Map<String, String> reasons = new HashMap<>();
      Map<String, String> traces = new HashMap<>();
      for (ConsumerRecord<byte[], byte[]> r : read(config.kafka().deadLetterTopic(), 3, Duration.ofSeconds(30),
          Duration.ofSeconds(1))) {
        DeadLetter d = EndToEnd.DEAD_LETTERS.decode(r.value());
        String id = d.getRequestId() == null ? d.getStage() : d.getRequestId();
        reasons.put(id, d.getReason());
        // the request's carried headers, as its generation would have had them; only those
        traces.put(id, header(r, "traceparent") + " " + header(r, "correlation_id"));
        assertNull(r.headers().lastHeader("x-not-carried"), "only kafka.carried_headers travel: " + id);
      }
      assertEquals(Map.of("missing", "tp-100 corr-100", "denied", "tp-101 corr-101", "decode", "tp-102 corr-102"),
          traces);
      assertEquals("reply_topic: '" + name + ".replies.zz' does not exist (the job does not create topics)",
          reasons.get("missing"));
      assertEquals("reply_topic: '" + notAllowed + "' is not allowed by kafka.allowed_reply_topics [" + name
          + ".replies.*]", reasons.get("denied"));

      // the job keeps serving after the poison reply topics: no restart loop
      InferenceRequest after = InferenceRequest.newBuilder(good.get(1)).setRequestId("req-" + (REQUESTS + 2)).build();
      produce(List.of(request(config, after, b, REQUESTS + 2)));
      List<ConsumerRecord<byte[], byte[]>> onB = read(b, byTopic.get(b).size() + 1, Duration.ofMinutes(1),
          Duration.ofSeconds(1));
      assertEquals(byTopic.get(b).size() + 1, onB.size());
      assertEquals(JobStatus.RUNNING, job.getJobStatus().get());
      var history = new FlinkRest(FLINK).get("/jobs/" + job.getJobID() + "/exceptions").path("exceptionHistory");
      assertTrue(history.has("entries"), "no exception history: " + history);
      var failures = history.path("entries");
      assertEquals(0, failures.size(), "the job failed (and restarted): " + failures);
    } finally {
      job.cancel().get();
    }
  }

  @Test
  void atLeastOnceOutputIsReadableBeforeAnyCheckpoint() throws Exception {
    String name = "reply-alo";
    // a checkpoint every 10 minutes: exactly once, nothing would be readable within this test
    JobConfig config = EndToEnd.config(name, model, kafka.bootstrapServers(), Map.of(
        "kafka.delivery_guarantee", "at_least_once", "flink.checkpoint_interval_ms", 600_000));
    String a = name + ".replies.a";
    kafka.createTopics(1, config.kafka().inputTopic(), config.kafka().outputTopic(), config.kafka().deadLetterTopic(),
        a, name + ".replies.b");
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    List<InferenceRequest> good = EndToEnd.goodRequests(6);
    for (int i = 0; i < good.size(); i++) {
      records.add(request(config, good.get(i), replyTopic(name, i), i));
    }
    long start = System.currentTimeMillis();
    produce(records);
    JobClient job = submit(config, name);
    try {
      List<ConsumerRecord<byte[], byte[]>> onA = read(a, 2, Duration.ofMinutes(2), Duration.ofMillis(500));
      long seenAfterMs = System.currentTimeMillis() - start;
      assertEquals(2, onA.size());
      assertTrue(seenAfterMs < 600_000, "read after " + seenAfterMs + " ms");
      assertEquals(0, new FlinkRest(FLINK).get("/jobs/" + job.getJobID() + "/checkpoints").path("counts")
          .path("completed").asInt(), "a checkpoint completed");
      assertEquals("tp-0", header(onA.get(0), "traceparent"));
    } finally {
      job.cancel().get();
    }
  }

  private static ProducerRecord<byte[], byte[]> request(JobConfig config, InferenceRequest r, String replyTopic, int i) {
    InferenceRequest routed = InferenceRequest.newBuilder(r).setReplyTopic(replyTopic).build();
    return withHeaders(TopicClients.avroRecord(config.kafka().inputTopic(), routed, EndToEnd.REQUESTS), i);
  }

  /** Two carried headers (kafka.carried_headers' defaults) numbered {@code i}, and one the job does not carry. */
  private static ProducerRecord<byte[], byte[]> withHeaders(ProducerRecord<byte[], byte[]> record, int i) {
    record.headers().add("traceparent", ("tp-" + i).getBytes(StandardCharsets.UTF_8));
    record.headers().add("correlation_id", ("corr-" + i).getBytes(StandardCharsets.UTF_8));
    record.headers().add("x-not-carried", "no".getBytes(StandardCharsets.UTF_8));
    return record;
  }

  private static void produce(List<ProducerRecord<byte[], byte[]>> records) throws Exception {
    try (KafkaProducer<byte[], byte[]> producer = TopicClients.producer(kafka.bootstrapServers())) {
      for (ProducerRecord<byte[], byte[]> r : records) {
        producer.send(r).get();
      }
    }
  }

  private static JobClient submit(JobConfig config, String name) throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    InferencePipeline.define(env, config);
    return env.executeAsync(name);
  }

  private static String header(ConsumerRecord<byte[], byte[]> r, String key) {
    Header h = r.headers().lastHeader(key);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  /** Records of {@code topic} as a read_committed consumer sees them: until {@code expected}, then {@code settle} more. */
  private static List<ConsumerRecord<byte[], byte[]>> read(String topic, int expected, Duration timeout,
      Duration settle) {
    List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer = TopicClients.committedReader(kafka.bootstrapServers(), null)) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + timeout.toNanos();
      long settleUntil = expected == 0 ? System.nanoTime() + settle.toNanos() : Long.MAX_VALUE;
      while (System.nanoTime() < Math.min(deadline, settleUntil)) {
        consumer.poll(Duration.ofMillis(200)).forEach(out::add);
        if (out.size() >= expected && settleUntil == Long.MAX_VALUE) {
          settleUntil = System.nanoTime() + settle.toNanos();
        }
      }
    }
    return out;
  }
}
