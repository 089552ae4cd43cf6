package dev.kqat.runtime.nn

import dev.kqat.runtime.fetchFloats
import dev.kqat.runtime.floats
import dev.kqat.runtime.quant.FakeQuantKernel
import dev.kqat.runtime.quant.QuantPolicy
import dev.kqat.runtime.runGraph
import dev.kqat.runtime.runTargets
import dev.kqat.runtime.toFloatArray
import dev.kqat.runtime.tf.ParamStore
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import org.tensorflow.Graph
import org.tensorflow.Session
import org.tensorflow.ndarray.Shape
import org.tensorflow.op.Ops
import kotlin.math.exp
import kotlin.math.sqrt
import kotlin.random.Random

/** LayerNorm, GELU, attention and stochastic depth against direct formulas on small tensors. */
class TransformerLayersSpec : FunSpec({
    fun context(tf: Ops, mode: PassMode = PassMode.EVAL, step: Long = 0) = NetContext(
        ModelState(ParamStore(tf, 0), QuantPolicy.FLOAT, listOf(), FakeQuantKernel.TF_OPS, QuantHooks.NONE), mode,
        if (mode == PassMode.TRAIN) tf.constant(longArrayOf(7, step)) else null,
    )

    test("LayerNorm: (x - mean) / sqrt(biased var + eps) per token, then gamma and beta") {
        val x = floatArrayOf(1f, 2f, 4f, 9f, -3f, 0f, 0f, 3f)
        val eps = 1e-6f
        val y = runGraph { tf -> listOf(TransformerLayers.layerNorm(context(tf), "ln", tf.floats(Shape.of(1, 2, 4), x), eps)) }.single()
        for (token in 0 until 2) {
            val row = x.slice(token * 4 until token * 4 + 4).map { it.toDouble() }
            val mean = row.average()
            val variance = row.sumOf { (it - mean) * (it - mean) } / 4 // biased, as PyTorch
            for (i in 0 until 4) {
                y[token * 4 + i].toDouble() shouldBe ((row[i] - mean) / sqrt(variance + eps) plusOrMinus 1e-5)
            }
        }
        // Token 1: mean 0, variance 4.5: the value 3 maps to 3 / sqrt(4.5).
        y[7].toDouble() shouldBe (3 / sqrt(4.5) plusOrMinus 1e-5)
    }

    test("GELU is the exact x * Phi(x), not the tanh approximation") {
        // Phi from tables: Phi(1) = 0.8413447461, Phi(-1) = 0.1586552539, Phi(2) = 0.9772498681, Phi(-0.5) = 0.3085375387.
        val x = floatArrayOf(1f, -1f, 2f, -0.5f, 0f)
        val phi = doubleArrayOf(0.8413447461, 0.1586552539, 0.9772498681, 0.3085375387, 0.5)
        val y = runGraph { tf -> listOf(TransformerLayers.gelu(context(tf), tf.floats(Shape.of(5), x))) }.single()
        for (i in x.indices) y[i].toDouble() shouldBe (x[i] * phi[i] plusOrMinus 1e-6)
        // The tanh approximation gives 0.841192 at 1: 1.5e-4 away, far outside the tolerance above.
        (0.5 * (1 + kotlin.math.tanh(sqrt(2 / Math.PI) * (1 + 0.044715))) - phi[0]).let { (it * it > 1e-8) shouldBe true }
    }

    test("multi-head self-attention equals softmax(q k^T / sqrt(d)) v per head, then the output projection") {
        val batch = 2
        val tokens = 3
        val dim = 4
        val heads = 2
        val d = dim / heads
        val random = Random(5)
        fun randoms(n: Int) = FloatArray(n) { random.nextFloat() * 2 - 1 }
        val x = randoms(batch * tokens * dim)
        val names = listOf("q", "k", "v", "proj")
        val kernels = names.associateWith { randoms(dim * dim) }
        val biases = names.associateWith { randoms(dim) }
        val out = Graph().use { g ->
            val tf = Ops.create(g)
            val ctx = context(tf)
            val y = Attention.multiHeadSelfAttention(ctx, "attn", tf.floats(Shape.of(batch.toLong(), tokens.toLong(), dim.toLong()), x), heads)
            Session(g).use { s ->
                s.initialize()
                for (n in names) {
                    s.runTargets(
                        tf.assign(ctx.params().get("attn/$n/kernel").variable(), tf.floats(Shape.of(dim.toLong(), dim.toLong()), kernels.getValue(n))),
                        tf.assign(ctx.params().get("attn/$n/bias").variable(), tf.floats(Shape.of(dim.toLong()), biases.getValue(n))),
                    )
                }
                s.fetchFloats(y).single()
            }
        }
        // The direct formula in doubles.
        fun linear(input: List<DoubleArray>, n: String) = input.map { row ->
            DoubleArray(dim) { j -> biases.getValue(n)[j] + (0 until dim).sumOf { i -> row[i] * kernels.getValue(n)[i * dim + j] } }
        }
        for (b in 0 until batch) {
            val rows = (0 until tokens).map { t -> DoubleArray(dim) { x[(b * tokens + t) * dim + it].toDouble() } }
            val q = linear(rows, "q")
            val k = linear(rows, "k")
            val v = linear(rows, "v")
            val mixed = List(tokens) { DoubleArray(dim) }
            for (h in 0 until heads) {
                val cols = h * d until (h + 1) * d
                for (t in 0 until tokens) {
                    val scores = DoubleArray(tokens) { u -> cols.sumOf { q[t][it] * k[u][it] } / sqrt(d.toDouble()) }
                    val top = scores.max()
                    val weights = scores.map { exp(it - top) }.let { w -> w.map { it / w.sum() } }
                    for (c in cols) mixed[t][c] = (0 until tokens).sumOf { u -> weights[u] * v[u][c] }
                }
            }
            val expected = linear(mixed, "proj")
            for (t in 0 until tokens) for (j in 0 until dim) {
                withClue("batch $b token $t feature $j") {
                    out[(b * tokens + t) * dim + j].toDouble() shouldBe (expected[t][j] plusOrMinus 1e-5)
                }
            }
        }
    }

    test("stochastic depth: identity in evaluation; in training whole samples dropped or scaled by 1/(1-rate), the same mask for the same step") {
        val x = FloatArray(64 * 2 * 3) { 1f }
        val shape = Shape.of(64, 2, 3)
        val eval = runGraph { tf -> listOf(TransformerLayers.dropPath(context(tf), "dp", tf.floats(shape, x), 0.25f)) }.single()
        eval.toList() shouldBe x.toList()
        fun train(step: Long) = runGraph { tf -> listOf(TransformerLayers.dropPath(context(tf, PassMode.TRAIN, step), "dp", tf.floats(shape, x), 0.25f)) }.single()
        val first = train(3)
        val samples = first.toList().chunked(6)
        samples.forEach { s -> s.toSet().size shouldBe 1 } // all-or-nothing per sample
        samples.map { it[0] }.toSet() shouldBe setOf(0f, 1f / 0.75f)
        val dropped = samples.count { it[0] == 0f }
        (dropped in 4..30) shouldBe true // 16 expected of 64
        train(3).toList() shouldBe first.toList()
        (train(4).toList() != first.toList()) shouldBe true
    }

    test("the image gradient through patch embedding, class token, positions and a block (LayerNorm, attention, GELU MLP) matches finite differences") {
        val shape = Shape.of(2, 3, 8)
        val random = Random(11)
        val x = FloatArray(48) { random.nextFloat() * 2 - 1 }
        val weights = FloatArray(56) { random.nextFloat() * 2 - 1 }
        Graph().use { g ->
            val tf = Ops.create(g)
            val ctx = context(tf)
            val input = tf.placeholder(org.tensorflow.types.TFloat32::class.java, org.tensorflow.op.core.Placeholder.shape(shape))
            // Patches of 2x2 pixels of a [2, 4, 6, 1] image: 6 patches and the class token; then one block.
            val image = tf.reshape(input, tf.constant(longArrayOf(2, 4, 6, 1)))
            var h = TransformerLayers.classTokenAndPositions(ctx, "embed", TransformerLayers.patchEmbedding(ctx, "patch_embed", image, 2, 4))
            h = tf.math.add(h, Attention.multiHeadSelfAttention(ctx, "attn", TransformerLayers.layerNorm(ctx, "norm1", h, 1e-6f), 2))
            h = tf.math.add(h, TransformerLayers.mlp(ctx, "mlp", TransformerLayers.layerNorm(ctx, "norm2", h, 1e-6f), 8))
            // A scalar loss that weighs every output differently.
            val loss = tf.reduceSum(tf.math.mul(h, tf.floats(Shape.of(2, 7, 4), weights)), tf.constant(intArrayOf(0, 1, 2)))
            val gradient = tf.gradients(loss, listOf(input)).dy<org.tensorflow.types.TFloat32>(0)
            Session(g).use { s ->
                s.initialize()
                fun run(values: FloatArray, out: org.tensorflow.Operand<org.tensorflow.types.TFloat32>) =
                    org.tensorflow.types.TFloat32.tensorOf(shape, org.tensorflow.ndarray.buffer.DataBuffers.of(values, true, false)).use { t ->
                        s.runner().feed(input, t).fetch(out).run().use { r -> (r.get(0) as org.tensorflow.types.TFloat32).toFloatArray() }
                    }
                val analytic = run(x, gradient)
                val step = 1e-2f
                for (i in x.indices) {
                    val up = run(x.copyOf().also { it[i] += step }, loss)[0]
                    val down = run(x.copyOf().also { it[i] -= step }, loss)[0]
                    val numeric = (up - down) / (2 * step)
                    withClue("element $i: analytic ${analytic[i]}, numeric $numeric") {
                        analytic[i].toDouble() shouldBe (numeric.toDouble() plusOrMinus (2e-3 + 1e-2 * kotlin.math.abs(numeric)))
                    }
                }
            }
        }
    }
})
