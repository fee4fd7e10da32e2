package io.moestream.operators.offsets;

/**
 * What the job commits for one input partition at a checkpoint.
 *
 * @param offset the oldest offset not yet answered (or the next to read when every request read so
 *     far is answered): a job started from it loses nothing
 * @param answeredSinceMs wall-clock ms at or before which no request at or after {@code offset} had
 *     been read: answers to the requests a new job reads again were written after it, so that job
 *     finds them by scanning the output topics from there
 */
public record OffsetCommit(long offset, long answeredSinceMs) {}
