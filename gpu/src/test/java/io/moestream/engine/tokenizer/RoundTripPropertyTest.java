package io.moestream.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * decode(encode(x)) gives back x as the tokenizer normalized it, for random Unicode text, and the
 * incremental decoder streams exactly the text of a full decode without ever splitting a character.
 */
class RoundTripPropertyTest {
  private static final int CASES = 400;

  @Test
  void qwen3RoundTripsToNfcOfTheTextBetweenAddedTokens() throws IOException {
    Tokenizer qwen3 = TestTokenizers.qwen3();
    List<String> added = addedTokenContents("qwen3");
    Random random = new Random(42);
    for (int n = 0; n < CASES; n++) {
      String text = RandomText.next(random);
      String expected = nfcBetween(text, added);
      assertEquals(expected, qwen3.decode(qwen3.encode(text)), () -> "round trip of " + escape(text));
    }
  }

  @Test
  void deepseekV3RoundTripsExactly() {
    Tokenizer deepseek = TestTokenizers.deepseekV3();
    Random random = new Random(7);
    for (int n = 0; n < CASES; n++) {
      String text = RandomText.next(random);
      assertEquals(text, deepseek.decode(deepseek.encode(text)), () -> "round trip of " + escape(text));
    }
  }

  @Test
  void incrementalDecodingStreamsTheFullDecodeInWholeCharacters() {
    Random random = new Random(3);
    for (Tokenizer tokenizer : List.of(TestTokenizers.qwen3(), TestTokenizers.deepseekV3(),
        TestTokenizers.named("sentencepiece_bpe"))) {
      for (int n = 0; n < CASES / 2; n++) {
        String text = RandomText.next(random);
        int[] ids = tokenizer.encode(text);
        IncrementalDecoder decoder = tokenizer.newIncrementalDecoder();
        StringBuilder streamed = new StringBuilder();
        for (int id : ids) {
          String chunk = decoder.accept(id);
          if (!chunk.isEmpty()) {
            assertFalse(Character.isHighSurrogate(chunk.charAt(chunk.length() - 1)),
                () -> "chunk ends inside a surrogate pair for " + escape(text));
            assertFalse(chunk.indexOf('\uFFFD') >= 0 && text.indexOf('\uFFFD') < 0,
                () -> "chunk with a broken character for " + escape(text));
          }
          streamed.append(chunk);
        }
        streamed.append(decoder.flush());
        assertEquals(tokenizer.decode(ids), streamed.toString(), () -> "stream of " + escape(text));
      }
    }
  }

  /** NFC applied to each stretch between added tokens (leftmost-longest), as the tokenizer does. */
  static String nfcBetween(String text, List<String> added) {
    StringBuilder out = new StringBuilder();
    int plain = 0;
    int i = 0;
    while (i < text.length()) {
      String match = null;
      for (String token : added) {
        if (text.startsWith(token, i) && (match == null || token.length() > match.length())) {
          match = token;
        }
      }
      if (match == null) {
        i++;
        continue;
      }
      out.append(Normalizer.normalize(text.substring(plain, i), Normalizer.Form.NFC)).append(match);
      i += match.length();
      plain = i;
    }
    return out.append(Normalizer.normalize(text.substring(plain), Normalizer.Form.NFC)).toString();
  }

  static List<String> addedTokenContents(String family) throws IOException {
    JsonNode root = new ObjectMapper().readTree(
        Files.newInputStream(TestTokenizers.folder(family).resolve("tokenizer.json")));
    List<String> contents = new ArrayList<>();
    root.get("added_tokens").forEach(t -> contents.add(t.get("content").asText()));
    return contents;
  }

  static String escape(String s) {
    StringBuilder out = new StringBuilder("\"");
    s.codePoints().forEach(cp -> {
      if (cp >= 0x20 && cp < 0x7F) {
        out.appendCodePoint(cp);
      } else {
        out.append(String.format("\\u{%X}", cp));
      }
    });
    return out.append('"').toString();
  }
}
