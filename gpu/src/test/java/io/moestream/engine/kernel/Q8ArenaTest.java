package io.moestream.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.engine.format.DType;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Q8_0 matrices cut from one {@link Q8Arena} block: each is the matrix {@link Q8Blocks#allocate} gives (the same
 * codes and scales once quantized, so the same products), each starts on 64 bytes, they do not overlap, and a
 * matrix that does not fit is refused by name. Where the native library loads, the block is a mapping advised
 * for 2 MiB pages.
 */
class Q8ArenaTest {
  @Test
  void matricesCutFromABlockAreTheStandaloneOnes() {
    SplittableRandom random = new SplittableRandom(5);
    int[][] shapes = {{16, 32}, {40, 64}, {3, 96}, {33, 128}};
    long bytes = 0;
    for (int[] shape : shapes) {
      bytes += Q8Blocks.blockBytes(shape[0], shape[1]);
    }
    Q8Arena arena = Q8Arena.reserve(bytes);
    assertEquals(NativeKernels.available(), arena.hugePages());
    Matrix[] cut = new Matrix[shapes.length];
    for (int i = 0; i < shapes.length; i++) {
      int rows = shapes[i][0];
      int cols = shapes[i][1];
      float[] values = new float[rows * cols];
      for (int v = 0; v < values.length; v++) {
        values[v] = (float) random.nextGaussian();
      }
      Matrix source = Matrix.fromFloats("m" + i, DType.F32, rows, cols, values);
      cut[i] = arena.allocate("m" + i, rows, cols);
      Q8Blocks.quantizeRows(source, cut[i], 0, rows);
      Matrix alone = Q8Blocks.quantize(source);
      float[] x = new float[2 * cols];
      for (int v = 0; v < x.length; v++) {
        x[v] = (float) random.nextGaussian();
      }
      float[] fromArena = new float[2 * rows];
      float[] fromAlone = new float[2 * rows];
      ScalarKernels kernels = new ScalarKernels();
      kernels.matmul(cut[i], MatmulInput.of(x, 2, cols), fromArena, 0, rows);
      kernels.matmul(alone, MatmulInput.of(x, 2, cols), fromAlone, 0, rows);
      for (int v = 0; v < fromArena.length; v++) {
        assertEquals(Float.floatToRawIntBits(fromAlone[v]), Float.floatToRawIntBits(fromArena[v]), "m" + i + " " + v);
      }
    }
    assertEquals(0, arena.remaining(), "the block is exactly the sum of Q8Blocks.blockBytes");
    for (int i = 0; i < shapes.length; i++) { // quantizing a later matrix left the earlier ones as they were
      assertTrue(cut[i].ownedBytes() > 0);
    }
    IllegalArgumentException full = assertThrows(IllegalArgumentException.class, () -> arena.allocate("extra", 16, 32));
    assertTrue(full.getMessage().startsWith("extra: 16x32 needs 576 bytes"), full.getMessage());
    IllegalArgumentException columns = assertThrows(IllegalArgumentException.class,
        () -> Q8Arena.reserve(1024).allocate("odd", 16, 30));
    assertTrue(columns.getMessage().startsWith("odd: int8 (Q8_0) weights need a column count divisible by 32"),
        columns.getMessage());
  }
}
