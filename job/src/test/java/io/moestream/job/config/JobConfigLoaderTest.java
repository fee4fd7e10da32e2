package io.moestream.job.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.model.Architecture;
import io.moestream.engine.model.ModelConfig;
import io.moestream.engine.policy.ExpertProfile;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobConfigLoaderTest {
  @TempDir Path tmp;

  private Path modelDir() throws IOException {
    Path dir = tmp.resolve("model");
    if (!Files.isRegularFile(dir.resolve("config.json"))) { // a real model: the expert policy is checked against it
      TestModelWriter.write(TestModelSpec.defaults(Architecture.QWEN3_MOE).withExperts(8, 4, 16), dir);
      Files.writeString(dir.resolve("tokenizer.json"), "{}");
    }
    return dir;
  }

  @Test
  void fileThenOverridesLayerOverTheDefaults() throws IOException {
    Path yaml = tmp.resolve("job.yaml");
    Files.writeString(yaml, "model:\n  dir: " + modelDir() + "\nkafka:\n  group_id: from-file\n  input_topic: in\n"
        + "batching:\n  max_in_flight: 8\n");
    JobConfig config = JobConfigLoader.defaults().file(yaml)
        .overrides(List.of("kafka.group_id=from-cli", "batching.max-batch-size=4")).build();
    assertEquals("from-cli", config.kafka().groupId());
    assertEquals("in", config.kafka().inputTopic());
    assertEquals(8, config.batching().maxInFlight());
    assertEquals(4, config.batching().maxBatchSize());
    assertEquals("moestream.generations", config.kafka().outputTopic()); // default kept
    assertEquals(1, config.flink().parallelism());
    assertEquals("adaptive", config.experts().policy());
    assertEquals(2000, config.experts().dwellDownMs());
    assertEquals(new JobConfig.Limits(4096, 16, 1 << 20, 256 << 10, 256, 64 << 10, 1_000_000, 4096), config.limits());
    assertEquals("exactly_once", config.kafka().deliveryGuarantee());
    assertEquals(List.of("traceparent", "tracestate", "correlation_id"), config.kafka().carriedHeaders());
    assertEquals(List.of(), config.kafka().allowedReplyTopics());
  }

  @Test
  void weightsModeDefaultsToTheCheckpointAndReachesTheEngines() throws IOException {
    String model = modelDir().toString();
    assertEquals("checkpoint", JobConfigLoader.defaults().set("model.dir", model).build().model().weights());
    JobConfig int8 = JobConfigLoader.defaults().set("model.dir", model).set("model.weights", "int8").build();
    assertEquals(io.moestream.engine.model.WeightsMode.INT8,
        io.moestream.job.pipeline.InferencePipeline.inferenceSettings(int8).engineOptions().weights());
  }

  @Test
  void routingListsAndTheDeliveryGuaranteeAreRead() throws IOException {
    String model = modelDir().toString();
    JobConfig config = JobConfigLoader.defaults().set("model.dir", model)
        .set("kafka.delivery_guarantee", "AT_LEAST_ONCE")
        .set("kafka.carried_headers", "x-request-id, traceparent")
        .set("kafka.allowed_reply_topics", List.of("replies.*", "audit")).build();
    assertEquals("at_least_once", config.kafka().deliveryGuarantee());
    assertFalse(config.kafka().exactlyOnce());
    assertEquals(List.of("x-request-id", "traceparent"), config.kafka().carriedHeaders());
    assertEquals(List.of("replies.*", "audit"), config.kafka().allowedReplyTopics());
    assertEquals(List.of(), JobConfigLoader.defaults().set("model.dir", model)
        .set("kafka.carried_headers", "").build().kafka().carriedHeaders());
    assertBad(model, "kafka.delivery_guarantee", "'twice' is not one of", b -> b.set("kafka.delivery_guarantee", "twice"));
    assertBad(model, "kafka.carried_headers", "names a header twice", b -> b.set("kafka.carried_headers", "a,b,a"));
    assertBad(model, "kafka.carried_headers", "expected a list of names", b -> b.set("kafka.carried_headers", "a,,b"));
    assertBad(model, "kafka.allowed_reply_topics", "'replies/*' is not a topic name",
        b -> b.set("kafka.allowed_reply_topics", "replies/*"));
    assertBad(model, "limits.max_header_bytes", "must be in [1, 65536], found 0", b -> b.set("limits.max_header_bytes", 0));
  }

  private static void assertBad(String model, String field, String contains,
      java.util.function.UnaryOperator<JobConfigLoader> change) {
    ConfigException e = assertThrows(ConfigException.class,
        () -> change.apply(JobConfigLoader.defaults().set("model.dir", model)).build());
    assertTrue(e.getMessage().contains(field) && e.getMessage().contains(contains), e.getMessage());
  }

  @Test
  void theExpertPolicyIsCheckedAgainstTheModel() throws IOException {
    String model = modelDir().toString(); // top-4 of 8 experts
    JobConfig config = JobConfigLoader.defaults().set("model.dir", model).set("experts.policy", "adaptive:fixed:4|threshold:2,0.3")
        .set("experts.low_watermark", "0.25").build();
    assertEquals("adaptive:fixed:4|threshold:2,0.3", config.experts().policy());
    assertEquals(0.25, config.experts().lowWatermark());
    assertField("experts.policy", JobConfigLoader.defaults().set("model.dir", model).set("experts.policy", "fixed:6"));
    assertField("experts.policy", JobConfigLoader.defaults().set("model.dir", model).set("experts.policy", "most"));
    assertField("experts.low_watermark", JobConfigLoader.defaults().set("model.dir", model)
        .set("experts.low_watermark", 2.0));
    assertField("experts.backpressure_at_full", JobConfigLoader.defaults().set("model.dir", model)
        .set("experts.backpressure_at_full", "half"));
  }

  @Test
  void pruningKeepsTheMostUsedExpertsOfAProfileThatFitsTheModel() throws IOException {
    Path dir = modelDir(); // 8 experts, top-4
    ModelConfig model = ModelConfig.read(dir);
    Path profile = profile(tmp.resolve("profile.json"), model.numLayers(), model.numExperts());
    JobConfig config = JobConfigLoader.defaults().set("model.dir", dir.toString()).set("experts.prune_experts", 5)
        .set("experts.expert_profile", profile.toString()).build();
    assertEquals(5, config.experts().pruneExperts());
    boolean[][] kept = JobConfigLoader.prunedExperts(config.experts(), model);
    for (boolean[] layer : kept) { // the profile ranks expert e above e-1: the top five are 3..7
      assertEquals("[false, false, false, true, true, true, true, true]", java.util.Arrays.toString(layer));
    }
    assertEquals(null, JobConfigLoader.prunedExperts(JobConfigLoader.defaults().set("model.dir", dir.toString())
        .build().experts(), model), "no pruning by default");

    String m = dir.toString();
    assertField("experts.expert_profile", JobConfigLoader.defaults().set("model.dir", m).set("experts.prune_experts", 5));
    assertField("experts.prune_experts", JobConfigLoader.defaults().set("model.dir", m)
        .set("experts.expert_profile", profile.toString()));
    assertField("experts.prune_experts", JobConfigLoader.defaults().set("model.dir", m).set("experts.prune_experts", 3)
        .set("experts.expert_profile", profile.toString())); // below num_experts_per_tok
    assertField("experts.prune_experts", JobConfigLoader.defaults().set("model.dir", m).set("experts.prune_experts", 9)
        .set("experts.expert_profile", profile.toString()));
    assertField("experts.expert_profile", JobConfigLoader.defaults().set("model.dir", m).set("experts.prune_experts", 5)
        .set("experts.expert_profile", tmp.resolve("missing.json").toString()));
    Path otherModel = profile(tmp.resolve("other.json"), model.numLayers(), 6);
    ConfigException e = assertThrows(ConfigException.class, () -> JobConfigLoader.defaults().set("model.dir", m)
        .set("experts.prune_experts", 5).set("experts.expert_profile", otherModel.toString()).build());
    assertTrue(e.getMessage().startsWith("configuration field 'experts.expert_profile'"), e.getMessage());
    assertTrue(e.getMessage().contains("other.json"), e.getMessage());
  }

  /** A profile in which expert e of every layer was used more than expert e - 1. */
  private static Path profile(Path file, int numLayers, int numExperts) {
    double[][] soft = new double[numLayers][numExperts];
    long[][] counts = new long[numLayers][numExperts];
    for (int layer = 0; layer < numLayers; layer++) {
      for (int e = 0; e < numExperts; e++) {
        soft[layer][e] = 1.5 * e + layer;
        counts[layer][e] = 2L * e;
      }
    }
    new ExpertProfile("test", 100, soft, counts).write(file);
    return file;
  }

  @Test
  void everyProblemNamesItsField() throws IOException {
    String model = modelDir().toString();
    assertField("model.dir", JobConfigLoader.defaults());
    assertField("model.dir", JobConfigLoader.defaults().set("model.dir", tmp.resolve("nowhere").toString()));
    assertField("batching.max_in_flight", JobConfigLoader.defaults().set("model.dir", model).set("batching.max_in_flight", 0));
    assertField("flink.parallelism", JobConfigLoader.defaults().set("model.dir", model).set("flink.parallelism", "two"));
    assertField("kafka.input_format", JobConfigLoader.defaults().set("model.dir", model).set("kafka.input_format", "xml"));
    assertField("model.backend", JobConfigLoader.defaults().set("model.dir", model).set("model.backend", "gpu"));
    assertField("model.weights", JobConfigLoader.defaults().set("model.dir", model).set("model.weights", "int4"));
    assertField("model.weights", JobConfigLoader.defaults().set("model.dir", model).set("model.weights", "int8")
        .set("model.backend", "auto"));
    assertField("batching.max_batch_size", JobConfigLoader.defaults().set("model.dir", model)
        .set("batching.max_batch_size", 100).set("batching.max_in_flight", 10));
    assertField("kafka.output_topic", JobConfigLoader.defaults().set("model.dir", model)
        .set("kafka.output_topic", "moestream.requests"));
    assertField("limits.max_record_bytes", JobConfigLoader.defaults().set("model.dir", model)
        .set("limits.max_record_bytes", 0));
    assertField("limits.max_dead_letter_raw_bytes", JobConfigLoader.defaults().set("model.dir", model)
        .set("limits.max_dead_letter_raw_bytes", 1_000_000));
    ConfigException unknown = assertThrows(ConfigException.class, () -> JobConfigLoader.defaults().set("kafka.colour", "red"));
    assertTrue(unknown.getMessage().contains("'kafka.colour'"), unknown.getMessage());
    ConfigException section = assertThrows(ConfigException.class, () -> JobConfigLoader.defaults().set("gpu.count", 1));
    assertTrue(section.getMessage().contains("unknown section"), section.getMessage());
  }

  /** The size guard's limit plus the carried headers must fit the producer's max.request.size. */
  @Test
  void outputRecordsWithTheirHeadersMustFitTheProducer() throws IOException {
    String model = modelDir().toString();
    JobConfigLoader bigHeaders = JobConfigLoader.defaults().set("model.dir", model).set("limits.max_header_bytes", 65536);
    ConfigException e = assertThrows(ConfigException.class, bigHeaders::build);
    assertTrue(e.getMessage().startsWith("configuration field 'limits.max_output_record_bytes'"), e.getMessage());
    assertTrue(e.getMessage().contains("1197632 bytes") && e.getMessage().contains("1048576 (Kafka's default)"),
        e.getMessage());
    JobConfig raised = bigHeaders.set("kafka.properties.max.request.size", "2097152").build();
    assertEquals(65536, raised.limits().maxHeaderBytes());
    JobConfig fewer = JobConfigLoader.defaults().set("model.dir", model).set("limits.max_header_bytes", 65536)
        .set("limits.max_output_record_bytes", 800_000).build();
    assertEquals(800_000, fewer.limits().maxOutputRecordBytes());
    assertField("kafka.properties.max.request.size", JobConfigLoader.defaults().set("model.dir", model)
        .set("kafka.properties.max.request.size", "a lot"));
  }

  @Test
  void anUnknownFieldInTheFileIsNamed() throws IOException {
    Path yaml = tmp.resolve("bad.yaml");
    Files.writeString(yaml, "batching:\n  max_inflight: 8\n");
    ConfigException e = assertThrows(ConfigException.class, () -> JobConfigLoader.defaults().file(yaml));
    assertTrue(e.getMessage().contains("'batching.max_inflight'"), e.getMessage());
  }

  private static void assertField(String field, JobConfigLoader loader) {
    ConfigException e = assertThrows(ConfigException.class, loader::build);
    assertTrue(e.getMessage().startsWith("configuration field '" + field + "'"), e.getMessage());
  }
}
