package io.moestream.tests;

import io.moestream.schemas.ChatMessage;
import io.moestream.schemas.InferenceRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;

/** Records the job must send to the dead-letter topic, each with the reason it must give. */
final class BadRecords {
  /** A Kafka value, the request id the dead letter must carry (null: undecodable) and a piece of its reason. */
  record Bad(byte[] value, String requestId, String reason) {}

  private BadRecords() {}

  static List<Bad> all(int contextLength) {
    List<Bad> bad = new ArrayList<>();
    bad.add(new Bad(new byte[] {2, 'x', (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f}, null,
        "InferenceRequest"));
    bad.add(new Bad("{\"request_id\":\"json-on-an-avro-topic\"}".getBytes(), null, "InferenceRequest"));
    bad.add(request(InferenceRequest.newBuilder().setRequestId("bad-missing-prompt"), "prompt: missing"));
    bad.add(request(InferenceRequest.newBuilder().setRequestId("bad-empty-prompt").setPrompt(""), "prompt: empty"));
    bad.add(request(InferenceRequest.newBuilder().setRequestId("bad-too-long").setPrompt("hello ".repeat(contextLength + 50)),
        "do not fit the model's context of " + contextLength));
    bad.add(request(InferenceRequest.newBuilder().setRequestId("bad-zero-tokens").setPrompt("hi").setMaxNewTokens(0),
        "max_new_tokens: must be in [1, "));
    bad.add(request(InferenceRequest.newBuilder().setRequestId("bad-negative-tokens").setPrompt("hi").setMaxNewTokens(-5),
        "max_new_tokens: must be in [1, "));
    bad.add(request(InferenceRequest.newBuilder().setRequestId("bad-absurd-tokens").setPrompt("hi")
        .setMaxNewTokens(Integer.MAX_VALUE), "max_new_tokens: must be in [1, "));
    bad.add(request(InferenceRequest.newBuilder().setRequestId("bad-role")
        .setMessages(List.of(new ChatMessage("robot", "hi"))), "messages[0].role: unknown value 'robot'"));
    bad.add(new Bad(unknownPriority(), null,
        "priority: enum index 3 is not a symbol of Priority (LOW, NORMAL, HIGH): written with a newer schema?"));
    poison(bad);
    return bad;
  }

  /**
   * Records that once put the job in a restart loop (issue 13): each must be dead-lettered once while
   * the requests around it are answered. Sizes are the job's default limits.
   */
  private static void poison(List<Bad> bad) {
    long bomb = (1L << 31) - 17;
    // 8 bytes: a request_id declaring 2^31 - 17 bytes (Avro's reader allocated them: OutOfMemoryError)
    bad.add(new Bad(concat(varint(bomb), new byte[] {'a', 'b', 'c'}), null,
        "request_id: string length 2147483631 exceeds the 3 bytes left in the record"));
    // 18 bytes: messages declaring 2^31 - 17 elements
    bad.add(new Bad(concat(string("abcdefghij"), new byte[] {0, 2}, varint(bomb)), null,
        "messages: array of 2147483631 elements exceeds the 0 bytes left in the record"));
    // 2 MiB that do not decode: dead-lettered unread, its dead letter keeping 64 KiB of it
    byte[] big = new byte[2 << 20];
    new java.util.Random(13).nextBytes(big);
    bad.add(new Bad(big, null, "the value is 2097152 bytes, over limits.max_record_bytes (1048576)"));
    // a union branch past the schema's two
    bad.add(new Bad(concat(string("bad-union"), new byte[] {0, 10}), null,
        "messages: union branch 5 out of range (2 branches)"));
    String longId = "bad-long-id-" + "x".repeat(100_000);
    bad.add(new Bad(EndToEnd.REQUESTS.encode(InferenceRequest.newBuilder().setRequestId(longId).setPrompt("hi").build()),
        io.moestream.operators.deadletter.DeadLetters.requestId(longId),
        "request_id: longer than 256 characters, found 100012"));
    bad.add(request(InferenceRequest.newBuilder().setRequestId("bad-big-prompt").setPrompt("\u00e9".repeat(140_000)),
        "prompt: 280000 UTF-8 bytes, over limits.max_prompt_bytes (262144)"));
    bad.add(request(InferenceRequest.newBuilder().setRequestId("bad-many-messages").setMessages(messages(257)),
        "messages: 257 messages, over limits.max_messages (256)"));
    // far over: refused while decoding, before 600 messages are built
    bad.add(new Bad(EndToEnd.REQUESTS.encode(InferenceRequest.newBuilder().setRequestId("bad-far-too-many-messages")
        .setMessages(messages(600)).build()), null, "messages: array of 600 elements exceeds the limit of 513"));
  }

  private static List<ChatMessage> messages(int n) {
    List<ChatMessage> messages = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      messages.add(new ChatMessage("user", "hi"));
    }
    return messages;
  }

  private static byte[] varint(long n) {
    long z = (n << 1) ^ (n >> 63);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    while ((z & ~0x7fL) != 0) {
      out.write((int) ((z & 0x7f) | 0x80));
      z >>>= 7;
    }
    out.write((int) z);
    return out.toByteArray();
  }

  private static byte[] string(String s) {
    byte[] utf8 = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    return concat(varint(utf8.length), utf8);
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  private static Bad request(InferenceRequest.Builder builder, String reason) {
    InferenceRequest r = builder.build();
    return new Bad(EndToEnd.REQUESTS.encode(r), r.getRequestId(), reason);
  }

  /**
   * A request written by a producer whose schema has a priority the job does not know ("URGENT"):
   * the enum index is past the job's symbols.
   */
  private static byte[] unknownPriority() {
    String json = InferenceRequest.getClassSchema().toString()
        .replace("[\"LOW\",\"NORMAL\",\"HIGH\"]", "[\"LOW\",\"NORMAL\",\"HIGH\",\"URGENT\"]");
    Schema schema = new Schema.Parser().parse(json);
    GenericRecord record = new GenericRecordBuilder(schema)
        .set("request_id", "bad-priority")
        .set("prompt", "hi")
        .set("priority", new GenericData.EnumSymbol(schema.getField("priority").schema(), "URGENT"))
        .build();
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
