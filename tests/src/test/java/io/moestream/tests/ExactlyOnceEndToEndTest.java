package io.moestream.tests;

import io.moestream.operators.records.RoutedGeneration;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.moestream.job.config.JobConfig;
import io.moestream.job.kafka.EmbeddedKafka;
import io.moestream.job.pipeline.DemoModel;
import io.moestream.job.pipeline.InferencePipeline;
import io.moestream.job.pipeline.JobClients;
import io.moestream.operators.deadletter.DeadLetters;
import io.moestream.operators.metrics.MetricNames;
import io.moestream.schemas.DeadLetter;
import io.moestream.schemas.FinishReason;
import io.moestream.schemas.Generation;
import io.moestream.schemas.InferenceRequest;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * 500 requests through the real job (Kafka broker in-JVM, Flink MiniCluster): exactly 500
 * generations come back to a read_committed consumer, each the one {@code ./moestream generate}
 * gives; and the same with a task failure injected while requests are mid-generation. Bad records
 * spread among the good ones each end on the dead-letter topic, exactly once, with their reason.
 */
class ExactlyOnceEndToEndTest {
  static final int REQUESTS = 500;
  static final int CONTEXT_LENGTH = 512;

  @RegisterExtension static final MiniClusterExtension FLINK = EndToEnd.miniCluster();
  @TempDir static Path tmp;
  static EmbeddedKafka kafka;
  static Path model;
  static List<InferenceRequest> requests;
  static Map<String, Map.Entry<List<Integer>, String>> expected = new HashMap<>();

