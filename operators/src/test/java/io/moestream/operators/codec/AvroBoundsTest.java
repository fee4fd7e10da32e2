package io.moestream.operators.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.moestream.schemas.ChatMessage;
import io.moestream.schemas.InferenceRequest;
import io.moestream.schemas.Priority;
import io.moestream.schemas.Sampling;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.Test;

class AvroBoundsTest {
  /** 2^31 - 17: what the poison records of issue 13 declare. */
  static final long BOMB = (1L << 31) - 17;

  private final AvroCodec<InferenceRequest> avro = new AvroCodec<>(InferenceRequest.class, 512);

  @Test
  void anEightByteStringLengthBombFailsFastNamingTheField() {
    byte[] value = concat(varint(BOMB), new byte[] {'a', 'b', 'c'});
    assertEquals(8, value.length);
    long start = System.nanoTime();
    String reason = reject(value);
    assertTrue(System.nanoTime() - start < 1_000_000_000L, "took " + (System.nanoTime() - start) + " ns");
    assertEquals("not a valid Avro InferenceRequest: request_id: string length 2147483631 exceeds the 3 bytes left in"
        + " the record", reason);
  }

  @Test
  void anEighteenByteMessagesArrayBombNamesTheField() {
    byte[] value = concat(string("abcdefghij"), new byte[] {0, 2}, varint(BOMB));
    assertEquals(18, value.length);
    String reason = reject(value);
    assertTrue(reason.contains("messages: array of 2147483631 elements exceeds the 0 bytes left"), reason);
  }

  @Test
  void arraysBeyondTheLimitAndNegativeBlockCountsAreChecked() {
    byte[] tooMany = concat(string("id"), new byte[] {0, 2}, varint(513), new byte[513 * 2], new byte[] {0});
    assertTrue(reject(tooMany).contains("messages: array of 513 elements exceeds the limit of 512"), reject(tooMany));
    // a block of -1 items said to take 2^31 bytes
    byte[] blockBytes = concat(string("id"), new byte[] {0, 2}, varint(-1), varint(BOMB));
    assertTrue(reject(blockBytes).contains("messages: array block of 2147483631 bytes does not fit the 0 bytes left"),
        reject(blockBytes));
    byte[] negativeItems = concat(string("id"), new byte[] {0, 2}, varint(-BOMB), varint(4), new byte[4]);
    assertTrue(reject(negativeItems).contains("messages: array of 2147483631 elements exceeds the 4 bytes left"),
        reject(negativeItems));
  }

  @Test
  void aNestedFieldIsNamedWithItsPath() {
    InferenceRequest r = InferenceRequest.newBuilder().setRequestId("id")
        .setMessages(List.of(new ChatMessage("user", "a"), new ChatMessage("user", "b"), new ChatMessage("user", "c")))
        .build();
    byte[] good = avro.encode(r);
    // the last message's content is its last 2 bytes before the rest of the record; find it and declare more
    byte[] tail = concat(string("c"));
    int at = indexOf(good, concat(string("user"), tail), 1);
    byte[] bad = good.clone();
    bad[at + string("user").length] = (byte) 0x7e; // length 63
    assertTrue(reject(bad).startsWith("not a valid Avro InferenceRequest: messages[2].content: string length 63 exceeds"),
        reject(bad));
  }

  @Test
  void anEnumSymbolFromANewerSchemaIsNamed() {
    String json = InferenceRequest.getClassSchema().toString()
        .replace("[\"LOW\",\"NORMAL\",\"HIGH\"]", "[\"LOW\",\"NORMAL\",\"HIGH\",\"URGENT\"]");
    Schema newer = new Schema.Parser().parse(json);
    GenericRecord record = new GenericRecordBuilder(newer).set("request_id", "p").set("prompt", "hi")
        .set("priority", new GenericData.EnumSymbol(newer.getField("priority").schema(), "URGENT")).build();
    assertTrue(reject(write(newer, record)).endsWith(
        "priority: enum index 3 is not a symbol of Priority (LOW, NORMAL, HIGH): written with a newer schema?"));
  }

  @Test
  void anOutOfRangeUnionBranchIsNamed() {
    byte[] value = concat(string("id"), new byte[] {0, 10});
    assertTrue(reject(value).endsWith("messages: union branch 5 out of range (2 branches)"), reject(value));
    byte[] negative = concat(string("id"), new byte[] {1});
    assertTrue(reject(negative).endsWith("prompt: union branch -1 out of range (2 branches)"), reject(negative));
  }

