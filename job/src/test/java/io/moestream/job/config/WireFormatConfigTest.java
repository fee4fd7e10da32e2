package io.moestream.job.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.model.Architecture;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kafka.input_format, output_format, dead_letter_format and the schema_registry subsection. */
class WireFormatConfigTest {
  @TempDir Path tmp;

  private JobConfigLoader loader() throws IOException {
    Path dir = tmp.resolve("model");
    if (!Files.isRegularFile(dir.resolve("config.json"))) {
      TestModelWriter.write(TestModelSpec.defaults(Architecture.QWEN3_MOE).withExperts(8, 4, 16), dir);
      Files.writeString(dir.resolve("tokenizer.json"), "{}");
    }
    return JobConfigLoader.defaults().set("model.dir", dir.toString());
  }

  @Test
  void defaultsArePlainAvroEverywhereWithoutARegistry() throws IOException {
    JobConfig.Kafka kafka = loader().build().kafka();
    assertEquals(List.of("avro", "avro", "avro"), List.of(kafka.inputFormat(), kafka.outputFormat(),
        kafka.deadLetterFormat()));
    assertNull(kafka.schemaRegistry());
  }

  @Test
  void deadLettersFollowTheOutputFormatUnlessSet() throws IOException {
    assertEquals("json", loader().set("kafka.output_format", "json").build().kafka().deadLetterFormat());
    JobConfig.Kafka kafka = loader().overrides(List.of("kafka.output_format=json", "kafka.dead_letter_format=AVRO"))
        .build().kafka();
    assertEquals("json", kafka.outputFormat());
    assertEquals("avro", kafka.deadLetterFormat());
  }

  @Test
  void theRegistrySubsectionFromAFileKeepsTheDefaultsOfFieldsItLeavesOut() throws IOException {
    Path yaml = tmp.resolve("job.yaml");
    Files.writeString(yaml, "kafka:\n  input_format: avro-registry\n  schema_registry:\n"
        + "    url: http://registry:8080/apis/ccompat/v7\n    basic_auth_user: svc\n");
    JobConfig.Kafka kafka = loader().file(yaml).overrides(List.of("kafka.schema_registry.basic_auth_password=pw"))
        .build().kafka();
    assertEquals(new JobConfig.SchemaRegistry("http://registry:8080/apis/ccompat/v7", "svc", "pw", "topic"),
        kafka.schemaRegistry());
    assertTrue(!kafka.schemaRegistry().toString().contains("pw"), kafka.schemaRegistry().toString());
  }

  @Test
  void badValuesNameTheField() throws IOException {
    assertTrue(message(() -> loader().set("kafka.output_format", "protobuf").build())
        .startsWith("configuration field 'kafka.output_format': 'protobuf' is not one of"));
    assertEquals("configuration field 'kafka.schema_registry.url': must be set: kafka.dead_letter_format is"
        + " avro-registry", message(() -> loader().set("kafka.dead_letter_format", "avro-registry").build()));
    assertEquals("configuration field 'kafka.schema_registry.url': expected http://HOST:PORT/PATH or https://...,"
        + " found 'registry:8081'", message(() -> loader().set("kafka.schema_registry.url", "registry:8081").build()));
    assertTrue(message(() -> loader().set("kafka.schema_registry.url", "http://r:1")
        .set("kafka.schema_registry.subject_strategy", "by-color").build())
        .startsWith("configuration field 'kafka.schema_registry.subject_strategy': 'by-color' is not one of"));
    assertTrue(message(() -> loader().set("kafka.schema_registry.port", "1")).startsWith(
        "configuration field 'kafka.schema_registry.port': unknown field (known in kafka.schema_registry: [url,"));
    assertEquals("configuration field 'kafka.group_id.x': kafka.group_id is a field, not a subsection",
        message(() -> loader().set("kafka.group_id.x", "1")));
    assertTrue(message(() -> loader().set("kafka.schema_registry", "http://x")).startsWith(
        "configuration field 'kafka.schema_registry': is a subsection: expected its fields [url,"));
  }

  private static String message(org.junit.jupiter.api.function.Executable e) {
    return assertThrows(ConfigException.class, e).getMessage();
  }
}
