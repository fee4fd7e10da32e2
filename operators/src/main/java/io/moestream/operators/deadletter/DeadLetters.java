package io.moestream.operators.deadletter;

import io.moestream.schemas.DeadLetter;
import java.nio.ByteBuffer;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.util.OutputTag;

/** The side output every stage sends rejected records to, and the one way dead letters are built. */
public final class DeadLetters {
  /** Shared by every stage; the pipeline unions the side outputs into the dead-letter sink. */
  public static final OutputTag<DeadLetter> TAG = new OutputTag<>("dead-letters", TypeInformation.of(DeadLetter.class));

  public static final String STAGE_DECODE = "decode";
  public static final String STAGE_VALIDATE = "validate";
  public static final String STAGE_TOKENIZE = "tokenize";
  public static final String STAGE_INFERENCE = "inference";

  private DeadLetters() {}

  /** For a record that could not be decoded: keeps its bytes. */
  public static DeadLetter undecodable(byte[] raw, String topic, int partition, long offset, String reason) {
    return base(topic, partition, offset, STAGE_DECODE, reason).setRaw(raw == null ? null : ByteBuffer.wrap(raw)).build();
  }

  /** For a decoded request rejected later: its id is enough to find it. */
  public static DeadLetter rejected(String requestId, String topic, int partition, long offset, String stage,
      String reason) {
    return base(topic, partition, offset, stage, reason).setRequestId(requestId).build();
  }

  private static DeadLetter.Builder base(String topic, int partition, long offset, String stage, String reason) {
    return DeadLetter.newBuilder().setTopic(topic == null ? "" : topic).setPartition(partition).setOffset(offset)
        .setStage(stage).setReason(reason).setTimestampMs(System.currentTimeMillis()).setRequestId(null).setRaw(null);
  }
}
