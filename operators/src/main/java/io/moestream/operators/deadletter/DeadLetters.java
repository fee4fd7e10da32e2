package io.moestream.operators.deadletter;

import io.moestream.operators.records.RoutedDeadLetter;
import io.moestream.schemas.DeadLetter;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.util.OutputTag;

/**
 * The side output every stage sends rejected records to, and the one way dead letters are built.
 * Every dead letter is small whatever it is about: the raw value is cut to a configured size (its
 * length and SHA-256 travel whole), the reason and the request id are cut too. A dead letter bigger
 * than the producer's max.request.size would fail the sink, and the restart would meet it again.
 */
public final class DeadLetters {
  /**
   * Shared by every stage; the pipeline unions the side outputs into the dead-letter sink. Each dead
   * letter travels with the request's carried headers ({@link RoutedDeadLetter}).
   */
  public static final OutputTag<RoutedDeadLetter> TAG =
      new OutputTag<>("dead-letters", TypeInformation.of(RoutedDeadLetter.class));

  public static final String STAGE_DECODE = "decode";
  public static final String STAGE_VALIDATE = "validate";
  public static final String STAGE_TOKENIZE = "tokenize";
  public static final String STAGE_INFERENCE = "inference";

  /** Reasons longer than this are cut: they may echo parts of the record. */
  public static final int MAX_REASON_CHARS = 4096;
  /** As long as the validator allows (RequestLimits.MAX_REQUEST_ID_LENGTH): an accepted id is never cut. */
  public static final int MAX_REQUEST_ID_CHARS = 256;

  private DeadLetters() {}

  /**
   * For a record that could not be decoded: keeps its first {@code maxRawBytes} bytes, with the
   * whole value's length and SHA-256.
   */
  public static DeadLetter undecodable(byte[] raw, int maxRawBytes, String topic, int partition, long offset,
      String reason) {
    DeadLetter.Builder b = base(topic, partition, offset, STAGE_DECODE, reason);
    if (raw != null) {
      byte[] kept = raw.length <= maxRawBytes ? raw : Arrays.copyOf(raw, maxRawBytes);
      b.setRaw(ByteBuffer.wrap(kept)).setRawLength((long) raw.length).setRawSha256(sha256(raw));
    }
    return b.build();
  }

  /** For a decoded request rejected later: its id is enough to find it. */
  public static DeadLetter rejected(String requestId, String topic, int partition, long offset, String stage,
      String reason) {
    return base(topic, partition, offset, stage, reason).setRequestId(requestId(requestId)).build();
  }

  /**
   * What replaces a dead letter that still serialized bigger than {@code limit} bytes: where it came
   * from and why, without its raw bytes and with a short reason.
   */
  public static DeadLetter minimal(DeadLetter d, int serializedBytes, int limit) {
    String first = d.getReason().length() > 200 ? d.getReason().substring(0, 200) + "..." : d.getReason();
    String reason = "dead letter of " + serializedBytes + " bytes cut to fit limits.max_output_record_bytes (" + limit
        + "): raw bytes dropped; reason was: " + first;
    return base(d.getTopic(), d.getPartition(), d.getOffset(), d.getStage(), reason)
        .setRequestId(d.getRequestId() == null ? null : cut(d.getRequestId(), 64))
        .setRawLength(d.getRawLength()).setRawSha256(d.getRawSha256()).setTimestampMs(d.getTimestampMs()).build();
  }

  /**
   * The request id a dead letter carries for {@code id}: the id itself up to {@link #MAX_REQUEST_ID_CHARS},
   * else its start and how much was cut. Corpus mode keys records the same way.
   */
  public static String requestId(String id) {
    return id == null ? null : cut(id, MAX_REQUEST_ID_CHARS);
  }

  /** The reason for a record whose handling in {@code stage} threw what no check expected. */
  public static String failed(String stage, Throwable e) {
    return stage + " failed on this record: " + e.getClass().getName() + (e.getMessage() == null ? "" : ": "
        + e.getMessage());
  }

  /** Lowercase hex SHA-256 of {@code bytes}. */
  public static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  static String cut(String s, int maxChars) {
    if (s.length() <= maxChars) {
      return s;
    }
    int end = Character.isHighSurrogate(s.charAt(maxChars - 1)) ? maxChars - 1 : maxChars;
    return s.substring(0, end) + "... (" + (s.length() - end) + " more chars)";
  }

  private static DeadLetter.Builder base(String topic, int partition, long offset, String stage, String reason) {
    return DeadLetter.newBuilder().setTopic(topic == null ? "" : topic).setPartition(partition)
        .setOffset(offset).setStage(stage).setReason(cut(reason == null ? "(no reason given)" : reason, MAX_REASON_CHARS))
        .setTimestampMs(System.currentTimeMillis()).setRequestId(null).setRaw(null).setRawLength(null)
        .setRawSha256(null);
  }
}
