package io.moestream.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** BOS/EOS and special-token handling of the two real tokenizers. */
class SpecialTokensTest {
  @Test
  void deepseekAddsBosBecauseItsTokenizerClassReadsAddBosToken() {
    // tokenizer.json's post-processor (ByteLevel) adds nothing, but LlamaTokenizerFast with
    // add_bos_token=true prepends <｜begin▁of▁sentence｜> (id 0) in transformers.
    Tokenizer deepseek = TestTokenizers.deepseekV3();
    int[] plain = deepseek.encode("Hello, my dog is cute");
    int[] withBos = deepseek.encode("Hello, my dog is cute", true);
    assertEquals(0, withBos[0]);
    assertArrayEquals(plain, java.util.Arrays.copyOfRange(withBos, 1, withBos.length));
    assertEquals(0, deepseek.bosTokenId().getAsInt());
    assertEquals(1, deepseek.eosTokenId().getAsInt());
    assertEquals("<｜begin▁of▁sentence｜>Hello, my dog is cute", deepseek.decode(withBos));
    assertEquals("Hello, my dog is cute", deepseek.decode(withBos, true));
  }

  @Test
  void qwen3AddsNothing() {
    Tokenizer qwen3 = TestTokenizers.qwen3();
    assertArrayEquals(qwen3.encode("Hi"), qwen3.encode("Hi", true));
  }

  @Test
  void specialIdsAndLookups() {
    Tokenizer qwen3 = TestTokenizers.qwen3();
    assertEquals(151644, qwen3.tokenId("<|im_start|>").getAsInt());
    assertEquals(9707, qwen3.tokenId("Hello").getAsInt());
    assertTrue(qwen3.tokenId("no such token").isEmpty());
    assertTrue(qwen3.isSpecial(151645));
    assertFalse(qwen3.isSpecial(151667), "<think> is an added token but not special");
    assertTrue(qwen3.specialTokenIdSet().contains(151643));
    assertEquals(qwen3.specialTokenIdSet().size(), qwen3.specialTokenIds().length);
    // <think> is not special, so it survives skipSpecialTokens; <|im_end|> does not.
    assertEquals("<think>Hi", qwen3.decode(new int[] {151667, 13048, 151645}, true));
  }

  @Test
  void idsOutsideTheVocabularyAreLeftOutOfDecode() {
    // Qwen3 models pad the embedding to 151936 rows; ids past the tokenizer decode to nothing.
    assertEquals("Hello", TestTokenizers.qwen3().decode(new int[] {9707, 151900, -1}));
  }
}
