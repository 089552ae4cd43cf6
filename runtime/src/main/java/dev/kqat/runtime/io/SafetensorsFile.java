package dev.kqat.runtime.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Reads a {@code .safetensors} file (Hugging Face's format, what timm publishes): an 8-byte
 * little-endian header length N, N bytes of JSON ({@code name → {dtype, shape, data_offsets}}, plus
 * an optional {@code __metadata__}), then the tensors' little-endian bytes, offsets counted from the
 * end of the header. F32, F16 and BF16 tensors are read as floats.
 */
public final class SafetensorsFile {
  /** The format's own limit on the header, against files that would exhaust memory. */
  static final long MAX_HEADER_BYTES = 100L << 20;

  private SafetensorsFile() {}

  /**
   * One tensor of the file.
   *
   * @param dtype the stored type, e.g. {@code F32}
   * @param shape dimensions as stored (PyTorch layouts: a linear weight is [out, in])
   * @param values the values as floats; null for types other than F32, F16 and BF16 (integer
   *     buffers such as Swin's position index), which are not read
   */
  public record Tensor(String name, String dtype, long[] shape, float[] values) {
    /** The values, or an error naming the file and the tensor's type when they were not read. */
    public float[] floats(Path file) {
      if (values == null) {
        throw new IllegalArgumentException(file + ": " + name + " is " + dtype + "; only F32, F16 and BF16 tensors are read");
      }
      return values;
    }
  }

  /** Whether {@code file} is a safetensors file by name (what {@code initFrom} dispatches on). */
  public static boolean isSafetensors(Path file) {
    return file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".safetensors");
  }

  /** Every tensor, in the header's order. Fails naming the file and what is wrong with it. */
  public static Map<String, Tensor> read(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(file + ": safetensors file not found");
    }
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = channel.size();
      if (size < 8) {
        throw corrupt(file, "shorter than the 8-byte header length");
      }
      ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      channel.read(lengthBytes, 0);
      long headerLength = lengthBytes.flip().getLong();
      if (headerLength < 2 || headerLength > MAX_HEADER_BYTES || 8 + headerLength > size) {
        throw corrupt(file, "header length " + Long.toUnsignedString(headerLength) + " does not fit a file of " + size + " bytes");
      }
      ByteBuffer header = ByteBuffer.allocate((int) headerLength);
      channel.read(header, 8);
      JsonNode root;
      try {
        root = new ObjectMapper().readTree(header.array());
      } catch (JsonProcessingException e) {
        throw corrupt(file, "header is not JSON (" + e.getOriginalMessage() + ")");
      }
      if (root == null || !root.isObject()) {
        throw corrupt(file, "header is not a JSON object");
      }
      long dataStart = 8 + headerLength;
      if (size - dataStart > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(file + ": tensor data above 2 GiB are not read (ViT-L and larger)");
      }
      ByteBuffer data = channel.map(FileChannel.MapMode.READ_ONLY, dataStart, size - dataStart).order(ByteOrder.LITTLE_ENDIAN);
      Map<String, Tensor> tensors = new LinkedHashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!e.getKey().equals("__metadata__")) {
          tensors.put(e.getKey(), tensor(file, e.getKey(), e.getValue(), data));
        }
      }
      return tensors;
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": cannot read (" + e.getMessage() + ")", e);
    }
  }

  private static Tensor tensor(Path file, String name, JsonNode entry, ByteBuffer data) {
    JsonNode shapeNode = entry.get("shape");
    JsonNode offsets = entry.get("data_offsets");
    String dtype = entry.path("dtype").asText("");
    if (shapeNode == null || !shapeNode.isArray() || offsets == null || !offsets.isArray() || offsets.size() != 2) {
      throw corrupt(file, name + ": needs dtype, shape and two data_offsets");
    }
    long[] shape = new long[shapeNode.size()];
    long count = 1;
    for (int i = 0; i < shape.length; i++) {
      shape[i] = shapeNode.get(i).asLong(-1);
      if (shape[i] < 0) {
        throw corrupt(file, name + ": shape " + shapeNode + " has a negative dimension");
      }
      count *= shape[i];
    }
    int width = switch (dtype) {
      case "F64", "I64", "U64" -> 8;
      case "F32", "I32", "U32" -> 4;
      case "F16", "BF16", "I16", "U16" -> 2;
      case "I8", "U8", "BOOL" -> 1;
      default -> throw corrupt(file, name + ": unknown dtype '" + dtype + "'");
    };
    long begin = offsets.get(0).asLong(-1);
    long end = offsets.get(1).asLong(-1);
    if (begin < 0 || end < begin || end > data.capacity() || end - begin != count * width) {
      throw corrupt(file, name + ": data_offsets " + offsets + " do not hold " + count + " " + dtype
          + " values within the " + data.capacity() + " data bytes");
    }
    if (!dtype.equals("F32") && !dtype.equals("F16") && !dtype.equals("BF16")) {
      return new Tensor(name, dtype, shape, null);
    }
    float[] values = new float[(int) count];
    for (int i = 0; i < values.length; i++) {
      int at = (int) (begin + (long) i * width);
      values[i] = switch (dtype) {
        case "F32" -> data.getFloat(at);
        case "BF16" -> Float.intBitsToFloat((data.getShort(at) & 0xffff) << 16);
        default -> halfToFloat(data.getShort(at));
      };
    }
    return new Tensor(name, dtype, shape, values);
  }

  /** IEEE 754 half precision to float (JDK 17 has no {@code Float.float16ToFloat}). */
  static float halfToFloat(short half) {
    int bits = half & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exponent = (bits >>> 10) & 0x1f;
    int mantissa = bits & 0x3ff;
    if (exponent == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13)); // Inf or NaN
    }
    if (exponent == 0) {
      // Zero or subnormal: mantissa · 2^-24.
      float magnitude = mantissa * 0x1p-24f;
      return sign == 0 ? magnitude : -magnitude;
    }
    return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  }

  private static IllegalArgumentException corrupt(Path file, String what) {
    return new IllegalArgumentException(file + ": not a valid safetensors file: " + what);
  }
}
