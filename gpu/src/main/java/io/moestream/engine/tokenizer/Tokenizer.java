package io.moestream.engine.tokenizer;

import io.moestream.engine.tokenizer.AddedTokenMatcher.Segment;
import io.moestream.engine.tokenizer.bpe.BpeModel;
import io.moestream.engine.tokenizer.chat.ChatTemplate;
import io.moestream.engine.tokenizer.chat.ChatTemplateKwargs;
import io.moestream.engine.tokenizer.decode.Decoder;
import io.moestream.engine.tokenizer.normalize.Normalizer;
import io.moestream.engine.tokenizer.pretokenize.Piece;
import io.moestream.engine.tokenizer.pretokenize.PreTokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

/**
 * A Hugging Face tokenizer read from a model folder's tokenizer.json and tokenizer_config.json,
 * producing exactly the ids of the reference (the Rust tokenizers library behind transformers):
 * byte-level BPE (Qwen2/Qwen3, DeepSeek-V2/V3, Llama 3, OLMoE) and SentencePiece-style BPE with byte
 * fallback (Mixtral, Llama 2). Encoding runs, as in the reference: added tokens are cut out of the
 * raw text, the rest is normalized (then added tokens marked "normalized" are cut out), split into
 * words by the pre-tokenizers, and each word is merged by the BPE model; the post-processor adds
 * BOS/EOS on request.
 *
 * <p>Why not the native tokenizers library through DJL's JNI binding: in a Flink session cluster the
 * job jar is loaded by a fresh classloader on every submission, and a JNI library can be loaded by one
 * classloader per JVM only, so the second submission fails with "Native Library ... already loaded in
 * another classloader"; and DJL contacts a cloud metadata address at start-up unless told not to,
 * which stalls or leaks on locked-down clusters. Plain Java has neither problem.
 *
 * <p>Immutable and thread-safe after {@link #load}; the BPE word cache is a concurrent map.
 */
public final class Tokenizer {
  /** The parts a tokenizer is made of, as read from its files. */
  record Parts(Normalizer normalizer, PreTokenizers.Pipeline preTokenizers, BpeModel model,
      List<AddedToken> addedTokens, PostProcessor postProcessor, Decoder decoder,
      TokenizerConfig config) {
    Parts withPostProcessor(PostProcessor replacement) {
      return new Parts(normalizer, preTokenizers, model, addedTokens, replacement, decoder, config);
    }
  }

  private final Parts parts;
  private final Map<Integer, AddedToken> addedById = new HashMap<>();
  private final Map<String, Integer> addedIdByContent = new HashMap<>();
  /** Added tokens matched in the raw input, before normalization. */
  private final AddedTokenMatcher rawMatcher;
  /** Added tokens matched in normalized text. */
  private final AddedTokenMatcher normalizedMatcher;
  private final int[] specialIds;
  /** Marks the special-token strings of chat message content (SpecialTokensInContent.TEXT). */
  private final ContentShield contentShield;
  private final int vocabSize;
  private volatile ChatTemplate chatTemplate;

  Tokenizer(Parts parts) {
    this.parts = parts;
    List<AddedToken> raw = new ArrayList<>();
    List<AddedToken> normalized = new ArrayList<>();
    Set<Integer> special = new LinkedHashSet<>();
    List<AddedToken> specialTokens = new ArrayList<>();
    int maxId = parts.model().vocabulary().size() - 1;
    for (AddedToken token : parts.addedTokens()) {
      addedById.put(token.id(), token);
      addedIdByContent.put(token.content(), token.id());
      if (token.normalized()) {
        // As in the reference, a "normalized" token is looked for in normalized text in its
        // normalized spelling (e.g. lowercased when the normalizer lowercases).
        String content = parts.normalizer().normalize(token.content());
        normalized.add(content.isEmpty() ? token : new AddedToken(token.id(), content,
            token.special(), token.lstrip(), token.rstrip(), token.singleWord(), true));
      } else {
        raw.add(token);
      }
      if (token.special()) {
        special.add(token.id());
        specialTokens.add(token);
      }
      maxId = Math.max(maxId, token.id());
    }
    rawMatcher = new AddedTokenMatcher(raw);
    normalizedMatcher = new AddedTokenMatcher(normalized);
    specialIds = special.stream().mapToInt(Integer::intValue).sorted().toArray();
    contentShield = new ContentShield(specialTokens);
    vocabSize = maxId + 1;
  }

