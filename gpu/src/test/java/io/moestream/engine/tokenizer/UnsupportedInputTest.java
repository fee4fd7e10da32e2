package io.moestream.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Anything this tokenizer does not implement is refused with a message naming the type and field. */
class UnsupportedInputTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static ObjectNode minimal() throws Exception {
    return (ObjectNode) JSON.readTree("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1,"
        + " \"ab\": 2}, \"merges\": [\"a b\"]}}");
  }

  private static String failure(JsonNode root) {
    return assertThrows(TokenizerException.class,
        () -> TokenizerLoader.build(root, TokenizerConfig.EMPTY, "tokenizer.json")).getMessage();
  }

  private static void assertMentions(String message, String... parts) {
    for (String part : parts) {
      assertTrue(message.contains(part), () -> "\"" + message + "\" should mention " + part);
    }
  }

  @Test
  void minimalFileWorks() throws Exception {
    Tokenizer t = TokenizerLoader.build(minimal(), TokenizerConfig.EMPTY, "tokenizer.json");
    assertTrue(java.util.Arrays.equals(new int[] {2, 0}, t.encode("aba")));
  }

  @Test
  void unknownModelType() throws Exception {
    ObjectNode root = minimal();
    ((ObjectNode) root.get("model")).put("type", "Unigram");
    assertMentions(failure(root), "tokenizer.json: model", "\"Unigram\"");
  }

  @Test
  void unknownPreTokenizerInsideSequence() throws Exception {
    ObjectNode root = minimal();
    root.set("pre_tokenizer", JSON.readTree("{\"type\": \"Sequence\", \"pretokenizers\": ["
        + "{\"type\": \"Digits\"}, {\"type\": \"UnicodeScripts\"}]}"));
    assertMentions(failure(root), "pre_tokenizer.pretokenizers[1]", "\"UnicodeScripts\"");
  }

  @Test
  void unknownNormalizerDecoderPostProcessorAndBehaviour() throws Exception {
    ObjectNode root = minimal();
    root.set("normalizer", JSON.readTree("{\"type\": \"BertNormalizer\"}"));
    assertMentions(failure(root), "normalizer", "\"BertNormalizer\"");
    root = minimal();
    root.set("decoder", JSON.readTree("{\"type\": \"WordPiece\"}"));
    assertMentions(failure(root), "decoder", "\"WordPiece\"");
    root = minimal();
    root.set("post_processor", JSON.readTree("{\"type\": \"Mystery\"}"));
    assertMentions(failure(root), "post_processor", "\"Mystery\"");
    root = minimal();
    root.set("pre_tokenizer", JSON.readTree("{\"type\": \"Split\", \"pattern\": {\"String\": \"-\"},"
        + " \"behavior\": \"Sideways\"}"));
    assertMentions(failure(root), "pre_tokenizer.behavior", "\"Sideways\"");
  }

  @Test
  void malformedMergesAndFields() throws Exception {
    ObjectNode root = minimal();
    ((ObjectNode) root.get("model")).set("merges", JSON.readTree("[\"a c\"]"));
    assertMentions(failure(root), "model.merges[0]", "\"c\"", "not in the vocab");
    root = minimal();
    ((ObjectNode) root.get("model")).set("merges", JSON.readTree("[[\"a\"]]"));
    assertMentions(failure(root), "model.merges[0]");
    root = minimal();
    ((ObjectNode) root.get("model")).remove("vocab");
    assertMentions(failure(root), "model", "'vocab'");
    root = minimal();
    root.set("pre_tokenizer", JSON.readTree("{\"type\": \"ByteLevel\"}"
        .replace("}", ", \"add_prefix_space\": \"yes\"}")));
    assertMentions(failure(root), "pre_tokenizer", "'add_prefix_space'", "\"yes\"");
  }

  @Test
  void preTokenizerAfterByteLevelIsRefused() throws Exception {
    ObjectNode root = minimal();
    root.set("pre_tokenizer", JSON.readTree("{\"type\": \"Sequence\", \"pretokenizers\": ["
        + "{\"type\": \"ByteLevel\"}, {\"type\": \"Digits\"}]}"));
    assertMentions(failure(root), "\"Digits\"", "after a ByteLevel");
  }

  @Test
  void missingAndMalformedFiles(@TempDir Path dir) throws Exception {
    assertTrue(!Tokenizer.isPresent(dir));
    assertMentions(assertThrows(TokenizerException.class, () -> Tokenizer.load(dir)).getMessage(),
        "tokenizer.json", "not found");
    Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": ");
    assertTrue(Tokenizer.isPresent(dir));
    assertMentions(assertThrows(TokenizerException.class, () -> Tokenizer.load(dir)).getMessage(),
        "tokenizer.json", "not valid JSON");
  }

  @Test
  void bosFlagWithoutBosToken(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("tokenizer.json"), minimal().toString());
    Files.writeString(dir.resolve("tokenizer_config.json"),
        "{\"tokenizer_class\": \"LlamaTokenizerFast\", \"add_bos_token\": true}");
    assertMentions(assertThrows(TokenizerException.class, () -> Tokenizer.load(dir)).getMessage(),
        "tokenizer_config.json", "bos_token");
  }

  /** Kimi-K2 ships tiktoken.model (and Python code) instead of tokenizer.json: refused by name. */
  @Test
  void tiktokenTokenizerIsNamed(@TempDir Path dir) throws Exception {
    Files.write(dir.resolve("tiktoken.model"), new byte[] {1});
    assertMentions(assertThrows(TokenizerException.class, () -> Tokenizer.load(dir)).getMessage(),
        "tiktoken.model", "Kimi-K2", "--token-ids");
    assertMentions(Tokenizer.absenceNote(dir), "tiktoken", "Kimi-K2");
  }
}
