package dev.kqat.runtime.quant

import dev.kqat.runtime.floats
import dev.kqat.runtime.runGraph
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import org.tensorflow.ndarray.Shape
import org.tensorflow.types.TFloat32

/**
 * NaN, +Inf and -Inf inputs through both fake-quant kernels, as each behaves today (range [-8, 7]):
 *
 * | input | forward FUSED | forward TF_OPS | dL/dx (both) | dL/ds of its step size (both)   |
 * |-------|---------------|----------------|--------------|---------------------------------|
 * | NaN   | n * s         | NaN            | 0            | NaN                             |
 * | +Inf  | p * s         | p * s          | 0            | NaN (§0.1 says p: 0 * Inf in Σ g·xi − dx·u) |
 * | -Inf  | n * s         | n * s          | 0            | NaN (§0.1 says n)                |
 *
 * The kernels differ only in the forward value of NaN: the C kernel's clamp `u > n ? u : n` maps NaN to n,
 * TensorFlow's ClipByValue keeps it. Finite elements and other channels' step sizes are unaffected.
 */
class NonFiniteFakeQuantSpec : FunSpec({
    val n = -8f
    val p = 7f
    // [2, 2]: the special value is element 0 (channel 0 when per-channel).
    val finite = floatArrayOf(0.3f, 0.7f, -0.9f)
    val upstream = floatArrayOf(2f, 3f, 5f, 7f)

    for (kernel in FakeQuantKernel.values()) for (convention in BackwardConvention.values()) {
        for (perChannel in listOf(false, true)) {
            val scales = if (perChannel) floatArrayOf(0.5f, 0.25f) else floatArrayOf(0.5f)
            val specials = listOf(
                Float.NaN to (if (kernel == FakeQuantKernel.FUSED) n * 0.5f else Float.NaN),
                Float.POSITIVE_INFINITY to p * 0.5f,
                Float.NEGATIVE_INFINITY to n * 0.5f,
            )
            for ((special, expectedValue) in specials) {
                val mode = if (perChannel) "per-channel" else "per-tensor"
                test("$kernel $convention $mode, x = $special: forward $expectedValue, dL/dx 0, its step size's dL/ds NaN") {
                    val x = floatArrayOf(special) + finite
                    val (q, dx, ds) = runGraph { tf ->
                        val xv = tf.variable(tf.floats(Shape.of(2, 2), x))
                        val sv = tf.variable(if (perChannel) tf.floats(Shape.of(2), scales) else tf.constant(scales[0]))
                        val q = FakeQuant.apply(tf, kernel, convention, xv, sv, tf.constant(n), tf.constant(p))
                        val loss = tf.reduceSum(tf.math.mul(q, tf.floats(Shape.of(2, 2), upstream)), tf.constant(intArrayOf(0, 1)))
                        val g = tf.gradients(loss, listOf(xv, sv))
                        listOf(q, g.dy<TFloat32>(0), g.dy<TFloat32>(1))
                    }
                    withClue("forward of the special value") {
                        if (expectedValue.isNaN()) q[0].isNaN() shouldBe true else q[0] shouldBe expectedValue
                    }
                    // The finite elements: 0.3 and -0.9 on channel 1 (s = 0.25 per channel), 0.7 on channel 0.
                    val s1 = scales.last()
                    q.drop(1) shouldBe listOf(Math.rint(0.3 / s1).toFloat() * s1, 0.5f, Math.rint(-0.9 / s1).toFloat() * s1)
                    dx.toList() shouldBe listOf(0f, 3f, 5f, 7f)
                    ds[0].isNaN() shouldBe true
                    if (perChannel) {
                        // Channel 1 alone: u = 1.2 -> 1 - 1.2, u = -3.6 -> -4 + 3.6 (inside for both conventions).
                        ds[1].toDouble() shouldBe (3 * -0.2 + 7 * -0.4 plusOrMinus 1e-5)
                    }
                }
            }
        }
    }

    test("the vectorised body and the scalar tail of the fused kernel treat NaN and ±Inf alike, as the table says") {
        // 40 elements with a scalar step: two rows of 16 lanes plus a tail of 8. Specials in both parts.
        val x = FloatArray(40) { ((it * 7) % 23 - 11) * 0.37f }
        val at = mapOf(5 to Float.NaN, 10 to Float.POSITIVE_INFINITY, 20 to Float.NEGATIVE_INFINITY,
            33 to Float.NaN, 35 to Float.POSITIVE_INFINITY, 39 to Float.NEGATIVE_INFINITY)
        at.forEach { (i, v) -> x[i] = v }
        val results = FakeQuantKernel.values().associateWith { kernel ->
            runGraph { tf ->
                val xv = tf.variable(tf.floats(Shape.of(40), x))
                val q = FakeQuant.apply(tf, kernel, BackwardConvention.ROUND_THEN_CLAMP, xv, tf.constant(0.5f), tf.constant(n), tf.constant(p))
                listOf(q, tf.gradients(tf.reduceSum(q, tf.constant(0)), listOf(xv)).dy<TFloat32>(0))
            }
        }
        val (fusedQ, fusedDx) = results.getValue(FakeQuantKernel.FUSED)
        val (opsQ, opsDx) = results.getValue(FakeQuantKernel.TF_OPS)
        for (i in x.indices) withClue("element $i (x = ${x[i]})") {
            val special = at[i]
            when {
                special == null -> fusedQ[i] shouldBe opsQ[i]
                special.isNaN() -> {
                    fusedQ[i] shouldBe n * 0.5f
                    opsQ[i].isNaN() shouldBe true
                }
                special > 0 -> listOf(fusedQ[i], opsQ[i]) shouldBe listOf(p * 0.5f, p * 0.5f)
                else -> listOf(fusedQ[i], opsQ[i]) shouldBe listOf(n * 0.5f, n * 0.5f)
            }
            if (special != null) listOf(fusedDx[i], opsDx[i]) shouldBe listOf(0f, 0f)
        }
        fusedDx.toList() shouldBe opsDx.toList()
    }
})
