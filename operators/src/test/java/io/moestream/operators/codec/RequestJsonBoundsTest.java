package io.moestream.operators.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import org.junit.jupiter.api.Test;

class RequestJsonBoundsTest {
  private final RequestJson json = new RequestJson(new RequestJson.Bounds(4096, 5, 100));

  @Test
  void aValueOverTheSizeIsRefusedUnparsed() {
    byte[] big = ("{\"request_id\":\"a\",\"prompt\":\"" + "x".repeat(5000) + "\"}").getBytes(StandardCharsets.UTF_8);
    assertEquals("the value is 5030 bytes, over limits.max_record_bytes (4096)", reject(big));
  }

  @Test
  void longStringsAndNumbersAndDeepNestingNameWhereTheyAre() {
    String longContent = "{\"request_id\":\"a\",\"messages\":[{\"role\":\"user\",\"content\":\"" + "y".repeat(101) + "\"}]}";
    assertTrue(reject(longContent).startsWith("messages[0].content: String value length (101) exceeds"),
        reject(longContent));
    String longNumber = "{\"request_id\":\"a\",\"prompt\":\"x\",\"max_new_tokens\":" + "9".repeat(65) + "}";
    assertTrue(reject(longNumber).startsWith("max_new_tokens: Number value length (65) exceeds"), reject(longNumber));
    String deep = "{\"request_id\":\"a\",\"prompt\":\"x\",\"sampling\":" + "[".repeat(20) + "]".repeat(20) + "}";
    assertTrue(reject(deep).contains("sampling[0][0]"), reject(deep));
    assertTrue(reject(deep).contains("Document nesting depth (17) exceeds"), reject(deep));
  }

  @Test
  void arraysOverTheLimitAreRefusedBeforeAnyListIsBuilt() {
    String message = "{\"role\":\"user\",\"content\":\"y\"}";
    String six = "{\"request_id\":\"a\",\"messages\":[" + String.join(",", Collections.nCopies(6, message)) + "]}";
    assertEquals("messages: array of 6 elements exceeds the limit of 5", reject(six));
    String stops = "{\"request_id\":\"a\",\"prompt\":\"x\",\"sampling\":{\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\"]}}";
    assertEquals("sampling.stop: array of 6 elements exceeds the limit of 5", reject(stops));
    String five = "{\"request_id\":\"a\",\"messages\":[" + String.join(",", Collections.nCopies(5, message)) + "]}";
    assertEquals(5, json.read(five.getBytes(StandardCharsets.UTF_8)).getMessages().size());
  }

  @Test
  void echoedValuesAreCut() {
    String priority = "{\"request_id\":\"a\",\"prompt\":\"x\",\"priority\":\"" + "U".repeat(90) + "\"}";
    assertTrue(reject(priority).length() < 150, reject(priority));
    String field = "{\"request_id\":\"a\",\"prompt\":\"x\",\"" + "f".repeat(90) + "\":1}";
    assertTrue(reject(field).endsWith("...: unknown field"), reject(field));
  }

  private String reject(String value) {
    return reject(value.getBytes(StandardCharsets.UTF_8));
  }

  private String reject(byte[] value) {
    return assertThrows(IllegalArgumentException.class, () -> json.read(value)).getMessage();
  }
}
