package dev.kqat.runtime.oscillation

import dev.kqat.runtime.quant.GradientScaling
import dev.kqat.runtime.quant.Signedness
import dev.kqat.runtime.floats
import dev.kqat.runtime.tf.ParamStore
import dev.kqat.runtime.quant.FakeQuantKernel
import dev.kqat.runtime.quant.Quantizer
import dev.kqat.runtime.quant.QuantizerSpec
import dev.kqat.runtime.quant.QuantizerTarget
import dev.kqat.runtime.runGraph
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import org.tensorflow.ndarray.Shape
import org.tensorflow.types.TFloat32

/** algorithms.md §1.5: the dampening term's value and its gradient, for each aggregation. */
class DampeningLossSpec : FunSpec({
    // A 2x3 dense kernel with 3 output channels, per-channel step sizes, signed 3 bits: n = -4, p = 3.
    val w = floatArrayOf(0.26f, -0.9f, 1.7f, -2.5f, 0.04f, 0.61f)
    val scales = floatArrayOf(0.5f, 0.2f, 0.4f)
    val n = -4
    val p = 3

    for (aggregation in OscillationSpec.Aggregation.values()) {
        test("$aggregation: value and gradients match (q − clip(w, s·n, s·p))², no gradient to s") {
            val (loss, dw, dsWith, dsWithout) = runGraph { tf ->
                val params = ParamStore(tf, 0)
                val spec = QuantizerSpec.lsq(3).let { QuantizerSpec(it.bits(), true, it.convention(), GradientScaling.OFF, it.init(), it.candidates(), true, Signedness.FROM_DATA, false, false) }
                val quantizer = Quantizer(params, "dense/weight", QuantizerTarget.WEIGHT, spec, Shape.of(3), FakeQuantKernel.FUSED)
                val kernel = tf.variable(tf.floats(Shape.of(2, 3), w))
                val setScale = tf.assign(quantizer.scale(), tf.floats(Shape.of(3), scales))
                val gated = tf.withControlDependencies(listOf(setScale))
                val q = quantizer.apply(gated, gated.identity(kernel))
                val term = DampeningLoss.term(gated, quantizer, kernel, q, 3, aggregation)
                val g = tf.gradients(term, listOf(kernel))
                // The term reaches s through no path: adding it to a loss leaves dL/ds as it was.
                val task = tf.reduceSum(tf.math.mul(q, tf.floats(Shape.of(2, 3), w)), tf.constant(intArrayOf(0, 1)))
                val withTerm = tf.gradients(tf.math.add(task, term), listOf(quantizer.scale())).dy<TFloat32>(0)
                val without = tf.gradients(task, listOf(quantizer.scale())).dy<TFloat32>(0)
                listOf(term, g.dy<TFloat32>(0), withTerm, without)
            }
            val factor = when (aggregation) {
                OscillationSpec.Aggregation.SUM -> 1.0
                OscillationSpec.Aggregation.MEAN -> 1.0 / 6
                OscillationSpec.Aggregation.KERNEL_MEAN -> 3.0 / 6
            }
            var expected = 0.0
            for (i in w.indices) {
                val s = scales[i % 3].toDouble()
                val integer = Math.rint(w[i] / s).coerceIn(n.toDouble(), p.toDouble())
                val clipped = w[i].toDouble().coerceIn(s * n, s * p)
                val diff = s * integer - clipped
                expected += diff * diff
                val inside = w[i] > s * n && w[i] < s * p
                withClue("element $i") {
                    dw[i].toDouble() shouldBe ((if (inside) -2 * diff * factor else 0.0) plusOrMinus 1e-5)
                }
            }
            loss[0].toDouble() shouldBe (expected * factor plusOrMinus 1e-5)
            dsWith.toList() shouldBe dsWithout.toList()
        }
    }
})
