package io.moestream.engine.model;

import io.moestream.engine.format.Checkpoint;
import io.moestream.engine.format.CheckpointException;
import io.moestream.engine.format.DType;
import io.moestream.engine.format.TensorData;
import io.moestream.engine.kernel.Matrix;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Fetches tensors from a checkpoint while checking presence, dtype and shape against the config.
 * Problems are collected rather than thrown one at a time, so a user fixing a folder sees them all.
 */
final class TensorChecker {
  private static final int MAX_REPORTED = 12;
  private final Checkpoint checkpoint;
  private final List<String> problems = new ArrayList<>();
  private final int[] fp8Block;

  TensorChecker(Checkpoint checkpoint) {
    this(checkpoint, null);
  }

  /** @param fp8Block (rows, cols) of FP8 weights' block scales, or null when the model has no FP8 weights */
  TensorChecker(Checkpoint checkpoint, int[] fp8Block) {
    this.checkpoint = checkpoint;
    this.fp8Block = fp8Block;
  }

  /**
   * A (rows, cols) weight matrix; null (and a recorded problem) if absent or malformed. An FP8 E4M3
   * weight comes with its {@code <name>_scale_inv} (ceil(rows / blockRows), ceil(cols / blockCols)).
   */
  Matrix matrix(String name, int rows, int cols) {
    TensorData peek = checkpoint.find(name).orElse(null);
    if (peek != null && peek.dtype() == DType.F8_E4M3) {
      return fp8Matrix(name, rows, cols);
    }
    TensorData tensor = check(name, new long[] {rows, cols}, true);
    return tensor == null ? null : Matrix.of(tensor);
  }

  /** A matrix that must not be FP8 (embeddings, router, LM head: DeepSeek keeps them in BF16). */
  Matrix plainMatrix(String name, int rows, int cols) {
    TensorData tensor = check(name, new long[] {rows, cols}, true);
    return tensor == null ? null : Matrix.of(tensor);
  }

  private Matrix fp8Matrix(String name, int rows, int cols) {
    if (fp8Block == null) {
      problems.add("tensor '" + name + "' is F8_E4M3 but config.json has no quantization_config with weight_block_size");
      return null;
    }
    TensorData weight = checkpoint.find(name).orElseThrow();
    if (!Arrays.equals(weight.shape(), new long[] {rows, cols})) {
      problems.add(weight.file() + ": tensor '" + name + "' has shape " + Arrays.toString(weight.shape())
          + ", expected " + Arrays.toString(new long[] {rows, cols}));
      return null;
    }
    String scaleName = name + "_scale_inv";
    int blockRows = (rows + fp8Block[0] - 1) / fp8Block[0];
    int blockCols = (cols + fp8Block[1] - 1) / fp8Block[1];
    TensorData scales = check(scaleName, new long[] {blockRows, blockCols}, true);
    if (scales == null) {
      return null;
    }
    return Matrix.fp8(weight, scales.toFloatArray(), fp8Block[0], fp8Block[1]);
  }

  /** A 1-D tensor of {@code length} values copied as floats (norm weights, biases). */
  float[] vector(String name, int length) {
    TensorData tensor = check(name, new long[] {length}, true);
    return tensor == null ? null : tensor.toFloatArray();
  }

  /** A tensor of any rank copied as floats (gpt-oss's stacked expert biases), or null and a recorded problem. */
  float[] floats(String name, long[] shape) {
    TensorData tensor = check(name, shape, true);
    return tensor == null ? null : tensor.toFloatArray();
  }

  /** A tensor read in place: a float type, or U8 when {@code bytes} (MXFP4 blocks and scales); or null. */
  TensorData mapped(String name, long[] shape, boolean bytes) {
    TensorData tensor = check(name, shape, !bytes);
    if (tensor != null && bytes && tensor.dtype() != DType.U8) {
      problems.add(tensor.file() + ": tensor '" + name + "' has dtype " + tensor.dtype() + ", expected U8");
      return null;
    }
    return tensor;
  }

  /** Records a problem found in a tensor's values (gpt-oss's NaN MXFP4 scales). */
  void addProblem(TensorData tensor, String problem) {
    problems.add(tensor.file() + ": tensor '" + tensor.name() + "' " + problem);
  }

  boolean has(String name) {
    return checkpoint.find(name).isPresent();
  }

  private TensorData check(String name, long[] expectedShape, boolean floatType) {
    TensorData tensor = checkpoint.find(name).orElse(null);
    if (tensor == null) {
      problems.add("missing tensor '" + name + "' (expected shape " + Arrays.toString(expectedShape) + ")");
      return null;
    }
    if (!Arrays.equals(tensor.shape(), expectedShape)) {
      problems.add(tensor.file() + ": tensor '" + name + "' has shape " + Arrays.toString(tensor.shape())
          + ", expected " + Arrays.toString(expectedShape));
      return null;
    }
    DType dtype = tensor.dtype();
    if (floatType && dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16) {
      problems.add(tensor.file() + ": tensor '" + name + "' has dtype " + dtype + ", expected F32, BF16 or F16");
      return null;
    }
    return tensor;
  }

  /** Throws one error listing every problem found, if any. */
  void throwIfProblems() {
    if (problems.isEmpty()) {
      return;
    }
    StringBuilder message = new StringBuilder(checkpoint.folder() + ": the checkpoint does not match config.json ("
        + problems.size() + " problem" + (problems.size() == 1 ? "" : "s") + "):");
    for (int i = 0; i < Math.min(MAX_REPORTED, problems.size()); i++) {
      message.append("\n  - ").append(problems.get(i));
    }
    if (problems.size() > MAX_REPORTED) {
      message.append("\n  ... and ").append(problems.size() - MAX_REPORTED).append(" more");
    }
    throw new CheckpointException(message.toString());
  }
}
