package io.moestream.engine.parallel;

/**
 * One sparse layer's token dispatch and combine across devices for one step, as the all-to-all over NVLink
 * would run it: each token's hidden state lives on its home device (where its attention ran); each routed
 * (token, slot) entry goes to the device holding that slot's expert, which computes the expert's output and
 * sends it back in the same order.
 *
 * <p>Entries are numbered {@code token * maxK + slot}, as the CPU path's slot rows. Every list here is in
 * ascending entry order and every receive buffer is source-major, so the layout is a pure function of the
 * routing and the placement; the home device writes each returned output at its entry's slot row and
 * combines a token's slots in slot order, exactly as the single-device path does. The result is therefore
 * bitwise independent of the placement, given expert kernels whose per-row result does not depend on which
 * other rows share the call (the CPU matmuls guarantee that; the GPU's grouped GEMM does too).
 */
public final class TokenExchangePlan {
  private final int numDevices;
  private final int maxK;
  /** [src][dst]: the entries src sends to dst, ascending. */
  private final int[][][] sends;

  private TokenExchangePlan(int numDevices, int maxK, int[][][] sends) {
    this.numDevices = numDevices;
    this.maxK = maxK;
    this.sends = sends;
  }

  /**
   * @param homeDevice (numTokens) where each token's hidden state is (data-parallel attention: its sequence's
   *     device; replicated attention: all 0)
   * @param candidates (numTokens, maxK) each token's experts in slot order; slots from selectedK[t] on unused
   * @param selectedK (numTokens) each token's k this step (per-token k, as on the CPU)
   * @param deviceOfExpert (numExperts) this layer's row of {@link ExpertPlacement#deviceOfExpert()}
   */
  public static TokenExchangePlan of(int numDevices, int[] homeDevice, int[] candidates, int maxK, int[] selectedK,
      int[] deviceOfExpert) {
    int numTokens = homeDevice.length;
    if (candidates.length < numTokens * maxK || selectedK.length != numTokens) {
      throw new IllegalArgumentException("candidates must be (numTokens=" + numTokens + ", maxK=" + maxK
          + ") and selectedK (numTokens), found " + candidates.length + " and " + selectedK.length);
    }
    int[][] counts = new int[numDevices][numDevices];
    for (int t = 0; t < numTokens; t++) {
      if (selectedK[t] < 0 || selectedK[t] > maxK) {
        throw new IllegalArgumentException("token " + t + ": k " + selectedK[t] + " outside [0, " + maxK + "]");
      }
      for (int j = 0; j < selectedK[t]; j++) {
        counts[homeDevice[t]][deviceOf(deviceOfExpert, candidates[t * maxK + j], t, j)]++;
      }
    }
    int[][][] sends = new int[numDevices][numDevices][];
    int[][] fill = new int[numDevices][numDevices];
    for (int s = 0; s < numDevices; s++) {
      for (int d = 0; d < numDevices; d++) {
        sends[s][d] = new int[counts[s][d]];
      }
    }
    for (int t = 0; t < numTokens; t++) { // ascending tokens, then slots: ascending entries
      int s = homeDevice[t];
      for (int j = 0; j < selectedK[t]; j++) {
        int d = deviceOfExpert[candidates[t * maxK + j]];
        sends[s][d][fill[s][d]++] = t * maxK + j;
      }
    }
    return new TokenExchangePlan(numDevices, maxK, sends);
  }

  private static int deviceOf(int[] deviceOfExpert, int expert, int token, int slot) {
    if (expert < 0 || expert >= deviceOfExpert.length) {
      throw new IllegalArgumentException("token " + token + ", slot " + slot + ": expert " + expert + " outside [0, "
          + deviceOfExpert.length + ")");
    }
    return deviceOfExpert[expert];
  }

  public int numDevices() {
    return numDevices;
  }

  public int maxK() {
    return maxK;
  }

  /** The entries (token * maxK + slot) device {@code src} sends to {@code dst}, ascending; results come back in this order. */
  public int[] sends(int src, int dst) {
    return sends[src][dst].clone();
  }

  /** Rows per (src, dst): the all-to-all's split sizes (src's send counts, dst's receive counts). */
  public int count(int src, int dst) {
    return sends[src][dst].length;
  }

  /**
   * What {@code dst} receives, source-major (all of device 0's entries, then device 1's, ...): the row order of
   * its receive buffer and of the outputs it returns.
   */
  public int[] received(int dst) {
    int total = 0;
    for (int s = 0; s < numDevices; s++) {
      total += sends[s][dst].length;
    }
    int[] rows = new int[total];
    for (int s = 0, at = 0; s < numDevices; s++) {
      System.arraycopy(sends[s][dst], 0, rows, at, sends[s][dst].length);
      at += sends[s][dst].length;
    }
    return rows;
  }

  /** Where src's rows start in {@code dst}'s receive buffer. */
  public int receiveOffset(int dst, int src) {
    int offset = 0;
    for (int s = 0; s < src; s++) {
      offset += sends[s][dst].length;
    }
    return offset;
  }

  /** Rows that cross devices (src != dst): what the NVLink all-to-all moves each way. */
  public int crossDeviceRows() {
    int rows = 0;
    for (int s = 0; s < numDevices; s++) {
      for (int d = 0; d < numDevices; d++) {
        rows += s == d ? 0 : sends[s][d].length;
      }
    }
    return rows;
  }
}
