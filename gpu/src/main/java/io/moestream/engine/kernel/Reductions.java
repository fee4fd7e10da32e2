package io.moestream.engine.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The sum of a vector's lanes in one fixed order, whatever compiled it.
 *
 * <p>Why not {@code reduceLanes(ADD)}: its order is unspecified. JDK 17's C2 adds the lanes in order, as
 * the interpreter does, but JDK 25's C2 may use a tree, so a token's logits could differ in the last
 * bits between a cold and a warm JVM, and a replayed generation could differ from the original. A
 * butterfly of lane permutes and adds (exact per lane) gives the same bits in every tier, in fewer
 * dependent steps than an ordered reduction.
 */
final class Reductions {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final int L = F.length();
  // Lane exchanges at distance 8, 4, 2, 1; static final so C2 sees constants. (A preferred float
  // species has at most 16 lanes: 512 bits.)
  private static final VectorShuffle<Float> SWAP_8 = swap(8);
  private static final VectorShuffle<Float> SWAP_4 = swap(4);
  private static final VectorShuffle<Float> SWAP_2 = swap(2);
  private static final VectorShuffle<Float> SWAP_1 = swap(1);

  private Reductions() {}

  private static VectorShuffle<Float> swap(int distance) {
    return distance < L ? VectorShuffle.fromOp(F, lane -> lane ^ distance) : null;
  }

  /** Sum of the lanes of {@code v}: pairs at distance L/2, then L/4, ..., then 1. */
  static float sum(FloatVector v) {
    if (L >= 16) {
      v = v.add(v.rearrange(SWAP_8));
    }
    if (L >= 8) {
      v = v.add(v.rearrange(SWAP_4));
    }
    if (L >= 4) {
      v = v.add(v.rearrange(SWAP_2));
    }
    if (L >= 2) {
      v = v.add(v.rearrange(SWAP_1));
    }
    return v.lane(0);
  }
}
