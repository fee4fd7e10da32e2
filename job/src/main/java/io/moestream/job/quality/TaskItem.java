package io.moestream.job.quality;

/**
 * One held-out task item: a user message and the exact answer expected back.
 *
 * @param task the task's name ({@code add}, {@code sort}, ...), the table's column
 * @param line the item's line in its file (1-based), for errors and the answers file
 */
public record TaskItem(String task, String prompt, String answer, int line) {

  /** Whether {@code generated} (the decoded text, end-of-sequence token left out) is this item's answer. */
  public boolean isCorrect(String generated) {
    return generated.strip().equals(answer);
  }
}
