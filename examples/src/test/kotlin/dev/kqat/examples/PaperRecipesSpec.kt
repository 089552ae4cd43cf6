package dev.kqat.examples

import dev.kqat.dsl.DatasetSpec
import dev.kqat.dsl.ExperimentRunner
import dev.kqat.dsl.PretrainCache
import dev.kqat.dsl.ToyRunner
import dev.kqat.dsl.ToyStudy
import dev.kqat.dsl.architecture
import dev.kqat.dsl.constant
import dev.kqat.dsl.cosine
import dev.kqat.dsl.experiment
import dev.kqat.dsl.perEpoch
import dev.kqat.dsl.sgd
import dev.kqat.runtime.oscillation.OscillationSpec
import dev.kqat.runtime.quant.RangeInit
import dev.kqat.runtime.train.OptimizerConfig
import dev.kqat.scripts.Overrides
import dev.kqat.scripts.ScriptException
import dev.kqat.scripts.ScriptHost
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.io.File
import java.nio.file.Files

/**
 * The published recipes of algorithms.md §1.11 as scripts, and one of them trained from an FP32
 * checkpoint on an image folder (its own spec, so that it runs beside the others in the second test JVM).
 */
class PaperRecipesSpec : FunSpec({
    val root = generateSequence(File("").absoluteFile) { it.parentFile }.first { File(it, "examples/quickstart.qat.kts").isFile }
    val host = ScriptHost(tempdir("kqat-paper-cache").toPath())

    test("paper recipes declare §1.11's hyper-parameters, and one trains from an FP32 checkpoint on an image folder") {
        // A two-class folder of coloured squares stands in for ImageNet.
        val images = tempdir("kqat-paper-images").toPath()
        for (split in listOf("train", "val")) for ((c, colour) in listOf("red" to 0xC02020, "blue" to 0x2020C0)) {
            val folder = images.resolve(split).resolve(c).also { Files.createDirectories(it) }
            for (i in 0 until 16) {
                val img = java.awt.image.BufferedImage(40, 40, java.awt.image.BufferedImage.TYPE_INT_RGB)
                for (y in 0 until 40) for (x in 0 until 40) img.setRGB(x, y, if ((x + y + i) % 7 == 0) 0x808080 else colour)
                javax.imageio.ImageIO.write(img, "png", folder.resolve("$i.png").toFile())
            }
        }
        // FP32 weights: one short FP32 epoch of EfficientNet-lite0 on that folder.
        val fp32 = experiment("lite0-fp32") {
            data { imageFolder(images.toString(), imageSize = 32, resizeSize = 36); batchSize = 8 }
            model { efficientNetLite0() }
            pretrain { epochs = 1; optimizer = sgd(lr = constant(0.01)) }
        }
        val fp32Dir = tempdir("kqat-lite0-fp32").toPath()
        ExperimentRunner(fp32, fp32Dir, cache = PretrainCache(tempdir("kqat-pc").toPath())).run()
        val checkpoint = fp32Dir.resolve("checkpoints/pretrain/epoch-0001")
        System.setProperty("kqat.imagenet", images.toString())
        System.setProperty("kqat.fp32_weights", checkpoint.toString())
        try {
            // (model, bits, method) -> (lr, weight decay, epochs, final freezing threshold)
            val table = mapOf(
                "mobilenet-v2-w4a4-dampen" to listOf(0.0033, 2.5e-5, 90.0, null),
                "mobilenet-v2-w3a3-dampen" to listOf(0.01, 2.5e-5, 90.0, null),
                "mobilenet-v2-w4a4-freeze" to listOf(0.0033, 5e-5, 90.0, 0.01),
                "mobilenet-v2-w3a3-freeze" to listOf(0.01, 2.5e-5, 90.0, 0.011),
                "efficientnet-lite0-w4a4-dampen" to listOf(0.0033, 1e-4, 50.0, null),
                "efficientnet-lite0-w3a3-dampen" to listOf(0.01, 5e-5, 50.0, null),
                "efficientnet-lite0-w4a4-freeze" to listOf(0.0033, 1e-4, 50.0, 0.015),
                "efficientnet-lite0-w3a3-freeze" to listOf(0.01, 5e-5, 50.0, 0.005),
            )
            for ((name, row) in table) {
                val e = host.evaluate(File(root, "examples/paper/$name.qat.kts"))
                val bits = if ("w4a4" in name) 4 else 3
                e.model.architecture shouldBe name.substringBefore("-w")
                e.initFrom shouldBe checkpoint.toString()
                e.quantization!!.weights!!.bits shouldBe bits
                e.quantization!!.activations!!.init shouldBe RangeInit.MSE
                e.quantization!!.firstLastBits shouldBe 8
                e.qat!!.epochs.toDouble() shouldBe row[2]
                // CosineAnnealingLR stepped once per epoch, as the reference code (§1.9)
                e.qat!!.optimizer.learningRate shouldBe perEpoch(cosine(row[0]!!, 0.0))
                e.qat!!.optimizer.weightDecay shouldBe row[1]
                e.qat!!.quantizerOptimizer.kind shouldBe OptimizerConfig.Kind.ADAM
                e.qat!!.quantizerOptimizer.learningRate shouldBe constant(1e-5)
                e.evaluation.bnReestimationBatches shouldBe 50
                (e.data.dataset as DatasetSpec.ImageFolder).resizeSize shouldBe 248
                val dampened = "dampen" in name || "efficientnet" in name
                e.oscillations!!.dampening shouldBe if (dampened) OscillationSpec.Dampening(cosine(0.0, 0.1), OscillationSpec.Aggregation.KERNEL_MEAN, 0.25) else null
                e.oscillations!!.freezing shouldBe row[3]?.let { OscillationSpec.Freezing(cosine(0.1, it), 0.25, true) }
            }
            val e = Overrides.apply(
                host.evaluate(File(root, "examples/paper/efficientnet-lite0-w4a4-freeze.qat.kts")),
                listOf("data.dataset.imageSize=32", "data.dataset.resizeSize=36", "data.batchSize=8", "qat.epochs=1",
                    "evaluation.bnReestimationBatches=2"),
            )
            val runDir = tempdir("kqat-paper-run").toPath()
            val report = ExperimentRunner(e, runDir).run()
            // QAT only (started from the checkpoint), with tracking and freezing state in the report.
            report.phases.map { it.phase } shouldBe listOf("qat")
            report.fp32TestTop1 shouldBe null
            // The report's figures are the last epoch's, with and without BN re-estimation.
            val epoch = dev.kqat.dsl.MetricsEvents.read(runDir.resolve("metrics.jsonl"))
                .filterIsInstance<dev.kqat.dsl.MetricsEvent.Epoch>().single()
            epoch.frozenFraction shouldBe report.frozenFraction
            epoch.oscillatingFraction shouldBe report.oscillatingFraction
            epoch.testTop1NoBnReestimation shouldBe report.testTop1NoBnReestimation
            epoch.testTop1 shouldBe report.testTop1
            report.phases.single().steps shouldBe 4L // 32 training images, batch 8, one epoch
        } finally {
            System.clearProperty("kqat.imagenet")
            System.clearProperty("kqat.fp32_weights")
        }
        // Without the inputs, the script names what is missing.
        val missing = io.kotest.assertions.throwables.shouldThrow<ScriptException> {
            host.evaluate(File(root, "examples/paper/mobilenet-v2-w4a4-dampen.qat.kts"))
        }.message!!
        missing shouldContain "mobilenet-v2-w4a4-dampen.qat.kts:8"
        missing shouldContain "KQAT_IMAGENET: not set"
    }
})