  /** Loads {@code modelDir/tokenizer.json} and, when present, tokenizer_config.json. */
  public static Tokenizer load(Path modelDir) {
    return TokenizerLoader.load(modelDir);
  }

  /**
   * Why a folder without tokenizer.json has no tokenizer moestream reads, when it holds another kind:
   * "" or a note naming Kimi-K2's tiktoken file, for the messages that ask for token ids instead.
   */
  public static String absenceNote(Path modelDir) {
    return Files.isRegularFile(modelDir.resolve(TokenizerLoader.TIKTOKEN_MODEL))
        ? " (its " + TokenizerLoader.TIKTOKEN_MODEL + " is a tiktoken tokenizer, as Kimi-K2 ships, which moestream"
            + " does not read)"
        : "";
  }

  /** Whether {@code modelDir} has a tokenizer.json to load. */
  public static boolean isPresent(Path modelDir) {
    return Files.isRegularFile(modelDir.resolve(TokenizerLoader.TOKENIZER_JSON));
  }

  /** The ids of {@code text} without BOS/EOS (transformers' add_special_tokens=False). */
  public int[] encode(String text) {
    return encode(text, false);
  }

  /**
   * The ids of {@code text}, with the post-processor's BOS/EOS when {@code addSpecialTokens}. Every
   * added token is matched, special ones included: raw prompts are written by callers who mean
   * the control tokens they contain (a whole chat template filled in by hand).
   */
  public int[] encode(String text, boolean addSpecialTokens) {
    return encode(text, addSpecialTokens, ChatPrompt.NO_RANGES);
  }

  /**
   * The ids of a rendered chat prompt (no BOS/EOS: the template writes its own), special-token
   * strings inside its text ranges encoded as text.
   */
  public int[] encode(ChatPrompt prompt) {
    return encode(prompt, false);
  }

  /** As {@link #encode(ChatPrompt)}, with the post-processor's BOS/EOS when {@code addSpecialTokens}. */
  public int[] encode(ChatPrompt prompt, boolean addSpecialTokens) {
    return encode(prompt.text(), addSpecialTokens, prompt.rangesView());
  }

  private int[] encode(String text, boolean addSpecialTokens, int[] textRanges) {
    IntList out = new IntList(text.length() / 3 + 4);
    for (Segment segment : split(rawMatcher, text, textRanges, 0)) {
      if (segment.tokenId() >= 0) {
        out.add(segment.tokenId());
        continue;
      }
      String normalizedText = parts.normalizer().normalize(segment.text());
      int[] innerRanges = ChatPrompt.NO_RANGES;
      int innerOffset = 0;
      if (textRanges.length > 0
          && overlaps(textRanges, segment.start(), segment.start() + segment.text().length())) {
        if (normalizedText.equals(segment.text())) {
          innerRanges = textRanges;
          innerOffset = segment.start();
        } else {
          // Normalizing moved the offsets; no supported tokenizer has a special token matched after
          // a normalizer that changes text, so rather than map offsets, none in this stretch counts.
          innerRanges = new int[] {0, normalizedText.length()};
        }
      }
      for (Segment inner : split(normalizedMatcher, normalizedText, innerRanges, innerOffset)) {
        if (inner.tokenId() >= 0) {
          out.add(inner.tokenId());
        } else {
          boolean atInputStart = segment.start() == 0 && inner.start() == 0;
          encodeWords(new Piece(inner.text(), atInputStart), out);
        }
      }
    }
    int[] ids = out.toArray();
    return addSpecialTokens ? parts.postProcessor().apply(ids) : ids;
  }

