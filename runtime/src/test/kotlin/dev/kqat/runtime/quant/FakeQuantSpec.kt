package dev.kqat.runtime.quant

import dev.kqat.runtime.floats
import dev.kqat.runtime.runGraph
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import org.tensorflow.Operand
import org.tensorflow.ndarray.Shape
import org.tensorflow.op.Ops
import org.tensorflow.types.TFloat32

/** algorithms.md §0 and §0.1: forward grid values and both backward conventions, for both kernels. */
class FakeQuantSpec : FunSpec({

    /** Reference derivatives of §0.1 for one element. */
    fun reference(c: BackwardConvention, x: Double, s: Double, n: Int, p: Int): Pair<Double, Double> {
        val u = x / s
        return when (c) {
            BackwardConvention.ROUND_THEN_CLAMP -> {
                val r = Math.rint(u)
                when {
                    r < n -> Pair(0.0, n.toDouble())
                    r > p -> Pair(0.0, p.toDouble())
                    else -> Pair(1.0, r - u)
                }
            }
            BackwardConvention.CLAMP_THEN_ROUND -> when {
                u < n -> Pair(0.0, n.toDouble())
                u > p -> Pair(0.0, p.toDouble())
                else -> Pair(1.0, Math.rint(u) - u)
            }
        }
    }

    for (kernel in FakeQuantKernel.values()) context("$kernel kernel") {
        fun quantize(tf: Ops, c: BackwardConvention, x: Operand<TFloat32>, s: Operand<TFloat32>, n: Float, p: Float) =
            FakeQuant.apply(tf, kernel, c, x, s, tf.constant(n), tf.constant(p))

        test("forward values sit on the grid, ties round half to even, values clamp to [n, p]") {
            // s = 0.5, signed 3 bits: n = -4, p = 3. x/s: -5.2 -> -4, -1.5 -> -2 (even), 0.5 -> 0 (even),
            // 1.25 -> 1, 2.5 -> 2 (even), 3.49 -> 3, 9 -> 3
            val x = floatArrayOf(-2.6f, -0.75f, 0.25f, 0.625f, 1.25f, 1.745f, 4.5f)
            for (c in BackwardConvention.values()) {
                val (q) = runGraph { tf ->
                    listOf(quantize(tf, c, tf.floats(Shape.of(7), x), tf.constant(0.5f), -4f, 3f))
                }
                q.toList() shouldBe listOf(-2.0f, -1.0f, 0.0f, 0.5f, 1.0f, 1.5f, 1.5f)
            }
        }

        test("algorithms.md §0.1 example: u = 7.3, p = 7 gives A: dq/dx 1, dq/ds -0.3; B: dq/dx 0, dq/ds 7") {
            val expected = mapOf(
                BackwardConvention.ROUND_THEN_CLAMP to Pair(1.0, -0.3),
                BackwardConvention.CLAMP_THEN_ROUND to Pair(0.0, 7.0),
            )
            for ((c, e) in expected) {
                val (dx, ds) = runGraph { tf ->
                    val x = tf.variable(tf.constant(7.3f))
                    val s = tf.variable(tf.constant(1.0f))
                    val q = quantize(tf, c, x, s, -8f, 7f)
                    val g = tf.gradients(q, listOf(x, s))
                    listOf(g.dy<TFloat32>(0), g.dy<TFloat32>(1))
                }
                dx[0].toDouble() shouldBe (e.first plusOrMinus 1e-6)
                ds[0].toDouble() shouldBe (e.second plusOrMinus 1e-5)
            }
        }

        for (perChannel in listOf(false, true)) {
            for (c in BackwardConvention.values()) {
                test("$c ${if (perChannel) "per-channel" else "per-tensor"} gradients match §0.1 and finite differences") {
                    // A 3x2 "kernel": 2 output channels on the last axis.
                    val x = floatArrayOf(-1.37f, 0.21f, 0.94f, -0.33f, 2.71f, 0.05f)
                    val scales = if (perChannel) floatArrayOf(0.31f, 0.17f) else floatArrayOf(0.23f)
                    val n = -4
                    val p = 3
                    // Loss = sum(w * q) with distinct weights so every element's gradient is visible.
                    val w = floatArrayOf(1.0f, -2.0f, 0.5f, 1.5f, -1.0f, 3.0f)
                    val sShape = if (perChannel) Shape.of(2) else Shape.scalar()
                    // The STE gradient is the exact gradient of a surrogate in which the rounding
                    // offset round(v) - v is frozen at the evaluation point (x + sg(round(x) - x)).
                    // Central finite differences of that surrogate must reproduce TF's gradients.
                    fun surrogate(i: Int, xi: Double, si: Double): Double {
                        val ch = if (perChannel) i % 2 else 0
                        val u0 = x[i].toDouble() / scales[ch]
                        val u = xi / si
                        val q = when (c) {
                            // A: the clamp acts on the rounded value, so whether the element passes is
                            // decided by round(u0) (edges included, like TF's ClipByValue gradient).
                            BackwardConvention.ROUND_THEN_CLAMP -> {
                                val r0 = Math.rint(u0)
                                if (r0 < n || r0 > p) r0.coerceIn(n.toDouble(), p.toDouble()) else u + (r0 - u0)
                            }
                            BackwardConvention.CLAMP_THEN_ROUND -> {
                                val c0 = u0.coerceIn(n.toDouble(), p.toDouble())
                                u.coerceIn(n.toDouble(), p.toDouble()) + (Math.rint(c0) - c0)
                            }
                        }
                        return w[i] * si * q
                    }
                    val (dx, ds) = runGraph { tf ->
                        val xv = tf.variable(tf.floats(Shape.of(3, 2), x))
                        val sv = tf.variable(if (perChannel) tf.floats(sShape, scales) else tf.constant(scales[0]))
                        val q = quantize(tf, c, xv, sv, n.toFloat(), p.toFloat())
                        val l = tf.reduceSum(tf.math.mul(q, tf.floats(Shape.of(3, 2), w)), tf.constant(intArrayOf(0, 1)))
                        val g = tf.gradients(l, listOf(xv, sv))
                        listOf(g.dy<TFloat32>(0), g.dy<TFloat32>(1))
                    }
                    val expectedDs = DoubleArray(scales.size)
                    for (i in x.indices) {
                        val ch = if (perChannel) i % 2 else 0
                        val (gx, gs) = reference(c, x[i].toDouble(), scales[ch].toDouble(), n, p)
                        dx[i].toDouble() shouldBe ((w[i] * gx) plusOrMinus 1e-5)
                        expectedDs[ch] += w[i] * gs
                    }
                    for (k in scales.indices) {
                        ds[k].toDouble() shouldBe (expectedDs[k] plusOrMinus 1e-4)
                        val h = 1e-6
                        var fd = 0.0
                        for (i in x.indices) {
                            if ((if (perChannel) i % 2 else 0) != k) continue
                            fd += (surrogate(i, x[i].toDouble(), scales[k] + h) -
                                surrogate(i, x[i].toDouble(), scales[k] - h)) / (2 * h)
                        }
                        ds[k].toDouble() shouldBe (fd plusOrMinus 1e-3)
                    }
                    for (i in x.indices) {
                        val ch = if (perChannel) i % 2 else 0
                        val h = 1e-6
                        val fd = (surrogate(i, x[i] + h, scales[ch].toDouble()) -
                            surrogate(i, x[i] - h, scales[ch].toDouble())) / (2 * h)
                        dx[i].toDouble() shouldBe (fd plusOrMinus 1e-3)
                    }
                }
            }
        }

        test("window edges follow §0.1 exactly: ties round half to even, one float beyond is outside") {
            // s = 1, so u = x. Signed 3 bits: n = -4 (even), p = 3 (odd); unsigned 3 bits: n = 0, p = 7.
            for ((n, p) in listOf(-4 to 3, 0 to 7)) {
                val x = floatArrayOf(
                    // Below 0 by one float would be a denormal, which TensorFlow's CPU kernels flush to 0.
                    n - 0.5f, Math.nextDown(n - 0.5f), Math.nextUp(n - 0.5f), n.toFloat(), if (n == 0) -1e-7f else Math.nextDown(n.toFloat()),
                    p + 0.5f, Math.nextDown(p + 0.5f), Math.nextUp(p + 0.5f), p.toFloat(), Math.nextUp(p.toFloat()),
                )
                for (c in BackwardConvention.values()) {
                    val (dx, ds) = runGraph { tf ->
                        val xv = tf.variable(tf.floats(Shape.of(x.size.toLong()), x))
                        val sv = tf.variable(tf.constant(1f))
                        val q = quantize(tf, c, xv, sv, n.toFloat(), p.toFloat())
                        val g = tf.gradients(tf.reduceSum(q, tf.constant(0)), listOf(xv, sv))
                        listOf(g.dy<TFloat32>(0), g.dy<TFloat32>(1))
                    }
                    var expectedDs = 0.0
                    for (i in x.indices) {
                        val (gx, gs) = reference(c, x[i].toDouble(), 1.0, n, p)
                        withClue("$c n=$n p=$p u=${x[i]}") { dx[i].toDouble() shouldBe gx }
                        expectedDs += gs
                    }
                    ds[0].toDouble() shouldBe (expectedDs plusOrMinus 1e-5)
                }
            }
        }

        test("LSQ gradient scaling multiplies the step-size gradient by g and leaves the forward value") {
            val (q, ds) = runGraph { tf ->
                val s = tf.variable(tf.constant(0.5f))
                val scaled = FakeQuant.scaleGradient(tf, s, tf.constant(0.25f))
                val q = quantize(tf, BackwardConvention.CLAMP_THEN_ROUND, tf.constant(1.2f), scaled, -4f, 3f)
                listOf(q, tf.gradients(q, listOf(s)).dy<TFloat32>(0))
            }
            q[0] shouldBe 1.0f
            // dq/ds = round(2.4) - 2.4 = -0.4, times g = 0.25
            ds[0].toDouble() shouldBe (-0.1 plusOrMinus 1e-6)
        }

        test("the registered rounding gradient survives many graphs in one JVM") {
            repeat(200) { i ->
                val (d) = runGraph { tf ->
                    val x = tf.variable(tf.constant(i * 0.37f))
                    val q = quantize(tf, BackwardConvention.ROUND_THEN_CLAMP, x, tf.constant(1f), -1000f, 1000f)
                    listOf(tf.gradients(q, listOf(x)).dy<TFloat32>(0))
                }
                d[0] shouldBe 1.0f
            }
        }
    }

    test("a CPU build carries the fused kernel and prefers it; -Dkqat.fakeQuantKernel overrides") {
        FakeQuantKernel.preferred() shouldBe FakeQuantKernel.FUSED
        try {
            System.setProperty(FakeQuantKernel.PROPERTY, "ops")
            FakeQuantKernel.preferred() shouldBe FakeQuantKernel.TF_OPS
            System.setProperty(FakeQuantKernel.PROPERTY, "cuda")
            shouldThrow<IllegalArgumentException> { FakeQuantKernel.preferred() }.message shouldContain
                FakeQuantKernel.PROPERTY
        } finally {
            System.clearProperty(FakeQuantKernel.PROPERTY)
        }
    }

    test("both kernels give bit-identical values and masks, and the same step-size sums, on large tensors") {
        val rng = java.util.Random(7)
        // 71 928 elements: above the kernel's two-thread threshold (65 536), with a tail of 8 beyond 16 lanes.
        val shape = Shape.of(37, 9, 9, 24)
        val size = shape.size().toInt()
        // Multiples of 1/8 against s = 1/4 put many u exactly on ties (k + 0.5).
        val ties = FloatArray(size) { Math.round(rng.nextGaussian() * 40) / 8f }
        val gaussian = FloatArray(size) { (rng.nextGaussian() * 2).toFloat() }
        val upstream = FloatArray(size) { rng.nextGaussian().toFloat() }
        val channelScales = FloatArray(24) { 0.05f + rng.nextFloat() * 0.4f }
        val cases = listOf(
            Triple("per-tensor, ties", ties, null),
            Triple("per-channel", gaussian, channelScales),
        )
        for ((name, x, scales) in cases) {
            for (c in BackwardConvention.values()) {
                for ((n, p) in listOf(-8f to 7f, 0f to 15f)) {
                    val results = FakeQuantKernel.values().map { kernel ->
                        runGraph { tf ->
                            val xv = tf.variable(tf.floats(shape, x))
                            val sv = tf.variable(if (scales == null) tf.constant(0.25f) else tf.floats(Shape.of(24), scales))
                            val q = FakeQuant.apply(tf, kernel, c, xv, sv, tf.constant(n), tf.constant(p))
                            val loss = tf.reduceSum(tf.math.mul(q, tf.floats(shape, upstream)), tf.constant(intArrayOf(0, 1, 2, 3)))
                            val g = tf.gradients(loss, listOf(xv, sv))
                            listOf(q, g.dy<TFloat32>(0), g.dy<TFloat32>(1))
                        }
                    }
                    val (fused, ops) = results
                    withClue("$name $c [$n, $p]") {
                        fused[0].toList() shouldBe ops[0].toList()
                        fused[1].toList() shouldBe ops[1].toList()
                        for (k in fused[2].indices) {
                            val tolerance = 1e-4 * (1.0 + Math.abs(ops[2][k].toDouble()))
                            fused[2][k].toDouble() shouldBe (ops[2][k].toDouble() plusOrMinus tolerance)
                        }
                    }
                }
            }
        }
    }
})
