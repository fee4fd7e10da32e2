package io.moestream.job.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.operators.codec.AvroCodec;
import io.moestream.operators.codec.WireFormat;
import io.moestream.operators.deadletter.DeadLetters;
import io.moestream.schemas.DeadLetter;
import io.moestream.schemas.ExpertsUsed;
import io.moestream.schemas.FinishReason;
import io.moestream.schemas.Generation;
import io.moestream.schemas.Timings;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

/** The last guard before the producer: nothing bigger than the bound leaves, and no exception. */
class OutputValueSchemaTest {
  static final int LIMIT = 8192;
  static final OutputEncoder.Spec<Generation> AVRO_GENERATIONS =
      new OutputEncoder.Spec<>(Generation.class, WireFormat.AVRO, "generations", null);
  static final OutputEncoder.Spec<DeadLetter> AVRO_DEAD_LETTERS =
      new OutputEncoder.Spec<>(DeadLetter.class, WireFormat.AVRO, "dead-letters", null);
  static final OutputEncoder.Spec<Generation> JSON_GENERATIONS =
      new OutputEncoder.Spec<>(Generation.class, WireFormat.JSON, "generations", null);
  static final OutputEncoder.Spec<DeadLetter> JSON_DEAD_LETTERS =
      new OutputEncoder.Spec<>(DeadLetter.class, WireFormat.JSON, "dead-letters", null);
  static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void anOversizedGenerationBecomesAnErrorNamingItsSize() {
    List<Integer> ids = new ArrayList<>();
    for (int i = 0; i < 5000; i++) {
      ids.add(i * 1000);
    }
    Generation big = generation("r1", "x".repeat(20_000), ids);
    byte[] bytes = OutputValueSchema.generations(AVRO_GENERATIONS, LIMIT).serialize(big);
    assertTrue(bytes.length <= LIMIT, bytes.length + " bytes");
    Generation sent = new AvroCodec<>(Generation.class).decode(bytes);
    assertEquals("r1", sent.getRequestId());
    assertEquals(FinishReason.ERROR, sent.getFinishReason());
    assertEquals("", sent.getText());
    assertEquals(List.of(), sent.getTokenIds());
    assertTrue(sent.getError().startsWith("the generation serialized to "), sent.getError());
    assertTrue(sent.getError().contains("over limits.max_output_record_bytes (8192)"), sent.getError());
  }

  @Test
  void aGenerationWithinTheBoundIsSentAsIs() {
    Generation small = generation("r2", "hello", List.of(1, 2, 3));
    byte[] bytes = OutputValueSchema.generations(AVRO_GENERATIONS, LIMIT).serialize(small);
    assertEquals(small, new AvroCodec<>(Generation.class).decode(bytes));
  }

  @Test
  void anOversizedDeadLetterLosesItsRawBytesNotItsPlace() {
    DeadLetter big = DeadLetters.undecodable(new byte[20_000], 20_000, "requests", 3, 42, "undecodable");
    byte[] bytes = OutputValueSchema.deadLetters(AVRO_DEAD_LETTERS, LIMIT).serialize(big);
    assertTrue(bytes.length <= LIMIT, bytes.length + " bytes");
    DeadLetter sent = new AvroCodec<>(DeadLetter.class).decode(bytes);
    assertNull(sent.getRaw());
    assertEquals(20_000L, sent.getRawLength());
    assertEquals(big.getRawSha256(), sent.getRawSha256());
    assertEquals(42, sent.getOffset());
    assertEquals(3, sent.getPartition());
    assertTrue(sent.getReason().contains("cut to fit limits.max_output_record_bytes (8192)"), sent.getReason());
    assertTrue(sent.getReason().endsWith("reason was: undecodable"), sent.getReason());
  }

  @Test
  void aJsonGenerationIsOneUtf8ObjectWithTheSchemaFieldNames() throws Exception {
    Generation g = generation("r3", "héllo \"quoted\"", List.of(7, 8));
    byte[] bytes = OutputValueSchema.generations(JSON_GENERATIONS, LIMIT).serialize(g);
    JsonNode o = JSON.readTree(new String(bytes, StandardCharsets.UTF_8));
    assertEquals("r3", o.get("request_id").asText());
    assertEquals("héllo \"quoted\"", o.get("text").asText());
    assertEquals(List.of(7, 8), List.of(o.get("token_ids").get(0).asInt(), o.get("token_ids").get(1).asInt()));
    assertEquals("length", o.get("finish_reason").asText());
    assertEquals(2.0, o.get("experts_per_token").get("mean").asDouble());
    assertEquals(3L, o.get("timings").get("total_ms").asLong());
    assertEquals("demo", o.get("model").asText());
    for (Schema.Field f : Generation.getClassSchema().getFields()) {
      boolean optional = f.schema().getType() == Schema.Type.UNION;
      assertTrue(optional || o.has(f.name()), "missing " + f.name() + " in " + o);
    }
  }

  @Test
  void theSizeGuardCountsTheJsonBytes() throws Exception {
    // 3000 quotes are 3000 Avro bytes but 6000 JSON bytes (each escaped): over the limit only as JSON
    Generation g = generation("r4", "\"".repeat(3000), List.of(1));
    int limit = 5000;
    assertTrue(new AvroCodec<>(Generation.class).encode(g).length < limit);
    byte[] bytes = OutputValueSchema.generations(JSON_GENERATIONS, limit).serialize(g);
    assertTrue(bytes.length <= limit, bytes.length + " bytes");
    JsonNode o = JSON.readTree(bytes);
    assertEquals("error", o.get("finish_reason").asText());
    assertTrue(o.get("error").asText().contains("over limits.max_output_record_bytes (5000)"), o.toString());
  }

  @Test
  void aJsonDeadLetterCarriesRawBytesAsBase64AndItsPlace() throws Exception {
    byte[] raw = {0, 1, 2, (byte) 0xff};
    DeadLetter d = DeadLetters.undecodable(raw, 100, "requests", 2, 17, "not a valid Avro InferenceRequest");
    JsonNode o = JSON.readTree(OutputValueSchema.deadLetters(JSON_DEAD_LETTERS, LIMIT).serialize(d));
    assertEquals("requests", o.get("topic").asText());
    assertEquals(2, o.get("partition").asInt());
    assertEquals(17L, o.get("offset").asLong());
    assertEquals("decode", o.get("stage").asText());
    assertEquals("not a valid Avro InferenceRequest", o.get("reason").asText());
    assertEquals(List.of(0, 1, 2, 255), toInts(Base64.getDecoder().decode(o.get("raw").asText())));
    assertEquals(4L, o.get("raw_length").asLong());
    assertEquals(d.getTimestampMs(), o.get("timestamp_ms").asLong());
    assertTrue(!o.has("request_id"), o.toString());
  }

  private static List<Integer> toInts(byte[] bytes) {
    List<Integer> out = new ArrayList<>();
    for (byte b : bytes) {
      out.add(b & 0xff);
    }
    return out;
  }

  private static Generation generation(String id, String text, List<Integer> ids) {
    return Generation.newBuilder().setRequestId(id).setText(text).setTokenIds(ids).setFinishReason(FinishReason.LENGTH)
        .setPromptTokens(3).setCompletionTokens(ids.size()).setExpertsPerToken(new ExpertsUsed(2, 2.0))
        .setTimings(new Timings(1L, 2L, 3L)).setModel("demo").build();
  }
}
