package io.moestream.engine.format;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Files shipped inside a jar (a bundled tokenizer, the demo's trained model) written out to a folder, for
 * the loaders that read folders. A name ending in {@code .gz} is stored compressed and written out without
 * the suffix, as it was before compression.
 */
public final class BundledFiles {
  private static final String GZ = ".gz";

  private BundledFiles() {}

  /**
   * Writes {@code resourceDir + name} (resources of {@code anchor}'s class loader) for each name into
   * {@code dir}, created if missing, replacing what is there.
   *
   * @throws FileNotFoundException naming the first resource that is not there
   */
  public static void copyTo(Class<?> anchor, String resourceDir, List<String> names, Path dir) throws IOException {
    Files.createDirectories(dir);
    for (String name : names) {
      try (InputStream in = anchor.getResourceAsStream(resourceDir + name)) {
        if (in == null) {
          throw new FileNotFoundException("bundled resource " + resourceDir + name + " is missing from the jar");
        }
        if (name.endsWith(GZ)) {
          try (InputStream plain = new GZIPInputStream(in)) {
            Files.copy(plain, dir.resolve(name.substring(0, name.length() - GZ.length())),
                StandardCopyOption.REPLACE_EXISTING);
          }
        } else {
          Files.copy(in, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }
}
