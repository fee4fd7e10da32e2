package io.moestream.operators.validate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.operators.codec.AvroCodec;
import io.moestream.operators.deadletter.DeadLetters;
import io.moestream.operators.records.RawRequest;
import io.moestream.operators.records.RoutedDeadLetter;
import io.moestream.operators.records.ValidatedRequest;
import io.moestream.operators.codec.WireFormat;
import io.moestream.schemas.DeadLetter;
import io.moestream.schemas.InferenceRequest;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

/** Poison records through the real function: each is one dead letter, and the next request passes. */
class DecodeValidateFunctionTest {
  static final RequestLimits LIMITS = new RequestLimits(64, 4, 4, 4096, 1000, 8, 100);
  static final AvroCodec<InferenceRequest> AVRO = new AvroCodec<>(InferenceRequest.class);

  @Test
  void poisonAvroRecordsAreDeadLetteredAndTheNextRequestPasses() throws Exception {
    byte[] tooBig = new byte[5000];
    Arrays.fill(tooBig, (byte) 7);
    byte[] bomb = {(byte) 0xde, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f, 'a', 'b', 'c'};
    byte[] good = AVRO.encode(InferenceRequest.newBuilder().setRequestId("good").setPrompt("hi").build());
    List<DeadLetter> letters = new ArrayList<>();
    List<ValidatedRequest> passed = run(WireFormat.AVRO, letters, tooBig, bomb, null, good);
    assertEquals(List.of("good"), passed.stream().map(v -> v.request.getRequestId()).toList());
    assertEquals(3, letters.size());
    DeadLetter big = letters.get(0);
    assertEquals("the value is 5000 bytes, over limits.max_record_bytes (4096); not decoded", big.getReason());
    assertEquals(ByteBuffer.wrap(tooBig, 0, 100), big.getRaw());
    assertEquals(5000L, big.getRawLength());
    assertEquals(DeadLetters.sha256(tooBig), big.getRawSha256());
    assertEquals(DeadLetters.STAGE_DECODE, big.getStage());
    assertTrue(letters.get(1).getReason().endsWith("request_id: string length 2147483631 exceeds the 3 bytes left in"
        + " the record"), letters.get(1).getReason());
    assertEquals("the record has no value", letters.get(2).getReason());
  }

  @Test
  void poisonJsonRecordsAreDeadLetteredAndTheNextRequestPasses() throws Exception {
    byte[] deep = ("{\"request_id\":\"a\",\"prompt\":\"x\",\"sampling\":" + "[".repeat(1000) + "]".repeat(1000) + "}")
        .getBytes(StandardCharsets.UTF_8);
    byte[] manyMessages = ("{\"request_id\":\"many\",\"messages\":[" + String.join(",",
        java.util.Collections.nCopies(9, "{\"role\":\"user\",\"content\":\"y\"}")) + "]}").getBytes(StandardCharsets.UTF_8);
    byte[] good = "{\"request_id\":\"good\",\"prompt\":\"hi\"}".getBytes(StandardCharsets.UTF_8);
    List<DeadLetter> letters = new ArrayList<>();
    List<ValidatedRequest> passed = run(WireFormat.JSON, letters, deep, manyMessages, good);
    assertEquals(List.of("good"), passed.stream().map(v -> v.request.getRequestId()).toList());
    assertTrue(letters.get(0).getReason().contains("nesting depth"), letters.get(0).getReason());
    assertEquals("many", letters.get(1).getRequestId());
    assertEquals("messages: 9 messages, over limits.max_messages (8)", letters.get(1).getReason());
  }

  @Test
  void registryFramedAvroUnderPlainAvroIsDeadLetteredSayingSo() throws Exception {
    // registry framing in front of bytes that are not a record of our schema: plain Avro cannot read it
    byte[] framed = {0, 0, 0, 0, 42, 'x', 'y'};
    byte[] json = " {\"request_id\":\"j\",\"prompt\":\"hi\"}".getBytes(StandardCharsets.UTF_8);
    List<DeadLetter> letters = new ArrayList<>();
    run(WireFormat.AVRO, letters, framed, json);
    assertTrue(letters.get(0).getReason().startsWith("magic byte 0x00 and a 4-byte schema id (42): this looks"
        + " registry-framed; set kafka.input_format: avro-registry (decoding as avro: not a valid Avro"),
        letters.get(0).getReason());
    assertTrue(letters.get(1).getReason().startsWith("this looks like JSON; set kafka.input_format: json"
        + " (decoding as avro: "), letters.get(1).getReason());
  }

