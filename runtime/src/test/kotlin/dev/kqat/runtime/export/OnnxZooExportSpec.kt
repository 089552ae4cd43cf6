package dev.kqat.runtime.export

import dev.kqat.runtime.data.SyntheticDataset
import dev.kqat.runtime.events.RunListener
import dev.kqat.runtime.models.EfficientNetLite0
import dev.kqat.runtime.models.MobileNetV2
import dev.kqat.runtime.models.MobileNetV3
import dev.kqat.runtime.models.Model
import dev.kqat.runtime.models.ResNet18
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
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.floats.shouldBeLessThan
import io.kotest.matchers.shouldBe

/**
 * ONNX export of every model of the zoo, W4A4 per-channel, against kqat's own evaluation run by
 * onnxruntime (docs/benchmarks.md has the figures this prints with `-Dkqat.onnx.full=true`). To keep CI
 * short the default suite exports one model per family of ops: MobileNetV2 (ReLU6, depth-wise),
 * MobileNetV3-small (hard-swish, squeeze-excite) and ResNet18 (residual ReLU, max-pool); MobileNetV3-large
 * and EfficientNet-lite0 add no op of their own.
 */
class OnnxZooExportSpec : FunSpec({
    val sgd = OptimizerConfig.sgd(Schedule.Cosine(0.05, 0.0), 0.9, 5e-5)
    val adam = OptimizerConfig.adam(Schedule.Constant(1e-5), 0.0)
    val dir = tempdir("kqat-onnx-zoo").toPath()
    val quiet = object : RunListener {}
    val w4a4 = QuantizerSpec.lsq(4).let {
        fun spec(channels: Boolean) = QuantizerSpec(4, channels, it.convention(), it.gradientScaling(), RangeInit.MIN_MAX, it.candidates(), true, Signedness.FROM_DATA, false, false)
        QuantizationPolicy(spec(true), spec(false), 8, mapOf(), 1)
    }

    // The zoo at 32 px with random weights: what is compared is the translation, so any weights do.
    val full = System.getProperty("kqat.onnx.full").toBoolean()
    val zoo = listOfNotNull<Model>(
        MobileNetV2(0.35, 10, 32, 3),
        MobileNetV3.small(0.5, 10, 32, 3),
        if (full) MobileNetV3.large(0.5, 10, 32, 3) else null,
        if (full) EfficientNetLite0(10, 32, 3) else null,
        ResNet18(10, 32, 3),
    )
    val synthetic = SyntheticDataset.generate(128, intArrayOf(32, 32, 3), 10, 0.5, 1)
    for (model in zoo) {
        test("${model.name()} W4A4 per-channel exports and onnxruntime agrees") {
            // Min-max ranges: the MSE search over every channel of these models costs more than all else here.
            PhaseRunner(TrainingSetup(model, w4a4, sgd, adam, 0.0, 0)).use { runner ->
                val store = CheckpointStore(dir.resolve("zoo-${model.name()}"), 1)
                runner.train(PhasePlan("ptq", 0, 64, synthetic, synthetic.head(64), store, 1, false, 1), null, null, quiet)
                val file = dir.resolve("${model.name()}.onnx")
                val summary = runner.exportOnnx(file, model.name())
                summary.quantizers().count { it.target() == QuantizerTarget.WEIGHT } shouldBe runner.inspect().size
                val parity = OnnxParity.measure(runner, file, synthetic, 64)
                println("ONNX parity, ${model.name()} W4A4 per-channel (random weights, synthetic images): $parity")
                // Random weights put many activations at ties (ResNet18: 5 to 7 of 128 images), so a
                // count of same predictions measures the draw; what the translation owes is exactness
                // away from ties.
                withClue(parity.toString()) {
                    parity.differingOffTie shouldBe 0
                    parity.flippedOffTie shouldBe 0
                    parity.largestAwayFromTies shouldBeLessThan OnnxParity.tolerance
                }
            }
        }
    }
})
