package io.moestream.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.job.config.JobConfig;
import io.moestream.job.kafka.EmbeddedKafka;
import io.moestream.job.pipeline.DemoModel;
import io.moestream.job.pipeline.InferencePipeline;
import io.moestream.job.pipeline.JobClients;
import io.moestream.operators.codec.AvroCodec;
import io.moestream.operators.codec.RegistryAvroCodec;
import io.moestream.operators.codec.RequestJson;
import io.moestream.operators.registry.RegistrySettings;
import io.moestream.operators.registry.SchemaRegistryClient;
import io.moestream.operators.registry.SubjectStrategy;
import io.moestream.schemas.DeadLetter;
import io.moestream.schemas.Generation;
import io.moestream.schemas.InferenceRequest;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The wire formats through the real job (Kafka broker in-JVM, Flink MiniCluster): JSON generations
 * and dead letters read by a plain string consumer; and registry-framed Avro in and out against a
 * real Apicurio Registry, with a producer that evolved its schema, an unknown schema id and records
 * framed for another format dead-lettered saying so.
 */
class WireFormatsEndToEndTest {
  static final int GOOD = 6;
  static final ObjectMapper JSON = new ObjectMapper();

  @RegisterExtension static final MiniClusterExtension FLINK = EndToEnd.miniCluster();
  @TempDir static Path tmp;
  static EmbeddedKafka kafka;
  static Path model;
  static List<InferenceRequest> requests;
  static Map<String, Map.Entry<List<Integer>, String>> expected = new HashMap<>();

