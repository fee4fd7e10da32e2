package io.moestream.tests;

import io.moestream.operators.records.RoutedGeneration;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.job.config.JobConfig;
import io.moestream.job.kafka.EmbeddedKafka;
import io.moestream.job.kafka.TopicClients;
import io.moestream.job.pipeline.DemoModel;
import io.moestream.job.pipeline.InferencePipeline;
import io.moestream.job.pipeline.JobClients;
import io.moestream.schemas.Generation;
import io.moestream.schemas.InferenceRequest;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests arrive far faster than the engine can serve them, for half a minute: the in-flight cap
 * holds, so the backlog stays in Kafka (lag grows), the heap does not grow, and checkpoints keep
 * completing while the operator is saturated.
 */
class OverloadEndToEndTest {
  static final long OVERLOAD_MS = 30_000;
  static final int RATE_PER_SECOND = 400;

  @RegisterExtension static final MiniClusterExtension FLINK = EndToEnd.miniCluster();
  @TempDir static Path tmp;

  @Test
  void heapStaysFlatAndCheckpointsContinueUnderOverload() throws Exception {
    Path model = DemoModel.write(DemoModel.spec(), tmp.resolve("model"));
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      JobConfig config = EndToEnd.config("overload", model, kafka.bootstrapServers(), Map.of(
          "batching.max_in_flight", 16, "batching.max_batch_size", 8, "experts.policy", "adaptive"));
      kafka.createTopics(2, config.kafka().inputTopic(), config.kafka().outputTopic(), config.kafka().deadLetterTopic());
      StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
      InferencePipeline.configure(env, config);
      InferencePipeline.Streams streams = InferencePipeline.build(env, config);
      streams = new InferencePipeline.Streams(streams.generations().map(new CountCheckpoints()).name("count checkpoints"),
          streams.deadLetters());
      InferencePipeline.attachSinks(streams, config);
      JobClient job = env.executeAsync("overload");

      AtomicBoolean producing = new AtomicBoolean(true);
      AtomicInteger produced = new AtomicInteger();
      Thread producer = new Thread(() -> produce(kafka.bootstrapServers(), config.kafka().inputTopic(), producing, produced));
      producer.start();
      MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
      List<Long> heapMb = new ArrayList<>();
      int checkpointsAtWarmUp = -1;
      long start = System.currentTimeMillis();
      try {
        while (System.currentTimeMillis() - start < OVERLOAD_MS) {
          Thread.sleep(2_000);
          if (System.currentTimeMillis() - start < 8_000) {
            continue; // warm-up: classes, model, first checkpoints
          }
          if (checkpointsAtWarmUp < 0) {
            checkpointsAtWarmUp = CountCheckpoints.completed.get();
          }
          System.gc();
          heapMb.add(memory.getHeapMemoryUsage().getUsed() >> 20);
        }
      } finally {
        producing.set(false);
        producer.join();
      }
      int checkpointsDuringOverload = CountCheckpoints.completed.get() - checkpointsAtWarmUp;
      List<Generation> out = EndToEnd.readCommitted(kafka.bootstrapServers(), config.kafka().outputTopic(),
          EndToEnd.GENERATIONS::decode, Integer.MAX_VALUE, java.time.Duration.ofSeconds(3), java.time.Duration.ZERO);
      JobClients.cancelAndAwait(job, java.time.Duration.ofMinutes(1));

      long early = heapMb.subList(0, 3).stream().mapToLong(Long::longValue).max().orElseThrow();
      long late = heapMb.subList(heapMb.size() - 3, heapMb.size()).stream().mapToLong(Long::longValue).min().orElseThrow();
      String summary = "produced " + produced.get() + ", generated " + out.size() + ", checkpoints during overload "
          + checkpointsDuringOverload + ", heap MiB after GC " + heapMb;
      System.err.println("overload: " + summary);
      assertTrue(produced.get() > 3 * Math.max(1, out.size()), "not an overload: " + summary);
      assertTrue(!out.isEmpty(), "the job generated nothing: " + summary);
      assertTrue(checkpointsDuringOverload >= 10, "checkpoints stalled: " + summary);
      assertTrue(late - early < 64, "heap grew under overload: " + summary);
    }
  }

  private static void produce(String bootstrap, String topic, AtomicBoolean producing, AtomicInteger produced) {
    List<InferenceRequest> templates = EndToEnd.goodRequests(50);
    try (KafkaProducer<byte[], byte[]> producer = TopicClients.producer(bootstrap)) {
      long started = System.nanoTime();
      while (producing.get()) {
        int n = produced.get();
        InferenceRequest r = InferenceRequest.newBuilder(templates.get(n % templates.size()))
            .setRequestId("load-" + n).setMaxNewTokens(16).build();
        producer.send(new ProducerRecord<>(topic, EndToEnd.REQUESTS.encode(r)));
        produced.incrementAndGet();
        long due = started + (long) produced.get() * 1_000_000_000L / RATE_PER_SECOND;
        long wait = due - System.nanoTime();
        if (wait > 0) {
          java.util.concurrent.locks.LockSupport.parkNanos(wait);
        }
      }
    }
  }

  /** Counts completed checkpoints as the job itself sees them. */
  static final class CountCheckpoints extends RichMapFunction<RoutedGeneration, RoutedGeneration> implements CheckpointListener {
    static final AtomicInteger completed = new AtomicInteger();

    @Override
    public RoutedGeneration map(RoutedGeneration g) {
      return g;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
      completed.incrementAndGet();
    }
  }
}
