package dev.kqat.runtime.oscillation

import dev.kqat.runtime.quant.GradientScaling
import dev.kqat.runtime.quant.Signedness
import dev.kqat.runtime.nn.PassMode
import dev.kqat.runtime.quant.QuantizerTarget
import dev.kqat.runtime.fetchFloats
import dev.kqat.runtime.floats
import dev.kqat.runtime.quant.LayerInfo
import dev.kqat.runtime.quant.LayerKind
import dev.kqat.runtime.nn.Layers
import dev.kqat.runtime.nn.ModelState
import dev.kqat.runtime.nn.NetContext
import dev.kqat.runtime.tf.ParamStore
import dev.kqat.runtime.quant.BackwardConvention
import dev.kqat.runtime.quant.FakeQuantKernel
import dev.kqat.runtime.quant.LayerQuant
import dev.kqat.runtime.quant.QuantPolicy
import dev.kqat.runtime.quant.Quantizer
import dev.kqat.runtime.quant.QuantizerSpec
import dev.kqat.runtime.quant.RangeInit
import dev.kqat.runtime.runTargets
import dev.kqat.runtime.schedule.Schedule
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import org.tensorflow.Graph
import org.tensorflow.Session
import org.tensorflow.ndarray.Shape
import org.tensorflow.op.Ops
import org.tensorflow.types.TFloat32

/**
 * algorithms.md §1.7: a frozen weight's forward value is `s * frozen_integer`, its latent weight gets no
 * task gradient, and the step size still learns through it (dq/ds = frozen integer, §0.1 elsewhere).
 */
