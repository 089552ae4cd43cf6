package dev.kqat.runtime.distill;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * kqat's soft-label file ({@code .kqsl}): for every image of a training set, in dataset order, R
 * crops with the teacher's top-k probabilities for each (FKD's per-image {@code (coords, flips,
 * labels)}, algorithms.md §3.4, in one file with fixed-size records). Layout, little-endian:
 *
 * <pre>
 * "KQSL"  int32 version (1)  int32 L  L bytes of UTF-8 JSON ({@link Header})
 * images × crops records of 17 + 6k bytes:
 *   float32 top, left, height, width   (fractions of the image's height and width)
 *   uint8   flip                       (1: mirrored left–right after cropping)
 *   k × uint16  classes, most probable first
 *   k × float32 their probabilities
 * </pre>
 *
 * The size follows from the header, so a truncated or padded file is refused; image {@code i}'s
 * crops sit at a computed offset, so training reads only what a step needs.
 */
public final class SoftLabelFile implements AutoCloseable {
  static final byte[] MAGIC = "KQSL".getBytes(StandardCharsets.US_ASCII);
  static final int VERSION = 1;
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * What a file holds and how it was made.
   *
   * @param images training images, in the dataset's order
   * @param crops stored crops per image (R)
   * @param classes classes of the teacher's output
   * @param topK probabilities kept per crop
   * @param imageShape height, width, channels of the images
   * @param labelsCrc32 CRC-32 of the training labels (int32 little-endian, in order): the file's dataset
   * @param teacher what labelled the crops (a checkpoint path)
   * @param seed seed of the crop sampler
   * @param minScale smallest crop area as a fraction of the image (random resized crop)
   * @param maxScale largest crop area
   */
  public record Header(int images, int crops, int classes, int topK, int[] imageShape, long labelsCrc32,
      String teacher, long seed, double minScale, double maxScale) {
    public Header {
      if (images < 1 || crops < 1 || classes < 2 || topK < 1 || topK > classes || classes > 65536) {
        throw new IllegalArgumentException("soft-label header out of range: images " + images + ", crops " + crops
            + ", classes " + classes + ", topK " + topK);
      }
    }

    /** Bytes of one crop record. */
    public int cropBytes() {
      return 17 + 6 * topK;
    }

    long imageBytes() {
      return (long) crops * cropBytes();
    }
  }

  private final Path path;
  private final Header header;
  private final FileChannel channel;
  private final long dataStart;

  private SoftLabelFile(Path path, Header header, FileChannel channel, long dataStart) {
    this.path = path;
    this.header = header;
    this.channel = channel;
    this.dataStart = dataStart;
  }

  /** Opens and checks a file: magic, version, header and the size they imply. */
  public static SoftLabelFile open(Path path) {
    if (!Files.isRegularFile(path)) {
      throw new IllegalArgumentException(path + ": no such soft-label file");
    }
    FileChannel channel = null;
    try {
      channel = FileChannel.open(path, StandardOpenOption.READ);
      ByteBuffer start = readFully(channel, 0, 12, path);
      byte[] magic = new byte[4];
      start.get(magic);
      if (!java.util.Arrays.equals(magic, MAGIC)) {
        throw new IllegalArgumentException(path + ": not a kqat soft-label file (no KQSL magic)");
      }
      int version = start.getInt();
      if (version != VERSION) {
        throw new IllegalArgumentException(path + ": soft-label format version " + version + ", this kqat reads " + VERSION);
      }
      int length = start.getInt();
      if (length <= 0 || length > channel.size() - 12) {
        throw new IllegalArgumentException(path + ": corrupt soft-label file (header length " + length + ")");
      }
      ByteBuffer json = readFully(channel, 12, length, path);
      Header header;
      try {
        header = JSON.readValue(StandardCharsets.UTF_8.decode(json).toString(), Header.class);
      } catch (JsonProcessingException | IllegalArgumentException e) {
        throw new IllegalArgumentException(path + ": corrupt soft-label header: " + e.getMessage(), e);
      }
      long expected = 12L + length + header.images() * header.imageBytes();
      if (channel.size() != expected) {
        throw new IllegalArgumentException(path + ": corrupt soft-label file: " + channel.size() + " bytes, the header ("
            + header.images() + " images × " + header.crops() + " crops × " + header.cropBytes() + " B) implies " + expected);
      }
      SoftLabelFile file = new SoftLabelFile(path, header, channel, 12L + length);
      channel = null;
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(path + ": " + e.getMessage(), e);
    } finally {
      if (channel != null) {
        try {
          channel.close();
        } catch (IOException ignored) {
          // The open already failed; that failure is the one to report.
        }
      }
    }
  }

  public Header header() {
    return header;
  }

  public Path path() {
    return path;
  }

  /** The stored crops of image {@code image} (dataset order). */
  public StoredCrop[] read(int image) {
    if (image < 0 || image >= header.images()) {
      throw new IndexOutOfBoundsException(path + ": image " + image + " outside 0.." + (header.images() - 1));
    }
    try {
      ByteBuffer b = readFully(channel, dataStart + image * header.imageBytes(), (int) header.imageBytes(), path);
      StoredCrop[] crops = new StoredCrop[header.crops()];
      for (int r = 0; r < crops.length; r++) {
        float top = b.getFloat();
        float left = b.getFloat();
        float height = b.getFloat();
        float width = b.getFloat();
        boolean flip = b.get() != 0;
        int[] classes = new int[header.topK()];
        for (int j = 0; j < classes.length; j++) {
          classes[j] = Short.toUnsignedInt(b.getShort());
        }
        float[] probabilities = new float[header.topK()];
        for (int j = 0; j < probabilities.length; j++) {
          probabilities[j] = b.getFloat();
        }
        crops[r] = new StoredCrop(top, left, height, width, flip, classes, probabilities);
      }
      return crops;
    } catch (IOException e) {
      throw new UncheckedIOException(path + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static ByteBuffer readFully(FileChannel channel, long position, int length, Path path) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
    while (b.hasRemaining()) {
      if (channel.read(b, position + b.position()) < 0) {
        throw new IllegalArgumentException(path + ": corrupt soft-label file: ends at byte " + (position + b.position()));
      }
    }
    return b.flip();
  }

  /**
   * Writes a file image by image into {@code target.part}, renamed onto {@code target} only when every
   * image is in: a killed writer never leaves a half file under the final name, and never replaces a
   * complete one.
   */
  public static final class Writer implements AutoCloseable {
    private final Path target;
    private final Path part;
    private final Header header;
    private final FileChannel channel;
    private int written;
    private boolean finished;

    public Writer(Path target, Header header) {
      this.target = target;
      this.part = target.resolveSibling(target.getFileName() + ".part");
      this.header = header;
      try {
        Path parent = target.toAbsolutePath().getParent();
        if (parent != null) {
          Files.createDirectories(parent);
        }
        this.channel = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE);
        byte[] json = JSON.writeValueAsBytes(header);
        ByteBuffer start = ByteBuffer.allocate(12 + json.length).order(ByteOrder.LITTLE_ENDIAN);
        start.put(MAGIC).putInt(VERSION).putInt(json.length).put(json).flip();
        writeFully(start);
      } catch (IOException e) {
        throw new UncheckedIOException(part + ": " + e.getMessage(), e);
      }
    }

    /** Appends the next image's crops (exactly {@code header.crops()}, each with {@code topK} classes). */
    public void append(List<StoredCrop> crops) {
      if (crops.size() != header.crops()) {
        throw new IllegalArgumentException("image " + written + ": " + crops.size() + " crops, the header says " + header.crops());
      }
      ByteBuffer b = ByteBuffer.allocate((int) header.imageBytes()).order(ByteOrder.LITTLE_ENDIAN);
      for (StoredCrop c : crops) {
        if (c.classes().length != header.topK() || c.probabilities().length != header.topK()) {
          throw new IllegalArgumentException("image " + written + ": a crop with " + c.classes().length
              + " classes, the header says top " + header.topK());
        }
        b.putFloat(c.top()).putFloat(c.left()).putFloat(c.height()).putFloat(c.width()).put((byte) (c.flip() ? 1 : 0));
        for (int k : c.classes()) {
          b.putShort((short) k);
        }
        for (float p : c.probabilities()) {
          b.putFloat(p);
        }
      }
      try {
        writeFully(b.flip());
      } catch (IOException e) {
        throw new UncheckedIOException(part + ": " + e.getMessage(), e);
      }
      written++;
    }

    /** Checks that every image is in, syncs and renames the file into place. */
    public void finish() {
      if (written != header.images()) {
        throw new IllegalStateException(target + ": " + written + " of " + header.images() + " images written");
      }
      try {
        channel.force(true);
        channel.close();
        Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        finished = true;
      } catch (IOException e) {
        throw new UncheckedIOException(target + ": " + e.getMessage(), e);
      }
    }

    /** Without {@link #finish}, removes the partial file. */
    @Override
    public void close() {
      if (finished) {
        return;
      }
      try {
        channel.close();
        Files.deleteIfExists(part);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    private void writeFully(ByteBuffer b) throws IOException {
      while (b.hasRemaining()) {
        channel.write(b);
      }
    }
  }
}
