package io.moestream.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.format.DType;
import io.moestream.engine.model.Architecture;
import io.moestream.engine.testmodel.DeepseekSpec;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.job.config.JobConfig;
import io.moestream.job.kafka.EmbeddedKafka;
import io.moestream.job.pipeline.DemoModel;
import io.moestream.job.pipeline.InferencePipeline;
import io.moestream.job.pipeline.JobClients;
import io.moestream.schemas.FinishReason;
import io.moestream.schemas.Generation;
import io.moestream.schemas.InferenceRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * DeepSeek models through the whole streaming job (Kafka broker in-JVM, Flink MiniCluster): a
 * V2-Lite-shaped model (MLA without query compression, softmax routing, 2 shared experts, a dense first
 * layer, YaRN) and a V3-shaped one with FP8 weights (compressed queries, sigmoid group-limited routing
 * with score correction bias). Every request gets exactly one generation, identical to what the engine
 * alone (as {@code ./moestream generate}) gives. Both with the Qwen3 tokenizer and random weights.
 */
class DeepseekEndToEndTest {
  static final int REQUESTS = 24;

  @RegisterExtension static final MiniClusterExtension FLINK = EndToEnd.miniCluster();
  @TempDir static Path tmp;
  static EmbeddedKafka kafka;

  @BeforeAll
  static void start() throws Exception {
    kafka = EmbeddedKafka.start();
  }

  @AfterAll
  static void stop() throws Exception {
    if (kafka != null) {
      kafka.close();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"deepseek_v2", "deepseek_v3-fp8"})
  void generationsThroughTheJobMatchTheEngine(String name) throws Exception {
    TestModelSpec spec = name.startsWith("deepseek_v2")
        ? TestModelSpec.defaults(Architecture.DEEPSEEK_V2)
        : TestModelSpec.defaults(Architecture.DEEPSEEK_V3).withDType(DType.BF16)
            .withDeepseek(DeepseekSpec.defaults(Architecture.DEEPSEEK_V3).withFp8(true));
    Path model = DemoModel.write(spec.withSeed(7).withMaxPositionEmbeddings(512), tmp.resolve(name));
    List<InferenceRequest> requests = EndToEnd.goodRequests(REQUESTS);
    Map<String, Map.Entry<List<Integer>, String>> expected;
    try (EndToEnd.Reference reference = new EndToEnd.Reference(model)) {
      expected = reference.generateAll(requests);
    }

    String job = name.replace('_', '-');
    JobConfig config = EndToEnd.config(job, model, kafka.bootstrapServers(), Map.of());
    kafka.createTopics(2, config.kafka().inputTopic(), config.kafka().outputTopic(), config.kafka().deadLetterTopic());
    List<byte[]> values = new ArrayList<>();
    requests.forEach(r -> values.add(EndToEnd.REQUESTS.encode(r)));
    EndToEnd.produce(kafka.bootstrapServers(), config.kafka().inputTopic(), values);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    InferencePipeline.configure(env, config);
    InferencePipeline.attachSinks(InferencePipeline.build(env, config), config);
    JobClient client = env.executeAsync(job);
    List<Generation> out;
    try {
      out = EndToEnd.readCommitted(kafka.bootstrapServers(), config.kafka().outputTopic(), EndToEnd.GENERATIONS::decode,
          REQUESTS, Duration.ofMinutes(3), Duration.ofSeconds(2));
    } finally {
      JobClients.cancelAndAwait(client, java.time.Duration.ofMinutes(1));
    }

    Map<String, Generation> byId = new HashMap<>();
    for (Generation g : out) {
      assertTrue(byId.put(g.getRequestId(), g) == null, "duplicate generation for " + g.getRequestId());
    }
    assertEquals(REQUESTS, out.size());
    for (InferenceRequest r : requests) {
      Generation g = byId.get(r.getRequestId());
      assertTrue(g.getFinishReason() != FinishReason.ERROR, r.getRequestId() + ": " + g.getError());
      assertEquals(expected.get(r.getRequestId()).getKey(), g.getTokenIds(), name + " " + r.getRequestId() + " token ids");
      assertEquals(expected.get(r.getRequestId()).getValue(), g.getText(), name + " " + r.getRequestId() + " text");
    }
  }
}
