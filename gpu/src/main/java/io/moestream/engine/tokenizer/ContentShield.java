package io.moestream.engine.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds where special-token strings typed inside chat message content end up in the rendered
 * prompt, so that the encoder can treat exactly those as text ({@link SpecialTokensInContent#TEXT}).
 *
 * <p>How: before rendering, each special-token string in a message's content is replaced by one
 * private-use character standing for that token (a character that occurs nowhere in the messages,
 * the template or its bos/eos strings); after rendering, each such character is put back and its
 * range recorded. Wrapping whole contents in markers instead would break the templates' own string
 * work on content (Qwen3 strips, splits on {@code </think>} and tests prefixes); a single character
 * in place of a token survives strip, split, upper/lower, concatenation, tojson, repetition and
 * dropping. Only a template that slices content through a marker could cut one off: the marker is
 * then left as an unknown character, which no supported template does.
 *
 * <p>Messages without special-token strings are rendered unchanged, so their prompts (and ids) are
 * exactly those of the plain template.
 */
final class ContentShield {
  /** Private-use code points, in the order tried: BMP, then supplementary planes 15 and 16. */
  private static final int[][] MARKER_RANGES = {{0xE000, 0xF8FF}, {0xF0000, 0xFFFFD}, {0x100000, 0x10FFFD}};

  private final AddedTokenMatcher specials;

  /** {@code specialTokens}: the added tokens marked special, by their tokenizer.json spelling. */
  ContentShield(List<AddedToken> specialTokens) {
    this.specials = new AddedTokenMatcher(specialTokens);
  }

  /** The first special-token string in {@code text}, or null: for text that cannot be shielded. */
  String firstSpecialToken(String text) {
    for (int i = 0; i < text.length(); i++) {
      AddedToken token = specials.longestAt(text, i);
      if (token != null) {
        return token.content();
      }
    }
    return null;
  }

  /** Messages with their special-token strings replaced by markers, and how to put them back. */
  record Shielded(List<ChatMessage> messages, Map<Integer, String> tokenByMarker) {
    /** {@code rendered} with the markers replaced by their tokens, and the tokens' ranges. */
    ChatPrompt restore(String rendered) {
      if (tokenByMarker.isEmpty()) {
        return ChatPrompt.plain(rendered);
      }
      StringBuilder text = new StringBuilder(rendered.length() + 16 * tokenByMarker.size());
      List<int[]> ranges = new ArrayList<>();
      for (int i = 0; i < rendered.length(); ) {
        int cp = rendered.codePointAt(i);
        i += Character.charCount(cp);
        String token = cp < MARKER_RANGES[0][0] ? null : tokenByMarker.get(cp);
        if (token == null) {
          text.appendCodePoint(cp);
        } else {
          ranges.add(new int[] {text.length(), text.length() + token.length()});
          text.append(token);
        }
      }
      int[] flat = new int[2 * ranges.size()];
      for (int r = 0; r < ranges.size(); r++) {
        flat[2 * r] = ranges.get(r)[0];
        flat[2 * r + 1] = ranges.get(r)[1];
      }
      return new ChatPrompt(text.toString(), flat);
    }
  }

  /**
   * {@code messages} with each special-token string in their contents replaced by a marker.
   *
   * @param templateTexts every other string the template may print (its source, bos and eos
   *     tokens): markers are chosen to occur in none of them
   */
  Shielded shield(List<ChatMessage> messages, List<String> templateTexts) {
    Map<String, Integer> markerByToken = new HashMap<>();
    List<ChatMessage> out = new ArrayList<>(messages.size());
    MarkerSource markers = null;
    for (ChatMessage message : messages) {
      String content = message.content();
      if (specials.isEmpty()) {
        out.add(message);
        continue;
      }
      StringBuilder shielded = null;
      int copied = 0;
      for (int i = 0; i < content.length(); ) {
        AddedToken token = specials.longestAt(content, i);
        if (token == null) {
          i++;
          continue;
        }
        if (markers == null) {
          markers = new MarkerSource(messages, templateTexts);
        }
        if (shielded == null) {
          shielded = new StringBuilder(content.length());
        }
        MarkerSource source = markers;
        int marker = markerByToken.computeIfAbsent(token.content(), t -> source.next());
        shielded.append(content, copied, i).appendCodePoint(marker);
        i += token.content().length();
        copied = i;
      }
      out.add(shielded == null ? message
          : new ChatMessage(message.role(), shielded.append(content, copied, content.length()).toString()));
    }
    Map<Integer, String> tokenByMarker = new HashMap<>();
    markerByToken.forEach((token, marker) -> tokenByMarker.put(marker, token));
    return new Shielded(out, tokenByMarker);
  }

  /** Hands out private-use code points that none of the texts of this render contain. */
  private static final class MarkerSource {
    private final Set<Integer> used = new HashSet<>();
    private int range;
    private int next = MARKER_RANGES[0][0];

    MarkerSource(List<ChatMessage> messages, List<String> templateTexts) {
      for (ChatMessage message : messages) {
        collect(message.role());
        collect(message.content());
      }
      templateTexts.forEach(this::collect);
    }

    private void collect(String text) {
      text.codePoints().filter(MarkerSource::isMarkerCandidate).forEach(used::add);
    }

    private static boolean isMarkerCandidate(int cp) {
      for (int[] r : MARKER_RANGES) {
        if (cp >= r[0] && cp <= r[1]) {
          return true;
        }
      }
      return false;
    }

    int next() {
      while (range < MARKER_RANGES.length) {
        while (next <= MARKER_RANGES[range][1]) {
          int candidate = next++;
          if (!used.contains(candidate)) {
            return candidate;
          }
        }
        if (++range < MARKER_RANGES.length) {
          next = MARKER_RANGES[range][0];
        }
      }
      // Needs over 137,000 distinct private-use characters in one request.
      throw new TokenizerException("chat messages use every private-use character; cannot mark the"
          + " special-token strings in their content");
    }
  }
}