class FrozenWeightGradientSpec : FunSpec({
    // Signed 3 bits: n = -4, p = 3, s = 0.4. u = w/s: 0.65, -2.25, 4.25 (rounds to 4, clamped), -6.25 (clamped),
    // 0.1, 1.525, 9.75 (clamped), -0.825.
    val w = floatArrayOf(0.26f, -0.9f, 1.7f, -2.5f, 0.04f, 0.61f, 3.9f, -0.33f)
    val s = 0.4f
    val n = -4
    val p = 3
    // Elements 1 and 5 would pass the straight-through gradient, 3 is clamped anyway; all three are frozen
    // at integers other than their current ones (-2 -> 2, -4 -> -1, 2 -> -3).
    val frozen = booleanArrayOf(false, true, false, true, false, true, false, false)
    val frozenInteger = floatArrayOf(0f, 2f, 0f, -1f, 0f, -3f, 0f, 0f)
    // Loss = sum(c * forward value): distinct weights make every element's gradient visible.
    val c = floatArrayOf(1f, -2f, 0.5f, 1.5f, -1f, 3f, 0.25f, 2f)
    val freezing = OscillationSpec(OscillationSpec.Tracking(4, 0.01, 0.005, false), null,
        OscillationSpec.Freezing(Schedule.Constant(0.1), 0.0, true))

    /** §0.1 for one element: forward value, dq/dx and dq/ds. */
    fun reference(convention: BackwardConvention, x: Float, step: Float): Triple<Float, Double, Double> {
        val u = x / step
        val integer = Math.rint(u.toDouble()).coerceIn(n.toDouble(), p.toDouble()).toFloat()
        val value = integer * step
        val ud = x.toDouble() / step
        return when (convention) {
            BackwardConvention.ROUND_THEN_CLAMP -> {
                val r = Math.rint(ud)
                when {
                    r < n -> Triple(value, 0.0, n.toDouble())
                    r > p -> Triple(value, 0.0, p.toDouble())
                    else -> Triple(value, 1.0, r - ud)
                }
            }
            BackwardConvention.CLAMP_THEN_ROUND -> when {
                ud < n -> Triple(value, 0.0, n.toDouble())
                ud > p -> Triple(value, 0.0, p.toDouble())
                else -> Triple(value, 1.0, Math.rint(ud) - ud)
            }
        }
    }

    for (kernel in FakeQuantKernel.values()) for (convention in BackwardConvention.values()) {
        test("$kernel $convention: frozen elements forward s*frozen_integer, pass no gradient to w, give frozen_integer to dL/ds") {
            val (value, dw, ds) = Graph().use { g ->
                val tf = Ops.create(g)
                val params = ParamStore(tf, 0)
                val spec = QuantizerSpec(3, false, convention, GradientScaling.OFF, RangeInit.MSE, 100, true, Signedness.FROM_DATA, false, false)
                val quantizer = Quantizer(params, "layer/weight", QuantizerTarget.WEIGHT, spec, Shape.scalar(), kernel)
                val tracker = OscillationTracker(params, "layer/weight", Shape.of(8), freezing)
                val weight = tf.variable(tf.floats(Shape.of(8), w))
                val q = quantizer.apply(tf, weight)
                val pinned = tracker.pin(tf, q, quantizer.learnedStepSize(tf, weight))
                val loss = tf.reduceSum(tf.math.mul(pinned, tf.floats(Shape.of(8), c)), tf.constant(0))
                val grads = tf.gradients(loss, listOf(weight, quantizer.scale()))
                Session(g).use { session ->
                    session.initialize()
                    session.runTargets(
                        tf.assign(quantizer.scale(), tf.constant(s)),
                        tf.assign(params.get("layer/weight/oscillation/frozen").variable(),
                            tf.floats(Shape.of(8), FloatArray(8) { if (frozen[it]) 1f else 0f })),
                        tf.assign(params.get("layer/weight/oscillation/frozen_integer").variable(),
                            tf.floats(Shape.of(8), frozenInteger)),
                    )
                    session.fetchFloats(pinned, grads.dy<TFloat32>(0), grads.dy<TFloat32>(1))
                }
            }
            var expectedDs = 0.0
            for (i in w.indices) {
                val (q, dqdx, dqds) = reference(convention, w[i], s)
                withClue("element $i (frozen: ${frozen[i]})") {
                    if (frozen[i]) {
                        value[i] shouldBe s * frozenInteger[i]
                        dw[i] shouldBe 0f
                        expectedDs += c[i] * frozenInteger[i]
                    } else {
                        value[i] shouldBe q
                        dw[i].toDouble() shouldBe c[i] * dqdx
                        expectedDs += c[i] * dqds
                    }
                }
            }
            // Frozen: -2*2 + 1.5*(-1) + 3*(-3) = -14.5 from the frozen integers alone.
            ds[0].toDouble() shouldBe (expectedDs plusOrMinus 1e-5)
        }
    }

    test("through NetContext and a dense layer: per-channel LSQ gradient scaling also scales the frozen integers' share") {
        // Kernel [2, 4]: 4 output channels (last axis), N = 2 elements per step size, p = 3, g = 1/sqrt(6).
        val scales = floatArrayOf(0.4f, 0.25f, 0.5f, 0.3f)
        val kernelValues = floatArrayOf(0.26f, -0.9f, 1.7f, -2.5f, 0.04f, 0.61f, 3.9f, -0.33f)
        val spec = QuantizerSpec(3, true, BackwardConvention.ROUND_THEN_CLAMP, GradientScaling.LSQ, RangeInit.MSE, 100, true, Signedness.FROM_DATA, false, false)
        val (output, dw, ds) = Graph().use { g ->
            val tf = Ops.create(g)
            val params = ParamStore(tf, 0)
            val hooks = OscillationHooks(params, freezing)
            val state = ModelState(params, QuantPolicy { LayerQuant(spec, null) },
                listOf(LayerInfo("fc", LayerKind.DENSE, 0, 1)), FakeQuantKernel.preferred(), hooks)
            val ctx = NetContext(state, PassMode.TRAIN, null)
            // The identity input makes the layer's output its (pinned, fake-quantized) kernel.
            val out = Layers.dense(ctx, "fc", tf.floats(Shape.of(2, 2), floatArrayOf(1f, 0f, 0f, 1f)), 4)
            hooks.trackers().size shouldBe 1
            val kernelVar = params.get("fc/kernel").variable()
            val scaleVar = params.get("fc/weight/scale").variable()
            val loss = tf.reduceSum(tf.math.mul(out, tf.floats(Shape.of(2, 4), c)), tf.constant(intArrayOf(0, 1)))
            val grads = tf.gradients(loss, listOf(kernelVar, scaleVar))
            Session(g).use { session ->
                session.initialize()
                session.runTargets(
                    tf.assign(kernelVar, tf.floats(Shape.of(2, 4), kernelValues)),
                    tf.assign(scaleVar, tf.floats(Shape.of(4), scales)),
                    tf.assign(params.get("fc/weight/oscillation/frozen").variable(),
                        tf.floats(Shape.of(2, 4), FloatArray(8) { if (frozen[it]) 1f else 0f })),
                    tf.assign(params.get("fc/weight/oscillation/frozen_integer").variable(),
                        tf.floats(Shape.of(2, 4), frozenInteger)),
                )
                session.fetchFloats(out, grads.dy<TFloat32>(0), grads.dy<TFloat32>(1))
            }
        }
        val gScale = 1.0 / Math.sqrt(3.0 * 2)
        val expectedDs = DoubleArray(4)
        for (i in kernelValues.indices) {
            val channel = i % 4
            val step = scales[channel]
            val (q, dqdx, dqds) = reference(BackwardConvention.ROUND_THEN_CLAMP, kernelValues[i], step)
            withClue("element $i (frozen: ${frozen[i]})") {
                if (frozen[i]) {
                    output[i] shouldBe step * frozenInteger[i]
                    dw[i] shouldBe 0f
                    expectedDs[channel] += gScale * c[i] * frozenInteger[i]
                } else {
                    output[i] shouldBe q
                    dw[i].toDouble() shouldBe c[i] * dqdx
                    expectedDs[channel] += gScale * c[i] * dqds
                }
            }
        }
        for (k in 0 until 4) withClue("channel $k") { ds[k].toDouble() shouldBe (expectedDs[k] plusOrMinus 1e-5) }
    }
})
