package io.moestream.engine.testmodel;

import io.moestream.engine.format.DType;
import io.moestream.engine.format.SafetensorsWriter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/**
 * Writes a layout ({@link CheckpointLayout}) as a sharded checkpoint ({@link ShardPlan}): shape only
 * (headers and index, the data left as holes of sparse files), or with random values that depend only on
 * the seed and each tensor's name ({@link TestModelWriter}'s).
 */
public final class CheckpointWriter {
  private CheckpointWriter() {}

  /**
   * What was written.
   *
   * @param tensorBytes the sum of the tensors' sizes (the index's total_size)
   * @param diskBytes the blocks the folder takes on disk ({@code du}); empty where du cannot tell
   */
  public record Summary(Path folder, int tensors, int shards, long tensorBytes, OptionalLong diskBytes) {
    @Override
    public String toString() {
      return String.format(Locale.ROOT, "%s: %,d tensors in %d shard%s, %,d bytes of tensors (%.1f GB), %s on disk",
          folder, tensors, shards, shards == 1 ? "" : "s", tensorBytes, tensorBytes / 1e9,
          diskBytes.isPresent() ? String.format(Locale.ROOT, "%,d bytes", diskBytes.getAsLong()) : "unknown bytes");
    }
  }

  /** Shards whose headers hold every tensor and whose data is never written: the files are sparse. */
  public static Summary writeShapeOnly(List<CheckpointTensor> tensors, long maxShardBytes, Path folder)
      throws IOException {
    ShardPlan plan = ShardPlan.of(tensors, maxShardBytes);
    Files.createDirectories(folder);
    for (int s = 0; s < plan.shards().size(); s++) {
      SafetensorsWriter out = new SafetensorsWriter();
      for (CheckpointTensor t : plan.shards().get(s)) {
        out.declare(t.name(), t.dtype(), t.shape());
      }
      out.writeHeaderOnly(folder.resolve(plan.fileName(s)));
    }
    plan.writeIndex(folder);
    return summary(plan, folder);
  }

  /** Shards with random values: matrices uniform with std 1/sqrt(cols), norms near 1, FP8 by 128-row blocks. */
  public static Summary writeRandom(List<CheckpointTensor> tensors, long seed, long maxShardBytes, Path folder)
      throws IOException {
    ShardPlan plan = ShardPlan.of(tensors, maxShardBytes);
    Files.createDirectories(folder);
    Map<String, long[]> scaleShapes = new HashMap<>();
    for (CheckpointTensor t : tensors) {
      if (t.role() == CheckpointTensor.Role.FP8_SCALE) {
        scaleShapes.put(t.name(), t.shape());
      }
    }
    Fp8RandomMatrix pending = null; // the FP8 weight whose scales come next
    for (int s = 0; s < plan.shards().size(); s++) {
      SafetensorsWriter out = new SafetensorsWriter();
      for (CheckpointTensor t : plan.shards().get(s)) {
        long[] shape = t.shape();
        switch (t.role()) {
          case MATRIX -> TestModelWriter.matrix(out, seed, t.dtype(), t.name(), shape[0], shape[1], 1.0);
          case ROUTER -> TestModelWriter.matrix(out, seed, t.dtype(), t.name(), shape[0], shape[1], 4.0);
          case NORM -> TestModelWriter.norm(out, seed, t.dtype(), t.name(), shape[0]);
          case BIAS -> TestModelWriter.vector(out, seed, t.dtype(), t.name(), shape[0], 0.1);
          case SCORE_BIAS -> TestModelWriter.vector(out, seed, t.dtype(), t.name(), shape[0], 0.05);
          case STACKED_BIAS -> out.add(t.name(), t.dtype(), shape, TestModelWriter.uniform(seed, t.name(), -0.1, 0.1));
          case STACKED_TRANSPOSED -> { // (E, in, out): std 1/sqrt(in), as a MATRIX of in columns
            double bound = Math.sqrt(3.0 / shape[1]);
            out.add(t.name(), t.dtype(), shape, TestModelWriter.uniform(seed, t.name(), -bound, bound));
          }
          case MXFP4_BLOCKS -> out.addBytes(t.name(), DType.U8, shape, randomBytes(seed, t.name()));
          case MXFP4_SCALES -> {
            // Random codes have an RMS of sqrt(8.5625) ~ 2.93; this exponent gives weights an RMS near 1/sqrt(cols).
            long cols = shape[shape.length - 1] * 32;
            byte e = (byte) (127 + Math.round(Math.log(1 / (2.93 * Math.sqrt(cols))) / Math.log(2)));
            out.addBytes(t.name(), DType.U8, shape, (buffer, start, count) -> Arrays.fill(buffer, 0, count, e));
          }
          case FP8_WEIGHT -> {
            pending = fp8(seed, t, scaleShapes.get(t.name() + "_scale_inv"));
            out.addBytes(t.name(), DType.F8_E4M3, shape, pending);
          }
          case FP8_SCALE -> {
            if (pending == null || !t.name().equals(pending.scaleName())) {
              throw new IllegalArgumentException(t.name() + ": block scales must follow their FP8 weight in the layout");
            }
            out.add(t.name(), DType.F32, shape, pending.scales());
            pending = null;
          }
        }
      }
      out.write(folder.resolve(plan.fileName(s)));
    }
    plan.writeIndex(folder);
    return summary(plan, folder);
  }

  /** Bytes from a hash of (seed, name, offset): the same bytes whatever the chunks the writer asks for. */
  private static SafetensorsWriter.ByteSource randomBytes(long seed, String name) {
    long base = seed * 0x9E3779B97F4A7C15L ^ name.hashCode();
    return (buffer, start, count) -> {
      for (int i = 0; i < count; i++) {
        long z = base + (start + i) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 31)) * 0x94D049BB133111EBL;
        buffer[i] = (byte) (z ^ (z >>> 29));
      }
    };
  }

  /** The FP8 weight's matrix, with the block size its scale tensor's shape implies. */
  private static Fp8RandomMatrix fp8(long seed, CheckpointTensor weight, long[] scaleShape) {
    long[] shape = weight.shape();
    if (scaleShape == null) {
      throw new IllegalArgumentException(weight.name() + ": FP8 weight without " + weight.name() + "_scale_inv");
    }
    int blockRows = (int) ((shape[0] + scaleShape[0] - 1) / scaleShape[0]);
    int blockCols = (int) ((shape[1] + scaleShape[1] - 1) / scaleShape[1]);
    return new Fp8RandomMatrix(seed, weight.name(), Math.toIntExact(shape[0]), Math.toIntExact(shape[1]), blockRows,
        blockCols);
  }

  private static Summary summary(ShardPlan plan, Path folder) {
    return new Summary(folder, plan.tensorCount(), plan.shards().size(), plan.totalBytes(), diskUsage(folder));
  }

  /**
   * The bytes of disk blocks a folder takes, by {@code du -sk} (Java's file attributes do not report
   * allocated blocks); empty where du is missing or fails.
   */
  public static OptionalLong diskUsage(Path path) {
    try {
      Process du = new ProcessBuilder("du", "-sk", path.toString()).redirectErrorStream(true).start();
      String output;
      try (InputStream in = du.getInputStream()) {
        output = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
      }
      if (!du.waitFor(30, TimeUnit.SECONDS) || du.exitValue() != 0) {
        return OptionalLong.empty();
      }
      return OptionalLong.of(Long.parseLong(output.split("\\s+")[0]) * 1024);
    } catch (IOException | NumberFormatException e) {
      return OptionalLong.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return OptionalLong.empty();
    }
  }
}
