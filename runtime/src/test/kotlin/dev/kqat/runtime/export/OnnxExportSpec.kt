package dev.kqat.runtime.export

import ai.onnx.proto.OnnxMl.ModelProto
import dev.kqat.runtime.data.FashionMnist
import dev.kqat.runtime.events.RunListener
import dev.kqat.runtime.models.TinyMbv2
import dev.kqat.runtime.oscillation.OscillationSpec
import dev.kqat.runtime.quant.LayerOverride
import dev.kqat.runtime.quant.QuantPolicy
import dev.kqat.runtime.quant.QuantizationPolicy
import dev.kqat.runtime.quant.QuantizerSpec
import dev.kqat.runtime.quant.QuantizerTarget
import dev.kqat.runtime.quant.RangeInit
import dev.kqat.runtime.quant.Signedness
import dev.kqat.runtime.run.PhaseRunner
import dev.kqat.runtime.schedule.Schedule
import dev.kqat.runtime.train.CheckpointStore
import dev.kqat.runtime.train.OptimizerConfig
import dev.kqat.runtime.train.PhasePlan
import dev.kqat.runtime.train.TrainingSetup
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.ints.shouldBeGreaterThanOrEqual
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files
import java.nio.file.Path

/**
 * ONNX export against kqat's own evaluation, run by onnxruntime: the trained reference network
 * post-training-quantized at 8, 4 and 3 bits, per-tensor and per-channel, and a QAT run with frozen
 * weights ([OnnxZooExportSpec] has the zoo; two classes so that the two test JVMs share the work).
 * docs/benchmarks.md has the figures this prints with `-Dkqat.onnx.full=true` (all six rows, all
 * 10,000 test images); to keep CI short the default suite runs three rows (both granularities at 8
 * bits, where ties are most frequent, and W4A4 per-channel; the frozen-weight row exports 3 bits) on
 * the first 1,000 test images (the claim, no difference off a tie, is per image).
 */
