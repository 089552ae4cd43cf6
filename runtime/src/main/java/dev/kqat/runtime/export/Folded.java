package dev.kqat.runtime.export;

import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * A tensor of the evaluation graph that does not depend on the images, computed once by TensorFlow
 * at export: trained weights, BN statistics, step sizes, shape constants. Float tensors keep their
 * values; integer and boolean tensors are held as longs.
 */
record Folded(long[] shape, float[] floats, long[] longs, TensorProto.DataType type) {

  static Folded of(Tensor t) {
    long[] shape = t.shape().asArray();
    int size = (int) Math.max(1, t.shape().size());
    if (t.shape().numDimensions() > 0 && t.shape().size() == 0) {
      size = 0;
    }
    if (t instanceof TFloat32 f) {
      float[] v = new float[size];
      f.copyTo(DataBuffers.of(v, false, false));
      return new Folded(shape, v, null, TensorProto.DataType.FLOAT);
    }
    long[] v = new long[size];
    if (t instanceof TInt32 i) {
      int[] ints = new int[size];
      i.copyTo(DataBuffers.of(ints, false, false));
      Arrays.setAll(v, k -> ints[k]);
      return new Folded(shape, null, v, TensorProto.DataType.INT64);
    }
    if (t instanceof TInt64 l) {
      l.copyTo(DataBuffers.of(v, false, false));
      return new Folded(shape, null, v, TensorProto.DataType.INT64);
    }
    if (t instanceof TBool b) {
      boolean[] bools = new boolean[size];
      b.copyTo(DataBuffers.of(bools, false, false));
      Arrays.setAll(v, k -> bools[k] ? 1 : 0);
      return new Folded(shape, null, v, TensorProto.DataType.BOOL);
    }
    throw new OnnxExportException("a constant of type " + t.dataType() + " cannot be exported");
  }

  static Folded ofFloats(long[] shape, float[] values) {
    return new Folded(shape, values, null, TensorProto.DataType.FLOAT);
  }

  static Folded ofLongs(long[] shape, long[] values) {
    return new Folded(shape, null, values, TensorProto.DataType.INT64);
  }

  int rank() {
    return shape.length;
  }

  int size() {
    return floats != null ? floats.length : longs.length;
  }

  float floatAt(int i) {
    return floats != null ? floats[i] : longs[i];
  }

  /** The same values under another shape of the same size. */
  Folded reshaped(long... newShape) {
    return new Folded(newShape, floats, longs, type);
  }

  /** Leading axes of size 1 added up to {@code rank} (numpy broadcasting aligns trailing axes). */
  Folded atRank(int rank) {
    if (shape.length >= rank) {
      return this;
    }
    long[] s = new long[rank];
    Arrays.fill(s, 1);
    System.arraycopy(shape, 0, s, rank - shape.length, shape.length);
    return reshaped(s);
  }

  /** The transposed tensor: axis i of the result is axis {@code perm[i]} of this one. */
  Folded permuted(int... perm) {
    int rank = shape.length;
    long[] outShape = new long[rank];
    for (int i = 0; i < rank; i++) {
      outShape[i] = shape[perm[i]];
    }
    long[] inStrides = strides(shape);
    long[] outStrides = strides(outShape);
    int n = size();
    float[] f = floats == null ? null : new float[n];
    long[] l = longs == null ? null : new long[n];
    for (int out = 0; out < n; out++) {
      long rest = out;
      long in = 0;
      for (int i = 0; i < rank; i++) {
        long coord = rest / outStrides[i];
        rest %= outStrides[i];
        in += coord * inStrides[perm[i]];
      }
      if (f != null) {
        f[out] = floats[(int) in];
      } else {
        l[out] = longs[(int) in];
      }
    }
    return new Folded(outShape, f, l, type);
  }

  private static long[] strides(long[] shape) {
    long[] strides = new long[shape.length];
    long s = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      strides[i] = s;
      s *= shape[i];
    }
    return strides;
  }

  TensorProto toProto(String name) {
    TensorProto.Builder b = TensorProto.newBuilder().setName(name).setDataType(type.getNumber());
    for (long d : shape) {
      b.addDims(d);
    }
    ByteBuffer raw;
    if (type == TensorProto.DataType.FLOAT) {
      raw = ByteBuffer.allocate(4 * floats.length).order(ByteOrder.LITTLE_ENDIAN);
      for (float v : floats) {
        raw.putFloat(v);
      }
    } else if (type == TensorProto.DataType.BOOL) {
      raw = ByteBuffer.allocate(longs.length);
      for (long v : longs) {
        raw.put((byte) v);
      }
    } else {
      raw = ByteBuffer.allocate(8 * longs.length).order(ByteOrder.LITTLE_ENDIAN);
      for (long v : longs) {
        raw.putLong(v);
      }
    }
    return b.setRawData(ByteString.copyFrom(raw.array())).build();
  }
}
