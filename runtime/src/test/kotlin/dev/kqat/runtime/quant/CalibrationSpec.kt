package dev.kqat.runtime.quant

import dev.kqat.runtime.nn.PassMode
import dev.kqat.runtime.nn.QuantHooks
import dev.kqat.runtime.data.Batch
import dev.kqat.runtime.fetchFloats
import dev.kqat.runtime.floats
import dev.kqat.runtime.nn.Layers
import dev.kqat.runtime.nn.ModelState
import dev.kqat.runtime.nn.NetContext
import dev.kqat.runtime.tf.ParamStore
import dev.kqat.runtime.runTargets
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import org.tensorflow.Graph
import org.tensorflow.Session
import org.tensorflow.ndarray.Shape
import org.tensorflow.ndarray.buffer.DataBuffers
import org.tensorflow.op.Ops
import org.tensorflow.op.core.Placeholder
import org.tensorflow.types.TFloat32
import org.tensorflow.types.TInt32
import kotlin.math.abs

/**
 * Range initialisation end to end (algorithms.md §1.1, §1.2): [Calibration.run] over the evaluation pass of two
 * dense layers, one quantizing the raw input ("signed") and one its ReLU ("relu"), then the integer range and
 * step size each quantizer was given.
 */
class CalibrationSpec : FunSpec({

    /** What calibration assigned to one quantizer. */
    data class Range(val n: Float, val p: Float, val scales: FloatArray)

    /**
     * Calibrates input quantizers [inputSpec] of the layers "signed" (input: the batch, 4 features) and "relu"
     * (input: its ReLU), plus an optional weight quantizer on "signed" whose [kernel] ([4, 2]) is set first.
     */
    fun calibrate(
        inputSpec: QuantizerSpec,
        batches: List<FloatArray>,
        weightSpec: QuantizerSpec? = null,
        kernel: FloatArray? = null,
        maxFetchedFloats: Long = Calibration.MAX_FETCHED_FLOATS,
    ): Map<String, Range> = Graph().use { g ->
        val tf = Ops.create(g)
        val params = ParamStore(tf, 0)
        val layers = listOf(LayerInfo("signed", LayerKind.DENSE, 0, 2), LayerInfo("relu", LayerKind.DENSE, 1, 2))
        val policy = QuantPolicy { l -> LayerQuant(if (l.name() == "signed") weightSpec else null, inputSpec) }
        val state = ModelState(params, policy, layers, FakeQuantKernel.TF_OPS, QuantHooks.NONE)
        val images = tf.placeholder(TFloat32::class.java, Placeholder.shape(Shape.of(-1, 4)))
        val ctx = NetContext(state, PassMode.EVAL, null)
        // Through an identity: calibration feeds the image placeholder and cannot also fetch it.
        Layers.dense(ctx, "signed", tf.identity(images), 2)
        Layers.dense(ctx, "relu", tf.nn.relu(images), 2)
        Session(g).use { session ->
            session.initialize()
            if (kernel != null) session.runTargets(tf.assign(params.get("signed/kernel").variable(), tf.floats(Shape.of(4, 2), kernel)))
            val feeds = batches.map { b ->
                val rows = b.size / 4
                Batch(TFloat32.tensorOf(Shape.of(rows.toLong(), 4), DataBuffers.of(b, true, false)), TInt32.vectorOf(*IntArray(rows)), rows, IntArray(rows) { it })
            }
            try {
                Calibration.run(session, state.quantizers(), ctx.quantizerInputs(), images, feeds, maxFetchedFloats)
            } finally {
                feeds.forEach { it.close() }
            }
            state.quantizers().associate { q ->
                val (n, p, s) = session.fetchFloats(q.lowest(), q.highest(), q.scale())
                q.name() to Range(n[0], p[0], s)
            }
        }
    }

    fun spec(bits: Int, init: RangeInit, candidates: Int = 100, perChannel: Boolean = false) =
        QuantizerSpec(bits, perChannel, BackwardConvention.ROUND_THEN_CLAMP, GradientScaling.OFF, init, candidates, true, Signedness.FROM_DATA, false, false)

    fun relu(b: FloatArray) = FloatArray(b.size) { maxOf(b[it], 0f) }

    /**
     * The 1-D MSE grid search of §1.2 by hand, per tensor: grid and signedness from the first batch, squared
     * errors summed over all batches, first minimum wins. Returns the integer range and the chosen step.
     */
    fun mseByHand(batches: List<FloatArray>, bits: Int, candidates: Int): Pair<IntRange, Float> {
        val first = batches[0]
        val range = if (first.min() >= 0f) IntRange.unsigned(bits) else IntRange.signed(bits)
        val rangeMax = maxOf(abs(first.min()), first.max()) + 0.5
        val step = rangeMax / candidates
        val losses = DoubleArray(candidates) { k ->
            val s = (k + 1) * step / range.p()
            val inv = 1.0 / s
            batches.sumOf { b -> b.sumOf { v -> (v - s * Math.rint(v * inv).coerceIn(range.n().toDouble(), range.p().toDouble())).let { it * it } } }
        }
        val best = losses.indices.minBy { losses[it] }
        val runnerUp = losses.indices.filter { it != best }.minOf { losses[it] }
        // The data leave no near-tie that float summation order could flip.
        withClue("best candidate is clearly separated") { (runnerUp - losses[best] > 1e-6 * (1 + losses[best])) shouldBe true }
        return range to ((best + 1) * step / range.p()).toFloat()
    }

    fun gaussian(n: Int, seed: Long) = java.util.Random(seed).let { r -> FloatArray(n) { (r.nextGaussian() * 1.3).toFloat() } }

    context("signedness") {
        test("hand-solved MSE grids: signed data get [-4, 3] and s = 1, ReLU data [0, 7] and s = 0.5") {
            // 3 bits, K = 7. Signed: max(|-2|, 3) + 0.5 = 3.5, candidates s_k = 0.5k / 3; only k = 6 (s = 1) puts
            // every value on the grid (zero error). ReLU: {0, 1, 2, 3}, s_k = 0.5k / 7; only k = 7 (s = 0.5) does.
            val batch = floatArrayOf(-2f, -1f, 0f, 1f, 2f, 3f, 0f, 1f)
            val ranges = calibrate(spec(3, RangeInit.MSE, 7), listOf(batch))
            ranges.getValue("signed/input").let { r ->
                listOf(r.n, r.p) shouldBe listOf(-4f, 3f)
                r.scales.toList() shouldBe listOf(1.0f)
            }
            ranges.getValue("relu/input").let { r ->
                listOf(r.n, r.p) shouldBe listOf(0f, 7f)
                r.scales.toList() shouldBe listOf(0.5f)
            }
        }

        test("min-max on the same data: signed s = 3/3, ReLU (minimum exactly 0) unsigned s = 3/15") {
            val batch = floatArrayOf(-2f, -1f, 0f, 1f, 2f, 3f, 0f, 1f)
            val ranges = calibrate(spec(4, RangeInit.MIN_MAX), listOf(batch))
            ranges.getValue("signed/input").let { r ->
                listOf(r.n, r.p) shouldBe listOf(-8f, 7f)
                r.scales.toList() shouldBe listOf(3f / 7)
            }
            ranges.getValue("relu/input").let { r ->
                listOf(r.n, r.p) shouldBe listOf(0f, 15f)
                r.scales.toList() shouldBe listOf(3f / 15)
            }
        }

        for (bits in listOf(4, 8)) {
            test("$bits-bit MSE, 100 candidates, two batches of Gaussian data: ranges and steps of a hand-run search") {
                val batches = listOf(gaussian(64, 11), gaussian(64, 12))
                val ranges = calibrate(spec(bits, RangeInit.MSE), batches)
                for ((name, data) in listOf("signed/input" to batches, "relu/input" to batches.map { relu(it) })) {
                    val (range, step) = mseByHand(data, bits, 100)
                    withClue(name) {
                        ranges.getValue(name).let { r ->
                            listOf(r.n, r.p) shouldBe listOf(range.n().toFloat(), range.p().toFloat())
                            r.scales.toList() shouldBe listOf(step)
                        }
                    }
                }
                ranges.getValue("signed/input").p shouldBe ((1 shl (bits - 1)) - 1).toFloat()
                ranges.getValue("relu/input").p shouldBe ((1 shl bits) - 1).toFloat()
            }
        }

        test("MSE decides signedness on the first batch only, min-max on all of them") {
            // First batch non-negative, second with negatives.
            val batches = listOf(relu(gaussian(64, 21)), gaussian(64, 22))
            val mse = calibrate(spec(4, RangeInit.MSE), batches).getValue("signed/input")
            val (range, step) = mseByHand(batches, 4, 100)
            range shouldBe IntRange.unsigned(4)
            listOf(mse.n, mse.p) shouldBe listOf(0f, 15f)
            mse.scales.toList() shouldBe listOf(step)
            val minMax = calibrate(spec(4, RangeInit.MIN_MAX), batches).getValue("signed/input")
            listOf(minMax.n, minMax.p) shouldBe listOf(-8f, 7f)
            val absMax = batches.maxOf { b -> b.maxOf { abs(it) } }
            minMax.scales.toList() shouldBe listOf(absMax / 7)
        }
    }

    context("min-max ranges over several calibration batches") {
        // Batch extremes (min, max): (-0.5, 1.0), (-0.2, 3.0), (-1.0, 2.0).
        val batches = listOf(
            floatArrayOf(-0.5f, 0.25f, 1.0f, 0.5f, 0.0f, -0.25f, 0.75f, 0.1f),
            floatArrayOf(3.0f, -0.2f, 0.5f, 1.5f, 2.25f, 0.0f, -0.1f, 0.3f),
            floatArrayOf(2.0f, -1.0f, 0.4f, -0.6f, 1.0f, 0.2f, 1.9f, -0.3f),
        )

        test("the code takes min and max over all batches together: s = max(1.0, 3.0) / 7, not §1.2's running average") {
            val ranges = calibrate(spec(4, RangeInit.MIN_MAX), batches)
            val signed = ranges.getValue("signed/input")
            listOf(signed.n, signed.p) shouldBe listOf(-8f, 7f)
            signed.scales.toList() shouldBe listOf(3.0f / 7)
            // §1.2 running_minmax: first batch, then m = 0.9 m + 0.1 cur: min -0.5 -> -0.47 -> -0.523,
            // max 1.0 -> 1.2 -> 1.28, so s would be 1.28 / 7.
            var runMin = -0.5
            var runMax = 1.0
            for ((lo, hi) in listOf(-0.2 to 3.0, -1.0 to 2.0)) {
                runMin = 0.9 * runMin + 0.1 * lo
                runMax = 0.9 * runMax + 0.1 * hi
            }
            runMax shouldBe (1.28 plusOrMinus 1e-12)
            runMin shouldBe (-0.523 plusOrMinus 1e-12)
            (abs(signed.scales[0] - maxOf(-runMin, runMax) / 7) > 0.2) shouldBe true
            val relu = ranges.getValue("relu/input")
            listOf(relu.n, relu.p) shouldBe listOf(0f, 15f)
            relu.scales.toList() shouldBe listOf(3.0f / 15)
        }

        test("the order of the batches does not matter (no running average)") {
            val reversed = calibrate(spec(4, RangeInit.MIN_MAX), batches.reversed()).getValue("signed/input")
            reversed.scales.toList() shouldBe listOf(3.0f / 7)
        }

        test("per-channel weights: one step per output channel, |max| / 7, signed grid from the whole kernel's minimum") {
            // Kernel [4, 2]: channel of flat element i is i % 2. Channel 0 is all positive (max 1.2), channel 1
            // holds the only negatives (|min| 2.1); both get the signed grid.
            val kernel = floatArrayOf(0.5f, -0.3f, 1.2f, 0.9f, 0.1f, -2.1f, 0.7f, 0.4f)
            val ranges = calibrate(spec(4, RangeInit.MIN_MAX), batches, spec(4, RangeInit.MIN_MAX, perChannel = true), kernel)
            val weight = ranges.getValue("signed/weight")
            listOf(weight.n, weight.p) shouldBe listOf(-8f, 7f)
            weight.scales.toList() shouldBe listOf(1.2f / 7, 2.1f / 7)
        }
    }

    context("waves and slices") {
        test("a quantizer downstream of another sees the upstream quantizer's output: 2-bit input, then the layer's output") {
            // first = dense(q2(x)) with kernel [[1, 0], [0, 1]] (bias 0), second quantizes first's output by min-max.
            // x = (0.9, -0.2), (0.3, 0.6): 2-bit signed min-max gives s = 0.9 and q(x) = (0.9, 0), (0.0, 0.9),
            // so second's input has |max| 0.9: s = 0.9 / 7, where unquantized x would give the same 0.9 but
            // negatives (-0.2) that q2 removes: second's grid is unsigned [0, 15], s = 0.9 / 15.
            Graph().use { g ->
                val tf = Ops.create(g)
                val params = ParamStore(tf, 0)
                val layers = listOf(LayerInfo("first", LayerKind.DENSE, 0, 2), LayerInfo("second", LayerKind.DENSE, 1, 2))
                val policy = QuantPolicy { l -> LayerQuant(null, spec(if (l.name() == "first") 2 else 4, RangeInit.MIN_MAX)) }
                val state = ModelState(params, policy, layers, FakeQuantKernel.TF_OPS, QuantHooks.NONE)
                val images = tf.placeholder(TFloat32::class.java, Placeholder.shape(Shape.of(-1, 2)))
                val ctx = NetContext(state, PassMode.EVAL, null)
                val hidden = Layers.dense(ctx, "first", tf.identity(images), 2)
                Layers.dense(ctx, "second", hidden, 2)
                Session(g).use { session ->
                    session.initialize()
                    session.runTargets(tf.assign(params.get("first/kernel").variable(), tf.floats(Shape.of(2, 2), floatArrayOf(1f, 0f, 0f, 1f))))
                    val x = floatArrayOf(0.9f, -0.2f, 0.3f, 0.6f)
                    Batch(TFloat32.tensorOf(Shape.of(2, 2), DataBuffers.of(x, true, false)), TInt32.vectorOf(0, 0), 2, intArrayOf(0, 1)).use { b ->
                        Calibration.run(session, state.quantizers(), ctx.quantizerInputs(), images, listOf(b))
                    }
                    val q = state.quantizers().first { it.name() == "second/input" }
                    val (n, p, s) = session.fetchFloats(q.lowest(), q.highest(), q.scale())
                    listOf(n[0], p[0]) shouldBe listOf(0f, 15f)
                    s.toList() shouldBe listOf(0.9f / 15)
                }
            }
        }

        test("batches fetched in slices of one image give the ranges of whole batches (MSE: grid from the first batch)") {
            val batches = listOf(relu(gaussian(64, 31)), gaussian(64, 32))
            val whole = calibrate(spec(4, RangeInit.MSE), batches, spec(4, RangeInit.MSE, perChannel = true), gaussian(8, 33))
            // Every quantizer input here is 4 floats per image: a budget of 4 fetches one image per run.
            val sliced = calibrate(spec(4, RangeInit.MSE), batches, spec(4, RangeInit.MSE, perChannel = true), gaussian(8, 33), maxFetchedFloats = 4)
            for (name in listOf("signed/input", "relu/input", "signed/weight")) {
                withClue(name) {
                    sliced.getValue(name).let { listOf(it.n, it.p) + it.scales.toList() } shouldBe
                        whole.getValue(name).let { listOf(it.n, it.p) + it.scales.toList() }
                }
            }
            whole.getValue("signed/input").n shouldBe 0f
        }
    }
})
