package io.moestream.job.corpus;

/** Input that cannot be read at all (not a record that fails validation): names the file and line. */
public final class CorpusInputException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  CorpusInputException(String file, long line, String problem, Throwable cause) {
    super(file + (line > 0 ? ":" + line : "") + ": " + problem, cause);
  }
}
