package io.moestream.operators.validate;

import java.io.Serializable;

/**
 * What a request may ask for, fixed when the job is built from its configuration and the model.
 *
 * @param maxNewTokens the most tokens one request may ask to generate
 * @param maxExpertsPerToken the model's num_experts_per_tok: the highest quality floor a request may set
 * @param maxStopStrings how many stop strings a request may give
 * @param maxRecordBytes input values bigger than this are dead-lettered without being decoded
 * @param maxPromptBytes the prompt, or the sum of the messages' contents, in UTF-8 bytes
 * @param maxMessages chat messages of one request
 * @param maxDeadLetterRawBytes the most of an undecodable value its dead letter keeps
 */
public record RequestLimits(int maxNewTokens, int maxExpertsPerToken, int maxStopStrings, int maxRecordBytes,
    int maxPromptBytes, int maxMessages, int maxDeadLetterRawBytes) implements Serializable {
  public static final int MAX_REQUEST_ID_LENGTH = 256;
  public static final float MAX_TEMPERATURE = 100f;

  public RequestLimits {
    positive("maxNewTokens", maxNewTokens);
    positive("maxExpertsPerToken", maxExpertsPerToken);
    positive("maxRecordBytes", maxRecordBytes);
    positive("maxPromptBytes", maxPromptBytes);
    positive("maxMessages", maxMessages);
    if (maxStopStrings < 0) {
      throw new IllegalArgumentException("maxStopStrings: must be >= 0, found " + maxStopStrings);
    }
    if (maxDeadLetterRawBytes < 0) {
      throw new IllegalArgumentException("maxDeadLetterRawBytes: must be >= 0, found " + maxDeadLetterRawBytes);
    }
  }

  /**
   * The most elements of one array the decoders let be built: twice the larger of the two list limits.
   * The decoders only bound allocation; a list a little over its limit still decodes, so the validator
   * refuses it naming the request id and the limit.
   */
  public long maxDecodedItems() {
    return 2L * Math.max(maxMessages, maxStopStrings) + 1;
  }

  /**
   * The longest string the JSON decoder builds: no field of a request is longer than its prompt; twice
   * the prompt limit for the same reason as {@link #maxDecodedItems}.
   */
  public int maxDecodedStringChars() {
    return (int) Math.min(2L * maxPromptBytes + 1, maxRecordBytes);
  }

  private static void positive(String field, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(field + ": must be >= 1, found " + value);
    }
  }
}
