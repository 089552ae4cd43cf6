package dev.kqat.runtime.nn

import dev.kqat.runtime.floats
import dev.kqat.runtime.models.SwinTransformer
import dev.kqat.runtime.quant.FakeQuantKernel
import dev.kqat.runtime.quant.QuantPolicy
import dev.kqat.runtime.runGraph
import dev.kqat.runtime.tf.ParamStore
import dev.kqat.runtime.toFloatArray
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
import kotlin.random.Random

/** Swin's window machinery: the shifted-window mask of a hand-made 8x8 case, relative positions, roll, partition, gradients. */
class WindowAttentionSpec : FunSpec({
    fun context(tf: Ops) = NetContext(ModelState(ParamStore(tf, 0), QuantPolicy.FLOAT, listOf(), FakeQuantKernel.TF_OPS, QuantHooks.NONE), PassMode.EVAL, null)

    test("the shifted-window mask of an 8x8 map, window 4, shift 2, against regions drawn by hand") {
        // After rolling up-left by 2, pixels come from 3 row bands x 3 column bands: rows 0-3 | 4-5 | 6-7, same for columns.
        val regions = listOf(
            "AAAABBCC",
            "AAAABBCC",
            "AAAABBCC",
            "AAAABBCC",
            "DDDDEEFF",
            "DDDDEEFF",
            "GGGGHHII",
            "GGGGHHII",
        )
        val mask = WindowAttention.shiftMask(8, 8, 4, 2)
        mask.size shouldBe 4 * 16 * 16
        for (w in 0 until 4) {
            val top = (w / 2) * 4
            val left = (w % 2) * 4
            for (i in 0 until 16) for (j in 0 until 16) {
                val a = regions[top + i / 4][left + i % 4]
                val b = regions[top + j / 4][left + j % 4]
                withClue("window $w, tokens $i and $j ($a, $b)") {
                    mask[(w * 16 + i) * 16 + j] shouldBe if (a == b) 0f else -100f
                }
            }
        }
        // The top-left window is one region; the bottom-right one holds four (E, F, H, I): 4 tokens each.
        (0 until 256).all { mask[it] == 0f } shouldBe true
        (0 until 16).count { j -> mask[(3 * 16 + 0) * 16 + j] == 0f } shouldBe 4
    }

    test("relative position index: row (dy + w - 1) * (2w - 1) + (dx + w - 1) of the bias table") {
        val index = WindowAttention.relativePositionIndex(2) // tokens (0,0), (0,1), (1,0), (1,1)
        index.toList() shouldBe listOf(
            4, 3, 1, 0,
            5, 4, 2, 1,
            7, 6, 4, 3,
            8, 7, 5, 4,
        )
        WindowAttention.relativePositionIndex(7).max() shouldBe 13 * 13 - 1
    }

    test("roll is torch.roll on H and W, and window partition and reverse are inverse") {
        val values = FloatArray(2 * 4 * 4 * 1) { it.toFloat() }
        val (rolled, roundTrip) = runGraph { tf ->
            val ctx = context(tf)
            val x = tf.floats(Shape.of(2, 4, 4, 1), values)
            listOf(WindowAttention.roll(ctx, x, -1, 4, 4),
                WindowAttention.reverse(ctx, WindowAttention.partition(ctx, x, 2, 4, 4, 1), 2, 4, 4, 1))
        }
        // torch.roll(x, (-1, -1), (1, 2)): out[y][x] = in[(y + 1) % 4][(x + 1) % 4].
        for (n in 0 until 2) for (y in 0 until 4) for (x in 0 until 4) {
            rolled[n * 16 + y * 4 + x] shouldBe values[n * 16 + ((y + 1) % 4) * 4 + (x + 1) % 4]
        }
        roundTrip.toList() shouldBe values.toList()
    }

    test("a small Swin (shifted windows, patch merging) maps images to finite logits, and its image gradient matches finite differences") {
        val config = SwinTransformer.Config(2, 8, intArrayOf(2, 1), intArrayOf(2, 4), 4, 2.0, 0.0)
        val model = SwinTransformer("swin", config, 3, intArrayOf(16, 16, 1))
        val random = Random(9)
        val image = FloatArray(16 * 16) { random.nextFloat() * 2 - 1 }
        val weights = floatArrayOf(0.7f, -1.3f, 0.4f)
        Graph().use { g ->
            val tf = Ops.create(g)
            val input = tf.placeholder(TFloat32::class.java, Placeholder.shape(Shape.of(1, 16, 16, 1)))
            val logits = model.forward(context(tf), input)
            val loss = tf.reduceSum(tf.math.mul(logits, tf.constant(Shape.of(1, 3), DataBuffers.of(weights, true, false))), tf.constant(intArrayOf(0, 1)))
            val gradient = tf.gradients(loss, listOf(input)).dy<TFloat32>(0)
            Session(g).use { s ->
                s.initialize()
                fun run(values: FloatArray, out: org.tensorflow.Operand<TFloat32>) =
                    TFloat32.tensorOf(Shape.of(1, 16, 16, 1), DataBuffers.of(values, true, false)).use { t ->
                        s.runner().feed(input, t).fetch(out).run().use { r -> (r.get(0) as TFloat32).toFloatArray() }
                    }
                run(image, logits).all { it.isFinite() } shouldBe true
                val analytic = run(image, gradient)
                val step = 1e-2f
                for (i in image.indices step 7) {
                    val numeric = (run(image.copyOf().also { it[i] += step }, loss)[0] - run(image.copyOf().also { it[i] -= step }, loss)[0]) / (2 * step)
                    withClue("pixel $i") { analytic[i].toDouble() shouldBe (numeric.toDouble() plusOrMinus (2e-3 + 2e-2 * kotlin.math.abs(numeric))) }
                }
            }
        }
    }
})
