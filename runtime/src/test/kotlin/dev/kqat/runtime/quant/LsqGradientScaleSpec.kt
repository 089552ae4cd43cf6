package dev.kqat.runtime.quant

import dev.kqat.runtime.fetchFloats
import dev.kqat.runtime.floats
import dev.kqat.runtime.tf.ParamStore
import dev.kqat.runtime.runTargets
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import org.tensorflow.Graph
import org.tensorflow.Session
import org.tensorflow.ndarray.Shape
import org.tensorflow.op.Ops
import org.tensorflow.types.TFloat32
import kotlin.math.abs

/**
 * algorithms.md §0.2 (OSC/RFQ rule) as [Quantizer.learnedStepSize] applies it: dL/ds is the §0.1 step-size
 * gradient times g = 1/sqrt(p * N), N = elements per step-size value, p = the quantizer's upper integer bound.
 */
class LsqGradientScaleSpec : FunSpec({
    // A [3, 4] tensor: 4 output channels on the last axis, so N = 3 per channel and N = 12 per tensor.
    val x = floatArrayOf(
        -1.37f, 0.21f, 0.94f, -0.33f,
        2.71f, 0.05f, -0.58f, 1.12f,
        0.47f, -2.2f, 3.3f, 0.66f,
    )
    // Upstream gradient: loss = sum(w * q).
    val w = floatArrayOf(1.0f, -2.0f, 0.5f, 1.5f, -1.0f, 3.0f, 0.25f, -0.75f, 2.0f, 1.25f, -1.5f, 0.5f)
    val channelScales = floatArrayOf(0.31f, 0.17f, 0.23f, 0.09f)
    val tensorScale = 0.23f

    /** §0.1 dq/ds of one element, unscaled. */
    fun dqds(c: BackwardConvention, xi: Float, s: Float, n: Int, p: Int): Double {
        val u = xi.toDouble() / s
        return when (c) {
            BackwardConvention.ROUND_THEN_CLAMP -> Math.rint(u).let { r -> if (r < n) n.toDouble() else if (r > p) p.toDouble() else r - u }
            BackwardConvention.CLAMP_THEN_ROUND -> if (u < n) n.toDouble() else if (u > p) p.toDouble() else Math.rint(u) - u
        }
    }

    for (kernel in FakeQuantKernel.values()) for (convention in BackwardConvention.values()) {
        for (perChannel in listOf(false, true)) for (unsigned in listOf(false, true)) {
            val range = if (unsigned) IntRange.unsigned(4) else IntRange.signed(4)
            val mode = if (perChannel) "per-channel (N = 3)" else "per-tensor (N = 12)"
            test("$kernel $convention $mode, range [${range.n()}, ${range.p()}]: dL/ds = §0.1 sum / sqrt(p * N)") {
                val scaleShape = if (perChannel) Shape.of(4) else Shape.scalar()
                val scales = if (perChannel) channelScales else floatArrayOf(tensorScale)
                // Two quantizers on the same tensor, one with gradient scaling and one without.
                val results = listOf(true, false).map { scaled ->
                    Graph().use { g ->
                        val tf = Ops.create(g)
                        val params = ParamStore(tf, 0)
                        val spec = QuantizerSpec(4, perChannel, convention, if (scaled) GradientScaling.LSQ else GradientScaling.OFF, RangeInit.MSE, 100, true, Signedness.FROM_DATA, false, false)
                        val quantizer = Quantizer(params, "layer/weight", QuantizerTarget.WEIGHT, spec, scaleShape, kernel)
                        val xv = tf.variable(tf.floats(Shape.of(3, 4), x))
                        val q = quantizer.apply(tf, xv)
                        val loss = tf.reduceSum(tf.math.mul(q, tf.floats(Shape.of(3, 4), w)), tf.constant(intArrayOf(0, 1)))
                        val grads = tf.gradients(loss, listOf(xv, quantizer.scale()))
                        Session(g).use { session ->
                            session.initialize()
                            // The range is a variable set by calibration: g must use the p assigned here.
                            session.runTargets(
                                tf.assign(quantizer.scale(), if (perChannel) tf.floats(scaleShape, scales) else tf.constant(scales[0])),
                                tf.assign(quantizer.lowest(), tf.constant(range.n().toFloat())),
                                tf.assign(quantizer.highest(), tf.constant(range.p().toFloat())),
                            )
                            session.fetchFloats(q, grads.dy<TFloat32>(0), grads.dy<TFloat32>(1))
                        }
                    }
                }
                val (scaledQ, scaledDx, scaledDs) = results[0]
                val (plainQ, plainDx, plainDs) = results[1]
                val perScale = if (perChannel) 3.0 else 12.0
                val gScale = 1.0 / Math.sqrt(range.p() * perScale)
                val unscaled = DoubleArray(scales.size)
                for (i in x.indices) {
                    val k = if (perChannel) i % 4 else 0
                    unscaled[k] += w[i] * dqds(convention, x[i], scales[k], range.n(), range.p())
                }
                // The forward value is that of the unscaled quantizer up to float rounding: §0.2's
                // s * g + sg(s - s * g) is not exactly s in float (one ulp off for some of these step sizes).
                for (i in x.indices) withClue("q[$i]") {
                    (abs(scaledQ[i] - plainQ[i]) <= 2 * Math.ulp(plainQ[i])) shouldBe true
                }
                // dL/dx is untouched by the scaling.
                scaledDx.toList() shouldBe plainDx.toList()
                for (k in scales.indices) withClue("step size $k") {
                    // The data give every step size a clearly non-zero gradient, so a wrong g cannot hide.
                    (abs(unscaled[k]) > 0.1) shouldBe true
                    plainDs[k].toDouble() shouldBe (unscaled[k] plusOrMinus 1e-4)
                    scaledDs[k].toDouble() shouldBe (gScale * unscaled[k] plusOrMinus 1e-5)
                }
            }
        }
    }
})
