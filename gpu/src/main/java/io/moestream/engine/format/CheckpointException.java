package io.moestream.engine.format;

/**
 * A model folder that cannot be used as it is: missing or truncated files, bad headers, tensors of the
 * wrong dtype or shape. The message always names the file and, where there is one, the tensor.
 */
public class CheckpointException extends RuntimeException {
  public CheckpointException(String message) {
    super(message);
  }

  public CheckpointException(String message, Throwable cause) {
    super(message, cause);
  }
}
