package io.moestream.job.cli;

import io.moestream.engine.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** The token ids of an --input file: plain text (through the model's tokenizer) or token ids. */
final class TextInput {
  private TextInput() {}

  /**
   * @param tokenIdsFile the file holds token ids separated by commas or whitespace
   */
  static int[] read(Path model, Path input, boolean tokenIdsFile) throws IOException {
    String content = Files.readString(input, StandardCharsets.UTF_8);
    if (tokenIdsFile) {
      String trimmed = content.trim();
      if (trimmed.isEmpty()) {
        throw new IllegalArgumentException(input + " holds no token ids");
      }
      return TokenIds.parse(trimmed.replaceAll("[\\s,]+", ","), input.toString());
    }
    if (!Tokenizer.isPresent(model)) {
      throw new IllegalArgumentException(model + " has no tokenizer.json" + Tokenizer.absenceNote(model)
          + ": give the input as token ids with --token-ids-file");
    }
    int[] ids = Tokenizer.load(model).encode(content);
    if (ids.length == 0) {
      throw new IllegalArgumentException(input + " is empty");
    }
    return ids;
  }
}
