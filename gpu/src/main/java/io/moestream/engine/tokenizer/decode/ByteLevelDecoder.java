package io.moestream.engine.tokenizer.decode;

import io.moestream.engine.tokenizer.bpe.ByteLevelAlphabet;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Maps byte-level characters back to bytes and decodes them as UTF-8, replacing invalid sequences
 * with U+FFFD like Rust's {@code String::from_utf8_lossy}. A token with a character outside the
 * byte-level alphabet (an added token such as DeepSeek's "<｜begin▁of▁sentence｜>") contributes its
 * own UTF-8 bytes instead, as in the Rust library.
 */
public final class ByteLevelDecoder implements Decoder {
  @Override
  public List<String> decodeChain(List<String> tokens) {
    return List.of(new String(toBytes(tokens), StandardCharsets.UTF_8));
  }

  /** The bytes the tokens stand for; the incremental decoder checks them for complete characters. */
  public static byte[] toBytes(List<String> tokens) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    for (String token : tokens) {
      if (isByteLevel(token)) {
        for (int i = 0; i < token.length(); i++) {
          bytes.write(ByteLevelAlphabet.byteOf(token.charAt(i)));
        }
      } else {
        bytes.writeBytes(token.getBytes(StandardCharsets.UTF_8));
      }
    }
    return bytes.toByteArray();
  }

  private static boolean isByteLevel(String token) {
    for (int i = 0; i < token.length(); i++) {
      if (ByteLevelAlphabet.byteOf(token.charAt(i)) < 0) {
        return false;
      }
    }
    return true;
  }
}
