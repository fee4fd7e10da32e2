package io.moestream.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Streaming decode on the real byte-level tokenizers, where emoji span several byte tokens. */
class IncrementalDecoderTest {
  private static List<String> stream(IncrementalDecoder decoder, int[] ids) {
    List<String> chunks = new ArrayList<>();
    for (int id : ids) {
      chunks.add(decoder.accept(id));
    }
    chunks.add(decoder.flush());
    return chunks;
  }

  @Test
  void qwen3EmojiIsHeldBackUntilItsLastByte() {
    // From vectors.json: "Emoji 🚀🔥" is 92731 ("Emoji"), 11162 248 222 (" 🚀" as bytes
    // 20 F0 9F 9A | 80 ...), 144670 ("🔥").
    Tokenizer qwen3 = TestTokenizers.qwen3();
    int[] ids = {92731, 11162, 248, 222, 144670};
    List<String> chunks = stream(qwen3.newIncrementalDecoder(), ids);
    assertEquals(String.join("", chunks), qwen3.decode(ids));
    assertEquals("Emoji 🚀🔥", String.join("", chunks));
    assertEquals("Emoji", chunks.get(0));
    for (String chunk : chunks) {
      assertEquals(-1, chunk.indexOf('\uFFFD'), () -> "broken character in " + chunks);
    }
  }

  @Test
  void skipsSpecialTokensWhenAsked() {
    Tokenizer qwen3 = TestTokenizers.qwen3();
    int[] ids = qwen3.encode("<|im_start|>assistant\nHi there<|im_end|>");
    assertEquals("assistant\nHi there",
        String.join("", stream(qwen3.newIncrementalDecoder(true), ids)));
    assertEquals("<|im_start|>assistant\nHi there<|im_end|>",
        String.join("", stream(qwen3.newIncrementalDecoder(), ids)));
  }

  @Test
  void deepseekCjkStreamsWholeCharacters() {
    Tokenizer deepseek = TestTokenizers.deepseekV3();
    String text = "模型在推理时只激活部分专家。🚀";
    int[] ids = deepseek.encode(text);
    List<String> chunks = stream(deepseek.newIncrementalDecoder(), ids);
    assertEquals(text, String.join("", chunks));
    for (String chunk : chunks) {
      assertEquals(-1, chunk.indexOf('\uFFFD'), () -> "broken character in " + chunks);
    }
  }

  @Test
  void aStreamOfInvalidBytesIsReleasedAfterABoundedNumberOfIds() {
    // Qwen3 byte tokens for lone continuation bytes 0x80..0x87 never complete a character.
    Tokenizer qwen3 = TestTokenizers.qwen3();
    IncrementalDecoder decoder = qwen3.newIncrementalDecoder();
    int continuationByte = qwen3.tokenId(String.valueOf(
        io.moestream.engine.tokenizer.bpe.ByteLevelAlphabet.charOf(0x80))).getAsInt();
    StringBuilder streamed = new StringBuilder();
    int released = -1;
    for (int i = 0; i < 3 * IncrementalDecoder.MAX_PENDING_IDS; i++) {
      String chunk = decoder.accept(continuationByte);
      if (!chunk.isEmpty() && released < 0) {
        released = i;
      }
      streamed.append(chunk);
    }
    streamed.append(decoder.flush());
    assertEquals(IncrementalDecoder.MAX_PENDING_IDS - 1, released);
    assertEquals("\uFFFD".repeat(3 * IncrementalDecoder.MAX_PENDING_IDS), streamed.toString());
  }

  @Test
  void leadingSkippedSpecialTokenGivesNoText() {
    Tokenizer qwen3 = TestTokenizers.qwen3();
    IncrementalDecoder decoder = qwen3.newIncrementalDecoder(true);
    assertEquals("", decoder.accept(qwen3.tokenId("<|im_start|>").getAsInt()));
    assertEquals("Hello", decoder.accept(9707));
  }
}
