package io.moestream.operators.codec;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;

/**
 * A walk of Avro binary over a reader schema that trusts no length: run before Avro's own reader,
 * which allocates whatever a length prefix declares (an 8-byte value declaring a 2 GB string, or an
 * 18-byte value declaring 2^31 array elements, is an OutOfMemoryError on the TaskManager; the same
 * record again after the restart, forever). Nothing here allocates per declared length: every string
 * and bytes length, every array and map block is checked against the bytes left (each element needs
 * at least its schema's minimum encoded size) and against {@code maxItems}; enum and union indexes
 * against the schema. The first problem throws an IllegalArgumentException naming the field path,
 * e.g. {@code messages[2].content: string length 9999 exceeds the 3 bytes left in the record}.
 *
 * <p>Reentrant: the schema's minimum sizes are computed once; each {@link #check} keeps its position
 * in a {@link Cursor} of its own.
 */
public final class AvroBounds {
  /** Deeper nesting (only a recursive schema allows it) is refused before the stack runs out. */
  static final int MAX_DEPTH = 64;
  /** Map keys longer than this are cut in field paths: the path is for a human, the key may be huge. */
  private static final int PATH_KEY_CHARS = 40;

  private final Schema schema;
  private final long maxItems;
  private final Map<Schema, Integer> minSizes = new IdentityHashMap<>();

  /**
   * @param schema the reader schema (the writer's is assumed the same: plain Avro binary, no header)
   * @param maxItems the most elements of one array or map (over all its blocks); also what bounds
   *     elements that need no bytes at all (null, empty records)
   */
  public AvroBounds(Schema schema, long maxItems) {
    if (maxItems < 1) {
      throw new IllegalArgumentException("maxItems: must be >= 1, found " + maxItems);
    }
    this.schema = schema;
    this.maxItems = maxItems;
    minSize(schema);
  }

  /**
   * Walks {@code value} as one record of the schema, trailing bytes included.
   *
   * @throws IllegalArgumentException naming the field path when a length, count or index cannot be
   *     right, a varint is too long or the bytes end early
   */
  public void check(byte[] value) {
    Cursor in = new Cursor(value);
    walk(schema, in, "", 0);
    if (in.left() > 0) {
      throw new IllegalArgumentException(in.left() + " bytes left over after the record");
    }
  }

  private void walk(Schema s, Cursor in, String path, int depth) {
    if (depth > MAX_DEPTH) {
      throw new IllegalArgumentException(where(path) + "nested deeper than " + MAX_DEPTH + " levels");
    }
    switch (s.getType()) {
      case NULL -> { }
      case BOOLEAN -> in.skip(1, path, "a boolean");
      case INT -> in.varint(5, path);
      case LONG -> in.varint(10, path);
      case FLOAT -> in.skip(4, path, "a float");
      case DOUBLE -> in.skip(8, path, "a double");
      case FIXED -> in.skip(s.getFixedSize(), path, "a fixed " + s.getName());
      case STRING, BYTES -> lengthPrefixed(s.getType() == Schema.Type.STRING ? "string" : "bytes", in, path);
      case ENUM -> enumIndex(s, in, path);
      case UNION -> union(s, in, path, depth);
      case RECORD -> {
        for (Schema.Field f : s.getFields()) {
          walk(f.schema(), in, path.isEmpty() ? f.name() : path + "." + f.name(), depth + 1);
        }
      }
      case ARRAY, MAP -> blocks(s, in, path, depth);
      default -> throw new IllegalStateException("schema type " + s.getType() + " not handled");
    }
  }

  private static void lengthPrefixed(String what, Cursor in, String path) {
    long length = in.varint(10, path);
    if (length < 0) {
      throw new IllegalArgumentException(where(path) + what + " length " + length + " is negative");
    }
    if (length > in.left()) {
      throw new IllegalArgumentException(where(path) + what + " length " + length + " exceeds the " + in.left()
          + " bytes left in the record");
    }
    in.pos += (int) length;
  }

  private static void enumIndex(Schema s, Cursor in, String path) {
    long index = in.varint(5, path);
    List<String> symbols = s.getEnumSymbols();
    if (index < 0 || index >= symbols.size()) {
      throw new IllegalArgumentException(where(path) + "enum index " + index + " is not a symbol of " + s.getName()
          + " (" + String.join(", ", symbols) + ")" + (index >= symbols.size() ? ": written with a newer schema?" : ""));
    }
  }

  private void union(Schema s, Cursor in, String path, int depth) {
    long branch = in.varint(5, path);
    List<Schema> branches = s.getTypes();
    if (branch < 0 || branch >= branches.size()) {
      throw new IllegalArgumentException(where(path) + "union branch " + branch + " out of range (" + branches.size()
          + " branches)");
    }
    walk(branches.get((int) branch), in, path, depth + 1);
  }

