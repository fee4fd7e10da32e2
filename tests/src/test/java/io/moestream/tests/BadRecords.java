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
    bad.add(new Bad(unknownPriority(), null, "InferenceRequest"));
    return bad;
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
