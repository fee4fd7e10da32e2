package io.moestream.engine.tokenizer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.engine.tokenizer.bpe.BpeJson;
import io.moestream.engine.tokenizer.bpe.BpeModel;
import io.moestream.engine.tokenizer.bpe.BpeModels;
import io.moestream.engine.tokenizer.decode.Decoders;
import io.moestream.engine.tokenizer.normalize.Normalizers;
import io.moestream.engine.tokenizer.pretokenize.PreTokenizers;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Reads tokenizer.json and tokenizer_config.json of a model folder into a {@link Tokenizer}. */
final class TokenizerLoader {
  static final String TOKENIZER_JSON = "tokenizer.json";
  static final String TOKENIZER_CONFIG_JSON = "tokenizer_config.json";
  static final String CHAT_TEMPLATE_JINJA = "chat_template.jinja";
  static final String TIKTOKEN_MODEL = "tiktoken.model";

  /**
   * Tokenizer classes whose transformers implementation rebuilds the post-processor from
   * "add_bos_token"/"add_eos_token" when it loads (LlamaTokenizerFast.update_post_processor), so
   * those flags, not the post-processor stored in tokenizer.json, decide BOS/EOS.
   */
  private static final Set<String> CLASSES_WITH_BOS_EOS_FLAGS = Set.of(
      "LlamaTokenizer", "LlamaTokenizerFast", "CodeLlamaTokenizer", "CodeLlamaTokenizerFast",
      "GemmaTokenizer", "GemmaTokenizerFast");

  /**
   * Field names are not canonicalized or interned: the vocabulary's 150k token strings are field
   * names, and pooling them would only cost time.
   */
  private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
      .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
      .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
      .build());

  private TokenizerLoader() {}

  static Tokenizer load(Path modelDir) {
    Path tokenizerJson = modelDir.resolve(TOKENIZER_JSON);
    if (!Files.isRegularFile(tokenizerJson) && Files.isRegularFile(modelDir.resolve(TIKTOKEN_MODEL))) {
      // Kimi-K2 ships a tiktoken BPE file and Python code (tokenization_kimi.py), no tokenizer.json.
      throw new TokenizerException(modelDir + ": has " + TIKTOKEN_MODEL + " but no " + TOKENIZER_JSON
          + ": tiktoken tokenizers (Kimi-K2's) are not supported; the weights load and run with token ids"
          + " (--token-ids), or add a tokenizer.json converted from it");
    }
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
    TokenizerConfig config = TokenizerConfig.fromJson(
        Files.isRegularFile(configPath) ? readJson(configPath) : JSON.createObjectNode(), templateFile);
    return stream(tokenizerJson, config);
  }

  /**
   * Parses tokenizer.json with a streaming parser: the model's "vocab" and "merges" go straight into
   * their final maps, everything else (small) becomes a tree. Building a full tree of the 11 MB
   * Qwen3 file first would take most of the one-second loading budget.
   */
  private static Tokenizer stream(Path file, TokenizerConfig config) {
    String where = file.toString();
    try (JsonParser parser = JSON.createParser(file.toFile())) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        throw new TokenizerException(where + ": must hold a JSON object");
      }
      ObjectNode root = JSON.createObjectNode();
      Map<String, Integer> vocab = null;
      BpeJson.Merges merges = null;
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String field = parser.currentName();
        JsonToken value = parser.nextToken();
        if (!field.equals("model") || value != JsonToken.START_OBJECT) {
          root.set(field, parser.readValueAsTree());
          continue;
        }
        ObjectNode model = root.putObject("model");
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
          String modelField = parser.currentName();
          JsonToken modelValue = parser.nextToken();
          if (modelField.equals("vocab") && modelValue == JsonToken.START_OBJECT) {
            vocab = BpeJson.readVocab(parser, where + ": model.vocab");
          } else if (modelField.equals("merges") && modelValue == JsonToken.START_ARRAY) {
            merges = BpeJson.readMerges(parser, where + ": model.merges");
          } else {
            model.set(modelField, parser.readValueAsTree());
          }
        }
      }
      return build(root, vocab, merges, config, where);
    } catch (NoSuchFileException | FileNotFoundException e) {
      throw new TokenizerException(where + ": file not found", e);
    } catch (IOException e) {
      throw new TokenizerException(where + ": not valid JSON: " + e.getMessage(), e);
    }
  }

  /** Builds a tokenizer from a fully parsed tokenizer.json (small files, tests). */
  static Tokenizer build(JsonNode root, TokenizerConfig config, String file) {
    if (!root.isObject()) {
      throw new TokenizerException(file + ": must hold a JSON object");
    }
    JsonNode model = JsonFields.object(root, "model", file);
    String where = file + ": model";
    Map<String, Integer> vocab = model.has("vocab")
        ? BpeJson.vocab(JsonFields.object(model, "vocab", where), where + ".vocab") : null;
    BpeJson.Merges merges = model.has("merges")
        ? BpeJson.merges(JsonFields.array(model, "merges", where), where + ".merges") : null;
    return build(root, vocab, merges, config, file);
  }

  private static Tokenizer build(JsonNode root, Map<String, Integer> vocab, BpeJson.Merges merges,
      TokenizerConfig config, String file) {
    PreTokenizers.Pipeline preTokenizers =
        PreTokenizers.fromJson(root.get("pre_tokenizer"), file + ": pre_tokenizer");
    BpeModel model = BpeModels.build(JsonFields.object(root, "model", file), vocab, merges,
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
