package io.moestream.job.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.model.Architecture;
import io.moestream.engine.testmodel.TestModelSpec;
import io.moestream.engine.testmodel.TestModelWriter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaClientPropertiesTest {
  private static final String JAAS = "org.apache.kafka.common.security.plain.PlainLoginModule required"
      + " username=\"moestream\" password=\"${KAFKA_PASSWORD}\";";
  @TempDir Path tmp;

  @Test
  void nestedMapsAreJoinedWithDotsAndScalarsBecomeStrings() {
    Map<String, Object> yaml = Map.of("security.protocol", "SASL_SSL",
        "ssl", Map.of("truststore", Map.of("location", "/etc/t.p12", "type", "PKCS12")),
        "linger.ms", 20, "enable.metrics.push", false);
    KafkaClientProperties p = parse(yaml, Map.of());
    assertEquals(Map.of("security.protocol", "SASL_SSL", "ssl.truststore.location", "/etc/t.p12",
        "ssl.truststore.type", "PKCS12", "linger.ms", "20", "enable.metrics.push", "false"), p.values());
    Properties client = p.with("broker:9093");
    assertEquals("broker:9093", client.getProperty("bootstrap.servers"));
    assertEquals("20", client.getProperty("linger.ms"));
  }

  @Test
  void environmentVariablesAreResolvedAndUnsetOnesNamed() {
    KafkaClientProperties p = parse(Map.of("sasl.jaas.config", JAAS), Map.of("KAFKA_PASSWORD", "s3cr3t"));
    assertTrue(p.values().get("sasl.jaas.config").contains("password=\"s3cr3t\";"), p.values().toString());
    ConfigException unset = assertThrows(ConfigException.class, () -> parse(Map.of("sasl.jaas.config", JAAS), Map.of()));
    assertTrue(unset.getMessage().contains("'kafka.properties.sasl.jaas.config'"), unset.getMessage());
    assertTrue(unset.getMessage().contains("KAFKA_PASSWORD, which is not set"), unset.getMessage());
  }

  @Test
  void kafkaConfigProviderReferencesAndEscapesPassAsWritten() {
    KafkaClientProperties p = parse(Map.of("ssl.keystore.password", "${env:KEYSTORE_PASSWORD}",
        "sasl.oauthbearer.scope.claim.name", "$${literal}"), Map.of());
    assertEquals("${env:KEYSTORE_PASSWORD}", p.values().get("ssl.keystore.password"), "resolved by Kafka's EnvVarConfigProvider");
    assertEquals("${literal}", p.values().get("sasl.oauthbearer.scope.claim.name"));
  }

  /**
   * The documented way to keep a secret out of the job graph: Kafka's EnvVarConfigProvider resolves
   * {@code ${env:NAME}} when each client is created, on the TaskManager. {@code parse} leaves it alone.
   */
  @Test
  void kafkaResolvesItsOwnEnvironmentReferencesWhereTheClientIsCreated() {
    String name = System.getenv().containsKey("HOME") ? "HOME" : System.getenv().keySet().iterator().next();
    KafkaClientProperties p = parse(Map.of("config.providers", "env",
        "config.providers.env.class", "org.apache.kafka.common.config.provider.EnvVarConfigProvider",
        "ssl.truststore.password", "${env:" + name + "}"), Map.of());
    Properties client = p.with("localhost:9092");
    client.put("key.serializer", org.apache.kafka.common.serialization.ByteArraySerializer.class.getName());
    client.put("value.serializer", org.apache.kafka.common.serialization.ByteArraySerializer.class.getName());
    var resolved = new org.apache.kafka.clients.producer.ProducerConfig(client);
    assertEquals(System.getenv(name), resolved.getPassword("ssl.truststore.password").value());
  }

  @Test
  void propertiesTheJobSetsItselfAreRefusedNamingTheField() {
    for (var owned : Map.of("group.id", "kafka.group_id", "transactional.id", "kafka.transactional_id_prefix",
        "isolation.level", "read_committed", "bootstrap.servers", "kafka.bootstrap_servers",
        "value.deserializer", "kafka.input_format").entrySet()) {
      ConfigException e = assertThrows(ConfigException.class, () -> parse(Map.of(owned.getKey(), "x"), Map.of()));
      assertTrue(e.getMessage().contains("'kafka.properties." + owned.getKey() + "'"), e.getMessage());
      assertTrue(e.getMessage().contains(owned.getValue()), e.getMessage());
    }
    assertThrows(ConfigException.class, () -> parse(Map.of("acks", List.of("all")), Map.of()), "a list is no value");
  }

  @Test
  void secretsAndValuesFromTheEnvironmentAreHiddenWhenPrinted() throws Exception {
    KafkaClientProperties p = parse(Map.of("sasl.jaas.config", JAAS, "ssl.truststore.password", "trust-pw",
        "sasl.oauthbearer.client.credentials.client.secret", "client-s3cret", "sasl.username.hint", "${USER_NAME}",
        "compression.type", "zstd"), Map.of("KAFKA_PASSWORD", "s3cr3t", "USER_NAME", "alice"));
    String shown = p.toString();
    for (String secret : List.of("s3cr3t", "trust-pw", "client-s3cret", "alice", "PlainLoginModule")) {
      assertFalse(shown.contains(secret), secret + " printed: " + shown);
    }
    assertTrue(shown.contains("compression.type=zstd"), shown);
    assertEquals("[hidden]", p.masked().get("sasl.jaas.config"));
    assertEquals(p, roundTrip(p), "travels in the job graph");
    assertEquals("s3cr3t", roundTrip(p).values().get("sasl.jaas.config").replaceAll(".*password=\"(.*)\";", "$1"));
  }

  @Test
  void theJobConfigurationTakesPropertiesFromYamlAndSetAndHidesThem() throws IOException {
    Path yaml = tmp.resolve("job.yaml");
    Files.writeString(yaml, String.join("\n", "model:", "  dir: " + modelDir(), "kafka:", "  bootstrap_servers: b:9093",
        "  properties:", "    security.protocol: SASL_SSL", "    sasl.mechanism: PLAIN",
        "    sasl.jaas.config: '" + JAAS + "'", "    ssl: {truststore: {location: /t.p12}}", ""));
    JobConfig config = JobConfigLoader.defaults().environment(Map.of("KAFKA_PASSWORD", "s3cr3t")).file(yaml)
        .overrides(List.of("kafka.properties.compression.type=lz4", "kafka.properties.sasl.mechanism=SCRAM-SHA-512"))
        .build();
    Map<String, String> client = config.kafka().clientConfig();
    assertEquals("b:9093", client.get("bootstrap.servers"));
    assertEquals("SASL_SSL", client.get("security.protocol"));
    assertEquals("SCRAM-SHA-512", client.get("sasl.mechanism"), "--set wins over the file");
    assertEquals("lz4", client.get("compression.type"));
    assertEquals("/t.p12", client.get("ssl.truststore.location"));
    assertTrue(client.get("sasl.jaas.config").contains("s3cr3t"));
    assertFalse(config.toString().contains("s3cr3t"), config.toString());

    ConfigException owned = assertThrows(ConfigException.class, () -> JobConfigLoader.defaults()
        .set("model.dir", dir()).set("kafka.properties.group.id", "other").build());
    assertEquals("configuration field 'kafka.properties.group.id': cannot be set here: it is kafka.group_id",
        owned.getMessage());
    ConfigException notAMap = assertThrows(ConfigException.class, () -> JobConfigLoader.defaults()
        .set("model.dir", dir()).set("kafka.properties", "security.protocol=SSL").build());
    assertTrue(notAMap.getMessage().startsWith("configuration field 'kafka.properties': expected a map"),
        notAMap.getMessage());
    assertTrue(JobConfigLoader.defaults().set("model.dir", dir()).build().kafka().properties().isEmpty());
  }

  private String dir() {
    return tmp.resolve("model").toString();
  }

  private Path modelDir() throws IOException {
    Path dir = tmp.resolve("model");
    TestModelWriter.write(TestModelSpec.defaults(Architecture.QWEN3_MOE).withExperts(8, 4, 16), dir);
    Files.writeString(dir.resolve("tokenizer.json"), "{}");
    return dir;
  }

  private static KafkaClientProperties parse(Map<String, ?> raw, Map<String, String> env) {
    return KafkaClientProperties.parse(raw, "kafka.properties.", env, KafkaClientProperties.JOB_OWNED);
  }

  private static KafkaClientProperties roundTrip(KafkaClientProperties p) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(p);
    }
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      return (KafkaClientProperties) in.readObject();
    }
  }
}