  @BeforeAll
  static void start() throws Exception {
    kafka = EmbeddedKafka.start();
    model = DemoModel.write(DemoModel.spec().withMaxPositionEmbeddings(CONTEXT_LENGTH), tmp.resolve("model"));
    requests = EndToEnd.goodRequests(REQUESTS);
    try (EndToEnd.Reference reference = new EndToEnd.Reference(model)) {
      expected.putAll(reference.generateAll(requests));
      for (int i = 0; i < REQUESTS; i += 25) { // batching changes nothing: a sample run alone agrees
        InferenceRequest r = requests.get(i);
        assertEquals(reference.generate(r), expected.get(r.getRequestId()), r.getRequestId() + " alone vs batched");
      }
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void everyRequestGetsExactlyOneGenerationIdenticalToGenerateAndBadRecordsAreDeadLettered() throws Exception {
    runAndCheck("clean", false);
  }

  @Test
  void aTaskFailureMidGenerationChangesNothing() throws Exception {
    FailOnce.reset();
    runAndCheck("failover", true);
    assertTrue(FailOnce.failed.get(), "the failure was never injected");
  }

  /** The reference the suite compares with is what the {@code generate} command prints (sampled). */
  @Test
  void theReferenceIsWhatTheGenerateCommandPrints() throws Exception {
    for (int i = 0; i < REQUESTS; i += 50) {
      InferenceRequest r = requests.get(i);
      JsonNode printed = GenerateCli.run(model, r);
      List<Integer> ids = new ArrayList<>();
      printed.get("ids").forEach(id -> ids.add(id.asInt()));
      assertEquals(expected.get(r.getRequestId()).getKey(), ids, r.getRequestId() + " ids");
      assertEquals(expected.get(r.getRequestId()).getValue(), printed.get("text").asText(), r.getRequestId() + " text");
    }
  }

  private void runAndCheck(String name, boolean injectFailure) throws Exception {
    JobConfig config = EndToEnd.config(name, model, kafka.bootstrapServers(), Map.of(
        "batching.max_in_flight", 64, "batching.max_batch_size", 16));
    kafka.createTopics(2, config.kafka().inputTopic(), config.kafka().outputTopic(), config.kafka().deadLetterTopic());
    List<byte[]> values = new ArrayList<>();
    requests.forEach(r -> values.add(EndToEnd.REQUESTS.encode(r)));
    List<BadRecords.Bad> bad = BadRecords.all(CONTEXT_LENGTH);
    for (int i = 0; i < bad.size(); i++) {
      values.add(i * (REQUESTS / bad.size()) + i, bad.get(i).value()); // spread among the good ones
    }
    EndToEnd.produce(kafka.bootstrapServers(), config.kafka().inputTopic(), values);

    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    InferencePipeline.configure(env, config);
    InferencePipeline.Streams streams = InferencePipeline.build(env, config);
    if (injectFailure) {
      streams = new InferencePipeline.Streams(streams.generations().map(new FailOnce()).name("fail once"),
          streams.deadLetters());
    }
    InferencePipeline.attachSinks(streams, config);
    JobClient job = env.executeAsync(name);
    List<Generation> out;
    List<DeadLetter> deadLetters;
    long replayed;
    try {
      out = EndToEnd.readCommitted(kafka.bootstrapServers(), config.kafka().outputTopic(), EndToEnd.GENERATIONS::decode,
          REQUESTS, Duration.ofMinutes(6), Duration.ofSeconds(3));
      deadLetters = EndToEnd.readCommitted(kafka.bootstrapServers(), config.kafka().deadLetterTopic(),
          EndToEnd.DEAD_LETTERS::decode, bad.size(), Duration.ofSeconds(30), Duration.ofSeconds(1));
      FlinkRest rest = new FlinkRest(FLINK);
      replayed = rest.operatorMetric(job.getJobID(), MetricNames.REPLAYED_REQUESTS);
      long until = System.currentTimeMillis() + 20_000; // the REST metrics are fetched every few seconds
      while (injectFailure && replayed <= 0 && System.currentTimeMillis() < until) {
        Thread.sleep(1_000);
        replayed = rest.operatorMetric(job.getJobID(), MetricNames.REPLAYED_REQUESTS);
      }
    } finally {
      JobClients.cancelAndAwait(job, java.time.Duration.ofMinutes(1));
    }
    if (injectFailure) {
      // the restart restored requests that were mid-generation at the checkpoint and replayed them
      assertTrue(replayed > 0, "no in-flight request was replayed after the failure (" + replayed + ")");
    } else {
      assertEquals(0, replayed, "replays without a failure");
    }
    checkDeadLetters(bad, deadLetters, config.kafka().inputTopic(), config.limits().maxDeadLetterRawBytes());

    Map<String, Generation> byId = new HashMap<>();
    for (Generation g : out) {
      assertTrue(byId.put(g.getRequestId(), g) == null, "duplicate generation for " + g.getRequestId());
    }
    assertEquals(REQUESTS, out.size(), "generations read with read_committed");
    for (InferenceRequest r : requests) {
      Generation g = byId.get(r.getRequestId());
      Map.Entry<List<Integer>, String> want = expected.get(r.getRequestId());
      assertEquals(want.getKey(), g.getTokenIds(), r.getRequestId() + " token ids");
      assertEquals(want.getValue(), g.getText(), r.getRequestId() + " text");
      assertTrue(g.getFinishReason() != FinishReason.ERROR, r.getRequestId() + ": " + g.getError());
      assertEquals(g.getTokenIds().size(), g.getCompletionTokens());
    }
  }

  /**
   * One dead letter per bad record, with its reason; an undecodable one carries the first
   * {@code maxRaw} bytes of its value, and the whole value's length and SHA-256.
   */
  private static void checkDeadLetters(List<BadRecords.Bad> bad, List<DeadLetter> deadLetters, String topic,
      int maxRaw) {
    assertEquals(bad.size(), deadLetters.size(), "dead letters: " + brief(deadLetters));
    List<DeadLetter> unmatched = new ArrayList<>(deadLetters);
    for (BadRecords.Bad b : bad) {
      DeadLetter match = unmatched.stream().filter(d -> b.requestId() == null
              ? d.getRequestId() == null && d.getRaw() != null
                  && ByteBuffer.wrap(b.value(), 0, Math.min(b.value().length, maxRaw)).equals(d.getRaw())
                  && Long.valueOf(b.value().length).equals(d.getRawLength())
                  && DeadLetters.sha256(b.value()).equals(d.getRawSha256())
              : b.requestId().equals(d.getRequestId()))
          .findFirst().orElseThrow(() -> new AssertionError("no dead letter for " + b.requestId() + " (" + b.reason()
              + ") in " + brief(deadLetters)));
      unmatched.remove(match);
      assertTrue(match.getReason().contains(b.reason()), b.requestId() + ": reason '" + match.getReason() + "'");
      assertEquals(topic, match.getTopic());
      assertTrue(match.getOffset() >= 0);
    }
  }

  /** Dead letters without their raw bytes: some are 64 KiB. */
  private static List<String> brief(List<DeadLetter> deadLetters) {
    return deadLetters.stream().map(d -> d.getStage() + " " + (d.getRequestId() == null ? "" : d.getRequestId()
        .substring(0, Math.min(60, d.getRequestId().length()))) + " @" + d.getOffset() + ": " + d.getReason()).toList();
  }

  /**
   * Passes generations on and throws once, after a checkpoint has completed and some generations
   * have passed: the other requests are mid-generation then, and are restored from the checkpoint.
   */
  static final class FailOnce extends RichMapFunction<RoutedGeneration, RoutedGeneration> implements CheckpointListener {
    static final AtomicBoolean failed = new AtomicBoolean();
    static final AtomicInteger checkpoints = new AtomicInteger();
    static final AtomicInteger seen = new AtomicInteger();

    static void reset() {
      failed.set(false);
      checkpoints.set(0);
      seen.set(0);
    }

    @Override
    public RoutedGeneration map(RoutedGeneration g) {
      if (seen.incrementAndGet() >= 120 && checkpoints.get() >= 2 && failed.compareAndSet(false, true)) {
        throw new IllegalStateException("injected task failure (test)");
      }
      return g;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
      checkpoints.incrementAndGet();
    }
  }
}
