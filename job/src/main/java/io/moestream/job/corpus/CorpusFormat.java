package io.moestream.job.corpus;

import io.moestream.operators.codec.WireFormat;
import java.util.Locale;

/** How the input files hold requests, and how their records reach the decode/validate stage. */
public enum CorpusFormat {
  /** One request per line in the streaming job's JSON request format (request_id optional). */
  JSONL(WireFormat.JSON),
  /** Avro container files of {@code io.moestream.schemas.InferenceRequest}. */
  AVRO(WireFormat.AVRO),
  /** One prompt per line; the request id is {@code FILE:LINE}. */
  TEXT(WireFormat.JSON);

  /** The encoding of the values handed to the decode/validate stage. */
  final WireFormat wire;

  CorpusFormat(WireFormat wire) {
    this.wire = wire;
  }

  public static CorpusFormat parse(String name) {
    try {
      return valueOf(name.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--format must be jsonl, avro or text, found '" + name + "'");
    }
  }
}
