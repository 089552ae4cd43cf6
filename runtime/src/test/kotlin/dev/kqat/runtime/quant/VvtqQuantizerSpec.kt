package dev.kqat.runtime.quant

import dev.kqat.runtime.fetchFloats
import dev.kqat.runtime.floats
import dev.kqat.runtime.runTargets
import dev.kqat.runtime.tf.ParamStore
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.floats.plusOrMinus as floatPlusOrMinus
import io.kotest.matchers.shouldBe
import org.tensorflow.Graph
import org.tensorflow.Session
import org.tensorflow.ndarray.Shape
import org.tensorflow.op.Ops
import org.tensorflow.types.TFloat32
import kotlin.math.abs
import kotlin.math.sqrt

/**
 * VVTQ's quantizers (algorithms.md §0.1, §0.2, §3.1): the LSQ+ offset's value and gradients, VVTQ's
 * step-size gradient factors for kernels and activations, one step size per bit-width of which only
 * the active one learns, and the two initialisations.
 */
class VvtqQuantizerSpec : FunSpec({
    val slots = floatArrayOf(0.9f, 0.5f, 0.3f, 0.2f, 0.1f, 0.05f, 0.02f)

    /** Value of Σ c·q(x) and its gradients to x, the step-size slots and the offset slots. */
    fun quantize(spec: QuantizerSpec, target: QuantizerTarget, x: FloatArray, c: FloatArray, offsets: FloatArray?): List<FloatArray> =
        Graph().use { g ->
            val tf = Ops.create(g)
            val params = ParamStore(tf, 0)
            val q = Quantizer(params, "site", target, spec, Shape.scalar(), FakeQuantKernel.TF_OPS)
            val input = tf.identity(tf.floats(Shape.of(x.size.toLong()), x))
            val y = q.apply(tf, input)
            val loss = tf.reduceSum(tf.math.mul(y, tf.floats(Shape.of(c.size.toLong()), c)), tf.constant(0))
            val wrt = listOfNotNull(input, q.scale(), q.offsetVariable())
            val grads = tf.gradients(loss, wrt)
            val setSlots = tf.assign(q.scale(), tf.floats(Shape.of(7), slots))
            val setOffsets = offsets?.let { tf.assign(q.offsetVariable(), tf.floats(Shape.of(7), it)) }
            Session(g).use { s ->
                s.initialize()
                s.runTargets(*listOfNotNull(setSlots, setOffsets).toTypedArray())
                s.fetchFloats(y, *wrt.indices.map { grads.dy<TFloat32>(it) }.toTypedArray())
            }
        }

    test("LSQ+ offset on an unsigned 3-bit activation: value s·round(clamp((x-β)/s, 0, 7)) + β; dβ = 1 where clamped, 0 inside; ds with 1/(sqrt(numel)·p)") {
        val spec = QuantizerSpec.vvtqActivations(3).withSignedness(Signedness.UNSIGNED).withOffset(true)
        val offsets = floatArrayOf(0.2f, -0.17f, 0.4f, 0f, 0f, 0f, 0f)
        // s = 0.5, β = -0.17 (slot of 3 bits): u = (x + 0.17)/0.5 = -0.66, 0.14, 0.94, 2.34, 4.34, 6.94, 8.14, 10.34.
        val x = floatArrayOf(-0.5f, -0.1f, 0.3f, 1.0f, 2.0f, 3.3f, 3.9f, 5.0f)
        val c = floatArrayOf(1f, -2f, 0.5f, 3f, -1f, 2f, 1.5f, -0.5f)
        val (y, dx, ds, dBeta) = quantize(spec, QuantizerTarget.ACTIVATION, x, c, offsets)
        val s = 0.5
        val beta = -0.17
        val g = 1 / (sqrt(x.size.toDouble()) * 7)
        var expectedDs = 0.0
        var expectedDBeta = 0.0
        for (i in x.indices) {
            val u = (x[i].toDouble() - beta) / s
            val inside = u in 0.0..7.0
            withClue("x = ${x[i]}") {
                y[i].toDouble() shouldBe (s * Math.rint(u.coerceIn(0.0, 7.0)) + beta plusOrMinus 1e-6)
                dx[i].toDouble() shouldBe (if (inside) c[i].toDouble() else 0.0)
            }
            expectedDs += c[i] * (if (u < 0) 0.0 else if (u > 7) 7.0 else Math.rint(u) - u)
            if (!inside) expectedDBeta += c[i]
        }
        expectedDBeta shouldBe (1.0 - 0.5 + 1.5 plusOrMinus 1e-12) // the three clamped elements
        for (slot in 0 until 7) {
            withClue("slot $slot (bits ${slot + 2})") {
                ds[slot].toDouble() shouldBe ((if (slot == 1) g * expectedDs else 0.0) plusOrMinus 1e-6)
                dBeta[slot].toDouble() shouldBe ((if (slot == 1) expectedDBeta else 0.0) plusOrMinus 1e-6)
            }
        }
    }

    test("VVTQ kernel gradient scale g = 1/sqrt(p·Σ|W|) on the active slot only; dW passes inside [n, p] and nothing flows through g") {
        val spec = QuantizerSpec.vvtqWeights(4) // signed [-8, 7], slot 2: s = 0.3
        val w = floatArrayOf(0.05f, -0.44f, 1.0f, 2.2f, -2.5f, 0.61f)
        val c = floatArrayOf(2f, -1f, 0.5f, 1f, 3f, -2f)
        val (y, dw, ds) = quantize(spec, QuantizerTarget.WEIGHT, w, c, null)
        val s = 0.3
        val g = 1 / sqrt(7 * w.sumOf { abs(it.toDouble()) })
        var expectedDs = 0.0
        for (i in w.indices) {
            val u = w[i] / s
            y[i].toDouble() shouldBe (s * Math.rint(u.coerceIn(-8.0, 7.0)) plusOrMinus 1e-6)
            dw[i].toDouble() shouldBe (if (u in -8.0..7.0) c[i].toDouble() else 0.0)
            expectedDs += c[i] * (if (u < -8) -8.0 else if (u > 7) 7.0 else Math.rint(u) - u)
        }
        // 2.2/0.3 = 7.33 and -2.5/0.3 = -8.33 are clamped: their gradient to W is 0 and to s is p or n.
        dw[3] shouldBe 0f
        dw[4] shouldBe 0f
        ds.toList().forEachIndexed { slot, v -> v.toDouble() shouldBe ((if (slot == 2) g * expectedDs else 0.0) plusOrMinus 1e-6) }
    }

    test("least-squares init: the fixed point s = <w,c>/<c,c> of its own codes, per bit-width; a hand-made case") {
        // 2 bits [-2, 1]: s0 = 1.0/1; codes 0, 0, 1, 1 -> s = (0.8 + 1.0)/2 = 0.9, whose codes are the same.
        LeastSquaresFit.steps(floatArrayOf(0.1f, -0.35f, 0.8f, 1.0f), IntRange.signed(2), 1)[0] shouldBe (0.9f floatPlusOrMinus 1e-7f)
        val random = java.util.Random(3)
        val w = FloatArray(500) { (random.nextGaussian() * 0.02).toFloat() }
        for (bits in 2..8) {
            val range = IntRange.signed(bits)
            val s = LeastSquaresFit.steps(w, range, 1)[0].toDouble()
            val codes = w.map { Math.rint((it / s).coerceIn(range.n().toDouble(), range.p().toDouble())) }
            val refit = w.indices.sumOf { w[it] * codes[it] } / codes.sumOf { it * it }
            withClue("$bits bits") { abs(refit - s) / s shouldBe (0.0 plusOrMinus 2e-5) }
        }
    }

    test("calibration fills the seven slots: kernels fit per bit-width, activations 2·mean|x|/sqrt(2^(b-1)-1) at the configured bits in every slot") {
        val random = java.util.Random(5)
        val sample = FloatArray(300) { (random.nextGaussian() * 0.5 + 0.1).toFloat() }
        Graph().use { g ->
            val tf = Ops.create(g)
            val params = ParamStore(tf, 0)
            val weight = Quantizer(params, "w", QuantizerTarget.WEIGHT, QuantizerSpec.vvtqWeights(3), Shape.scalar(), FakeQuantKernel.TF_OPS)
            val act = Quantizer(params, "a", QuantizerTarget.ACTIVATION,
                QuantizerSpec.vvtqActivations(3).withSignedness(Signedness.UNSIGNED), Shape.scalar(), FakeQuantKernel.TF_OPS)
            val (wSlots, wn, wp) = Calibration.ranges(weight, listOf(sample))
            for (bits in 2..8) {
                wSlots[bits - 2] shouldBe LeastSquaresFit.steps(sample, IntRange.signed(bits), 1)[0]
            }
            (wn[0] to wp[0]) shouldBe (-4f to 3f)
            val (aSlots, an, ap) = Calibration.ranges(act, listOf(sample))
            val expected = 2 * sample.sumOf { abs(it.toDouble()) } / sample.size / sqrt(3.0) // signed p of 3 bits
            aSlots.forEach { it.toDouble() shouldBe (expected plusOrMinus 1e-6) }
            (an[0] to ap[0]) shouldBe (0f to 7f) // the grid stays unsigned although the data has negatives
        }
    }
})