  /**
   * Arrays and maps: blocks of {@code count} items ending with a 0 count; a negative count is
   * followed by the block's size in bytes (so readers can skip it) and means {@code -count} items.
   */
  private void blocks(Schema s, Cursor in, String path, int depth) {
    boolean isMap = s.getType() == Schema.Type.MAP;
    Schema items = isMap ? s.getValueType() : s.getElementType();
    String kind = isMap ? "map" : "array";
    // a map entry is its key (a string: at least its length byte) and its value
    int itemMin = minSize(items) + (isMap ? 1 : 0);
    long total = 0;
    while (true) {
      long count = in.varint(10, path);
      if (count == 0) {
        return;
      }
      if (count < 0) {
        if (count == Long.MIN_VALUE) {
          throw new IllegalArgumentException(where(path) + kind + " block count " + count + " is out of range");
        }
        count = -count;
        long blockBytes = in.varint(10, path);
        if (blockBytes < 0 || blockBytes > in.left()) {
          throw new IllegalArgumentException(where(path) + kind + " block of " + blockBytes + " bytes does not fit the "
              + in.left() + " bytes left in the record");
        }
      }
      if (itemMin > 0 && count > in.left() / itemMin) {
        throw new IllegalArgumentException(where(path) + kind + " of " + count + " elements exceeds the " + in.left()
            + " bytes left in the record (each needs at least " + itemMin + ")");
      }
      total += count;
      if (total > maxItems) {
        throw new IllegalArgumentException(where(path) + kind + " of " + total + " elements exceeds the limit of "
            + maxItems);
      }
      for (long i = total - count; i < total; i++) {
        String itemPath;
        if (isMap) {
          int keyStart = in.pos;
          lengthPrefixed("map key", in, path + "[" + i + "]");
          itemPath = path + "[" + keyText(in.bytes, keyStart, in.pos) + "]";
        } else {
          itemPath = path + "[" + i + "]";
        }
        walk(items, in, itemPath, depth + 1);
      }
    }
  }

  /** The key of a map entry whose encoding (length varint, then UTF-8) spans [start, end), cut for a path. */
  private static String keyText(byte[] bytes, int start, int end) {
    int from = start;
    while ((bytes[from] & 0x80) != 0) {
      from++;
    }
    from++;
    int length = Math.min(end - from, PATH_KEY_CHARS);
    String key = new String(bytes, from, length, java.nio.charset.StandardCharsets.UTF_8);
    return end - from > PATH_KEY_CHARS ? key + "..." : key;
  }

  /**
   * The fewest bytes a value of {@code s} can take. A recursive schema's own name counts 0 while it is
   * being sized: the smaller bound is still a true lower bound, and the walk stays finite.
   */
  private int minSize(Schema s) {
    Integer known = minSizes.get(s);
    if (known != null) {
      return known;
    }
    minSizes.put(s, 0);
    long size = switch (s.getType()) {
      case NULL -> 0;
      case BOOLEAN, INT, LONG, STRING, BYTES, ENUM, ARRAY, MAP -> 1;
      case FLOAT -> 4;
      case DOUBLE -> 8;
      case FIXED -> s.getFixedSize();
      case UNION -> 1 + s.getTypes().stream().mapToLong(this::minSize).min().orElse(0);
      case RECORD -> s.getFields().stream().mapToLong(f -> minSize(f.schema())).sum();
      default -> 0;
    };
    int bounded = (int) Math.min(size, Integer.MAX_VALUE);
    minSizes.put(s, bounded);
    return bounded;
  }

  private static String where(String path) {
    return path.isEmpty() ? "" : path + ": ";
  }

  /** A position in the bytes of one {@link #check}. */
  private static final class Cursor {
    final byte[] bytes;
    int pos;

    Cursor(byte[] bytes) {
      this.bytes = bytes;
    }

    int left() {
      return bytes.length - pos;
    }

    void skip(int n, String path, String what) {
      if (n > left()) {
        throw new IllegalArgumentException(where(path) + "the record ends inside " + what + " (" + n + " bytes needed, "
            + left() + " left)");
      }
      pos += n;
    }

    /** A zig-zag varint of at most {@code maxBytes} bytes (5 for int, 10 for long, as Avro's reader allows). */
    long varint(int maxBytes, String path) {
      long raw = 0;
      for (int i = 0; i < maxBytes; i++) {
        if (pos >= bytes.length) {
          throw new IllegalArgumentException(where(path) + "the record ends inside a varint");
        }
        int b = bytes[pos++] & 0xff;
        raw |= (long) (b & 0x7f) << (7 * i);
        if ((b & 0x80) == 0) {
          if (maxBytes == 5) {
            int n = (int) raw; // Avro's readInt keeps the low 32 bits
            return (n >>> 1) ^ -(n & 1);
          }
          return (raw >>> 1) ^ -(raw & 1);
        }
      }
      throw new IllegalArgumentException(where(path) + (maxBytes == 5 ? "int" : "long") + " varint longer than "
          + maxBytes + " bytes");
    }
  }
}
