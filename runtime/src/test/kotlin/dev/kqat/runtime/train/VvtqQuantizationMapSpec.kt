package dev.kqat.runtime.train

import dev.kqat.runtime.data.FashionMnist
import dev.kqat.runtime.events.RunListener
import dev.kqat.runtime.fetchFloats
import dev.kqat.runtime.models.SwinTransformer
import dev.kqat.runtime.models.VisionTransformer
import dev.kqat.runtime.quant.LayerKind
import dev.kqat.runtime.quant.QuantizationPolicy
import dev.kqat.runtime.quant.QuantizerTarget
import dev.kqat.runtime.quant.Signedness
import dev.kqat.runtime.run.PhaseRunner
import dev.kqat.runtime.schedule.Schedule
import dev.kqat.runtime.toFloatArray
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import kotlin.math.abs
import kotlin.math.sqrt
import org.tensorflow.Session

/** VVTQ's module-dependent quantization map (algorithms.md §3.2) on a real ViT graph, its calibration and its bit slots. */
class VvtqQuantizationMapSpec : FunSpec({
    val adamW = OptimizerConfig.adamW(Schedule.Constant(1e-4), 0.05)
    val quantizerAdam = OptimizerConfig.adam(Schedule.Constant(1e-5), 0.0)
    fun oneBlock(imageSize: Int) =
        VisionTransformer("vit-1", VisionTransformer.Config(4, 16, 1, 2, 2.0, 0.0, 1e-6f), 10, intArrayOf(imageSize, imageSize, 1))
    fun setup(imageSize: Int, w: Int, a: Int) =
        TrainingSetup(oneBlock(imageSize), QuantizationPolicy.vvtq(w, a), adamW, quantizerAdam, 0.0, 3)

    test("a one-block ViT gets exactly §3.2's quantizers: points, bits, signedness, offsets; LN, softmax, GELU, residuals, tokens stay FP") {
        data class Row(val name: String, val target: QuantizerTarget, val bits: Int, val n: Int, val p: Int, val offset: Boolean)
        val w = QuantizerTarget.WEIGHT
        val a = QuantizerTarget.ACTIVATION
        val expected = listOf(
            Row("patch_embed/input", a, 8, -128, 127, false), // the image, A8 signed
            Row("patch_embed/weight", w, 8, -128, 127, false),
            Row("blocks/0/attn/input", a, 3, -4, 3, false), // after LN1, shared by Q, K, V
            Row("blocks/0/attn/q/weight", w, 4, -8, 7, false),
            Row("blocks/0/attn/query", a, 3, -4, 3, false),
            Row("blocks/0/attn/k/weight", w, 4, -8, 7, false),
            Row("blocks/0/attn/key", a, 3, -4, 3, false),
            Row("blocks/0/attn/v/weight", w, 4, -8, 7, false),
            Row("blocks/0/attn/value", a, 3, -4, 3, false),
            Row("blocks/0/attn/probabilities", a, 3, 0, 7, false), // softmax output: unsigned, no offset
            Row("blocks/0/attn/mixed", a, 3, -4, 3, false), // attention·v
            Row("blocks/0/attn/proj/weight", w, 4, -8, 7, false),
            Row("blocks/0/mlp/input", a, 3, -4, 3, false), // after LN2
            Row("blocks/0/mlp/fc1/weight", w, 4, -8, 7, false),
            Row("blocks/0/mlp/hidden", a, 3, 0, 7, true), // GELU output: unsigned with a learnable offset
            Row("blocks/0/mlp/fc2/weight", w, 4, -8, 7, false),
            Row("head/input", a, 8, -128, 127, false),
            Row("head/weight", w, 8, -128, 127, false),
        )
        TrainingGraph(setup(8, 4, 3)).use { g ->
            Session(g.graph()).use { s ->
                s.initialize()
                val rows = g.quantizers().map { q ->
                    val (n, p) = s.fetchFloats(q.lowest(), q.highest())
                    Row(q.name(), q.target(), q.spec().bits(), n[0].toInt(), p[0].toInt(), q.offsetVariable() != null)
                }
                rows shouldBe expected
                g.quantizers().forEach { it.scale().shape().asArray().toList() shouldBe listOf(7L) } // a step size per bit-width 2..8
                // Which quantizer feeds each weight layer (reports and BitOPs read this).
                g.layerInputQuantizers() shouldBe mapOf(
                    "patch_embed" to "patch_embed/input",
                    "blocks/0/attn/q" to "blocks/0/attn/input", "blocks/0/attn/k" to "blocks/0/attn/input",
                    "blocks/0/attn/v" to "blocks/0/attn/input", "blocks/0/attn/proj" to "blocks/0/attn/mixed",
                    "blocks/0/mlp/fc1" to "blocks/0/mlp/input", "blocks/0/mlp/fc2" to "blocks/0/mlp/hidden",
                    "head" to "head/input",
                )
            }
        }
    }

    test("Swin under the VVTQ map: patch merging keeps an 8-bit kernel and a floating-point input; the patch input is not quantized") {
        val swin = SwinTransformer("swin", SwinTransformer.Config(2, 8, intArrayOf(2, 1), intArrayOf(2, 4), 4, 2.0, 0.0), 3, intArrayOf(16, 16, 1))
        TrainingGraph(TrainingSetup(swin, QuantizationPolicy.vvtq(3, 3), adamW, quantizerAdam, 0.0, 3)).use { g ->
            val merging = g.summary().layers().filter { it.kind() == LayerKind.PATCH_MERGING }.map { it.name() }
            merging shouldBe listOf("layers/1/downsample/reduction")
            val byName = g.quantizers().associateBy { it.name() }
            byName.getValue("layers/1/downsample/reduction/weight").spec().bits() shouldBe 8
            byName.containsKey("layers/1/downsample/reduction/input") shouldBe false
            g.layerInputQuantizers().containsKey("layers/1/downsample/reduction") shouldBe false
            byName.keys.filter { it.startsWith("patch_embed") } shouldBe listOf("patch_embed/weight")
            byName.getValue("layers/0/blocks/1/attn/probabilities").spec().signedness() shouldBe Signedness.UNSIGNED
            byName.getValue("layers/0/blocks/1/attn/q/weight").spec().bits() shouldBe 3
        }
    }

    test("activations start at 2·mean|x|/sqrt(2^(b-1)-1) from one batch of 64 training images; a run restarted at other bits takes its slot without a new calibration") {
        val train = FashionMnist.load(FashionMnist.DEBIAN_DIR, true).head(512)
        val test = FashionMnist.load(FashionMnist.DEBIAN_DIR, false).head(128)
        val dir = tempdir("kqat-vvtq-slots").toPath()
        val calibrated = mutableListOf<Int>()
        val listener = object : RunListener {
            override fun calibrated(phase: String, quantizers: Int, seconds: Double) {
                calibrated += quantizers
            }
        }
        val w4a4 = setup(28, 4, 4)
        val slots: Map<String, FloatArray>
        TrainingGraph(w4a4).use { g ->
            Session(g.graph()).use { s ->
                Trainer(g, s, listener).run(PhasePlan("ptq", 0, 128, train, test, CheckpointStore(dir.resolve("ptq"), 1), 1, false), null, null)
                slots = g.quantizers().associate { it.name() to s.fetchFloats(it.scale())[0] }
                // The image is the first quantizer's input: its init is the formula over the first calibration batch, 64 images.
                val images = train.batches(64, true, Trainer.epochSeed(w4a4.seed(), 0), true).next().use { it.images().toFloatArray() }
                images.size shouldBe 64 * 28 * 28
                val expected = 2 * images.sumOf { abs(it.toDouble()) } / images.size / sqrt(127.0)
                slots.getValue("patch_embed/input").forEach { it.toDouble() shouldBe (expected plusOrMinus 1e-6 * expected) }
            }
        }
        calibrated shouldBe listOf(18)
        // Same network at W3A3, started from the W4A4 checkpoint: nothing is calibrated and the 3-bit slots are in use.
        val checkpoint = CheckpointStore(dir.resolve("ptq"), 1).latest().get()
        TrainingGraph(setup(28, 3, 3)).use { g ->
            Session(g.graph()).use { s ->
                Trainer(g, s, listener).run(PhasePlan("ptq3", 0, 128, train, test, null, 1, false), null, checkpoint)
                for (q in g.quantizers()) {
                    val fixedEnds = q.name().startsWith("patch_embed") || q.name().startsWith("head")
                    val slot = (if (fixedEnds) 8 else 3) - 2
                    s.fetchFloats(q.currentStepSize())[0][0] shouldBe slots.getValue(q.name())[slot]
                }
                // Kernel slots differ per bit-width (least-squares fit per b): the 3-bit step is larger than the 4-bit one.
                val fc1 = slots.getValue("blocks/0/mlp/fc1/weight")
                (fc1[1] > fc1[2]) shouldBe true
            }
        }
        calibrated shouldBe listOf(18)
        // The inspection reads the active slot: the 3-bit step of the restarted run.
        PhaseRunner(setup(28, 3, 3)).use { r ->
            r.restore(checkpoint)
            val fc2 = r.inspect().single { it.cost().name() == "blocks/0/mlp/fc2" }
            fc2.activation().name() shouldBe "blocks/0/mlp/hidden"
            fc2.activation().signed() shouldBe false
            fc2.weight().minStep() shouldBe slots.getValue("blocks/0/mlp/fc2/weight")[1].toDouble()
            fc2.activationBits() shouldBe 3
        }
    }

    test("an optimizer step that drives a step size past zero leaves it at VVTQ's 1e-4, not below zero where the forward's floor passes no gradient (a W4A4 tiny ViT died so)") {
        // Adam at learning rate 0.5 moves every step size by about ±0.5 in one step: the ones pushed down
        // land far below zero unless clamped.
        val violent = TrainingSetup(oneBlock(28), QuantizationPolicy.vvtq(4, 4), adamW,
            OptimizerConfig.adam(Schedule.Constant(0.5), 0.0), 0.0, 3)
        val train = FashionMnist.load(FashionMnist.DEBIAN_DIR, true).head(128)
        val test = FashionMnist.load(FashionMnist.DEBIAN_DIR, false).head(64)
        TrainingGraph(violent).use { g ->
            Session(g.graph()).use { s ->
                Trainer(g, s, object : RunListener {}).run(PhasePlan("qat", 1, 64, train, test, null, 1, false), null, null)
                val steps = g.quantizers().map { q -> q.name() to s.fetchFloats(q.scale())[0] }
                val clamped = steps.filter { (_, v) -> v.any { it == 1e-4f } }.map { it.first }
                println("step sizes clamped at 1e-4 after 2 steps at quantizer lr 0.5: $clamped")
                steps.forEach { (name, v) -> v.forEach { io.kotest.assertions.withClue(name) { (it >= 1e-4f) shouldBe true } } }
                (clamped.size >= 3) shouldBe true
            }
        }
    }
})
