package io.moestream.operators.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.schemas.InferenceRequest;
import io.moestream.schemas.Priority;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class RequestCodecTest {
  private final AvroCodec<InferenceRequest> avro = new AvroCodec<>(InferenceRequest.class);

  @Test
  void jsonRequestRoundTripsThroughAvro() {
    InferenceRequest r = RequestJson.parse("{\"request_id\":\"a\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
        + "\"max_new_tokens\":5,\"sampling\":{\"temperature\":0.7,\"seed\":9,\"stop\":[\"\\n\"]},\"priority\":\"high\","
        + "\"min_experts_per_token\":2}");
    assertEquals("a", r.getRequestId());
    assertEquals(Priority.HIGH, r.getPriority());
    assertEquals(9L, r.getSampling().getSeed());
    assertEquals(null, r.getSampling().getTopP()); // absent: unset, generation_config.json decides
    InferenceRequest back = avro.decode(avro.encode(r));
    assertEquals(r, back);
    assertEquals(r, RequestJson.parse(RequestJson.toJson(r)));
  }

  @Test
  void jsonErrorsNameTheField() {
    assertMessage("priority: unknown value 'URGENT'", "{\"request_id\":\"a\",\"prompt\":\"x\",\"priority\":\"URGENT\"}");
    assertMessage("colour: unknown field", "{\"request_id\":\"a\",\"prompt\":\"x\",\"colour\":1}");
    assertMessage("request_id: missing", "{\"prompt\":\"x\"}");
    assertMessage("max_new_tokens: expected an integer", "{\"request_id\":\"a\",\"prompt\":\"x\",\"max_new_tokens\":\"5\"}");
    assertMessage("not valid JSON", "{\"request_id\":");
  }

  private static void assertMessage(String expected, String json) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RequestJson.parse(json));
    assertTrue(e.getMessage().startsWith(expected), e.getMessage());
  }

  @Test
  void malformedAvroBytesAreRejectedWithAReason() {
    byte[] good = avro.encode(RequestJson.parse("{\"request_id\":\"a\",\"prompt\":\"hello\"}"));
    byte[] truncated = Arrays.copyOf(good, good.length - 3);
    byte[] trailing = Arrays.copyOf(good, good.length + 2);
    byte[] garbage = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f, 1, 2};
    for (byte[] bad : new byte[][] {truncated, trailing, garbage, new byte[0]}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> avro.decode(bad));
      assertTrue(e.getMessage().contains("InferenceRequest"), e.getMessage());
    }
    assertArrayEquals(good, avro.encode(avro.decode(good)));
  }
}
