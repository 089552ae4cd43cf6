package dev.kqat.runtime.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Reads IDX files (the MNIST family), plain or gzip-compressed. Every failure names the file and
 * what was expected.
 */
public final class IdxReader {
  private IdxReader() {}

  /** Parsed IDX content: dimensions and unsigned bytes. */
  public record Idx(int[] dims, byte[] data) {}

  public static Idx read(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new DatasetException(file + ": file not found");
    }
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(file))) {
      InputStream in = raw;
      raw.mark(2);
      int b0 = raw.read();
      int b1 = raw.read();
      raw.reset();
      if (b0 == 0x1f && b1 == 0x8b) {
        in = new GZIPInputStream(raw);
      }
      DataInputStream data = new DataInputStream(in);
      int magic = data.readInt();
      int type = (magic >> 8) & 0xff;
      int rank = magic & 0xff;
      if ((magic >>> 16) != 0 || type != 0x08 || rank < 1 || rank > 4) {
        throw new DatasetException(
            file + ": not an unsigned-byte IDX file (magic 0x" + Integer.toHexString(magic) + ")");
      }
      int[] dims = new int[rank];
      long total = 1;
      for (int i = 0; i < rank; i++) {
        dims[i] = data.readInt();
        if (dims[i] < 0) {
          throw new DatasetException(file + ": negative dimension " + dims[i]);
        }
        total *= dims[i];
      }
      if (total > Integer.MAX_VALUE - 8) {
        throw new DatasetException(file + ": " + total + " values do not fit in memory");
      }
      byte[] bytes = new byte[(int) total];
      int read = data.readNBytes(bytes, 0, bytes.length);
      if (read < bytes.length) {
        throw new DatasetException(
            file + ": truncated: header promises " + total + " bytes of data, file holds " + read);
      }
      return new Idx(dims, bytes);
    } catch (EOFException e) {
      throw new DatasetException(file + ": truncated inside the IDX header", e);
    } catch (IOException e) {
      throw new DatasetException(file + ": cannot be read: " + e.getMessage(), e);
    }
  }
}
