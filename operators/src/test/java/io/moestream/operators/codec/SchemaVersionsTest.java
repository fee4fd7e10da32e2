package io.moestream.operators.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.schemas.ChatMessage;
import io.moestream.schemas.InferenceRequest;
import io.moestream.schemas.Sampling;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.Test;

/**
 * Version 3 of InferenceRequest (reply_topic appended) is read, and so are the bytes of producers still
 * on version 2 (chat_template_kwargs appended, -1 = unset sampling values) or version 1, with the
 * explicit values they wrote.
 */
class SchemaVersionsTest {
  private static final Schema V1 = OlderSchemas.of(InferenceRequest.class).get(1);
  private static final Schema V2 = OlderSchemas.of(InferenceRequest.class).get(0);
  private static final Schema V3 = InferenceRequest.getClassSchema();

  private final AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);

  /** A version 1 record as a producer built before version 2 writes it: every sampling value explicit. */
  private static byte[] v1Bytes(float temperature, float topP, int topK) throws Exception {
    GenericRecord sampling = new GenericData.Record(V1.getField("sampling").schema());
    sampling.put("temperature", temperature);
    sampling.put("top_p", topP);
    sampling.put("top_k", topK);
    sampling.put("seed", 5L);
    sampling.put("stop", List.of("\n\n"));
    GenericRecord r = new GenericData.Record(V1);
    r.put("request_id", "old");
    r.put("prompt", "hi");
    r.put("max_new_tokens", 8);
    r.put("sampling", sampling);
    r.put("priority", new GenericData.EnumSymbol(V1.getField("priority").schema(), "HIGH"));
    r.put("min_experts_per_token", 2);
    return write(V1, r);
  }

  /** A version 2 record as a producer built before version 3 writes it: kwargs, no reply topic. */
  private static byte[] v2Bytes() throws Exception {
    GenericRecord message = new GenericData.Record(V2.getField("messages").schema().getTypes().get(1).getElementType());
    message.put("role", "user");
    message.put("content", "hi");
    GenericRecord sampling = new GenericData.Record(V2.getField("sampling").schema());
    sampling.put("temperature", -1f);
    sampling.put("top_p", -1f);
    sampling.put("top_k", 7);
    sampling.put("seed", 3L);
    sampling.put("stop", List.of());
    GenericRecord r = new GenericData.Record(V2);
    r.put("request_id", "two");
    r.put("messages", List.of(message));
    r.put("max_new_tokens", 4);
    r.put("sampling", sampling);
    r.put("priority", new GenericData.EnumSymbol(V2.getField("priority").schema(), "LOW"));
    r.put("chat_template_kwargs", Map.of("enable_thinking", "false"));
    return write(V2, r);
  }

  private static byte[] write(Schema schema, GenericRecord r) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
    new GenericDatumWriter<GenericRecord>(schema).write(r, encoder);
    encoder.flush();
    return bytes.toByteArray();
  }

  @Test
  void version1BytesKeepTheirExplicitValues() throws Exception {
    // {0, 1, 0} is what every version 1 producer wrote by default: it meant greedy and stays greedy
    for (float[] values : new float[][] {{0f, 1f, 0f}, {0.7f, 0.9f, 40f}, {1.3f, 0.5f, 1f}}) {
      InferenceRequest r = codec.decode(v1Bytes(values[0], values[1], (int) values[2]));
      assertEquals("old", r.getRequestId());
      assertEquals(values[0], UnsetSampling.temperature(r.getSampling()));
      assertEquals(values[1], UnsetSampling.topP(r.getSampling()));
      assertEquals((int) values[2], UnsetSampling.topK(r.getSampling()));
      assertEquals(5L, r.getSampling().getSeed());
      assertEquals(List.of("\n\n"), r.getSampling().getStop());
      assertEquals("HIGH", r.getPriority().name());
      assertEquals(2, r.getMinExpertsPerToken());
      assertNull(r.getChatTemplateKwargs());
      assertNull(r.getReplyTopic());
    }
  }

  @Test
  void version2BytesKeepTheirKwargsAndHaveNoReplyTopic() throws Exception {
    InferenceRequest r = codec.decode(v2Bytes());
    assertEquals("two", r.getRequestId());
    assertEquals("hi", r.getMessages().get(0).getContent());
    assertNull(UnsetSampling.temperature(r.getSampling()));
    assertEquals(7, UnsetSampling.topK(r.getSampling()));
    assertEquals("LOW", r.getPriority().name());
    assertEquals(Map.of("enable_thinking", "false"), r.getChatTemplateKwargs());
    assertNull(r.getReplyTopic());
  }

  @Test
  void version3RoundTripsUnsetValuesKwargsAndReplyTopic() {
    InferenceRequest sent = InferenceRequest.newBuilder().setRequestId("new")
        .setMessages(List.of(ChatMessage.newBuilder().setRole("user").setContent("hi").build()))
        .setSampling(Sampling.newBuilder().setTopK(5).build())
        .setChatTemplateKwargs(Map.of("enable_thinking", "false", "style", "{\"short\": true}"))
        .setReplyTopic("replies.a").build();
    InferenceRequest got = codec.decode(codec.encode(sent));
    assertEquals(sent, got);
    assertNull(UnsetSampling.temperature(got.getSampling()));
    assertNull(UnsetSampling.topP(got.getSampling()));
    assertEquals(5, UnsetSampling.topK(got.getSampling()));
    assertEquals(Map.of("enable_thinking", "false", "style", "{\"short\": true}"), got.getChatTemplateKwargs());
    assertEquals("replies.a", got.getReplyTopic());
    InferenceRequest none = InferenceRequest.newBuilder().setRequestId("x").setPrompt("p").build();
    assertEquals(none, codec.decode(codec.encode(none)));
  }

  @Test
  void theSentinelIsTheSchemaDefault() {
    Sampling defaults = InferenceRequest.newBuilder().setRequestId("x").setPrompt("p").build().getSampling();
    assertEquals(UnsetSampling.UNSET_FLOAT, defaults.getTemperature());
    assertEquals(UnsetSampling.UNSET_FLOAT, defaults.getTopP());
    assertEquals(UnsetSampling.UNSET_INT, defaults.getTopK());
    assertEquals(defaults, Sampling.newBuilder().build());
    assertNull(UnsetSampling.temperature(defaults));
    assertNull(UnsetSampling.topP(defaults));
    assertNull(UnsetSampling.topK(defaults));
    // only exactly -1 is unset: other negatives stay values (for the validator to refuse)
    assertEquals(-0.5f, UnsetSampling.temperature(Sampling.newBuilder().setTemperature(-0.5f).build()));
    assertEquals(-2, UnsetSampling.topK(Sampling.newBuilder().setTopK(-2).build()));
  }

  /** Why trying both readers is unambiguous: each version's bytes are incomplete or too long for the other. */
  @Test
  void eachVersionsBytesFailTheOtherVersionsWalk() throws Exception {
    byte[] v1 = v1Bytes(0f, 1f, 0);
    for (Schema later : List.of(V2, V3)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new AvroBounds(later, 1 << 10).check(v1));
      assertTrue(e.getMessage().startsWith("chat_template_kwargs"), e.getMessage());
    }
    byte[] v2 = v2Bytes();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new AvroBounds(V3, 1 << 10).check(v2));
    assertTrue(e.getMessage().startsWith("reply_topic"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new AvroBounds(V1, 1 << 10).check(v2));
    assertTrue(e.getMessage().endsWith("bytes left over after the record"), e.getMessage());
    byte[] v3 = codec.encode(InferenceRequest.newBuilder().setRequestId("new").setPrompt("hi").build());
    e = assertThrows(IllegalArgumentException.class, () -> new AvroBounds(V2, 1 << 10).check(v3));
    assertEquals("1 bytes left over after the record", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new AvroBounds(V1, 1 << 10).check(v3));
    assertEquals("2 bytes left over after the record", e.getMessage());
    // and the codec turns none into another
    assertNull(codec.decode(v1).getChatTemplateKwargs());
    assertEquals(Map.of("enable_thinking", "false"), codec.decode(v2).getChatTemplateKwargs());
    assertEquals(UnsetSampling.UNSET_FLOAT, codec.decode(v3).getSampling().getTemperature());
  }

  @Test
  void bytesOfNeitherVersionReportTheCurrentSchemasReason() {
    byte[] good = codec.encode(InferenceRequest.newBuilder().setRequestId("a").setPrompt("p")
        .setChatTemplateKwargs(Map.of("k", "1")).build());
    // cut inside the kwargs map (its end marker and the reply_topic union byte gone): too short for
    // versions 3 and 2, bytes left over for version 1
    byte[] cut = Arrays.copyOf(good, good.length - 2);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> codec.decode(cut));
    assertTrue(e.getMessage().startsWith("not a valid Avro InferenceRequest: chat_template_kwargs"), e.getMessage());
  }

  @Test
  void theBundledVersionsArePrefixesOfTheCurrentSchema() {
    assertEquals(V3.getFields().size() - 2, V1.getFields().size());
    assertEquals(V3.getFields().size() - 1, V2.getFields().size());
    assertEquals(V1, OlderSchemas.checkPrefix(V1, V3, "v1"));
    assertEquals(V2, OlderSchemas.checkPrefix(V2, V3, "v2"));
    assertEquals(V1, OlderSchemas.checkPrefix(V1, V2, "v1 of v2"));
  }

  @Test
  void anOlderSchemaThatIsNotAPrefixIsRefused() {
    // a field's type changed in place: the design this check exists to refuse
    String nullableTemperature = v1Json().replace("{\"name\":\"temperature\",\"type\":\"float\"",
        "{\"name\":\"temperature\",\"type\":[\"float\",\"null\"]");
    assertTrue(!nullableTemperature.equals(v1Json()));
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> OlderSchemas.checkPrefix(parse(nullableTemperature), V3, "changed.avsc"));
    assertTrue(e.getMessage().startsWith("changed.avsc: field 'sampling' was "), e.getMessage());
    assertTrue(e.getMessage().endsWith("an existing field's type may not change"), e.getMessage());
    // a field renamed (or moved)
    String renamed = v1Json().replace("\"name\":\"priority\"", "\"name\":\"urgency\"");
    e = assertThrows(IllegalStateException.class, () -> OlderSchemas.checkPrefix(parse(renamed), V3, "renamed"));
    assertTrue(e.getMessage().contains("field 5 is 'urgency', the current schema's is 'priority'"), e.getMessage());
    // nothing appended: the versions could not be told apart
    e = assertThrows(IllegalStateException.class, () -> OlderSchemas.checkPrefix(V3, V3, "same"));
    assertTrue(e.getMessage().contains("must lack at least one trailing field"), e.getMessage());
    // an appended field without a default: a record without it cannot be read
    e = assertThrows(IllegalStateException.class,
        () -> OlderSchemas.checkPrefix(V1, appended("{\"name\":\"x\",\"type\":\"int\"}"), "no-default"));
    assertTrue(e.getMessage().contains("the appended field 'x' has no default"), e.getMessage());
    // appended fields written as no bytes: an older record would also be a complete current one
    e = assertThrows(IllegalStateException.class, () -> OlderSchemas.checkPrefix(V1,
        appended("{\"name\":\"x\",\"type\":\"null\",\"default\":null}"), "zero"));
    assertTrue(e.getMessage().contains("may be written as no bytes at all"), e.getMessage());
  }

  /** Version 1's JSON, compact (no spaces), as Avro writes it. */
  private static String v1Json() {
    return V1.toString();
  }

  /** Version 1 with {@code fieldJson} appended as its last field. */
  private static Schema appended(String fieldJson) {
    String json = v1Json();
    assertTrue(json.endsWith("]}"), json);
    return parse(json.substring(0, json.length() - 2) + "," + fieldJson + "]}");
  }

  private static Schema parse(String json) {
    return new Schema.Parser().parse(json);
  }
}
