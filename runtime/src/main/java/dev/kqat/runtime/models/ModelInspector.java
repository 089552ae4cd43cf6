package dev.kqat.runtime.models;

import dev.kqat.runtime.quant.LayerCost;
import dev.kqat.runtime.quant.LayerInfo;
import dev.kqat.runtime.nn.ModelState;
import dev.kqat.runtime.nn.NetContext;
import dev.kqat.runtime.nn.PassMode;
import dev.kqat.runtime.nn.QuantHooks;
import dev.kqat.runtime.tf.ParamRole;
import dev.kqat.runtime.tf.ParamStore;
import dev.kqat.runtime.quant.FakeQuantKernel;
import dev.kqat.runtime.quant.QuantPolicy;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * Traces a model once in a scratch graph to list its weight layers (names, kinds, order) and
 * count its parameters. Policies need the order to find the first and last layer; validation
 * needs the names.
 */
public final class ModelInspector {
  private ModelInspector() {}

  /**
   * Summary of a traced model.
   *
   * @param costs each weight layer's weights and multiply-accumulates per image, in forward order
   */
  public record Summary(List<LayerInfo> layers, long trainableParameters, List<LayerCost> costs) {
    public List<String> layerNames() {
      return layers.stream().map(LayerInfo::name).toList();
    }
  }

  public static Summary inspect(Model model) {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      ParamStore params = new ParamStore(tf, 0);
      // A FLOAT policy builds no quantizer, so the kernel is never used.
      NetContext ctx = new NetContext(new ModelState(params, QuantPolicy.FLOAT, List.of(), FakeQuantKernel.TF_OPS,
          QuantHooks.NONE), PassMode.EVAL, null);
      int[] in = model.inputShape();
      Placeholder<TFloat32> x =
          tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, in[0], in[1], in[2])));
      model.forward(ctx, x);
      List<NetContext.LayerInfoDraft> drafts = ctx.layersSeen();
      List<LayerInfo> layers = new ArrayList<>();
      for (int i = 0; i < drafts.size(); i++) {
        layers.add(new LayerInfo(drafts.get(i).name(), drafts.get(i).kind(), i, drafts.size()));
      }
      long count = params.withRole(ParamRole.WEIGHT).stream().mapToLong(p -> p.shape().size()).sum();
      return new Summary(List.copyOf(layers), count, List.copyOf(ctx.layerCosts()));
    }
  }
}
