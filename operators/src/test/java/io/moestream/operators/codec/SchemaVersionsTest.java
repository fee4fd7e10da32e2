package io.moestream.operators.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.schemas.InferenceRequest;
import io.moestream.schemas.Sampling;
import java.io.ByteArrayOutputStream;
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
 * Version 2 of InferenceRequest (unset sampling numbers, chat_template_kwargs) is read, and so are
 * the bytes of producers still on version 1, with the values they wrote.
 */
class SchemaVersionsTest {
  private final AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);

  /** A version 1 record as a producer built before issue 17 writes it. */
  private static byte[] v1Bytes(float temperature, float topP, int topK) throws Exception {
    return v1Bytes(temperature, topP, topK, List.of("\n\n"), 5L);
  }

  private static byte[] v1Bytes(float temperature, float topP, int topK, List<String> stop, long seed)
      throws Exception {
    Schema v1 = OlderSchemas.of(InferenceRequest.class).get(0);
    GenericRecord sampling = new GenericData.Record(v1.getField("sampling").schema());
    sampling.put("temperature", temperature);
    sampling.put("top_p", topP);
    sampling.put("top_k", topK);
    sampling.put("seed", seed);
    sampling.put("stop", stop);
    GenericRecord r = new GenericData.Record(v1);
    r.put("request_id", "old");
    r.put("prompt", "hi");
    r.put("max_new_tokens", 8);
    r.put("sampling", sampling);
    r.put("priority", new GenericData.EnumSymbol(v1.getField("priority").schema(), "HIGH"));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
    new GenericDatumWriter<GenericRecord>(v1).write(r, encoder);
    encoder.flush();
    return bytes.toByteArray();
  }

  @Test
  void version1BytesKeepTheirExplicitValues() throws Exception {
    for (float[] values : new float[][] {{0f, 1f, 0f}, {0.7f, 0.9f, 40f}, {1.3f, 0.5f, 1f}}) {
      InferenceRequest r = codec.decode(v1Bytes(values[0], values[1], (int) values[2]));
      assertEquals("old", r.getRequestId());
      // a version 1 producer's 0.0 meant greedy: it stays greedy, not the model's default
      assertEquals(values[0], r.getSampling().getTemperature());
      assertEquals(values[1], r.getSampling().getTopP());
      assertEquals((int) values[2], r.getSampling().getTopK());
      assertEquals(5L, r.getSampling().getSeed());
      assertEquals(List.of("\n\n"), r.getSampling().getStop());
      assertEquals("HIGH", r.getPriority().name());
      assertNull(r.getChatTemplateKwargs());
    }
  }

  /** The claim of docs/STREAMING.md: no common version 1 setting reads as a version 2 record. */
  @Test
  void commonVersion1SettingsAreNeverMistakenForVersion2() throws Exception {
    float[] temperatures = {0f, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.75f, 0.8f, 0.9f, 1f, 1.2f, 1.5f};
    float[] topPs = {0.5f, 0.8f, 0.85f, 0.9f, 0.92f, 0.95f, 0.99f, 1f};
    int[] topKs = {0, 1, 5, 10, 20, 40, 50, 100};
    List<List<String>> stops = List.of(List.of(), List.of("\n\n"));
    int checked = 0;
    for (float t : temperatures) {
      for (float p : topPs) {
        for (int k : topKs) {
          for (List<String> stop : stops) {
            for (long seed : new long[] {0, 42}) {
              Sampling s = codec.decode(v1Bytes(t, p, k, stop, seed)).getSampling();
              assertEquals(t, s.getTemperature());
              assertEquals(p, s.getTopP());
              assertEquals(k, s.getTopK());
              assertEquals(seed, s.getSeed());
              checked++;
            }
          }
        }
      }
    }
    assertEquals(14 * 8 * 8 * 2 * 2, checked);
  }

  @Test
  void version2LeavesSamplingUnsetAndCarriesKwargs() {
    InferenceRequest sent = InferenceRequest.newBuilder().setRequestId("new")
        .setMessages(List.of(io.moestream.schemas.ChatMessage.newBuilder().setRole("user").setContent("hi").build()))
        .setSampling(Sampling.newBuilder().setTopK(5).build())
        .setChatTemplateKwargs(Map.of("enable_thinking", "false")).build();
    InferenceRequest got = codec.decode(codec.encode(sent));
    assertEquals(sent, got);
    assertNull(got.getSampling().getTemperature());
    assertNull(got.getSampling().getTopP());
    assertEquals(5, got.getSampling().getTopK());
    assertEquals(Map.of("enable_thinking", "false"), got.getChatTemplateKwargs());
    // the builder's defaults are unset, not greedy
    assertNull(InferenceRequest.newBuilder().setRequestId("x").setPrompt("p").build().getSampling().getTemperature());
  }

  @Test
  void bytesOfNeitherVersionReportTheCurrentSchemasReason() {
    byte[] good = codec.encode(InferenceRequest.newBuilder().setRequestId("a").setPrompt("p").build());
    byte[] cut = java.util.Arrays.copyOf(good, good.length - 1);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> codec.decode(cut));
    assertTrue(e.getMessage().startsWith("not a valid Avro InferenceRequest: chat_template_kwargs"), e.getMessage());
  }
}
