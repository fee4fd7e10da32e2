package io.moestream.engine.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One {@code .safetensors} file, memory-mapped. Layout: an 8-byte little-endian header length, a JSON
 * header mapping tensor names to dtype, shape and byte offsets, then the raw data.
 *
 * <p>The data is mapped in windows of at most {@link #MAX_WINDOW_BYTES}, each ordinary tensor inside one
 * window, because a {@link ByteBuffer} (and the JDK 17 Vector API that loads from it) is int-indexed.
 * Mapping per window rather than per tensor keeps the number of mappings low for checkpoints with tens
 * of thousands of expert tensors. A tensor of rank 2 or more that does not fit one window is mapped
 * alone in windows of whole rows (first dimension), no copy: {@link TensorData#rowChunk}.
 *
 * <p>Small tensors the engine copies into float arrays anyway (vectors: norms, biases; FP8 block scales,
 * {@code *_scale_inv}) are read with positioned reads instead of being mapped: a page fault in a mapping
 * reads a whole read-ahead window around it (8 MB on some virtual disks), so touching DeepSeek-V3's
 * 45,000 scale tensors through the mapping would pull most of its 688 GB through the page cache, where
 * 45,000 small reads take a second.
 */
public final class SafetensorsFile {
  static final long MAX_WINDOW_BYTES = 1L << 30;
  /** Vectors and block scales up to this size are read, not mapped. */
  private static final long MAX_READ_BYTES = 1L << 20;
  private static final long MAX_HEADER_BYTES = 256L << 20;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path path;
  private final Map<String, TensorData> tensors;
  private final Map<String, String> metadata;

  private SafetensorsFile(Path path, Map<String, TensorData> tensors, Map<String, String> metadata) {
    this.path = path;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  public static SafetensorsFile open(Path path) {
    return open(path, MAX_WINDOW_BYTES);
  }

  /** As {@link #open(Path)} with windows of at most {@code windowBytes} (tests force tiny windows). */
  static SafetensorsFile open(Path path, long windowBytes) {
    if (windowBytes < 1 || windowBytes > MAX_WINDOW_BYTES) {
      throw new IllegalArgumentException(path + ": window size " + windowBytes + " outside 1.." + MAX_WINDOW_BYTES);
    }
    String file = path.toString();
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
      long fileSize = channel.size();
      if (fileSize < 8) {
        throw new CheckpointException(file + ": truncated safetensors file (" + fileSize + " bytes, no header)");
      }
      ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(channel, lengthBytes, 0);
      long headerLength = lengthBytes.getLong(0);
      if (headerLength <= 0 || headerLength > MAX_HEADER_BYTES || 8 + headerLength > fileSize) {
        throw new CheckpointException(file + ": bad safetensors header length " + headerLength
            + " for a file of " + fileSize + " bytes (truncated or not a safetensors file)");
      }
      ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
      readFully(channel, headerBytes, 8);
      JsonNode header = JSON.readTree(new String(headerBytes.array(), StandardCharsets.UTF_8));
      long dataStart = 8 + headerLength;
      return new SafetensorsFile(path, mapTensors(channel, file, header, dataStart, fileSize, windowBytes), readMetadata(header));
    } catch (NoSuchFileException e) {
      throw new CheckpointException(file + ": file not found");
    } catch (IOException e) {
      throw new CheckpointException(file + ": cannot read safetensors file: " + e.getMessage(), e);
    }
  }

  private record Entry(String name, DType dtype, long[] shape, long begin, long end) {}

  private static Map<String, TensorData> mapTensors(
      FileChannel channel, String file, JsonNode header, long dataStart, long fileSize, long windowBytes)
      throws IOException {
    List<Entry> entries = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> field = it.next();
      if (field.getKey().equals("__metadata__")) {
        continue;
      }
      entries.add(parseEntry(file, field.getKey(), field.getValue(), dataStart, fileSize));
    }
    entries.sort(Comparator.comparingLong(Entry::begin));

    Map<String, TensorData> tensors = new LinkedHashMap<>();
    List<Entry> mapped = new ArrayList<>();
    for (Entry e : entries) {
      // Within a window too, so tests that force tiny windows see a 1-D tensor over one refused as before.
      long size = e.end - e.begin;
      if (size <= Math.min(MAX_READ_BYTES, windowBytes) && (e.shape.length == 1 || e.name.endsWith("_scale_inv"))) {
        ByteBuffer copy = ByteBuffer.allocate((int) size);
        readFully(channel, copy, e.begin);
        tensors.put(e.name, new TensorData(e.name, file, e.dtype, e.shape, copy));
      } else {
        mapped.add(e);
      }
    }
    entries = mapped;
    int i = 0;
    while (i < entries.size()) {
      long windowStart = entries.get(i).begin;
      int j = i;
      long windowEnd = windowStart;
      while (j < entries.size() && entries.get(j).end - windowStart <= windowBytes) {
        windowEnd = Math.max(windowEnd, entries.get(j).end);
        j++;
      }
      if (j == i) {
        Entry big = entries.get(i);
        tensors.put(big.name, mapByRows(channel, file, big, windowBytes));
        i++;
        continue;
      }
      MappedByteBuffer window = channel.map(FileChannel.MapMode.READ_ONLY, windowStart, Math.max(1, windowEnd - windowStart));
      for (int k = i; k < j; k++) {
        Entry e = entries.get(k);
        ByteBuffer slice = window.duplicate();
        slice.position((int) (e.begin - windowStart)).limit((int) (e.end - windowStart));
        tensors.put(e.name, new TensorData(e.name, file, e.dtype, e.shape, slice.slice()));
      }
      i = j;
    }
    return tensors;
  }

  /** A tensor over one window, mapped alone in windows of as many whole rows as fit. */
  private static TensorData mapByRows(FileChannel channel, String file, Entry e, long windowBytes)
      throws IOException {
    long size = e.end - e.begin;
    long rows = e.shape.length >= 2 ? e.shape[0] : 0;
    long rowBytes = rows == 0 ? size : size / rows;
    if (e.shape.length < 2 || rowBytes > windowBytes) {
      throw new CheckpointException(file + ": tensor '" + e.name + "' " + e.dtype + Arrays.toString(e.shape)
          + " is " + size + " bytes, over the " + windowBytes + "-byte mapping window, and "
          + (e.shape.length < 2 ? "only tensors of rank 2 or more can be split (by rows)"
              : "one row of " + rowBytes + " bytes does not fit a window"));
    }
    long rowsPerChunk = windowBytes / rowBytes;
    int count = Math.toIntExact((rows + rowsPerChunk - 1) / rowsPerChunk);
    ByteBuffer[] chunks = new ByteBuffer[count];
    for (int c = 0; c < count; c++) {
      long first = c * rowsPerChunk;
      long chunkRows = Math.min(rowsPerChunk, rows - first);
      chunks[c] = channel.map(FileChannel.MapMode.READ_ONLY, e.begin + first * rowBytes, chunkRows * rowBytes);
    }
    return new TensorData(e.name, file, e.dtype, e.shape, chunks, rowsPerChunk);
  }

  private static Entry parseEntry(String file, String name, JsonNode node, long dataStart, long fileSize) {
    JsonNode dtypeNode = node.get("dtype");
    JsonNode shapeNode = node.get("shape");
    JsonNode offsetsNode = node.get("data_offsets");
    if (dtypeNode == null || shapeNode == null || offsetsNode == null || offsetsNode.size() != 2) {
      throw new CheckpointException(file + ": tensor '" + name + "' has a malformed header entry: " + node);
    }
    DType dtype = DType.fromHeader(dtypeNode.asText(), name, file);
    long[] shape = new long[shapeNode.size()];
    long numElements = 1;
    for (int d = 0; d < shape.length; d++) {
      shape[d] = shapeNode.get(d).asLong();
      if (shape[d] < 0) {
        throw new CheckpointException(file + ": tensor '" + name + "' has a negative dimension " + shapeNode);
      }
      numElements *= shape[d];
    }
    long begin = dataStart + offsetsNode.get(0).asLong();
    long end = dataStart + offsetsNode.get(1).asLong();
    long expectedBytes = numElements * dtype.byteSize();
    if (end - begin != expectedBytes || begin < dataStart) {
      throw new CheckpointException(file + ": tensor '" + name + "' " + dtype + shapeNode
          + " needs " + expectedBytes + " bytes but its data_offsets " + offsetsNode + " span " + (end - begin));
    }
    if (end > fileSize) {
      throw new CheckpointException(file + ": truncated: tensor '" + name + "' ends at byte " + end
          + " but the file has " + fileSize + " bytes");
    }
    return new Entry(name, dtype, shape, begin, end);
  }

  private static Map<String, String> readMetadata(JsonNode header) {
    JsonNode meta = header.get("__metadata__");
    Map<String, String> out = new LinkedHashMap<>();
    if (meta != null) {
      meta.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
    }
    return Collections.unmodifiableMap(out);
  }

  private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
    while (buffer.hasRemaining()) {
      int n = channel.read(buffer, position + buffer.position());
      if (n < 0) {
        throw new IOException("unexpected end of file");
      }
    }
    buffer.flip();
  }

  public Path path() {
    return path;
  }

  public Map<String, TensorData> tensors() {
    return Collections.unmodifiableMap(tensors);
  }

  public Map<String, String> metadata() {
    return metadata;
  }

  /** True if the path exists and is a regular file (a cheap check before {@link #open}). */
  public static boolean exists(Path path) {
    return Files.isRegularFile(path);
  }
}
