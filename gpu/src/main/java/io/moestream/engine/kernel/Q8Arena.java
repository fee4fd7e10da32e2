package io.moestream.engine.kernel;

import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One block of direct memory that Q8_0 matrices are cut from, in 2 MiB pages where the native library is
 * loaded ({@link NativeKernels#mapHugePages}: mapped and advised before anything touches it), in a plain
 * direct buffer elsewhere. Why: the int8 weights are read whole at every decode step, and a machine whose
 * transparent huge pages are "madvise" only leaves per-matrix direct buffers in 4 KiB pages, which the
 * kernel streams about 5% slower (docs/ENGINE.md). The mapping goes back when the block and every matrix cut
 * from it are unreachable, as a direct buffer's memory does.
 */
public final class Q8Arena {
  private static final Cleaner CLEANER = Cleaner.create();
  /** Cut at 64-byte boundaries, so every matrix's codes and scales start on one (Q8Blocks' layout). */
  private static final int ALIGN = 64;

  private final ByteBuffer block;
  private final boolean hugePages;
  private long used;

  private Q8Arena(ByteBuffer block, boolean hugePages) {
    this.block = block;
    this.hugePages = hugePages;
  }

  /**
   * A block that holds matrices of {@link Q8Blocks#blockBytes} summing to {@code bytes}.
   *
   * @throws IllegalArgumentException when {@code bytes} exceeds one buffer (2 GiB)
   * @throws OutOfMemoryError naming the size where no memory could be had
   */
  public static Q8Arena reserve(long bytes) {
    if (bytes <= 0 || bytes > Integer.MAX_VALUE - ALIGN) {
      throw new IllegalArgumentException("an int8 block holds 1 to " + (Integer.MAX_VALUE - ALIGN) + " bytes, asked "
          + bytes);
    }
    if (NativeKernels.available()) {
      ByteBuffer mapped = NativeKernels.mapHugePages(bytes);
      if (mapped != null) {
        CLEANER.register(mapped, new Unmap(NativeKernels.address(mapped), bytes));
        return new Q8Arena(mapped, true);
      }
    }
    return direct(bytes, "int8 weights");
  }

  /**
   * A block in a plain direct buffer ({@code bytes} at most {@code Integer.MAX_VALUE - 64}), as the JVM pages it.
   *
   * @throws OutOfMemoryError naming {@code what} where no direct memory could be had
   */
  static Q8Arena direct(long bytes, String what) {
    try {
      return new Q8Arena(ByteBuffer.allocateDirect((int) bytes + ALIGN).alignedSlice(ALIGN), false);
    } catch (OutOfMemoryError e) {
      throw new OutOfMemoryError("no direct memory for " + bytes + " bytes of " + what + " (" + e.getMessage()
          + "); raise -XX:MaxDirectMemorySize");
    }
  }

  /** Whether the block was mapped and advised for 2 MiB pages (the kernel may still give smaller ones). */
  public boolean hugePages() {
    return hugePages;
  }

  /** Bytes left for more matrices. */
  public long remaining() {
    return block.capacity() - used;
  }

  /**
   * A zeroed (rows, cols) Q8_0 matrix cut from this block, to be filled by {@link Q8Blocks#quantizeRows}.
   *
   * @throws IllegalArgumentException naming the matrix when cols is not a multiple of 32 or it does not fit
   */
  public Matrix allocate(String name, int rows, int cols) {
    Q8Blocks.checkColumns(name, rows, cols);
    long codeBytes = Q8Blocks.codeBytes(rows, cols);
    long scaleBytes = Q8Blocks.scaleBytes(rows, cols);
    long alignedCodes = align(codeBytes);
    if (used + alignedCodes + scaleBytes > block.capacity()) {
      throw new IllegalArgumentException(name + ": " + rows + "x" + cols + " needs " + Q8Blocks.blockBytes(rows, cols)
          + " bytes of int8 block, " + remaining() + " left");
    }
    ByteBuffer codes = block.slice((int) used, (int) codeBytes).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer scales = block.slice((int) (used + alignedCodes), (int) scaleBytes).order(ByteOrder.LITTLE_ENDIAN);
    used += alignedCodes + align(scaleBytes);
    return Matrix.q8(name, rows, cols, codes, scales);
  }

  static long align(long bytes) {
    return (bytes + ALIGN - 1) & -ALIGN;
  }

  /** The Cleaner's action: holds the mapping's address and length, not the buffer (that would keep it alive). */
  private record Unmap(long address, long bytes) implements Runnable {
    @Override
    public void run() {
      NativeKernels.unmap(address, bytes);
    }
  }
}
