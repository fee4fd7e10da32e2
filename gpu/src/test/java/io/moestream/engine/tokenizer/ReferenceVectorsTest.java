package io.moestream.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every case of the vector files (ids and decoded text from the transformers.js port, with
 * add_special_tokens=false) must come out exactly the same: vectors.json for Qwen3 and DeepSeek-V3,
 * moestream-tasks-vectors.json for the tokenizer tools/train/bpe.py trains (held-out task prompts,
 * prose, edge cases, and chat prompts rendered and encoded by apply_chat_template).
 */
class ReferenceVectorsTest {
  private static final List<String> VECTOR_FILES =
      List.of("/tokenizers/vectors.json", "/tokenizers/moestream-tasks-vectors.json");

  static Stream<Arguments> cases() {
    List<Arguments> out = new ArrayList<>();
    forEachCase("cases", (family, c) -> out.add(Arguments.of(family, c.index(),
        c.node().get("text").asText(), ids(c.node()), c.node().get("decoded").asText())));
    return out.stream();
  }

  static Stream<Arguments> chatCases() {
    List<Arguments> out = new ArrayList<>();
    forEachCase("chat_cases", (family, c) -> {
      List<ChatMessage> messages = new ArrayList<>();
      for (JsonNode m : c.node().get("messages")) {
        messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
      }
      out.add(Arguments.of(family, c.index(), messages,
          c.node().get("add_generation_prompt").asBoolean(), c.node().get("rendered").asText(),
          ids(c.node())));
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
    if (Normalizer.isNormalized(text, Normalizer.Form.NFC)) {
      // A decomposed text comes back composed where the tokenizer normalizes; the reference's
      // decode above covers those.
      assertEquals(text, tokenizer.decode(ids), () -> "round trip of " + family + " case " + index);
    }
  }

  @ParameterizedTest(name = "{0} chat case {1}")
  @MethodSource("chatCases")
  void rendersAndEncodesChatsLikeTheReference(String family, int index, List<ChatMessage> messages,
      boolean addGenerationPrompt, String rendered, int[] ids) {
    Tokenizer tokenizer = TestTokenizers.named(family);
    assertEquals(rendered, tokenizer.applyChatTemplate(messages, addGenerationPrompt),
        () -> "rendered chat of " + family + " case " + index);
    // CONTROL is transformers' own behaviour; TEXT (the engine's default) must not differ when no
    // message holds a special-token string, as in every reference case.
    for (SpecialTokensInContent mode : SpecialTokensInContent.values()) {
      assertArrayEquals(ids, tokenizer.encodeChat(messages, addGenerationPrompt, mode),
          () -> "chat ids of " + family + " case " + index + " in mode " + mode);
    }
    assertEquals(rendered, tokenizer.decode(ids), () -> "decode of " + family + " chat case " + index);
  }

  private record Case(int index, JsonNode node) {}

  /** Calls {@code action} with every case under {@code section} ("cases", "chat_cases") of each file. */
  private static void forEachCase(String section, BiConsumer<String, Case> action) {
    for (String file : VECTOR_FILES) {
      JsonNode root;
      try (InputStream in = ReferenceVectorsTest.class.getResourceAsStream(file)) {
        if (in == null) {
          throw new IllegalStateException("test resource " + file + " is missing");
        }
        root = new ObjectMapper().readTree(in);
      } catch (IOException e) {
        throw new UncheckedIOException(file, e);
      }
      JsonNode families = root.path(section);
      families.fieldNames().forEachRemaining(family -> {
        int i = 0;
        for (JsonNode c : families.get(family)) {
          action.accept(family, new Case(i++, c));
        }
      });
    }
  }

  private static int[] ids(JsonNode c) {
    int[] ids = new int[c.get("ids").size()];
    for (int k = 0; k < ids.length; k++) {
      ids[k] = c.get("ids").get(k).asInt();
    }
    return ids;
  }
}
