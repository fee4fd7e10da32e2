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

  TensorChecker(Checkpoint checkpoint) {
    this.checkpoint = checkpoint;
  }

  /** A (rows, cols) weight matrix; null (and a recorded problem) if absent or malformed. */
  Matrix matrix(String name, int rows, int cols) {
    TensorData tensor = check(name, new long[] {rows, cols}, true);
    return tensor == null ? null : Matrix.of(tensor);
  }

  /** A 1-D tensor of {@code length} values copied as floats (norm weights, biases). */
  float[] vector(String name, int length) {
    TensorData tensor = check(name, new long[] {length}, true);
    return tensor == null ? null : tensor.toFloatArray();
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
