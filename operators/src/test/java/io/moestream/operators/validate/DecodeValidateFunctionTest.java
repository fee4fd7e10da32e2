package io.moestream.operators.validate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.operators.codec.AvroCodec;
import io.moestream.operators.deadletter.DeadLetters;
import io.moestream.operators.records.RawRequest;
import io.moestream.operators.records.ValidatedRequest;
import io.moestream.operators.validate.DecodeValidateFunction.InputFormat;
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
    List<ValidatedRequest> passed = run(InputFormat.AVRO, letters, tooBig, bomb, null, good);
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
    List<ValidatedRequest> passed = run(InputFormat.JSON, letters, deep, manyMessages, good);
    assertEquals(List.of("good"), passed.stream().map(v -> v.request.getRequestId()).toList());
    assertTrue(letters.get(0).getReason().contains("nesting depth"), letters.get(0).getReason());
    assertEquals("many", letters.get(1).getRequestId());
    assertEquals("messages: 9 messages, over limits.max_messages (8)", letters.get(1).getReason());
  }

  private static List<ValidatedRequest> run(InputFormat format, List<DeadLetter> letters, byte[]... values)
      throws Exception {
    try (OneInputStreamOperatorTestHarness<RawRequest, ValidatedRequest> h =
        ProcessFunctionTestHarnesses.forProcessFunction(new DecodeValidateFunction(format, LIMITS))) {
      for (int i = 0; i < values.length; i++) {
        h.processElement(new RawRequest(values[i], "requests", 0, i), i);
      }
      for (StreamRecord<DeadLetter> r : h.getSideOutput(DeadLetters.TAG)) {
        letters.add(r.getValue());
      }
      return new ArrayList<>(h.extractOutputValues());
    }
  }
}
