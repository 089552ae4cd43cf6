package dev.kqat.runtime

import dev.kqat.runtime.models.Model
import dev.kqat.runtime.nn.Layers
import dev.kqat.runtime.nn.NetContext
import org.tensorflow.Operand
import org.tensorflow.types.TFloat32

/** conv 3×3 (first), depth-wise 3×3, point-wise 1×1, each with BN and ReLU, pool, dense (last), on 8×8×3 images. */
internal class SmallSupernet : Model {
    override fun name() = "small-supernet"
    override fun inputShape() = intArrayOf(8, 8, 3)
    override fun numClasses() = 10
    override fun forward(ctx: NetContext, images: Operand<TFloat32>): Operand<TFloat32> {
        var x = Layers.relu(ctx, Layers.batchNorm(ctx, "stem/bn", Layers.conv2d(ctx, "stem", images, 4, 3, 1)))
        x = Layers.relu(ctx, Layers.batchNorm(ctx, "dw/bn", Layers.depthwiseConv2d(ctx, "dw", x, 3, 1)))
        x = Layers.relu(ctx, Layers.batchNorm(ctx, "pw/bn", Layers.conv2d(ctx, "pw", x, 4, 1, 1)))
        return Layers.dense(ctx, "head", Layers.globalAvgPool(ctx, x), 10)
    }
}
