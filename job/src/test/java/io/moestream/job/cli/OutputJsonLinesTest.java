package io.moestream.job.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.operators.codec.AvroCodec;
import io.moestream.operators.codec.GenerationJson;
import io.moestream.operators.codec.WireFormat;
import io.moestream.operators.deadletter.DeadLetters;
import io.moestream.schemas.DeadLetter;
import io.moestream.schemas.ExpertsUsed;
import io.moestream.schemas.FinishReason;
import io.moestream.schemas.Generation;
import io.moestream.schemas.Timings;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What consume prints for each wire format, detected or given. */
class OutputJsonLinesTest {
  static final Generation G = Generation.newBuilder().setRequestId("r1").setText("hi").setTokenIds(List.of(1, 2))
      .setFinishReason(FinishReason.STOP).setPromptTokens(3).setCompletionTokens(2)
      .setExpertsPerToken(new ExpertsUsed(2, 2.0)).setTimings(new Timings(1L, 2L, 3L)).setModel("demo").build();

  @Test
  void avroAndJsonValuesPrintTheSameLine() {
    OutputJsonLines<Generation> detect = new OutputJsonLines<>(Generation.class, null, null);
    String expected = GenerationJson.toJson(G);
    assertEquals(expected, detect.line(new AvroCodec<>(Generation.class).encode(G), "gens"));
    assertEquals(expected, detect.line(("  " + expected).getBytes(StandardCharsets.UTF_8), "gens"));
  }

  @Test
  void aPlainDeadLetterStartingWithZeroIsAvroWithoutARegistry() {
    DeadLetter d = DeadLetters.undecodable(new byte[] {9}, 10, "in", 0, 5, "bad");
    byte[] avro = new AvroCodec<>(DeadLetter.class).encode(d);
    assertEquals(0, avro[0]); // request_id: the null branch of its union
    assertEquals(GenerationJson.toJson(d), new OutputJsonLines<>(DeadLetter.class, null, null).line(avro, "dl"));
  }

  @Test
  void aGivenFormatIsInsistedOn() {
    byte[] avro = new AvroCodec<>(Generation.class).encode(G);
    OutputJsonLines<Generation> json = new OutputJsonLines<>(Generation.class, WireFormat.JSON, null);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> json.line(avro, "gens")).getMessage()
        .startsWith("not valid JSON"));
    assertEquals("--format avro-registry needs --schema-registry-url", assertThrows(IllegalArgumentException.class,
        () -> new OutputJsonLines<>(Generation.class, WireFormat.AVRO_REGISTRY, null)).getMessage());
  }
}
