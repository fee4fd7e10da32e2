package io.moestream.job.corpus;

/**
 * One record of an input file as the corpus source emits it: the value for the decode/validate stage
 * and the key that marks it finished in the output. The key is the request id when the record has one
 * (and decodes), else {@code FILE:LINE}. A Flink POJO.
 */
public class CorpusRecord {
  public String key;
  public byte[] value;
  /** The file's name relative to the input (what keys and dead letters use). */
  public String file;
  /** 1-based line (text, JSONL) or record number (Avro) in the file. */
  public long line;

  public CorpusRecord() {}

  public CorpusRecord(String key, byte[] value, String file, long line) {
    this.key = key;
    this.value = value;
    this.file = file;
    this.line = line;
  }

  /** The key of a record that has no request id of its own. */
  static String locationKey(String file, long line) {
    return file + ":" + line;
  }
}
