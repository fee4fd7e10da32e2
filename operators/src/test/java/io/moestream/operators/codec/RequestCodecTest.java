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
    assertEquals(0.7f, UnsetSampling.temperature(r.getSampling()));
    assertEquals(null, UnsetSampling.topP(r.getSampling())); // absent: unset, generation_config.json decides
    InferenceRequest back = avro.decode(avro.encode(r));
    assertEquals(r, back);
    assertEquals(r, RequestJson.parse(RequestJson.toJson(r)));
  }

  @Test
  void jsonSamplingLeftOutIsUnsetAndGivenValuesAreKept() {
    InferenceRequest explicit = RequestJson.parse("{\"request_id\":\"a\",\"prompt\":\"x\","
        + "\"sampling\":{\"temperature\":0,\"top_p\":1,\"top_k\":0}}");
    assertEquals(0f, UnsetSampling.temperature(explicit.getSampling()));
    assertEquals(1f, UnsetSampling.topP(explicit.getSampling()));
    assertEquals(0, UnsetSampling.topK(explicit.getSampling()));
    InferenceRequest unset = RequestJson.parse("{\"request_id\":\"a\",\"prompt\":\"x\","
        + "\"sampling\":{\"temperature\":null,\"seed\":3}}");
    assertEquals(null, UnsetSampling.temperature(unset.getSampling()));
    assertEquals(null, UnsetSampling.topP(unset.getSampling()));
    assertEquals(null, UnsetSampling.topK(unset.getSampling()));
    assertEquals(unset, RequestJson.parse("{\"request_id\":\"a\",\"prompt\":\"x\",\"sampling\":{\"seed\":3}}"));
    for (InferenceRequest r : new InferenceRequest[] {explicit, unset}) {
      assertEquals(r, RequestJson.parse(RequestJson.toJson(r)));
      assertEquals(r, avro.decode(avro.encode(r)));
    }
    assertTrue(!RequestJson.toJson(unset).contains("temperature"), RequestJson.toJson(unset));
    // -1 would read back as unset: JSON says unset by leaving the field out
    assertMessage("sampling.temperature: must not be negative, found -1.0",
        "{\"request_id\":\"a\",\"prompt\":\"x\",\"sampling\":{\"temperature\":-1}}");
    assertMessage("sampling.top_p: must not be negative, found -1.0",
        "{\"request_id\":\"a\",\"prompt\":\"x\",\"sampling\":{\"top_p\":-1.0}}");
    assertMessage("sampling.top_k: must not be negative, found -1",
        "{\"request_id\":\"a\",\"prompt\":\"x\",\"sampling\":{\"top_k\":-1}}");
  }

  @Test
  void jsonKwargsTakeAnyJsonValueAsItsText() {
    InferenceRequest r = RequestJson.parse("{\"request_id\":\"a\",\"messages\":[{\"role\":\"user\","
        + "\"content\":\"hi\"}],\"chat_template_kwargs\":{\"enable_thinking\":false,\"n\":2.5,"
        + "\"who\":\"Ada\",\"list\":[1,{\"a\":null}]}}");
    assertEquals(java.util.Map.of("enable_thinking", "false", "n", "2.5", "who", "\"Ada\"", "list", "[1,{\"a\":null}]"),
        r.getChatTemplateKwargs());
    assertEquals(r, RequestJson.parse(RequestJson.toJson(r)));
    assertEquals(r, avro.decode(avro.encode(r)));
    assertMessage("chat_template_kwargs: expected a JSON object",
        "{\"request_id\":\"a\",\"prompt\":\"x\",\"chat_template_kwargs\":[1]}");
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
