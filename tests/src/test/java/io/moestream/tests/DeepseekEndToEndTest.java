package io.moestream.tests;

import io.moestream.engine.format.DType;
import io.moestream.engine.model.Architecture;
import io.moestream.engine.testmodel.DeepseekSpec;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.job.kafka.EmbeddedKafka;
import io.moestream.job.pipeline.DemoModel;
import io.moestream.schemas.InferenceRequest;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
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

    EndToEnd.assertJobAnswersAsExpected(kafka, name, model, requests, expected);
  }
}
