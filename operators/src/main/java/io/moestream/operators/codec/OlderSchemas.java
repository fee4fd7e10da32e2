package io.moestream.operators.codec;

import io.moestream.schemas.InferenceRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.specific.SpecificData;

/**
 * The earlier versions of a record's schema that producers may still write, newest first, each
 * checked when loaded to be a strict prefix of the current schema's fields.
 *
 * <p>Plain Avro binary carries no schema id, so {@link AvroCodec} tells versions apart by length
 * alone: it reads with the current schema and, when that fails, with an older one. That is only
 * unambiguous because versions differ by fields appended at the end, each taking at least one
 * byte (a union index, at least): the bytes of an older record end exactly where the current
 * schema's next field starts, so the current reader runs out of input; the bytes of a current
 * record read with an older schema leave bytes over, which the codec refuses. A version that
 * changed a field in the middle (its type, or its position) would let one byte string be a
 * complete record of both versions with different values, so {@link #checkPrefix} refuses it.
 *
 * <p>"Same field" is the same name and the same Parsing Canonical Form of the field's schema: the
 * form the Avro specification defines for "same binary layout", without docs and defaults. The
 * defaults are left out on purpose: version 2 changed the defaults of sampling.temperature, top_p
 * and top_k to the -1 "unset" sentinel ({@link UnsetSampling}) without changing how a value is
 * written, and {@code Schema.equals} would count that as a different field.
 */
final class OlderSchemas {
  /** InferenceRequest as written before chat_template_kwargs was appended (and before -1 meant unset). */
  static final String INFERENCE_REQUEST_V1 = "/io/moestream/schemas/legacy/InferenceRequest.v1.avsc";
  /** InferenceRequest as written before reply_topic was appended. */
  static final String INFERENCE_REQUEST_V2 = "/io/moestream/schemas/legacy/InferenceRequest.v2.avsc";

  private OlderSchemas() {}

  /** The older schemas of {@code type}, newest first; none for records that never changed. */
  static List<Schema> of(Class<?> type) {
    if (type == InferenceRequest.class) {
      Schema current = SpecificData.get().getSchema(type);
      // each older version is a prefix of the current one, so of every version between them too:
      // version 1 bytes run out under versions 3 and 2 and are read by version 1 alone
      return List.of(checkPrefix(load(INFERENCE_REQUEST_V2), current, INFERENCE_REQUEST_V2),
          checkPrefix(load(INFERENCE_REQUEST_V1), current, INFERENCE_REQUEST_V1));
    }
    return List.of();
  }

  /**
   * {@code older}, after checking that its fields are the first fields of {@code current} (same
   * names, same binary layout, same order) and that every field after them has a default.
   *
   * @throws IllegalStateException naming {@code source} and the first field at fault
   */
  static Schema checkPrefix(Schema older, Schema current, String source) {
    if (older.getType() != Schema.Type.RECORD || !older.getFullName().equals(current.getFullName())) {
      throw new IllegalStateException(source + ": expected a record " + current.getFullName() + ", found "
          + older.getType() + " " + older.getFullName());
    }
    List<Schema.Field> was = older.getFields();
    List<Schema.Field> now = current.getFields();
    if (was.size() >= now.size()) {
      throw new IllegalStateException(source + ": has " + was.size() + " fields, the current schema " + now.size()
          + ": an older version must lack at least one trailing field, or the versions cannot be told apart");
    }
    for (int i = 0; i < was.size(); i++) {
      Schema.Field a = was.get(i);
      Schema.Field b = now.get(i);
      if (!a.name().equals(b.name())) {
        throw new IllegalStateException(source + ": field " + i + " is '" + a.name() + "', the current schema's is '"
            + b.name() + "': fields may only be appended");
      }
      String layoutWas = SchemaNormalization.toParsingForm(a.schema());
      String layoutNow = SchemaNormalization.toParsingForm(b.schema());
      if (!layoutWas.equals(layoutNow)) {
        throw new IllegalStateException(source + ": field '" + a.name() + "' was " + layoutWas + ", is now "
            + layoutNow + ": an existing field's type may not change");
      }
    }
    boolean appendedBytes = false;
    for (Schema.Field appended : now.subList(was.size(), now.size())) {
      if (!appended.hasDefaultValue()) {
        throw new IllegalStateException(source + ": the appended field '" + appended.name()
            + "' has no default, so a record without it cannot be read");
      }
      appendedBytes |= takesAByte(appended.schema());
    }
    if (!appendedBytes) {
      throw new IllegalStateException(source + ": the fields appended since may be written as no bytes at all, so"
          + " an older record would also be a complete current one");
    }
    return older;
  }

  /** Whether every value of {@code s} is written as at least one byte (null and empty records are not). */
  private static boolean takesAByte(Schema s) {
    return switch (s.getType()) {
      case NULL -> false;
      case FIXED -> s.getFixedSize() > 0;
      case RECORD -> s.getFields().stream().anyMatch(f -> takesAByte(f.schema()));
      default -> true; // varints (union and enum indexes, lengths, counts) and floats take a byte or more
    };
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