  private static List<Segment> split(AddedTokenMatcher matcher, String text, int[] textRanges,
      int offset) {
    if (text.isEmpty()) {
      return List.of();
    }
    return matcher.isEmpty() ? List.of(new Segment(-1, text, 0))
        : matcher.split(text, textRanges, offset);
  }

  /** Whether a range of the ascending, disjoint {@code ranges} meets [start, end); O(log n). */
  private static boolean overlaps(int[] ranges, int start, int end) {
    int lo = 0;
    int hi = ranges.length / 2; // first range ending after start, by binary search on the ends
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (ranges[2 * mid + 1] <= start) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo < ranges.length / 2 && ranges[2 * lo] < end;
  }

  private void encodeWords(Piece segment, IntList out) {
    for (Piece word : parts.preTokenizers().split(segment)) {
      parts.model().encodeWord(word.text(), out);
    }
  }

  /** The text of {@code ids}, special tokens included. */
  public String decode(int[] ids) {
    return decode(ids, false);
  }

  /**
   * The text of {@code ids}. As in the reference, ids that name no token are left out (models often
   * pad their embedding matrix beyond the vocabulary).
   */
  public String decode(int[] ids, boolean skipSpecialTokens) {
    return decode(ids, 0, ids.length, skipSpecialTokens);
  }

  String decode(int[] ids, int from, int to, boolean skipSpecialTokens) {
    List<String> tokens = new ArrayList<>(to - from);
    for (int i = from; i < to; i++) {
      AddedToken added = addedById.get(ids[i]);
      if (added != null) {
        if (!(skipSpecialTokens && added.special())) {
          tokens.add(added.content());
        }
        continue;
      }
      String token = parts.model().vocabulary().token(ids[i]);
      if (token != null) {
        tokens.add(token);
      }
    }
    String text = parts.decoder().decode(tokens);
    return parts.config().cleanUpTokenizationSpaces() ? cleanUpTokenizationSpaces(text) : text;
  }

