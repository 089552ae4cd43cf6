package dev.kqat.runtime.export;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** An ONNX graph being written: nodes in topological order, initializers, unique value names. */
final class OnnxGraph {
  private final GraphProto.Builder graph = GraphProto.newBuilder();
  private final Set<String> names = new HashSet<>();

  /** {@code base}, or {@code base_2}, {@code base_3}… when taken. */
  String unique(String base) {
    String name = base;
    for (int i = 2; !names.add(name); i++) {
      name = base + "_" + i;
    }
    return name;
  }

  /** Adds an initializer and returns its name. */
  String constant(String base, Folded value) {
    String name = unique(base);
    graph.addInitializer(value.toProto(name));
    return name;
  }

  /** A one-element INT8 or UINT8 initializer (zero points and clip bounds of the integer domain). */
  String integerScalar(String base, long value, boolean signed, int elements) {
    String name = unique(base);
    byte[] raw = new byte[elements];
    java.util.Arrays.fill(raw, (byte) value);
    TensorProto.Builder t = TensorProto.newBuilder().setName(name)
        .setDataType((signed ? TensorProto.DataType.INT8 : TensorProto.DataType.UINT8).getNumber())
        .setRawData(ByteString.copyFrom(raw));
    if (elements > 1) {
      t.addDims(elements);
    }
    graph.addInitializer(t.build());
    return name;
  }

  /** Adds a node with one output and returns the output's name. */
  String node(String opType, String name, List<String> inputs, AttributeProto... attributes) {
    String output = unique(name);
    NodeProto.Builder n = NodeProto.newBuilder().setOpType(opType).setName(output).addOutput(output);
    inputs.forEach(n::addInput);
    for (AttributeProto a : attributes) {
      n.addAttribute(a);
    }
    graph.addNode(n);
    return output;
  }

  void input(String name, long[] shape) {
    names.add(name);
    graph.addInput(floatInfo(name, shape));
  }

  void output(String name, long[] shape) {
    graph.addOutput(floatInfo(name, shape));
  }

  GraphProto build(String name, String doc) {
    return graph.setName(name).setDocString(doc).build();
  }

  /** A float tensor's type; negative dimensions become the symbolic batch size. */
  private static ValueInfoProto floatInfo(String name, long[] shape) {
    TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
    for (long d : shape) {
      s.addDim(d < 0 ? TensorShapeProto.Dimension.newBuilder().setDimParam("batch")
          : TensorShapeProto.Dimension.newBuilder().setDimValue(d));
    }
    TypeProto type = TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
        .setElemType(TensorProto.DataType.FLOAT.getNumber()).setShape(s)).build();
    return ValueInfoProto.newBuilder().setName(name).setType(type).build();
  }

  static AttributeProto ints(String name, long... values) {
    AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
    for (long v : values) {
      a.addInts(v);
    }
    return a.build();
  }

  static AttributeProto integer(String name, long value) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
  }

  static AttributeProto real(String name, float value) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value).build();
  }
}
