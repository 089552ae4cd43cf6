package dev.kqat.runtime.quant

import dev.kqat.runtime.SmallSupernet
import dev.kqat.runtime.floats
import dev.kqat.runtime.runTargets
import dev.kqat.runtime.models.ModelInspector
import dev.kqat.runtime.nn.ModelState
import dev.kqat.runtime.nn.NetContext
import dev.kqat.runtime.nn.PassBits
import dev.kqat.runtime.nn.PassMode
import dev.kqat.runtime.nn.QuantHooks
import dev.kqat.runtime.tf.ParamStore
import dev.kqat.runtime.toFloatArray
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import org.tensorflow.Graph
import org.tensorflow.Operand
import org.tensorflow.Session
import org.tensorflow.Tensor
import org.tensorflow.ndarray.Shape
import org.tensorflow.op.Ops
import org.tensorflow.types.TFloat32
import org.tensorflow.types.TInt32

/**
 * A supernet's layers (RFQuant, algorithms.md §2.2, §2.4, §2.9): candidate bit-widths per layer,
 * switchable BN selected with the preceding layer's bits, and BitOPs and size of a configuration.
 */
class SupernetLayersSpec : FunSpec({
    val model = SmallSupernet()
    val summary = ModelInspector.inspect(model)
    val policy = MixedPrecisionPolicy.DEFAULT

    test("candidates: the first and last layers fixed at 8 bits, depth-wise from 3, the rest 2..6") {
        summary.layers().associate { it.name() to policy.candidates(it)?.toString() } shouldBe
            mapOf("stem" to null, "dw" to "3..6", "pw" to "2..6", "head" to null)
        summary.layers().map { policy.decide(it) }.map { listOf(it.weight()?.bits(), it.input()?.bits()) } shouldBe
            listOf(listOf(8, null), listOf(6, 6), listOf(6, 6), listOf(8, 8))
    }

    test("BitOPs and size of a configuration, by hand: MACs × weight bits × input bits, weights × weight bits, fixed layers at 8") {
        // stem 3·3·3·4 = 108 weights × 64 positions; dw 3·3·4 = 36 × 64; pw 4·4 = 16 × 64; head 4·10 = 40.
        summary.costs().map { listOf(it.name(), it.weights(), it.macs()) } shouldBe listOf(
            listOf("stem", 108L, 6912L), listOf("dw", 36L, 2304L), listOf("pw", 16L, 1024L), listOf("head", 40L, 40L))
        val config = BitConfiguration(mapOf("dw" to BitConfiguration.LayerBits(3, 5), "pw" to BitConfiguration.LayerBits(4, 2)))
        val cost = ConfigurationCost.of(summary.costs(), config, 8)
        cost.bitOps shouldBe (6912.0 * 64 + 2304.0 * 15 + 1024.0 * 8 + 40.0 * 64)
        cost.sizeBits shouldBe (108L * 8 + 36 * 3 + 16 * 4 + 40 * 8)
        cost.layers.map { it.weightBits() to it.inputBits() } shouldBe listOf(8 to 8, 3 to 5, 4 to 2, 8 to 8)
        cost.megabytes() shouldBe (cost.sizeBits / 8.0 / 1048576.0)
        val candidates = summary.layers().mapNotNull { l -> policy.candidates(l)?.let { l.name() to it } }.toMap()
        BitConfiguration.uniform(candidates, 2).layers() shouldBe
            mapOf("dw" to BitConfiguration.LayerBits(3, 3), "pw" to BitConfiguration.LayerBits(2, 2))
    }

    test("switchable BN: the (weight bits, input bits) pair of the preceding layer selects one row of γ, β and statistics") {
        Graph().use { g ->
            val tf = Ops.create(g)
            val params = ParamStore(tf, 0)
            val state = ModelState(params, policy, summary.layers(), FakeQuantKernel.TF_OPS, QuantHooks.NONE)
            val images = tf.placeholder(TFloat32::class.java, org.tensorflow.op.core.Placeholder.shape(Shape.of(-1, 8, 8, 3)))
            val trainBits = PassBits("train")
            val train = NetContext(state, PassMode.TRAIN, null, trainBits)
            val loss = tf.reduceSum(tf.math.square(model.forward(train, images)), tf.constant(intArrayOf(0, 1)))
            val gammas = params.get("pw/bn/gamma_per_bits").variable()
            val means = params.get("pw/bn/moving_mean_per_bits").variable()
            val gammaGrad = tf.gradients(loss, listOf(gammas)).dy<TFloat32>(0)
            val step = tf.withControlDependencies(train.updates()).noOp()
            val evalBits = PassBits("eval")
            val logits = model.forward(NetContext(state, PassMode.EVAL, null, evalBits), images)
            trainBits.layers().keys shouldBe setOf("dw", "pw")
            val pixels = FloatArray(2 * 8 * 8 * 3) { ((it * 37) % 101) / 50f - 1f }
            // Step sizes fine enough that no layer quantizes to a constant (uncalibrated they are 1).
            val fineSteps = state.quantizers().map { q ->
                val step = if (q.target() == QuantizerTarget.WEIGHT) 0.002f else 0.05f
                tf.assign(q.scale(), tf.fill(tf.shape(q.scale()), tf.constant(step)))
            }
            Session(g).use { s ->
                s.initialize()
                s.runTargets(*fineSteps.toTypedArray())
                fun <T> run(bits: PassBits, pw: Pair<Int, Int>, body: (org.tensorflow.Session.Runner) -> T): T {
                    val fed = mutableListOf<Tensor>()
                    try {
                        val image = TFloat32.tensorOf(Shape.of(2, 8, 8, 3), org.tensorflow.ndarray.buffer.DataBuffers.of(pixels, true, false))
                        fed += image
                        val runner = s.runner().feed(images, image)
                        val layer = bits.layers().getValue("pw")
                        TInt32.scalarOf(pw.first).also { fed += it; runner.feed(layer.weight(), it) }
                        TInt32.scalarOf(pw.second).also { fed += it; runner.feed(layer.input(), it) }
                        return body(runner)
                    } finally {
                        fed.forEach { it.close() }
                    }
                }
                val row = (4 - 2) * 5 + (3 - 2)
                val grad = run(trainBits, 4 to 3) { r -> r.fetch(gammaGrad).addTarget(step).run().use { (it.get(0) as TFloat32).toFloatArray() } }
                val meansAfter = s.runner().fetch(means).run().use { (it.get(0) as TFloat32).toFloatArray() }
                for (r in 0 until 25) for (ch in 0 until 4) withClue("row $r, channel $ch") {
                    (grad[r * 4 + ch] != 0f) shouldBe (r == row)
                    (meansAfter[r * 4 + ch] != 0f) shouldBe (r == row)
                }
                // Evaluation reads the statistics of the fed pair: changing another row changes nothing, changing its own does.
                fun evalLogits() = run(evalBits, 4 to 3) { r -> r.fetch(logits).run().use { (it.get(0) as TFloat32).toFloatArray() } }
                fun shiftMeans(rows: (Int) -> Boolean) = s.runner().addTarget(tf.assign(means, tf.math.add(means,
                    tf.floats(Shape.of(25, 4), FloatArray(100) { if (rows(it / 4)) -0.5f else 0f })))).run()
                // Uncalibrated, the eval pass's BN outputs are too small for the 8-bit head input: lower every row's mean first.
                shiftMeans { true }
                val before = evalLogits()
                before.any { it != 0f } shouldBe true
                shiftMeans { it == row + 1 }
                evalLogits().toList() shouldBe before.toList()
                shiftMeans { it == row }
                evalLogits().toList() shouldNotBe before.toList()
            }
        }
    }
})
