package io.moestream.engine.plan;

import io.moestream.engine.cuda.CudaProbe;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The memory this process can use, as the plan is checked against it. Tests pass their own figures;
 * {@link #read(String, int)} reads this machine's.
 *
 * @param ramTotalBytes physical RAM (/proc/meminfo MemTotal); -1 when unknown
 * @param ramAvailableBytes RAM available now without swapping (MemAvailable), shown for information; -1 when unknown
 * @param cgroupLimitBytes the container's memory limit (cgroup v2 memory.max or v1 memory.limit_in_bytes);
 *     -1 when none is set
 * @param maxHeapBytes the JVM's max heap (Runtime.maxMemory, -Xmx)
 * @param gpu the GPU's memory when the backend may use one; null for the CPU backend
 */
public record MachineMemory(long ramTotalBytes, long ramAvailableBytes, long cgroupLimitBytes, long maxHeapBytes,
    Gpu gpu) {

  /**
   * @param present whether a usable device was found; when false nothing is checked against it
   * @param totalBytes the device's memory (cuMemGetInfo total)
   * @param freeBytes the device's memory free now (cuMemGetInfo free)
   * @param detail the device, or why there is none
   */
  public record Gpu(boolean present, long totalBytes, long freeBytes, String detail) {}

  /** v1 reports "no limit" as a huge page-rounded number; anything above this is no limit. */
  private static final long NO_LIMIT_ABOVE = 1L << 60;

  /** The limit RAM figures are held to: the cgroup limit when it is set and lower than the RAM. */
  public long ramLimitBytes() {
    if (cgroupLimitBytes > 0 && (ramTotalBytes < 0 || cgroupLimitBytes < ramTotalBytes)) {
      return cgroupLimitBytes;
    }
    return ramTotalBytes;
  }

  /** This machine's figures; the GPU's only for backend "cuda" or "auto" (probing never needs a GPU). */
  public static MachineMemory read(String backend, int deviceIndex) {
    String meminfo = readOrNull(Path.of("/proc/meminfo"));
    long cgroup = cgroupLimit(readOrNull(Path.of("/sys/fs/cgroup/memory.max")));
    if (cgroup < 0) {
      cgroup = cgroupLimit(readOrNull(Path.of("/sys/fs/cgroup/memory/memory.limit_in_bytes")));
    }
    Gpu gpu = "cpu".equals(backend) ? null : gpu(deviceIndex);
    return new MachineMemory(meminfoBytes(meminfo, "MemTotal"), meminfoBytes(meminfo, "MemAvailable"), cgroup,
        Runtime.getRuntime().maxMemory(), gpu);
  }

  private static Gpu gpu(int deviceIndex) {
    CudaProbe.Memory memory = CudaProbe.memory(deviceIndex);
    return new Gpu(memory.available(), memory.totalBytes(), memory.freeBytes(), memory.detail());
  }

  /** A {@code /proc/meminfo} field ("MemTotal:  16314656 kB") in bytes; -1 when absent. */
  static long meminfoBytes(String meminfo, String field) {
    if (meminfo == null) {
      return -1;
    }
    for (String line : meminfo.split("\n")) {
      if (line.startsWith(field + ":")) {
        String[] parts = line.substring(field.length() + 1).trim().split("\\s+");
        long value = Long.parseLong(parts[0]);
        return parts.length > 1 && parts[1].equalsIgnoreCase("kB") ? value * 1024 : value;
      }
    }
    return -1;
  }

  /** A cgroup limit file's content in bytes; -1 for "max", no file, or v1's "unlimited" figure. */
  static long cgroupLimit(String content) {
    if (content == null || content.isBlank() || content.trim().equals("max")) {
      return -1;
    }
    try {
      long limit = Long.parseLong(content.trim());
      return limit > 0 && limit < NO_LIMIT_ABOVE ? limit : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static String readOrNull(Path file) {
    try {
      return Files.isReadable(file) ? Files.readString(file) : null;
    } catch (IOException e) {
      return null;
    }
  }
}
