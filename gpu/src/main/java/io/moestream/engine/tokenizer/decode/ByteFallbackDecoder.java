package io.moestream.engine.tokenizer.decode;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns runs of {@code <0xNN>} byte tokens (SentencePiece byte fallback) into the text they encode.
 * A run that is not valid UTF-8 becomes one U+FFFD per byte, as in the Rust library.
 */
final class ByteFallbackDecoder implements Decoder {
  @Override
  public List<String> decodeChain(List<String> tokens) {
    List<String> out = new ArrayList<>(tokens.size());
    ByteArrayOutputStream run = new ByteArrayOutputStream();
    for (String token : tokens) {
      int b = byteOf(token);
      if (b >= 0) {
        run.write(b);
        continue;
      }
      flush(run, out);
      out.add(token);
    }
    flush(run, out);
    return out;
  }

  /** The byte of a {@code <0xNN>} token, or -1 for any other token. */
  static int byteOf(String token) {
    if (token.length() != 6 || !token.startsWith("<0x") || token.charAt(5) != '>') {
      return -1;
    }
    int hi = Character.digit(token.charAt(3), 16);
    int lo = Character.digit(token.charAt(4), 16);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
  }

  private static void flush(ByteArrayOutputStream run, List<String> out) {
    if (run.size() == 0) {
      return;
    }
    try {
      out.add(StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(run.toByteArray())).toString());
    } catch (CharacterCodingException e) {
      for (int i = 0; i < run.size(); i++) {
        out.add("\uFFFD");
      }
    }
    run.reset();
  }
}