  /** transformers' clean_up_tokenization: drops the space the old BERT tokenizers put before punctuation. */
  static String cleanUpTokenizationSpaces(String text) {
    return text.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",")
        .replace(" ' ", "'").replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s")
        .replace(" 've", "'ve").replace(" 're", "'re");
  }

  /** A streaming decoder that returns text only once its UTF-8 characters are complete. */
  public IncrementalDecoder newIncrementalDecoder() {
    return new IncrementalDecoder(this, false);
  }

  public IncrementalDecoder newIncrementalDecoder(boolean skipSpecialTokens) {
    return new IncrementalDecoder(this, skipSpecialTokens);
  }

  /** One more than the largest id of the vocabulary and the added tokens. */
  public int vocabSize() {
    return vocabSize;
  }

  /** The id of a token string (an added token or a vocabulary entry, in its vocabulary spelling). */
  public OptionalInt tokenId(String token) {
    Integer added = addedIdByContent.get(token);
    if (added != null) {
      return OptionalInt.of(added);
    }
    int id = parts.model().vocabulary().id(token);
    return id < 0 ? OptionalInt.empty() : OptionalInt.of(id);
  }

  /** The ids of the added tokens marked special, ascending. */
  public int[] specialTokenIds() {
    return specialIds.clone();
  }

  public Set<Integer> specialTokenIdSet() {
    Set<Integer> set = new LinkedHashSet<>();
    for (int id : specialIds) {
      set.add(id);
    }
    return Collections.unmodifiableSet(set);
  }

  public boolean isSpecial(int id) {
    AddedToken added = addedById.get(id);
    return added != null && added.special();
  }

  /** The id of tokenizer_config.json's "bos_token", if set. */
  public OptionalInt bosTokenId() {
    return parts.config().bosToken().map(this::tokenId).orElse(OptionalInt.empty());
  }

  /** The id of tokenizer_config.json's "eos_token", if set. */
  public OptionalInt eosTokenId() {
    return parts.config().eosToken().map(this::tokenId).orElse(OptionalInt.empty());
  }

  public TokenizerConfig config() {
    return parts.config();
  }

  public boolean hasChatTemplate() {
    return parts.config().chatTemplate().isPresent();
  }

  /**
   * Renders the chat template of tokenizer_config.json for {@code messages}, as transformers'
   * apply_chat_template(messages, tokenize=False, add_generation_prompt=...) does.
   */
  public String applyChatTemplate(List<ChatMessage> messages, boolean addGenerationPrompt) {
    return chatTemplate().render(messages, addGenerationPrompt);
  }

  /**
   * Renders the chat template like {@link #applyChatTemplate} (the text is the same in either mode)
   * and, for {@link SpecialTokensInContent#TEXT}, records where special-token strings from message
   * content landed so that {@link #encode(ChatPrompt)} keeps them as text. Non-special added tokens
   * (Qwen3's {@code <think>}, {@code <tool_call>}) stay tokens in content, as in transformers: they
   * are vocabulary for ordinary model output that clients send back in assistant turns.
   */
  public ChatPrompt renderChat(List<ChatMessage> messages, boolean addGenerationPrompt,
      SpecialTokensInContent specialTokensInContent) {
    return renderChat(messages, addGenerationPrompt, specialTokensInContent, ChatTemplateKwargs.NONE);
  }

  /**
   * As {@link #renderChat(List, boolean, SpecialTokensInContent)} with extra template variables. In
   * {@link SpecialTokensInContent#TEXT} mode a kwargs string holding a special-token string is
   * refused: templates print kwargs anywhere (not only inside a turn), so it cannot be kept as text.
   */
  public ChatPrompt renderChat(List<ChatMessage> messages, boolean addGenerationPrompt,
      SpecialTokensInContent specialTokensInContent, ChatTemplateKwargs kwargs) {
    if (specialTokensInContent == SpecialTokensInContent.CONTROL) {
      return ChatPrompt.plain(chatTemplate().render(messages, addGenerationPrompt, kwargs));
    }
    List<String> templateTexts = new ArrayList<>(List.of(parts.config().chatTemplate().orElse(""),
        parts.config().bosToken().orElse(""), parts.config().eosToken().orElse("")));
    kwargs.forEachString((key, text) -> {
      String token = contentShield.firstSpecialToken(text);
      if (token != null) {
        throw new TokenizerException("chat_template_kwargs." + key + ": holds the special token " + token
            + ", which only the template may write");
      }
      templateTexts.add(text); // markers must not collide with kwargs text either
    });
    ContentShield.Shielded shielded = contentShield.shield(messages, templateTexts);
    return shielded.restore(chatTemplate().render(shielded.messages(), addGenerationPrompt, kwargs));
  }

  /** {@code encode(renderChat(messages, addGenerationPrompt, specialTokensInContent))}. */
  public int[] encodeChat(List<ChatMessage> messages, boolean addGenerationPrompt,
      SpecialTokensInContent specialTokensInContent) {
    return encode(renderChat(messages, addGenerationPrompt, specialTokensInContent));
  }

  /** {@code encode(renderChat(messages, addGenerationPrompt, specialTokensInContent, kwargs))}. */
  public int[] encodeChat(List<ChatMessage> messages, boolean addGenerationPrompt,
      SpecialTokensInContent specialTokensInContent, ChatTemplateKwargs kwargs) {
    return encode(renderChat(messages, addGenerationPrompt, specialTokensInContent, kwargs));
  }

  private ChatTemplate chatTemplate() {
    ChatTemplate template = chatTemplate;
    if (template == null) {
      synchronized (this) {
        if (chatTemplate == null) {
          String source = parts.config().chatTemplate().orElseThrow(() -> new TokenizerException(
              "tokenizer_config.json: no chat_template (and no chat_template.jinja)"));
          chatTemplate = new ChatTemplate(source, parts.config().bosToken().orElse(""),
              parts.config().eosToken().orElse(""));
        }
        template = chatTemplate;
      }
    }
    return template;
  }
}
