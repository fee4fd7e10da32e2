package io.moestream.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Optional;

/**
 * What moestream uses from tokenizer_config.json (the transformers-side settings).
 *
 * @param tokenizerClass e.g. "Qwen2Tokenizer", "LlamaTokenizerFast"; empty if absent
 * @param bosToken content of "bos_token" (a string or an AddedToken object), if set
 * @param eosToken content of "eos_token", if set
 * @param addBosToken "add_bos_token", if present
 * @param addEosToken "add_eos_token", if present
 * @param cleanUpTokenizationSpaces "clean_up_tokenization_spaces" (transformers' decode option)
 * @param chatTemplate the Jinja chat template, if any
 */
public record TokenizerConfig(String tokenizerClass, Optional<String> bosToken,
    Optional<String> eosToken, Optional<Boolean> addBosToken, Optional<Boolean> addEosToken,
    boolean cleanUpTokenizationSpaces, Optional<String> chatTemplate) {

  public static final TokenizerConfig EMPTY = new TokenizerConfig("", Optional.empty(),
      Optional.empty(), Optional.empty(), Optional.empty(), false, Optional.empty());

  /**
   * @param chatTemplateFile contents of a separate chat_template.jinja, which newer transformers
   *     versions write instead of the "chat_template" field; it wins when both exist
   */
  static TokenizerConfig fromJson(JsonNode root, Optional<String> chatTemplateFile) {
    String where = "tokenizer_config.json";
    Optional<String> template = chatTemplateFile.or(() -> chatTemplate(root.get("chat_template")));
    return new TokenizerConfig(
        JsonFields.optText(root, "tokenizer_class", "", where),
        tokenContent(root, "bos_token"),
        tokenContent(root, "eos_token"),
        optBool(root, "add_bos_token", where),
        optBool(root, "add_eos_token", where),
        JsonFields.bool(root, "clean_up_tokenization_spaces", false, where),
        template);
  }

  private static Optional<Boolean> optBool(JsonNode root, String field, String where) {
    JsonNode value = root.get(field);
    return value == null || value.isNull()
        ? Optional.empty() : Optional.of(JsonFields.bool(root, field, false, where));
  }

  /** "bos_token": "<s>" or {"__type": "AddedToken", "content": "<s>", ...} or null. */
  private static Optional<String> tokenContent(JsonNode root, String field) {
    JsonNode value = root.get(field);
    if (value == null || value.isNull()) {
      return Optional.empty();
    }
    if (value.isTextual()) {
      return Optional.of(value.asText());
    }
    if (value.isObject()) {
      return Optional.of(JsonFields.text(value, "content", "tokenizer_config.json: " + field));
    }
    throw new TokenizerException("tokenizer_config.json: field '" + field
        + "' must be a string or an object with 'content', found " + JsonFields.describe(value));
  }

  /** A string, or a list of {"name": ..., "template": ...} from which "default" is taken. */
  private static Optional<String> chatTemplate(JsonNode value) {
    if (value == null || value.isNull()) {
      return Optional.empty();
    }
    if (value.isTextual()) {
      return Optional.of(value.asText());
    }
    if (value.isArray()) {
      for (JsonNode named : value) {
        if ("default".equals(named.path("name").asText())) {
          return Optional.of(JsonFields.text(named, "template", "tokenizer_config.json: chat_template"));
        }
      }
      throw new TokenizerException("tokenizer_config.json: chat_template is a list without a"
          + " template named \"default\"");
    }
    throw new TokenizerException("tokenizer_config.json: chat_template must be a string or a list,"
        + " found " + JsonFields.describe(value));
  }
}
