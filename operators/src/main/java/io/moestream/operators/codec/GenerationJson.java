package io.moestream.operators.codec;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.moestream.schemas.DeadLetter;
import io.moestream.schemas.Generation;
import java.util.Base64;

/**
 * The output records as one-line JSON objects: the json wire format of the generations and dead-letter
 * topics, and the view demo, consume and corpus mode print. The Avro schemas' field names; enum
 * symbols in lower case; a null optional field is left out; bytes ({@code raw}) as base64 text.
 */
public final class GenerationJson {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private GenerationJson() {}

  /** A Generation or a DeadLetter. */
  public static String toJson(org.apache.avro.specific.SpecificRecordBase record) {
    if (record instanceof Generation g) {
      return toJson(g);
    }
    if (record instanceof DeadLetter d) {
      return toJson(d);
    }
    throw new IllegalArgumentException("no JSON view of " + record.getClass().getName());
  }

  public static String toJson(Generation g) {
    ObjectNode o = MAPPER.createObjectNode();
    o.put("request_id", g.getRequestId());
    o.put("text", g.getText());
    var ids = o.putArray("token_ids");
    g.getTokenIds().forEach(ids::add);
    o.put("finish_reason", g.getFinishReason().name().toLowerCase(java.util.Locale.ROOT));
    if (g.getError() != null) {
      o.put("error", g.getError());
    }
    o.put("prompt_tokens", g.getPromptTokens());
    o.put("completion_tokens", g.getCompletionTokens());
    o.putObject("experts_per_token").put("min", g.getExpertsPerToken().getMin())
        .put("mean", g.getExpertsPerToken().getMean());
    o.putObject("timings").put("queued_ms", g.getTimings().getQueuedMs())
        .put("time_to_first_token_ms", g.getTimings().getTimeToFirstTokenMs())
        .put("total_ms", g.getTimings().getTotalMs());
    o.put("model", g.getModel());
    if (g.getSource() != null) {
      o.putObject("source").put("topic", g.getSource().getTopic()).put("partition", g.getSource().getPartition())
          .put("offset", g.getSource().getOffset());
    }
    return o.toString();
  }

  public static String toJson(DeadLetter d) {
    ObjectNode o = MAPPER.createObjectNode();
    if (d.getRequestId() != null) {
      o.put("request_id", d.getRequestId());
    }
    o.put("topic", d.getTopic());
    o.put("partition", d.getPartition());
    o.put("offset", d.getOffset());
    o.put("stage", d.getStage());
    o.put("reason", d.getReason());
    if (d.getRaw() != null) {
      java.nio.ByteBuffer raw = d.getRaw().duplicate();
      byte[] bytes = new byte[raw.remaining()];
      raw.get(bytes);
      o.put("raw", Base64.getEncoder().encodeToString(bytes));
    }
    if (d.getRawLength() != null) { // raw may be cut: the whole value's length and hash find the original
      o.put("raw_length", d.getRawLength());
      o.put("raw_sha256", d.getRawSha256());
    }
    o.put("timestamp_ms", d.getTimestampMs());
    return o.toString();
  }
}