  @BeforeAll
  static void start() throws Exception {
    kafka = EmbeddedKafka.start();
    model = DemoModel.write(DemoModel.spec(), tmp.resolve("model"));
    requests = EndToEnd.goodRequests(GOOD);
    try (EndToEnd.Reference reference = new EndToEnd.Reference(model)) {
      expected.putAll(reference.generateAll(requests));
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void jsonGenerationsAndDeadLettersAreReadByAPlainStringConsumer() throws Exception {
    JobConfig config = EndToEnd.config("formats-json", model, kafka.bootstrapServers(),
        Map.of("kafka.output_format", "json"));
    List<byte[]> values = new ArrayList<>();
    requests.forEach(r -> values.add(EndToEnd.REQUESTS.encode(r)));
    byte[] framed = RegistryAvroCodec.frame(5, new byte[] {1, 2, 3});
    byte[] json = RequestJson.toJson(requests.get(0)).getBytes(StandardCharsets.UTF_8);
    values.add(2, framed);
    values.add(4, json);

    Map<String, List<JsonNode>> out = run(config, values, GOOD, 2);
    Map<String, JsonNode> byId = new HashMap<>();
    for (JsonNode g : out.get("generations")) {
      assertTrue(byId.put(g.get("request_id").asText(), g) == null, "duplicate " + g);
    }
    assertEquals(GOOD, byId.size());
    for (InferenceRequest r : requests) {
      JsonNode g = byId.get(r.getRequestId());
      List<Integer> ids = new ArrayList<>();
      g.get("token_ids").forEach(id -> ids.add(id.asInt()));
      assertEquals(expected.get(r.getRequestId()).getKey(), ids, r.getRequestId() + " token ids");
      assertEquals(expected.get(r.getRequestId()).getValue(), g.get("text").asText(), r.getRequestId() + " text");
      assertEquals(ids.size(), g.get("completion_tokens").asInt());
      assertTrue(g.get("timings").get("total_ms").asLong() >= 0, g.toString());
      assertEquals(config.kafka().inputTopic(), g.get("source").get("topic").asText());
    }
    List<JsonNode> letters = out.get("dead-letters");
    assertEquals(List.of(2L, 4L), letters.stream().map(d -> d.get("offset").asLong()).sorted().toList());
    for (JsonNode d : letters) {
      String reason = d.get("reason").asText();
      assertTrue(d.get("offset").asLong() == 2
          ? reason.startsWith("magic byte 0x00 and a 4-byte schema id (5): this looks registry-framed; set"
              + " kafka.input_format: avro-registry")
          : reason.startsWith("this looks like JSON; set kafka.input_format: json"), reason);
      assertEquals("decode", d.get("stage").asText());
      assertEquals(d.get("raw_length").asLong(), java.util.Base64.getDecoder().decode(d.get("raw").asText()).length);
    }
  }

  /** `produce --format avro-registry` writes what a Confluent producer would: our schema's id under the topic's subject. */
  @Test
  void produceWritesRegistryFramedRequests() throws Exception {
    try (ApicurioRegistry registry = ApicurioRegistry.start()) {
      String topic = "produce.registry";
      kafka.createTopics(1, topic);
      Path lines = tmp.resolve("produce-registry.jsonl");
      Files.writeString(lines, "{\"request_id\": \"p-1\", \"prompt\": \"one\", \"max_new_tokens\": 3}\n"
          + "{\"request_id\": \"p-2\", \"prompt\": \"two\", \"max_new_tokens\": 4}\n");
      EndToEnd.command(0, List.of("produce", "--bootstrap-servers", kafka.bootstrapServers(), "--topic", topic,
          "--input", lines.toString(), "--format", "avro-registry", "--schema-registry-url", registry.confluentApi()));
      SchemaRegistryClient client = new SchemaRegistryClient(new RegistrySettings(registry.confluentApi(), null, null,
          SubjectStrategy.TOPIC));
      int id = client.idOf(topic + "-value", InferenceRequest.getClassSchema());
      RegistryAvroCodec<InferenceRequest> codec = new RegistryAvroCodec<>(InferenceRequest.class, 1 << 20, client);
      List<byte[]> values = EndToEnd.readCommitted(kafka.bootstrapServers(), topic, v -> v, 2, Duration.ofSeconds(30),
          Duration.ofMillis(500));
      assertEquals(2, values.size());
      for (int i = 0; i < 2; i++) {
        assertEquals(id, RegistryAvroCodec.schemaId(values.get(i)), "record " + i + " names our schema's id");
        InferenceRequest decoded = codec.decode(values.get(i), topic + "-value");
        assertEquals("p-" + (i + 1), decoded.getRequestId().toString());
        assertEquals(3 + i, decoded.getMaxNewTokens());
      }
      EndToEnd.command(1, List.of("produce", "--bootstrap-servers", kafka.bootstrapServers(), "--topic", topic,
          "--prompt", "x", "--format", "avro-registry"));
    }
  }

  @Test
  void registryFramedRequestsEvenFromAnEvolvedSchemaAreAnsweredRegistryFramed() throws Exception {
    try (ApicurioRegistry registry = ApicurioRegistry.start()) {
      JobConfig config = EndToEnd.config("formats-registry", model, kafka.bootstrapServers(), Map.of(
          "kafka.input_format", "avro-registry", "kafka.output_format", "avro-registry",
          "kafka.schema_registry.url", registry.confluentApi()));
      String subject = config.kafka().inputTopic() + "-value";
      Schema ours = InferenceRequest.getClassSchema();
      Schema evolved = withTenant(ours);
      int oursId = register(registry, subject, ours);
      int evolvedId = register(registry, subject, evolved);
      assertTrue(oursId != evolvedId, "one id for two schemas: " + oursId);

      AvroCodec<InferenceRequest> avro = new AvroCodec<>(InferenceRequest.class);
      List<byte[]> values = new ArrayList<>();
      for (int i = 0; i < GOOD; i++) {
        InferenceRequest r = requests.get(i);
        values.add(i % 2 == 0 ? RegistryAvroCodec.frame(oursId, avro.encode(r))
            : RegistryAvroCodec.frame(evolvedId, writeEvolved(evolved, r, "tenant-" + i)));
      }
      int unknownId = 987_654;
      values.add(1, RegistryAvroCodec.frame(unknownId, avro.encode(requests.get(0))));
      values.add(3, avro.encode(requests.get(1))); // plain Avro: not framed
      // a schema registered under the subject (no compatibility rule here) that ours cannot read:
      // request_id became an int
      Schema incompatible = requestIdAsInt(ours);
      int incompatibleId = register(registry, subject, incompatible);
      values.add(5, RegistryAvroCodec.frame(incompatibleId, new byte[] {2, 0, 0, 0}));

      SchemaRegistryClient client = new SchemaRegistryClient(new RegistrySettings(registry.confluentApi(), null, null,
          null));
      RegistryAvroCodec<Generation> generations = new RegistryAvroCodec<>(Generation.class, 1 << 20, client);
      RegistryAvroCodec<DeadLetter> deadLetters = new RegistryAvroCodec<>(DeadLetter.class, 1 << 20, client);
      kafka.createTopics(2, config.kafka().inputTopic(), config.kafka().outputTopic(), config.kafka().deadLetterTopic());
      EndToEnd.produce(kafka.bootstrapServers(), config.kafka().inputTopic(), values);
      JobClient job = submit(config);
      List<Generation> out;
      List<DeadLetter> letters;
      try {
        out = EndToEnd.readCommitted(kafka.bootstrapServers(), config.kafka().outputTopic(),
            v -> generations.decode(v, "generations"), GOOD, Duration.ofMinutes(3), Duration.ofSeconds(2));
        letters = EndToEnd.readCommitted(kafka.bootstrapServers(), config.kafka().deadLetterTopic(),
            v -> deadLetters.decode(v, "dead letters"), 3, Duration.ofSeconds(30), Duration.ofSeconds(1));
      } finally {
        JobClients.cancelAndAwait(job, Duration.ofMinutes(1));
      }

      assertEquals(GOOD, out.size(), "generations");
      for (Generation g : out) {
        Map.Entry<List<Integer>, String> want = expected.get(g.getRequestId());
        assertEquals(want.getKey(), g.getTokenIds(), g.getRequestId() + " token ids");
        assertEquals(want.getValue(), g.getText(), g.getRequestId() + " text");
      }
      assertEquals(3, letters.size(), "dead letters: " + letters);
      letters.sort(java.util.Comparator.comparingLong(DeadLetter::getOffset));
      assertEquals(1, letters.get(0).getOffset());
      assertTrue(letters.get(0).getReason().startsWith("schema id " + unknownId + " is not known to the schema"
          + " registry at " + registry.confluentApi()), letters.get(0).getReason());
      assertTrue(letters.get(0).getReason().contains("(subject " + subject + ")"), letters.get(0).getReason());
      assertEquals(3, letters.get(1).getOffset());
      assertTrue(letters.get(1).getReason().startsWith("no magic byte 0x00"), letters.get(1).getReason());
      assertEquals(5, letters.get(2).getOffset());
      assertTrue(letters.get(2).getReason().startsWith("schema id " + incompatibleId + " (io.moestream.schemas"
          + ".InferenceRequest) does not resolve against ours (io.moestream.schemas.InferenceRequest): TYPE_MISMATCH"
          + " at /fields/0/type"), letters.get(2).getReason());
      // the job registered its output schemas under TopicNameStrategy subjects
      String subjects = registry.get("/subjects").body();
      assertTrue(subjects.contains("\"" + config.kafka().outputTopic() + "-value\"")
          && subjects.contains("\"" + config.kafka().deadLetterTopic() + "-value\""), subjects);
    }
  }

  /** Runs the job until the generations and dead letters expected are in; both as JSON, read as strings. */
  private static Map<String, List<JsonNode>> run(JobConfig config, List<byte[]> values, int generations,
      int deadLetters) throws Exception {
    kafka.createTopics(2, config.kafka().inputTopic(), config.kafka().outputTopic(), config.kafka().deadLetterTopic());
    EndToEnd.produce(kafka.bootstrapServers(), config.kafka().inputTopic(), values);
    JobClient job = submit(config);
    try {
      return Map.of("generations", readJson(config.kafka().outputTopic(), generations),
          "dead-letters", readJson(config.kafka().deadLetterTopic(), deadLetters));
    } finally {
      JobClients.cancelAndAwait(job, Duration.ofMinutes(1));
    }
  }

  private static JobClient submit(JobConfig config) throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    InferencePipeline.define(env, config);
    return env.executeAsync(config.flink().jobName());
  }

  /** A KafkaConsumer of strings, as any JSON client would read the topic; then Jackson. */
  private static List<JsonNode> readJson(String topic, int expected) throws Exception {
    Properties p = new Properties();
    p.setProperty("bootstrap.servers", kafka.bootstrapServers());
    p.setProperty("group.id", topic + "-reader");
    p.setProperty("auto.offset.reset", "earliest");
    p.setProperty("isolation.level", "read_committed");
    List<JsonNode> out = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(),
        new StringDeserializer())) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
      while (out.size() < expected && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
          out.add(JSON.readTree(record.value()));
        }
      }
      long settle = System.nanoTime() + Duration.ofSeconds(2).toNanos();
      while (System.nanoTime() < settle) { // a duplicate would arrive now
        for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
          out.add(JSON.readTree(record.value()));
        }
      }
    }
    assertEquals(expected, out.size(), topic + ": " + out);
    return out;
  }

  /** Our schema with a field appended that ours lacks: a producer that moved on (compatibly). */
  private static Schema withTenant(Schema ours) {
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field f : ours.getFields()) {
      fields.add(new Schema.Field(f, f.schema()));
    }
    fields.add(new Schema.Field("tenant", Schema.create(Schema.Type.STRING), "who sent it", ""));
    return Schema.createRecord(ours.getName(), ours.getDoc(), ours.getNamespace(), false, fields);
  }

  /** Our schema with request_id an int: no resolution from it to ours. */
  private static Schema requestIdAsInt(Schema ours) {
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field f : ours.getFields()) {
      fields.add(f.name().equals("request_id") ? new Schema.Field(f.name(), Schema.create(Schema.Type.INT))
          : new Schema.Field(f, f.schema()));
    }
    return Schema.createRecord(ours.getName(), ours.getDoc(), ours.getNamespace(), false, fields);
  }

  private static byte[] writeEvolved(Schema evolved, InferenceRequest r, String tenant) throws Exception {
    GenericData.Record record = new GenericData.Record(evolved);
    for (Schema.Field f : InferenceRequest.getClassSchema().getFields()) {
      record.put(f.name(), r.get(f.name()));
    }
    record.put("tenant", tenant);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
    new GenericDatumWriter<GenericData.Record>(evolved).write(record, encoder);
    encoder.flush();
    return bytes.toByteArray();
  }

  /** Registers through the registry's Confluent API directly, as a Confluent producer would. */
  private static int register(ApicurioRegistry registry, String subject, Schema schema) throws Exception {
    var answer = registry.post("/subjects/" + subject + "/versions",
        JSON.createObjectNode().put("schema", schema.toString()).toString());
    assertEquals(200, answer.statusCode(), answer.body());
    return JSON.readTree(answer.body()).get("id").asInt();
  }
}