  @Test
  void binaryUnderJsonIsDeadLetteredAsPossiblyAvro() throws Exception {
    byte[] avro = AVRO.encode(InferenceRequest.newBuilder().setRequestId("a1").setPrompt("hi").build());
    byte[] framed = {0, 0, 0, 0, 7, 2, 'a'};
    List<DeadLetter> letters = new ArrayList<>();
    run(WireFormat.JSON, letters, avro, framed);
    assertTrue(letters.get(0).getReason().startsWith("the value is not UTF-8 JSON text (it holds binary bytes): it"
        + " may be Avro; set kafka.input_format: avro"), letters.get(0).getReason());
    assertTrue(letters.get(0).getReason().contains("(decoding as json: not valid JSON"), letters.get(0).getReason());
    assertTrue(letters.get(1).getReason().startsWith("magic byte 0x00 and a 4-byte schema id (7)"),
        letters.get(1).getReason());
  }

  @Test
  void aValueThatDecodesIsNeverReinterpreted() throws Exception {
    // plain Avro whose first byte is 0x00 (an empty request id) decodes as avro: rejected by the
    // validator for its id, with no framing hint
    byte[] emptyId = AVRO.encode(InferenceRequest.newBuilder().setRequestId("").setPrompt("hi").build());
    assertEquals(0, emptyId[0]);
    List<DeadLetter> letters = new ArrayList<>();
    run(WireFormat.AVRO, letters, emptyId);
    assertEquals(DeadLetters.STAGE_VALIDATE, letters.get(0).getStage());
    assertTrue(!letters.get(0).getReason().contains("registry"), letters.get(0).getReason());
  }

  @Test
  void plainAvroUnderAvroRegistryIsDeadLetteredWithoutAskingTheRegistry() throws Exception {
    byte[] avro = AVRO.encode(InferenceRequest.newBuilder().setRequestId("a1").setPrompt("hi").build());
    List<DeadLetter> letters = new ArrayList<>();
    // nothing listens on port 9: a registry call would fail the task, not dead-letter the record
    var registry = new io.moestream.operators.registry.RegistrySettings("http://127.0.0.1:9", null, null, null);
    try (OneInputStreamOperatorTestHarness<RawRequest, ValidatedRequest> h = ProcessFunctionTestHarnesses
        .forProcessFunction(new DecodeValidateFunction(WireFormat.AVRO_REGISTRY, LIMITS, registry, RoutingRules.ANY))) {
      h.processElement(new RawRequest(avro, "requests", 0, 0), 0);
      h.getSideOutput(DeadLetters.TAG).forEach(r -> letters.add(r.getValue().deadLetter));
    }
    assertTrue(letters.get(0).getReason().startsWith("no magic byte 0x00 (the first byte is 0x04): this looks like"
        + " plain Avro, not registry-framed; set kafka.input_format: avro (decoding as avro-registry: not"
        + " registry-framed"), letters.get(0).getReason());
  }

  private static List<ValidatedRequest> run(WireFormat format, List<DeadLetter> letters, byte[]... values)
      throws Exception {
    try (OneInputStreamOperatorTestHarness<RawRequest, ValidatedRequest> h =
        ProcessFunctionTestHarnesses.forProcessFunction(new DecodeValidateFunction(format, LIMITS))) {
      for (int i = 0; i < values.length; i++) {
        h.processElement(new RawRequest(values[i], "requests", 0, i), i);
      }
      for (StreamRecord<RoutedDeadLetter> r : h.getSideOutput(DeadLetters.TAG)) {
        letters.add(r.getValue().deadLetter);
      }
      return new ArrayList<>(h.extractOutputValues());
    }
  }
}
