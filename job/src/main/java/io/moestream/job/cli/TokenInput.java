package io.moestream.job.cli;

import io.moestream.engine.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * What profile-experts and eval-quality run over, as an exclusive argument group: {@code --input FILE}
 * (text, through the model's tokenizer) or {@code --input-token-ids FILE} (token ids, for a model folder
 * without a tokenizer). The old form, {@code --input FILE --token-ids-file}, is the second.
 */
final class TokenInput {
  @Option(names = "--input", paramLabel = "<file>", description = "UTF-8 text, tokenized with the model's tokenizer.")
  Path text;

  @Option(names = "--input-token-ids", paramLabel = "<file>",
      description = "Token ids separated by commas or whitespace, for a model folder without a tokenizer.")
  Path tokenIds;

  /** The file given, whichever option named it. */
  Path file() {
    return text != null ? text : tokenIds;
  }

  /**
   * The token ids to run.
   *
   * @param legacyTokenIdsFile the old {@code --token-ids-file} flag: {@code --input} holds token ids
   */
  int[] read(Path model, boolean legacyTokenIdsFile) throws IOException {
    Path input = file();
    String content = Files.readString(input, StandardCharsets.UTF_8);
    if (tokenIds != null || legacyTokenIdsFile) {
      String trimmed = content.trim();
      if (trimmed.isEmpty()) {
        throw new IllegalArgumentException(input + " holds no token ids");
      }
      return TokenIds.parse(trimmed.replaceAll("[\\s,]+", ","), input.toString());
    }
    if (!Tokenizer.isPresent(model)) {
      throw new IllegalArgumentException(model + " has no tokenizer.json" + Tokenizer.absenceNote(model)
          + ": give the input as token ids with --input-token-ids <file>");
    }
    int[] ids = Tokenizer.load(model).encode(content);
    if (ids.length == 0) {
      throw new IllegalArgumentException(input + " is empty");
    }
    return ids;
  }
}
