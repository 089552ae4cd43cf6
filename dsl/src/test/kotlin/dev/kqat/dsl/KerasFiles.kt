package dev.kqat.dsl

import io.jhdf.HdfFile
import io.jhdf.api.WritableGroup
import java.nio.file.Path
import kotlin.random.Random

/**
 * Writes Keras 2 HDF5 weight files the way `model.save_weights("w.h5")` lays them out, for
 * architectures described here from Keras' own source (`keras.applications`), independently of
 * kqat's model code: so an import that succeeds shows kqat's layers have Keras' names and shapes.
 */
object KerasFiles {
    class Weight(val name: String, val shape: IntArray, val values: FloatArray)
    class Layer(val name: String, val weights: List<Weight>)

    /** Keras' `_make_divisible` / `_depth`. */
    fun divisible(v: Double, divisor: Int = 8): Int {
        var n = maxOf(divisor, (v + divisor / 2.0).toInt() / divisor * divisor)
        if (n < 0.9 * v) n += divisor
        return n
    }

    private class Builder(seed: Int) {
        val random = Random(seed)
        val layers = mutableListOf<Layer>()
        fun tensor(name: String, vararg shape: Int, positive: Boolean = false): Weight {
            val n = shape.fold(1) { a, b -> a * b }
            val v = FloatArray(n) { if (positive) 0.5f + random.nextFloat() else random.nextFloat() * 0.2f - 0.1f }
            return Weight(name, shape, v)
        }
        fun conv(name: String, k: Int, cin: Int, cout: Int, bias: Boolean = false) {
            layers += Layer(name, listOfNotNull(tensor("kernel", k, k, cin, cout), if (bias) tensor("bias", cout) else null))
        }
        fun depthwise(name: String, k: Int, c: Int) {
            layers += Layer(name, listOf(tensor("depthwise_kernel", k, k, c, 1)))
        }
        fun bn(name: String, c: Int) {
            layers += Layer(name, listOf(tensor("gamma", c, positive = true), tensor("beta", c),
                tensor("moving_mean", c), tensor("moving_variance", c, positive = true)))
        }
        fun dense(name: String, cin: Int, cout: Int) {
            layers += Layer(name, listOf(tensor("kernel", cin, cout), tensor("bias", cout)))
        }
    }

    /** `keras.applications.MobileNetV2(alpha, classes)` (mobilenet_v2.py). */
    fun mobileNetV2(alpha: Double, classes: Int, seed: Int = 1): List<Layer> = Builder(seed).run {
        val first = divisible(32 * alpha)
        conv("Conv1", 3, 3, first); bn("bn_Conv1", first)
        var channels = first
        // (filters, stride, expansion) of block_id 0..16
        val blocks = listOf(16 to 1, 24 to 6, 24 to 6, 32 to 6, 32 to 6, 32 to 6, 64 to 6, 64 to 6, 64 to 6, 64 to 6,
            96 to 6, 96 to 6, 96 to 6, 160 to 6, 160 to 6, 160 to 6, 320 to 6)
        blocks.forEachIndexed { id, (filters, expansion) ->
            val out = divisible((filters * alpha).toInt().toDouble())
            val prefix = if (id == 0) "expanded_conv_" else "block_${id}_"
            val expanded = expansion * channels
            if (id > 0) { conv(prefix + "expand", 1, channels, expanded); bn(prefix + "expand_BN", expanded) }
            depthwise(prefix + "depthwise", 3, expanded); bn(prefix + "depthwise_BN", expanded)
            conv(prefix + "project", 1, expanded, out); bn(prefix + "project_BN", out)
            channels = out
        }
        val last = if (alpha > 1.0) divisible(1280 * alpha) else 1280
        conv("Conv_1", 1, channels, last); bn("Conv_1_bn", last)
        dense("Logits", last, classes)
        layers
    }