class OnnxExportSpec : FunSpec({
    val full = System.getProperty("kqat.onnx.full").toBoolean()
    // The full run's FP32 epoch is on 8,192 images (docs/benchmarks.md); CI's on 4,096.
    val train = FashionMnist.load(FashionMnist.DEBIAN_DIR, true).head(if (full) 8192 else 4096)
    val test = FashionMnist.load(FashionMnist.DEBIAN_DIR, false)
    val parityImages = if (full) 10_000 else 1_000
    val sgd = OptimizerConfig.sgd(Schedule.Cosine(0.05, 0.0), 0.9, 5e-5)
    val adam = OptimizerConfig.adam(Schedule.Constant(1e-5), 0.0)
    val dir = tempdir("kqat-onnx").toPath()
    val quiet = object : RunListener {}

    fun policy(bits: Int, perChannel: Boolean, init: RangeInit = RangeInit.MSE): QuantizationPolicy {
        fun spec(channels: Boolean) = QuantizerSpec.lsq(bits).let {
            QuantizerSpec(bits, channels, it.convention(), it.gradientScaling(), init, it.candidates(), true, Signedness.FROM_DATA, false, false)
        }
        return QuantizationPolicy(spec(perChannel), spec(false), 8, mapOf(), 1)
    }

    val fp32 = dir.resolve("fp32").also { out ->
        PhaseRunner(TrainingSetup(TinyMbv2(), QuantPolicy.FLOAT, sgd, adam, 0.0, 0)).use {
            it.train(PhasePlan("pretrain", 1, 128, train, test.head(512), CheckpointStore(out, 1), 1, false), null, null, quiet)
        }
    }.let { CheckpointStore(it, 1).latest().get() }

    /** Post-training quantization of the FP32 network: calibrate, re-estimate BN, checkpoint. */
    fun <T> ptq(setup: TrainingSetup, name: String, use: (PhaseRunner, Path) -> T): T =
        PhaseRunner(setup).use { runner ->
            val store = CheckpointStore(dir.resolve(name), 1)
            runner.train(PhasePlan("ptq", 0, 128, train, test.head(256), store, 1, false, 4), null, fp32, quiet)
            runner.restore(store.latest().get())
            use(runner, dir.resolve("$name.onnx"))
        }

    val rows = if (full) listOf(8, 4, 3).flatMap { b -> listOf(b to false, b to true) }
        else listOf(8 to false, 8 to true, 4 to true)
    for ((bits, perChannel) in rows) {
        run {
            val name = "W${bits}A$bits ${if (perChannel) "per-channel" else "per-tensor"}"
            test("$name: onnxruntime gives kqat's logits on $parityImages test images but at rounding ties") {
                ptq(TrainingSetup(TinyMbv2(), policy(bits, perChannel), sgd, adam, 0.0, 0), name.replace(' ', '-')) { runner, file ->
                    val summary = runner.exportOnnx(file, "tiny-mbv2")
                    // One Quantize–Clip–Dequantize per quantizer: the kernels of the 23 weight layers, every input but the image.
                    summary.quantizers().count { it.target() == QuantizerTarget.WEIGHT } shouldBe 23
                    summary.quantizers().count { it.target() == QuantizerTarget.ACTIVATION } shouldBe 22
                    summary.quantizers().filter { it.target() == QuantizerTarget.WEIGHT }.forEach {
                        it.perChannel() shouldBe perChannel
                        it.signed() shouldBe true
                    }
                    val model = ModelProto.parseFrom(Files.readAllBytes(file))
                    model.graph.nodeList.count { it.opType == "QuantizeLinear" } shouldBe summary.quantizers().size
                    model.graph.nodeList.count { it.opType == "BatchNormalization" } shouldBe 22

                    val parity = OnnxParity.measure(runner, file, test.head(parityImages))
                    println("ONNX parity, tiny-MBV2 $name: $parity")
                    withClue(parity.toString()) {
                        parity.images shouldBe parityImages
                        // At most one image in a thousand flips, and only on a tie (checked next).
                        parity.samePrediction shouldBeGreaterThanOrEqual parityImages - parityImages / 1000
                        parity.differingOffTie shouldBe 0
                    }
                }
            }
        }
    }

    test("W3A3 QAT with frozen weights: the pinned integers are exported and onnxruntime agrees") {
        val freezeAtOnce = OscillationSpec(OscillationSpec.Tracking(4, 0.01, 0.005, false), null,
            OscillationSpec.Freezing(Schedule.Constant(0.005), 0.0, true))
        val qat = OptimizerConfig.sgd(Schedule.Constant(0.01), 0.9, 5e-5)
        PhaseRunner(TrainingSetup(TinyMbv2(), policy(3, true), qat, adam, 0.0, 0).withOscillations(freezeAtOnce)).use { runner ->
            val store = CheckpointStore(dir.resolve("qat-frozen"), 1)
            val result = runner.train(PhasePlan("qat", 1, 128, train.head(2048), test.head(256), store, 1, false), null, fp32, quiet)
            result.oscillations().frozenFraction() shouldBeGreaterThan 0.0
            runner.restore(store.latest().get())
            val file = dir.resolve("qat-frozen.onnx")
            runner.exportOnnx(file, "tiny-mbv2")
            val parity = OnnxParity.measure(runner, file, test.head(1000))
            println("ONNX parity, tiny-MBV2 W3A3 per-channel QAT with freezing: $parity")
            withClue(parity.toString()) {
                parity.samePrediction shouldBeGreaterThanOrEqual 999
                parity.differingOffTie shouldBe 0
            }
        }
    }

    test("a quantizer wider than 8 bits is refused by name, and an earlier file is left as it was") {
        val wide = QuantizationPolicy(QuantizerSpec.lsq(4), QuantizerSpec.lsq(4), 8,
            mapOf("block2/expand" to LayerOverride(12, null, false)), 1)
        ptq(TrainingSetup(TinyMbv2(), wide, sgd, adam, 0.0, 0), "wide") { runner, file ->
            Files.writeString(file, "an earlier export")
            val e = shouldThrow<OnnxExportException> { runner.exportOnnx(file, "tiny-mbv2") }
            e.message shouldContain "block2/expand/weight"
            e.message shouldContain "at most 8 bits"
            Files.readString(file) shouldBe "an earlier export"
        }
    }
})
