package io.moestream.job.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.operators.codec.AvroCodec;
import io.moestream.operators.deadletter.DeadLetters;
import io.moestream.schemas.DeadLetter;
import io.moestream.schemas.ExpertsUsed;
import io.moestream.schemas.FinishReason;
import io.moestream.schemas.Generation;
import io.moestream.schemas.Timings;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The last guard before the producer: nothing bigger than the bound leaves, and no exception. */
class AvroValueSchemaTest {
  static final int LIMIT = 8192;

  @Test
  void anOversizedGenerationBecomesAnErrorNamingItsSize() {
    List<Integer> ids = new ArrayList<>();
    for (int i = 0; i < 5000; i++) {
      ids.add(i * 1000);
    }
    Generation big = generation("r1", "x".repeat(20_000), ids);
    byte[] bytes = AvroValueSchema.generations(LIMIT).serialize(big);
    assertTrue(bytes.length <= LIMIT, bytes.length + " bytes");
    Generation sent = new AvroCodec<>(Generation.class).decode(bytes);
    assertEquals("r1", sent.getRequestId());
    assertEquals(FinishReason.ERROR, sent.getFinishReason());
    assertEquals("", sent.getText());
    assertEquals(List.of(), sent.getTokenIds());
    assertTrue(sent.getError().startsWith("the generation serialized to "), sent.getError());
    assertTrue(sent.getError().contains("over limits.max_output_record_bytes (8192)"), sent.getError());
  }

  @Test
  void aGenerationWithinTheBoundIsSentAsIs() {
    Generation small = generation("r2", "hello", List.of(1, 2, 3));
    byte[] bytes = AvroValueSchema.generations(LIMIT).serialize(small);
    assertEquals(small, new AvroCodec<>(Generation.class).decode(bytes));
  }

  @Test
  void anOversizedDeadLetterLosesItsRawBytesNotItsPlace() {
    DeadLetter big = DeadLetters.undecodable(new byte[20_000], 20_000, "requests", 3, 42, "undecodable");
    byte[] bytes = AvroValueSchema.deadLetters(LIMIT).serialize(big);
    assertTrue(bytes.length <= LIMIT, bytes.length + " bytes");
    DeadLetter sent = new AvroCodec<>(DeadLetter.class).decode(bytes);
    assertNull(sent.getRaw());
    assertEquals(20_000L, sent.getRawLength());
    assertEquals(big.getRawSha256(), sent.getRawSha256());
    assertEquals(42, sent.getOffset());
    assertEquals(3, sent.getPartition());
    assertTrue(sent.getReason().contains("cut to fit limits.max_output_record_bytes (8192)"), sent.getReason());
    assertTrue(sent.getReason().endsWith("reason was: undecodable"), sent.getReason());
  }

  private static Generation generation(String id, String text, List<Integer> ids) {
    return Generation.newBuilder().setRequestId(id).setText(text).setTokenIds(ids).setFinishReason(FinishReason.LENGTH)
        .setPromptTokens(3).setCompletionTokens(ids.size()).setExpertsPerToken(new ExpertsUsed(2, 2.0))
        .setTimings(new Timings(1L, 2L, 3L)).setModel("demo").build();
  }
}
