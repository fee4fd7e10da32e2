package io.moestream.engine.tokenizer.bpe;

import io.moestream.engine.tokenizer.IntList;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The BPE model of tokenizer.json: turns one pre-tokenized word into token ids by starting from
 * single symbols and applying the merge rules, lowest rank first (leftmost first among equals), the
 * same order as the Rust library's priority queue.
 *
 * <p>Two spellings of the initial symbols are supported:
 *
 * <ul>
 *   <li>byte-level (GPT-2, Llama 3, Qwen, DeepSeek, OLMoE): each UTF-8 byte of the word is one symbol,
 *       spelled with {@link ByteLevelAlphabet}; every word is encodable.
 *   <li>character-level (SentencePiece BPE such as Llama 2 and Mixtral): each Unicode character is one
 *       symbol; a character missing from the vocabulary becomes its UTF-8 bytes as {@code <0xNN>}
 *       tokens when {@code byte_fallback} is set, else the unknown token (or nothing, without one).
 * </ul>
 *
 * <p>Immutable after construction except for the word cache, a concurrent map that stops growing at
 * {@link #CACHE_CAPACITY} entries (frequent words are seen early, so a full cache still hits well).
 */
public final class BpeModel {
  static final int CACHE_CAPACITY = 100_000;
  /** Longer words are encoded each time: rare, and they would crowd the cache. */
  private static final int CACHE_MAX_WORD_LENGTH = 64;
  /** Words with more symbols use the heap-based merge loop instead of the quadratic one. */
  private static final int QUADRATIC_MAX_SYMBOLS = 48;

  private final Vocabulary vocabulary;
  private final MergeTable merges;
  private final boolean byteLevel;
  private final boolean byteFallback;
  private final boolean ignoreMerges;
  /** Id of the unknown token, -1 without one. */
  private final int unkId;
  private final boolean fuseUnk;
  /** Byte-level: id of the symbol of each byte (-1 if the vocabulary lacks it). */
  private final int[] byteSymbolIds = new int[256];
  /** Byte fallback: id of {@code <0xNN>} for each byte (-1 if the vocabulary lacks it). */
  private final int[] byteFallbackIds = new int[256];
  private final Map<String, int[]> cache = new ConcurrentHashMap<>();

  BpeModel(Vocabulary vocabulary, MergeTable merges, boolean byteLevel, boolean byteFallback,
      boolean ignoreMerges, int unkId, boolean fuseUnk) {
    this.vocabulary = vocabulary;
    this.merges = merges;
    this.byteLevel = byteLevel;
    this.byteFallback = byteFallback;
    this.ignoreMerges = ignoreMerges;
    this.unkId = unkId;
    this.fuseUnk = fuseUnk;
    for (int b = 0; b < 256; b++) {
      byteSymbolIds[b] = vocabulary.id(String.valueOf(ByteLevelAlphabet.charOf(b)));
      byteFallbackIds[b] = vocabulary.id(String.format("<0x%02X>", b));
    }
  }

  public Vocabulary vocabulary() {
    return vocabulary;
  }

  public boolean byteLevel() {
    return byteLevel;
  }

  /** Appends the ids of {@code word} (one pre-tokenized piece, not yet byte-mapped) to {@code out}. */
  public void encodeWord(String word, IntList out) {
    if (word.length() > CACHE_MAX_WORD_LENGTH) {
      out.addAll(encodeUncached(word));
      return;
    }
    int[] ids = cache.get(word);
    if (ids == null) {
      ids = encodeUncached(word);
      if (cache.size() < CACHE_CAPACITY) {
        cache.putIfAbsent(word, ids);
      }
    }
    out.addAll(ids);
  }

  int[] encodeUncached(String word) {
    byte[] utf8 = byteLevel ? word.getBytes(StandardCharsets.UTF_8) : null;
    if (ignoreMerges) {
      int whole = vocabulary.id(byteLevel ? ByteLevelAlphabet.encode(utf8) : word);
      if (whole >= 0) {
        return new int[] {whole};
      }
    }
    int[] ids = (byteLevel ? byteSymbols(utf8) : charSymbols(word)).toArray();
    return ids.length <= QUADRATIC_MAX_SYMBOLS ? mergeQuadratic(ids) : mergeWithHeap(ids);
  }

  /** The ids of the word's symbols before any merge (for tests comparing the merge loops). */
  int[] initialSymbols(String word) {
    return (byteLevel ? byteSymbols(word.getBytes(StandardCharsets.UTF_8)) : charSymbols(word))
        .toArray();
  }

  private IntList byteSymbols(byte[] utf8) {
    IntList symbols = new IntList(utf8.length);
    for (byte b : utf8) {
      int id = byteSymbolIds[b & 0xFF];
      if (id >= 0) {
        symbols.add(id);
      } else {
        addUnknown(symbols);
      }
    }
    return symbols;
  }

  private IntList charSymbols(String word) {
    IntList symbols = new IntList(word.length());
    boolean previousUnknown = false;
    for (int i = 0; i < word.length(); ) {
      int cp = word.codePointAt(i);
      int next = i + Character.charCount(cp);
      int id = vocabulary.id(word.substring(i, next));
      i = next;
      if (id >= 0) {
        symbols.add(id);
        previousUnknown = false;
        continue;
      }
      if (byteFallback && addByteFallback(cp, symbols)) {
        previousUnknown = false;
        continue;
      }
      if (unkId >= 0 && !(fuseUnk && previousUnknown)) {
        symbols.add(unkId);
      }
      previousUnknown = true;
    }
    return symbols;
  }

  /** Adds {@code <0xNN>} for each UTF-8 byte of {@code cp}; false (adding nothing) if one is missing. */
  private boolean addByteFallback(int cp, IntList symbols) {
    byte[] bytes = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
    for (byte b : bytes) {
      if (byteFallbackIds[b & 0xFF] < 0) {
        return false;
      }
    }
    for (byte b : bytes) {
      symbols.add(byteFallbackIds[b & 0xFF]);
    }
    return true;
  }

  private void addUnknown(IntList symbols) {
    if (unkId < 0) {
      return;
    }
    if (fuseUnk && symbols.size() > 0 && symbols.get(symbols.size() - 1) == unkId) {
      return;
    }
    symbols.add(unkId);
  }

  /** Repeatedly merges the lowest-ranked adjacent pair; O(n^2), fastest for short words. */
  int[] mergeQuadratic(int[] ids) {
    int n = ids.length;
    while (n > 1) {
      long best = Long.MAX_VALUE;
      int bestPos = -1;
      for (int i = 0; i + 1 < n; i++) {
        long rule = merges.get(ids[i], ids[i + 1]);
        if (rule >= 0 && rule < best) {
          best = rule;
          bestPos = i;
        }
      }
      if (bestPos < 0) {
        break;
      }
      ids[bestPos] = (int) best;
      System.arraycopy(ids, bestPos + 2, ids, bestPos + 1, n - bestPos - 2);
      n--;
    }
    return n == ids.length ? ids : java.util.Arrays.copyOf(ids, n);
  }

  /**
   * The same merge order with a priority queue of candidate pairs keyed by (rank, position), for
   * long words (a long run of CJK text, minified code) where the quadratic loop would be slow.
   */
  int[] mergeWithHeap(int[] ids) {
    int n = ids.length;
    int[] prev = new int[n];
    int[] next = new int[n];
    boolean[] removed = new boolean[n];
    for (int i = 0; i < n; i++) {
      prev[i] = i - 1;
      next[i] = i + 1 < n ? i + 1 : -1;
    }
    LongHeap heap = new LongHeap(n);
    for (int i = 0; i + 1 < n; i++) {
      pushPair(heap, ids, i, i + 1);
    }
    while (!heap.isEmpty()) {
      long entry = heap.poll();
      int rank = (int) (entry >>> 32);
      int pos = (int) entry;
      int right = next[pos];
      if (removed[pos] || right < 0) {
        continue;
      }
      long rule = merges.get(ids[pos], ids[right]);
      if (rule < 0 || (int) (rule >>> 32) != rank) {
        continue; // stale: one side was merged into something else since this pair was queued
      }
      ids[pos] = (int) rule;
      removed[right] = true;
      next[pos] = next[right];
      if (next[pos] >= 0) {
        prev[next[pos]] = pos;
        pushPair(heap, ids, pos, next[pos]);
      }
      if (prev[pos] >= 0) {
        pushPair(heap, ids, prev[pos], pos);
      }
    }
    IntList out = new IntList(n);
    for (int i = 0; i >= 0; i = next[i]) {
      out.add(ids[i]);
    }
    return out.toArray();
  }

  private void pushPair(LongHeap heap, int[] ids, int left, int right) {
    long rule = merges.get(ids[left], ids[right]);
    if (rule >= 0) {
      heap.add((rule & 0xFFFFFFFF00000000L) | left);
    }
  }
}
