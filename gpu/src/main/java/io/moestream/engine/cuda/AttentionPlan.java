package io.moestream.engine.cuda;

import io.moestream.engine.kv.PagedKvCache;
import java.util.Arrays;

/**
 * Which attention kernel each token of a step goes to. Runs of consecutive step tokens of one sequence
 * at consecutive positions (prompt chunks) are cut into tiles of up to {@link #PREFILL_TILE} for
 * {@code attention_prefill}, which reuses each loaded key for the whole tile; single tokens (decode)
 * go to flash-decoding ({@code paged_attention_decode_partial} + {@code _reduce}).
 *
 * @param decodeTokens step indices of the tokens for flash-decoding
 * @param prefillTiles (numTiles, 2) flattened: {firstToken, count}
 */
record AttentionPlan(int[] decodeTokens, int[] prefillTiles) {
  /** Queries per prefill tile (PREFILL_TILE in attention.cu). */
  static final int PREFILL_TILE = 16;

  static AttentionPlan of(int[] positions, PagedKvCache.Sequence[] sequences) {
    int n = positions.length;
    int[] decode = new int[n];
    int[] tiles = new int[2 * n];
    int numDecode = 0;
    int tileInts = 0;
    for (int start = 0; start < n; ) {
      int end = start + 1;
      while (end < n && sequences[end] == sequences[start] && positions[end] == positions[end - 1] + 1) {
        end++;
      }
      if (end - start == 1) {
        decode[numDecode++] = start;
      } else {
        for (int first = start; first < end; first += PREFILL_TILE) {
          tiles[tileInts++] = first;
          tiles[tileInts++] = Math.min(PREFILL_TILE, end - first);
        }
      }
      start = end;
    }
    return new AttentionPlan(Arrays.copyOf(decode, numDecode), Arrays.copyOf(tiles, tileInts));
  }

  int numPrefillTiles() {
    return prefillTiles.length / 2;
  }
}