    /** `keras.applications.MobileNetV3Small(alpha=1.0, classes)` (mobilenet_v3.py). */
    fun mobileNetV3Small(classes: Int, seed: Int = 2): List<Layer> = Builder(seed).run {
        conv("Conv", 3, 3, 16); bn("Conv/BatchNorm", 16)
        var channels = 16
        // (expansion, filters, kernel, squeeze-excite) of block_id 0..10, as stack_fn of MobileNetV3Small
        val blocks = listOf(
            Triple(1.0, 16, 3) to true, Triple(72.0 / 16, 24, 3) to false, Triple(88.0 / 24, 24, 3) to false,
            Triple(4.0, 40, 5) to true, Triple(6.0, 40, 5) to true, Triple(6.0, 40, 5) to true,
            Triple(3.0, 48, 5) to true, Triple(3.0, 48, 5) to true, Triple(6.0, 96, 5) to true,
            Triple(6.0, 96, 5) to true, Triple(6.0, 96, 5) to true,
        )
        blocks.forEachIndexed { id, (b, se) ->
            val (expansion, filters, kernel) = b
            val prefix = if (id == 0) "expanded_conv/" else "expanded_conv_$id/"
            val expanded = divisible(channels * expansion)
            if (id > 0) { conv(prefix + "expand", 1, channels, expanded); bn(prefix + "expand/BatchNorm", expanded) }
            depthwise(prefix + "depthwise", kernel, expanded); bn(prefix + "depthwise/BatchNorm", expanded)
            if (se) {
                val squeeze = divisible(expanded * 0.25)
                conv(prefix + "squeeze_excite/Conv", 1, expanded, squeeze, bias = true)
                conv(prefix + "squeeze_excite/Conv_1", 1, squeeze, expanded, bias = true)
            }
            val out = divisible(filters.toDouble())
            conv(prefix + "project", 1, expanded, out); bn(prefix + "project/BatchNorm", out)
            channels = out
        }
        val lastConv = divisible(channels * 6.0)
        conv("Conv_1", 1, channels, lastConv); bn("Conv_1/BatchNorm", lastConv)
        conv("Conv_2", 1, lastConv, 1024, bias = true)
        conv("Logits", 1, 1024, classes, bias = true)
        layers
    }

    /**
     * Writes [layers] as `save_weights` does: `layer_names`, and per layer `weight_names` and
     * datasets. Weightless layers are left out: jhdf cannot write an empty attribute (the h5py
     * fixtures in resources/keras cover them).
     */
    fun write(path: Path, layers: List<Layer>): Path {
        HdfFile.write(path).use { f ->
            f.putAttribute("layer_names", layers.map { it.name }.toTypedArray())
            f.putAttribute("backend", "tensorflow")
            f.putAttribute("keras_version", "2.15.0")
            for (layer in layers) {
                val g = group(f, layer.name)
                g.putAttribute("weight_names", layer.weights.map { "${layer.name}/${it.name}:0" }.toTypedArray())
                for (w in layer.weights) {
                    val parts = "${layer.name}/${w.name}:0".split('/')
                    group(g, parts.dropLast(1).joinToString("/")).putDataset(parts.last(), nested(w.values, w.shape))
                }
            }
        }
        return path
    }

    private fun group(root: WritableGroup, path: String): WritableGroup =
        path.split('/').filter { it.isNotEmpty() }.fold(root) { g, part ->
            (g.getChildren()[part] as? WritableGroup) ?: g.putGroup(part)
        }

    /** A flat row-major array as the nested Java array jhdf writes with its dimensions. */
    private fun nested(values: FloatArray, shape: IntArray): Any {
        if (shape.size == 1) return values
        val inner = shape.drop(1).fold(1) { a, b -> a * b }
        val component = java.lang.reflect.Array.newInstance(Float::class.javaPrimitiveType, *IntArray(shape.size - 1)).javaClass
        val out = java.lang.reflect.Array.newInstance(component, shape[0])
        for (i in 0 until shape[0]) {
            java.lang.reflect.Array.set(out, i, nested(values.copyOfRange(i * inner, (i + 1) * inner), shape.copyOfRange(1, shape.size)))
        }
        return out
    }
}