  @Test
  void longVarintsTruncatedAndTrailingBytesAreNamed() {
    byte[] longVarint = new byte[11];
    Arrays.fill(longVarint, (byte) 0x80);
    assertTrue(reject(longVarint).endsWith("request_id: long varint longer than 10 bytes"), reject(longVarint));
    byte[] intVarint = concat(string("id"), new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0});
    assertTrue(reject(intVarint).endsWith("prompt: int varint longer than 5 bytes"), reject(intVarint));
    byte[] good = avro.encode(InferenceRequest.newBuilder().setRequestId("id").setPrompt("hello").build());
    assertTrue(reject(Arrays.copyOf(good, 3)).contains("prompt:"), reject(Arrays.copyOf(good, 3)));
    assertTrue(reject(Arrays.copyOf(good, good.length - 3)).contains("the record ends inside"));
    // without its last byte (reply_topic: null) it is a complete version 2 record, without its last two
    // (chat_template_kwargs: null too) a complete version 1 record: the same request
    assertEquals(avro.decode(good), avro.decode(Arrays.copyOf(good, good.length - 1)));
    assertEquals(avro.decode(good), avro.decode(Arrays.copyOf(good, good.length - 2)));
    assertTrue(reject(Arrays.copyOf(good, good.length + 2)).endsWith("2 bytes left over after the record"));
    assertTrue(reject(new byte[0]).endsWith("request_id: the record ends inside a varint"));
  }

  /** Every Avro type: a schema of maps, fixed, bytes, booleans, doubles and arrays of nothing. */
  @Test
  void anySchemaIsWalked() {
    Schema schema = new Schema.Parser().parse("""
        {"type": "record", "name": "All", "fields": [
          {"name": "flag", "type": "boolean"}, {"name": "d", "type": "double"}, {"name": "f", "type": "float"},
          {"name": "raw", "type": "bytes"}, {"name": "hash", "type": {"type": "fixed", "name": "H", "size": 4}},
          {"name": "tags", "type": {"type": "map", "values": "long"}},
          {"name": "nothing", "type": {"type": "array", "items": "null"}}]}""");
    GenericRecord good = new GenericRecordBuilder(schema).set("flag", true).set("d", 1.5).set("f", 2f)
        .set("raw", ByteBuffer.wrap(new byte[] {1, 2})).set("hash", new GenericData.Fixed(schema.getField("hash").schema(),
            new byte[] {1, 2, 3, 4})).set("tags", Map.of("k", 7L)).set("nothing", Arrays.asList(null, null)).build();
    AvroBounds bounds = new AvroBounds(schema, 100);
    byte[] bytes = write(schema, good);
    bounds.check(bytes);
    int tagsAt = 1 + 8 + 4 + 3 + 4;
    byte[] bigKey = bytes.clone();
    bigKey[tagsAt + 1] = 0x7e;
    assertMessage(bounds, bigKey, "tags[0]: map key length 63 exceeds");
    byte[] badValue = bytes.clone();
    badValue[tagsAt + 3] = (byte) 0xff;
    assertMessage(bounds, Arrays.copyOf(badValue, tagsAt + 4), "tags[k]: the record ends inside a varint");
    byte[] manyNulls = concat(Arrays.copyOf(bytes, bytes.length - 2), varint(101), new byte[] {0});
    assertMessage(bounds, manyNulls, "nothing: array of 101 elements exceeds the limit of 100");
    assertMessage(bounds, Arrays.copyOf(bytes, 12), "f: the record ends inside a float (4 bytes needed, 3 left)");
    assertMessage(bounds, Arrays.copyOf(bytes, 18), "hash: the record ends inside a fixed H");
  }

  @Test
  void aRecursiveSchemaIsBoundedInDepth() {
    Schema list = new Schema.Parser().parse("""
        {"type": "record", "name": "Node", "fields": [{"name": "next", "type": ["null", "Node"]}]}""");
    AvroBounds bounds = new AvroBounds(list, 10);
    bounds.check(new byte[] {2, 2, 0});
    byte[] deep = new byte[10_000];
    Arrays.fill(deep, (byte) 2);
    assertMessage(bounds, deep, "nested deeper than " + AvroBounds.MAX_DEPTH + " levels");
  }

  /** Random bytes, and random changes to valid records: decoded or refused with a reason, nothing else. */
  @Test
  void fuzzedValuesDecodeOrAreRejectedWithoutLargeAllocations() {
    Random random = new Random(13);
    List<byte[]> valid = validRecords(random);
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long thread = Thread.currentThread().getId();
    int decoded = 0;
    int rejected = 0;
    long mostAllocated = 0;
    for (int i = 0; i < 200_000; i++) {
      byte[] value = i % 2 == 0 ? randomBytes(random) : mutate(valid.get(random.nextInt(valid.size())), random);
      long before = threads.getThreadAllocatedBytes(thread);
      try {
        avro.decode(value);
        decoded++;
      } catch (IllegalArgumentException e) {
        rejected++;
      } catch (Throwable t) {
        fail("value " + Arrays.toString(value) + " threw " + t, t);
      }
      mostAllocated = Math.max(mostAllocated, threads.getThreadAllocatedBytes(thread) - before);
    }
    assertTrue(decoded > 1000 && rejected > 1000, decoded + " decoded, " + rejected + " rejected");
    assertTrue(mostAllocated < 1 << 20, "one decode allocated " + mostAllocated + " bytes");
  }

  private List<byte[]> validRecords(Random random) {
    List<byte[]> valid = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      InferenceRequest.Builder b = InferenceRequest.newBuilder().setRequestId("req-" + i)
          .setPriority(Priority.values()[i % 3]).setMaxNewTokens(random.nextInt(100))
          .setDeadlineEpochMs(i % 2 == 0 ? null : random.nextLong())
          .setSampling(Sampling.newBuilder().setSeed(random.nextLong()).setStop(List.of("x", "yz")).build());
      if (i % 2 == 0) {
        b.setPrompt("prompt " + i);
      } else {
        b.setMessages(List.of(new ChatMessage("system", "s"), new ChatMessage("user", "hello " + i)));
      }
      valid.add(avro.encode(b.build()));
    }
    return valid;
  }

  private static byte[] randomBytes(Random random) {
    byte[] bytes = new byte[random.nextInt(64)];
    random.nextBytes(bytes);
    return bytes;
  }

  private static byte[] mutate(byte[] good, Random random) {
    byte[] bytes = good.clone();
    switch (random.nextInt(4)) {
      case 0 -> bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
      case 1 -> bytes[random.nextInt(bytes.length)] ^= (byte) (1 << random.nextInt(8));
      case 2 -> bytes = Arrays.copyOf(bytes, random.nextInt(bytes.length));
      default -> {
        int at = random.nextInt(bytes.length);
        byte[] run = new byte[1 + random.nextInt(5)];
        Arrays.fill(run, (byte) 0xff);
        run[run.length - 1] = (byte) random.nextInt(128);
        bytes = concat(Arrays.copyOf(bytes, at), run, Arrays.copyOfRange(bytes, at, bytes.length));
      }
    }
    return bytes;
  }

  private String reject(byte[] value) {
    return assertThrows(IllegalArgumentException.class, () -> avro.decode(value)).getMessage();
  }

  private static void assertMessage(AvroBounds bounds, byte[] value, String expected) {
    String message = assertThrows(IllegalArgumentException.class, () -> bounds.check(value)).getMessage();
    assertTrue(message.contains(expected), message);
  }

  static byte[] varint(long n) {
    long z = (n << 1) ^ (n >> 63);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    while ((z & ~0x7fL) != 0) {
      out.write((int) ((z & 0x7f) | 0x80));
      z >>>= 7;
    }
    out.write((int) z);
    return out.toByteArray();
  }

  static byte[] string(String s) {
    byte[] utf8 = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    return concat(varint(utf8.length), utf8);
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  private static int indexOf(byte[] haystack, byte[] needle, int occurrence) {
    int seen = 0;
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length) && ++seen == occurrence) {
        return i;
      }
    }
    throw new AssertionError("not found");
  }

  private static byte[] write(Schema schema, GenericRecord record) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
      new GenericDatumWriter<GenericRecord>(schema).write(record, encoder);
      encoder.flush();
      return out.toByteArray();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
