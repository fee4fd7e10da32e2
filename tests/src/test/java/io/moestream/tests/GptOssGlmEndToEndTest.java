package io.moestream.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.model.Architecture;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.testmodel.GlmSpec;
import io.moestream.engine.testmodel.GptOssSpec;
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
 * The families people serve now through the whole streaming job (Kafka broker in-JVM, Flink
 * MiniCluster): a gpt-oss-shaped model (MXFP4 experts, sliding-window layers whose window of 6 is shorter
 * than every prompt, learned sinks, YaRN, clamped SwiGLU, router bias) and a GLM-4.5-shaped one (partial
 * rotary, q/k norm, q/k/v biases, sigmoid routing over 4 groups of which 2 are chosen, a shared expert,
 * a dense first layer, an MTP layer the engine skips). Greedy and seeded sampling, chat messages and raw
 * prompts: every request gets exactly one generation, identical to what the engine alone (as
 * {@code ./moestream generate}) gives. Both with the Qwen3 tokenizer and random weights.
 */
class GptOssGlmEndToEndTest {
  static final int REQUESTS = 24;
  /** gpt-oss's window, shorter than every prompt (the shortest raw prompt is over 10 tokens). */
  static final int WINDOW = 6;

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
  @ValueSource(strings = {"gpt_oss-mxfp4", "glm4_moe"})
  void generationsThroughTheJobMatchTheEngine(String name) throws Exception {
    TestModelSpec spec = name.startsWith("gpt_oss")
        ? TestModelSpec.defaults(Architecture.GPT_OSS)
            .withGptOss(GptOssSpec.defaults().withMxfp4(true).withSlidingWindow(WINDOW).withSinks(true))
        : TestModelSpec.defaults(Architecture.GLM4_MOE)
            .withGlm(GlmSpec.defaults().withAttention(0.5, true, true).withRouting(4, 2, 2.5, true));
    Path model = DemoModel.write(spec.withSeed(7).withMaxPositionEmbeddings(512), tmp.resolve(name));
    if (name.startsWith("gpt_oss")) {
      assertEquals(WINDOW, ModelConfig.read(model).slidingWindow(0), "layer 0 is a sliding-window layer");
    }
    List<InferenceRequest> requests = EndToEnd.goodRequests(REQUESTS);
    Map<String, Map.Entry<List<Integer>, String>> expected;
    try (EndToEnd.Reference reference = new EndToEnd.Reference(model)) {
      int shortest = requests.stream().mapToInt(reference::promptLength).min().orElseThrow();
      assertTrue(shortest > WINDOW, "every prompt outruns the window: shortest " + shortest);
      expected = reference.generateAll(requests);
    }

    EndToEnd.assertJobAnswersAsExpected(kafka, name, model, requests, expected);
  }
}
