package io.moestream.engine.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The committed PTX of the kernels, read from the classpath. PTX rather than cubins: the driver JITs
 * compute_80 PTX for every newer GPU (sm_80, 86, 89, 90 and later), and the files are text of a few
 * hundred KB. {@code build-ptx.sh} writes them with the SHA-256 of their source next to them.
 */
final class PtxModules {
  static final String RESOURCE_FOLDER = "/io/moestream/engine/cuda/ptx/";

  private PtxModules() {}

  /** The PTX text of {@code module}, NUL-terminated as cuModuleLoadData wants it. */
  static byte[] load(String module) {
    String resource = RESOURCE_FOLDER + module + ".ptx";
    try (InputStream in = PtxModules.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("PTX resource " + resource + " is missing from the classpath");
      }
      byte[] text = in.readAllBytes();
      return Arrays.copyOf(text, text.length + 1);
    } catch (IOException e) {
      throw new UncheckedIOException(resource, e);
    }
  }

  /** The SHA-256 of the source the committed PTX of {@code module} was compiled from (hex). */
  static String recordedSourceHash(String module) {
    String resource = RESOURCE_FOLDER + module + ".ptx.sha256";
    try (InputStream in = PtxModules.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("hash resource " + resource + " is missing from the classpath");
      }
      return new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim();
    } catch (IOException e) {
      throw new UncheckedIOException(resource, e);
    }
  }
}
