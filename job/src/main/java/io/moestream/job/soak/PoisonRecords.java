package io.moestream.job.soak;

import io.moestream.operators.codec.AvroCodec;
import io.moestream.schemas.InferenceRequest;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

/**
 * The bad records a soak mixes into its requests, in rotation: each kind once stopped (or could stop)
 * the job (issue 13), and each must come out as exactly one dead letter while the requests around it
 * are answered. Sizes follow the job's default limits (limits.max_record_bytes 1 MiB,
 * limits.max_prompt_bytes 256 KiB).
 */
public final class PoisonRecords {
  /** A value to send and what kind it is (the report counts dead letters per kind). */
  public record Poison(String kind, byte[] value) {}

  /** 2^31 - 17: a length Avro's reader once tried to allocate (OutOfMemoryError, a restart loop). */
  private static final long BOMB = (1L << 31) - 17;

  /** The kinds, in rotation order. */
  public static final List<String> KINDS = List.of("string-length-bomb", "array-length-bomb", "random-bytes",
      "2MiB-random", "union-index", "prompt-over-limit", "json-on-avro");

  private final AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);
  private final Random random = new Random(13);

  /** The {@code n}-th bad record (kinds rotate; random content differs every time). */
  public Poison next(long n) {
    String kind = KINDS.get((int) (n % KINDS.size()));
    return new Poison(kind, switch (kind) {
      // 8 bytes: request_id declares 2^31 - 17 bytes of string
      case "string-length-bomb" -> concat(varint(BOMB), new byte[] {'a', 'b', 'c'});
      // 18 bytes: a request_id, prompt null, messages present, then an array of 2^31 - 17 elements
      case "array-length-bomb" -> concat(string("abcdefghij"), new byte[] {0, 2}, varint(BOMB));
      // random, but led by a negative string length (zig-zag 3 = -2): random bytes could decode as a request
      case "random-bytes" -> concat(new byte[] {3}, randomBytes(16 + random.nextInt(240)));
      // over limits.max_record_bytes: dead-lettered unread, its dead letter keeping only the first 64 KiB
      case "2MiB-random" -> randomBytes(2 << 20);
      // messages' union has two branches (null, array): zig-zag 10 is branch 5
      case "union-index" -> concat(string("bad-union-" + n), new byte[] {0, 10});
      // 280,000 UTF-8 bytes, over limits.max_prompt_bytes (262,144) but under the record limit
      case "prompt-over-limit" -> codec.encode(InferenceRequest.newBuilder().setRequestId("bad-big-prompt-" + n)
          .setPrompt("\u00e9".repeat(140_000)).build());
      case "json-on-avro" -> ("{\"request_id\":\"json-on-an-avro-topic-" + n + "\",\"prompt\":\"hi\"}")
          .getBytes(StandardCharsets.UTF_8);
      default -> throw new IllegalStateException(kind);
    });
  }

  private byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  /** Avro's zig-zag varint of a long. */
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
    byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
    return concat(varint(utf8.length), utf8);
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}
