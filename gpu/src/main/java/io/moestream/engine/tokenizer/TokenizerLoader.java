package io.moestream.engine.tokenizer;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.moestream.engine.tokenizer.bpe.BpeModel;
import io.moestream.engine.tokenizer.bpe.BpeModels;
import io.moestream.engine.tokenizer.decode.Decoders;
import io.moestream.engine.tokenizer.normalize.Normalizers;
import io.moestream.engine.tokenizer.pretokenize.PreTokenizers;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Reads tokenizer.json and tokenizer_config.json of a model folder into a {@link Tokenizer}. */
final class TokenizerLoader {
  static final String TOKENIZER_JSON = "tokenizer.json";
  static final String TOKENIZER_CONFIG_JSON = "tokenizer_config.json";
  static final String CHAT_TEMPLATE_JINJA = "chat_template.jinja";

  /**
   * Tokenizer classes whose transformers implementation rebuilds the post-processor from
   * "add_bos_token"/"add_eos_token" when it loads (LlamaTokenizerFast.update_post_processor), so
   * those flags, not the post-processor stored in tokenizer.json, decide BOS/EOS.
   */
  private static final Set<String> CLASSES_WITH_BOS_EOS_FLAGS = Set.of(
      "LlamaTokenizer", "LlamaTokenizerFast", "CodeLlamaTokenizer", "CodeLlamaTokenizerFast",
      "GemmaTokenizer", "GemmaTokenizerFast");

  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS);

  private TokenizerLoader() {}

  static Tokenizer load(Path modelDir) {
    Path tokenizerJson = modelDir.resolve(TOKENIZER_JSON);
    JsonNode root = readJson(tokenizerJson);
    Path configPath = modelDir.resolve(TOKENIZER_CONFIG_JSON);
    Optional<String> templateFile = Optional.empty();
    Path templatePath = modelDir.resolve(CHAT_TEMPLATE_JINJA);
    if (Files.isRegularFile(templatePath)) {
      try {
        templateFile = Optional.of(Files.readString(templatePath));
      } catch (IOException e) {
        throw new TokenizerException(templatePath + ": cannot be read: " + e.getMessage(), e);
      }
    }
    TokenizerConfig config = Files.isRegularFile(configPath)
        ? TokenizerConfig.fromJson(readJson(configPath), templateFile)
        : TokenizerConfig.EMPTY;
    return build(root, config, tokenizerJson.toString());
  }

  static Tokenizer build(JsonNode root, TokenizerConfig config, String file) {
    if (!root.isObject()) {
      throw new TokenizerException(file + ": must hold a JSON object");
    }
    PreTokenizers.Pipeline preTokenizers =
        PreTokenizers.fromJson(root.get("pre_tokenizer"), file + ": pre_tokenizer");
    BpeModel model = BpeModels.fromJson(JsonFields.object(root, "model", file),
        preTokenizers.byteLevel(), file + ": model");
    List<AddedToken> addedTokens = addedTokens(root.get("added_tokens"), file);
    Tokenizer.Parts parts = new Tokenizer.Parts(
        Normalizers.fromJson(root.get("normalizer"), file + ": normalizer"),
        preTokenizers,
        model,
        addedTokens,
        PostProcessor.fromJson(root.get("post_processor"), file + ": post_processor"),
        Decoders.fromJson(root.get("decoder"), file + ": decoder"),
        config);
    Tokenizer tokenizer = new Tokenizer(parts);
    PostProcessor fromFlags = postProcessorFromFlags(tokenizer, config);
    return fromFlags == null ? tokenizer : new Tokenizer(parts.withPostProcessor(fromFlags));
  }

  private static List<AddedToken> addedTokens(JsonNode list, String file) {
    List<AddedToken> tokens = new ArrayList<>();
    if (list == null || list.isNull()) {
      return tokens;
    }
    if (!list.isArray()) {
      throw new TokenizerException(file + ": field 'added_tokens' must be an array");
    }
    for (int i = 0; i < list.size(); i++) {
      JsonNode t = list.get(i);
      String where = file + ": added_tokens[" + i + "]";
      tokens.add(new AddedToken(JsonFields.integer(t, "id", where),
          JsonFields.text(t, "content", where),
          JsonFields.bool(t, "special", false, where),
          JsonFields.bool(t, "lstrip", false, where),
          JsonFields.bool(t, "rstrip", false, where),
          JsonFields.bool(t, "single_word", false, where),
          JsonFields.bool(t, "normalized", true, where)));
    }
    return tokens;
  }

  private static PostProcessor postProcessorFromFlags(Tokenizer tokenizer, TokenizerConfig config) {
    if (!CLASSES_WITH_BOS_EOS_FLAGS.contains(config.tokenizerClass())) {
      return null;
    }
    boolean addBos = config.addBosToken().orElse(true);
    boolean addEos = config.addEosToken().orElse(false);
    int[] prefix = addBos ? new int[] {requireId(tokenizer, config.bosToken(), "bos_token")}
        : new int[0];
    int[] suffix = addEos ? new int[] {requireId(tokenizer, config.eosToken(), "eos_token")}
        : new int[0];
    return new PostProcessor(prefix, suffix);
  }

  private static int requireId(Tokenizer tokenizer, Optional<String> token, String field) {
    String content = token.orElseThrow(() -> new TokenizerException(TOKENIZER_CONFIG_JSON
        + ": add_" + field + " is true but '" + field + "' is not set"));
    return tokenizer.tokenId(content).orElseThrow(() -> new TokenizerException(
        TOKENIZER_CONFIG_JSON + ": " + field + " \"" + content + "\" is not in the vocabulary"));
  }

  static JsonNode readJson(Path path) {
    try (InputStream in = Files.newInputStream(path)) {
      return JSON.readTree(in);
    } catch (NoSuchFileException e) {
      throw new TokenizerException(path + ": file not found", e);
    } catch (IOException e) {
      throw new TokenizerException(path + ": not valid JSON: " + e.getMessage(), e);
    }
  }
}
