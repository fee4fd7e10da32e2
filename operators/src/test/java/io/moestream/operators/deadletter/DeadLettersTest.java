package io.moestream.operators.deadletter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moestream.operators.codec.AvroCodec;
import io.moestream.schemas.DeadLetter;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DeadLettersTest {
  private final AvroCodec<DeadLetter> codec = new AvroCodec<>(DeadLetter.class);

  @Test
  void aBigUndecodableValueIsCutWithItsLengthAndHash() {
    byte[] raw = new byte[2 << 20];
    new Random(1).nextBytes(raw);
    DeadLetter d = DeadLetters.undecodable(raw, 65536, "requests", 1, 7, "the value is too big");
    assertEquals(ByteBuffer.wrap(Arrays.copyOf(raw, 65536)), d.getRaw());
    assertEquals(raw.length, d.getRawLength());
    assertEquals(DeadLetters.sha256(raw), d.getRawSha256());
    assertEquals(64, d.getRawSha256().length());
    assertTrue(codec.encode(d).length < 70_000);
    assertEquals(d, codec.decode(codec.encode(d)));
    assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", DeadLetters.sha256(new byte[0]));
  }

  @Test
  void aSmallValueIsKeptWhole() {
    byte[] raw = {1, 2, 3};
    DeadLetter d = DeadLetters.undecodable(raw, 65536, "requests", 0, 0, "bad");
    assertEquals(ByteBuffer.wrap(raw), d.getRaw());
    assertEquals(3L, d.getRawLength());
    DeadLetter none = DeadLetters.undecodable(null, 65536, "requests", 0, 0, "no value");
    assertNull(none.getRaw());
    assertNull(none.getRawLength());
  }

  @Test
  void reasonsAndRequestIdsAreCut() {
    String id = "i".repeat(3 << 20);
    DeadLetter d = DeadLetters.rejected(id, "requests", 0, 0, DeadLetters.STAGE_VALIDATE, "r".repeat(10_000));
    assertEquals("i".repeat(256) + "... (" + (id.length() - 256) + " more chars)", d.getRequestId());
    assertEquals("r".repeat(4096) + "... (5904 more chars)", d.getReason());
    assertEquals("short", DeadLetters.requestId("short"));
    assertEquals("(no reason given)", DeadLetters.rejected("a", "t", 0, 0, DeadLetters.STAGE_TOKENIZE, null).getReason());
  }

  @Test
  void theMinimalDeadLetterKeepsWhereAndWhy() {
    DeadLetter d = DeadLetters.undecodable(new byte[1000], 1000, "requests", 2, 9, "x".repeat(1000));
    DeadLetter small = DeadLetters.minimal(d, 5000, 4096);
    assertNull(small.getRaw());
    assertEquals(1000L, small.getRawLength());
    assertEquals(d.getRawSha256(), small.getRawSha256());
    assertEquals(9, small.getOffset());
    assertTrue(small.getReason().startsWith("dead letter of 5000 bytes cut to fit limits.max_output_record_bytes (4096)"));
    assertTrue(codec.encode(small).length < 500);
  }

  @Test
  void anUnexpectedFailureNamesTheStageAndTheException() {
    assertEquals("tokenize failed on this record: java.lang.StackOverflowError",
        DeadLetters.failed(DeadLetters.STAGE_TOKENIZE, new StackOverflowError()));
    assertEquals("decode failed on this record: java.lang.NullPointerException: x",
        DeadLetters.failed(DeadLetters.STAGE_DECODE, new NullPointerException("x")));
  }
}
