package io.moestream.job.corpus;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * One pass over the input before the job starts: counts the records, and those the output already
 * answers, and fails on unreadable input (naming the file and line) before any model is loaded.
 *
 * @param duplicates records whose key an earlier record of the input already has: they are run, but
 *     a rerun takes any of them for all of them
 */
public record CorpusScan(int files, long total, long finished, long duplicates) {
  public long remaining() {
    return total - finished;
  }

  public static CorpusScan of(List<CorpusFiles.InputFile> files, CorpusFormat format, PromptDefaults defaults,
      Set<String> finishedKeys) {
    long total = 0;
    long finished = 0;
    long duplicates = 0;
    Set<String> seen = new HashSet<>();
    for (CorpusFiles.InputFile file : files) {
      try (CorpusReader reader = new CorpusReader(file.path(), file.name(), format, defaults, 0)) {
        while (reader.hasNext()) {
          CorpusRecord record = reader.next();
          total++;
          if (finishedKeys.contains(record.key)) {
            finished++;
          }
          if (!seen.add(record.key)) {
            duplicates++;
          }
        }
      }
    }
    return new CorpusScan(files.size(), total, finished, duplicates);
  }
}
