package io.moestream.operators.codec;

import io.moestream.schemas.InferenceRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import org.apache.avro.Schema;

/**
 * The earlier versions of a record's schema that producers may still write, newest first. Version 1
 * of InferenceRequest (before issue 17) had non-null sampling numbers and no chat_template_kwargs:
 * its bytes end where version 2 expects the kwargs union, so no complete version 1 record is a
 * complete version 2 record of the same bytes unless its sampling floats happen to read as union
 * indexes all the way through (see docs/STREAMING.md, "Schema versions").
 */
final class OlderSchemas {
  static final String INFERENCE_REQUEST_V1 = "/io/moestream/schemas/legacy/InferenceRequest.v1.avsc";

  private OlderSchemas() {}

  static List<Schema> of(Class<?> type) {
    if (type == InferenceRequest.class) {
      return List.of(load(INFERENCE_REQUEST_V1));
    }
    return List.of();
  }

  private static Schema load(String resource) {
    try (InputStream in = OlderSchemas.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(resource + ": missing from the schemas jar");
      }
      return new Schema.Parser().parse(in);
    } catch (IOException e) {
      throw new UncheckedIOException(resource, e);
    }
  }
}
