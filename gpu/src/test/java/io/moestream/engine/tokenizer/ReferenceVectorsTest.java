package io.moestream.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every case of vectors.json (ids and decoded text from the transformers.js port, with
 * add_special_tokens=false) must come out exactly the same, for Qwen3 and DeepSeek-V3.
 */
class ReferenceVectorsTest {

  static Stream<Arguments> cases() throws IOException {
    JsonNode root;
    try (InputStream in = ReferenceVectorsTest.class.getResourceAsStream("/tokenizers/vectors.json")) {
      root = new ObjectMapper().readTree(in);
    }
    List<Arguments> out = new ArrayList<>();
    root.get("cases").fields().forEachRemaining(family -> {
      int i = 0;
      for (JsonNode c : family.getValue()) {
        int[] ids = new int[c.get("ids").size()];
        for (int k = 0; k < ids.length; k++) {
          ids[k] = c.get("ids").get(k).asInt();
        }
        out.add(Arguments.of(family.getKey(), i++, c.get("text").asText(), ids,
            c.get("decoded").asText()));
      }
    });
    return out.stream();
  }

  @ParameterizedTest(name = "{0} case {1}")
  @MethodSource("cases")
  void encodesAndDecodesLikeTheReference(String family, int index, String text, int[] ids,
      String decoded) {
    Tokenizer tokenizer = TestTokenizers.named(family);
    assertArrayEquals(ids, tokenizer.encode(text), () -> "ids of " + family + " case " + index);
    assertEquals(decoded, tokenizer.decode(ids), () -> "decode of " + family + " case " + index);
  }
}
