package io.moestream.operators.validate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.operators.codec.RequestJson;
import io.moestream.schemas.InferenceRequest;
import io.moestream.schemas.Sampling;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RequestValidatorTest {
  private final RequestValidator validator = new RequestValidator(new RequestLimits(256, 4, 4, 1 << 20, 100, 3, 1024));

  private Optional<String> check(String json) {
    return validator.problem(RequestJson.parse(json));
  }

  @Test
  void aGoodRequestPasses() {
    assertEquals(Optional.empty(), check("{\"request_id\":\"a\",\"prompt\":\"hi\",\"max_new_tokens\":256}"));
    assertEquals(Optional.empty(), check("{\"request_id\":\"a\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"));
  }

  @Test
  void eachProblemIsNamed() {
    assertProblem("prompt: missing", "{\"request_id\":\"a\"}");
    assertProblem("prompt: empty", "{\"request_id\":\"a\",\"prompt\":\"  \"}");
    assertProblem("prompt and messages", "{\"request_id\":\"a\",\"prompt\":\"x\",\"messages\":[]}");
    assertProblem("messages: empty", "{\"request_id\":\"a\",\"messages\":[]}");
    assertProblem("messages[0].role: unknown value 'robot'",
        "{\"request_id\":\"a\",\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}");
    assertProblem("max_new_tokens: must be in [1, 256], found 0", "{\"request_id\":\"a\",\"prompt\":\"x\",\"max_new_tokens\":0}");
    assertProblem("max_new_tokens: must be in [1, 256], found -3", "{\"request_id\":\"a\",\"prompt\":\"x\",\"max_new_tokens\":-3}");
    assertProblem("max_new_tokens: must be in [1, 256], found 1000000",
        "{\"request_id\":\"a\",\"prompt\":\"x\",\"max_new_tokens\":1000000}");
    assertProblem("sampling.top_p", "{\"request_id\":\"a\",\"prompt\":\"x\",\"sampling\":{\"top_p\":0}}");
    assertProblem("sampling.temperature: must be in [0, 100.0] (or -1: unset), found -0.5",
        "{\"request_id\":\"a\",\"prompt\":\"x\",\"sampling\":{\"temperature\":-0.5}}");
    assertProblem("min_experts_per_token: must be in [1, 4]",
        "{\"request_id\":\"a\",\"prompt\":\"x\",\"min_experts_per_token\":9}");
    assertProblem("request_id: missing or blank", "{\"request_id\":\" \",\"prompt\":\"x\"}");
  }

  /** In Avro, exactly -1 is "unset" (the schema default); any other negative is a bad value, named. */
  @Test
  void avroSentinelIsUnsetAndOtherNegativesAreRefused() {
    InferenceRequest unset = InferenceRequest.newBuilder().setRequestId("a").setPrompt("x").build();
    assertEquals(Optional.empty(), validator.problem(unset));
    assertEquals(Optional.of("sampling.temperature: must be in [0, 100.0] (or -1: unset), found -2.0"),
        validator.problem(withSampling(unset, Sampling.newBuilder().setTemperature(-2f))));
    assertEquals(Optional.of("sampling.top_p: must be in (0, 1] (or -1: unset), found -0.5"),
        validator.problem(withSampling(unset, Sampling.newBuilder().setTopP(-0.5f))));
    assertEquals(Optional.of("sampling.top_k: must be >= 0 (or -1: unset), found -3"),
        validator.problem(withSampling(unset, Sampling.newBuilder().setTopK(-3))));
    assertEquals(Optional.of("sampling.top_p: must be in (0, 1] (or -1: unset), found 0.0"),
        validator.problem(withSampling(unset, Sampling.newBuilder().setTopP(0f))));
    assertEquals(Optional.empty(),
        validator.problem(withSampling(unset, Sampling.newBuilder().setTemperature(0f).setTopP(1f).setTopK(0))));
  }

  private static InferenceRequest withSampling(InferenceRequest r, Sampling.Builder sampling) {
    return InferenceRequest.newBuilder(r).setSampling(sampling.build()).build();
  }

  @Test
  void sizesOverTheLimitsAreNamed() {
    String id = "x".repeat(RequestLimits.MAX_REQUEST_ID_LENGTH + 1);
    assertProblem("request_id: longer than 256 characters, found 257", "{\"request_id\":\"" + id + "\",\"prompt\":\"x\"}");
    assertEquals(Optional.empty(), check("{\"request_id\":\"a\",\"prompt\":\"" + "\u00e9".repeat(50) + "\"}"));
    assertProblem("prompt: 102 UTF-8 bytes, over limits.max_prompt_bytes (100)",
        "{\"request_id\":\"a\",\"prompt\":\"" + "\u00e9".repeat(51) + "\"}");
    String message = "{\"role\":\"user\",\"content\":\"" + "y".repeat(40) + "\"}";
    assertEquals(Optional.empty(), check("{\"request_id\":\"a\",\"messages\":[" + message + "," + message + "]}"));
    assertProblem("messages: contents of 120 UTF-8 bytes together, over limits.max_prompt_bytes (100)",
        "{\"request_id\":\"a\",\"messages\":[" + message + "," + message + "," + message + "]}");
    String small = "{\"role\":\"user\",\"content\":\"y\"}";
    assertProblem("messages: 4 messages, over limits.max_messages (3)",
        "{\"request_id\":\"a\",\"messages\":[" + String.join(",", java.util.Collections.nCopies(4, small)) + "]}");
    assertEquals(6, RequestValidator.utf8Length("a\u00e9\ud83d"));
    assertEquals(5, RequestValidator.utf8Length("a\ud83d\ude00"));
  }

  private void assertProblem(String expected, String json) {
    Optional<String> problem = check(json);
    assertTrue(problem.isPresent() && problem.get().startsWith(expected), json + " -> " + problem);
  }
}
