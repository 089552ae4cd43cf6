package dev.kqat.examples

import dev.kqat.dsl.DatasetSpec
import dev.kqat.dsl.ExperimentJson
import dev.kqat.dsl.FoundConfiguration
import dev.kqat.dsl.LayerBitsJson
import dev.kqat.dsl.ModelSpec
import dev.kqat.dsl.PaperRecipes
import dev.kqat.dsl.SearchFile
import dev.kqat.dsl.adam
import dev.kqat.dsl.architecture
import dev.kqat.dsl.cosine
import dev.kqat.dsl.sgd
import dev.kqat.dsl.warmup
import dev.kqat.scripts.ScriptHost
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.engine.spec.tempfile
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.io.File
import java.nio.file.Files

/** RFQuant's published configs (algorithms.md §2.7, §2.11) and the reference-task scripts of `examples/rfquant/`. */
class RfquantRecipesSpec : FunSpec({
    val root = generateSequence(File("").absoluteFile) { it.parentFile }.first { File(it, "examples/quickstart.qat.kts").isFile }
    val host = ScriptHost(tempdir("kqat-rfq-cache").toPath())

    test("ResNet18 and MobileNetV2 ImageNet scripts declare §2.11: 150 epochs, batch 512, SGD Nesterov 0.04 after 5 warm-up epochs, 6..2, K 3, IDM, scheduler, EMA 0.9997, search budget") {
        val images = tempdir("kqat-rfq-images").toPath()
        for (split in listOf("train", "val")) for (c in listOf("a", "b")) Files.createDirectories(images.resolve(split).resolve(c))
        val fp32 = tempdir("kqat-rfq-fp32").toPath()
        System.setProperty("kqat.imagenet", images.toString())
        System.setProperty("kqat.fp32_weights", fp32.toString())
        try {
            for ((script, arch, budget, smoothing, searchBatch) in listOf(
                listOf("resnet18-imagenet", "resnet18", "33.9", 0.0, 256),
                listOf("mobilenet-v2-imagenet", "mobilenet-v2", "5.58", 0.1, 512),
            )) {
                val e = host.evaluate(File(root, "examples/rfquant/$script.qat.kts"))
                e.model.architecture shouldBe arch
                e.initFrom shouldBe fp32.toString()
                e.data.batchSize shouldBe 512
                val folder = e.data.dataset as DatasetSpec.ImageFolder
                folder.resizeSize shouldBe 256
                // MobileNetV2 starts from Keras' weights: [-1, 1] inputs and Keras' BN epsilon; ResNet18 as torchvision.
                if (arch == "resnet18") {
                    listOf(folder.mean, folder.std) shouldBe listOf(DatasetSpec.ImageFolder.IMAGENET_MEAN, DatasetSpec.ImageFolder.IMAGENET_STD)
                } else {
                    listOf(folder.mean, folder.std) shouldBe listOf(PaperRecipes.KERAS_MEAN, PaperRecipes.KERAS_STD)
                    (e.model as ModelSpec.MobileNetV2Spec).bnEpsilon shouldBe 1e-3
                }
                e.quantization shouldBe null
                val s = e.mixedPrecision!!
                s.epochs shouldBe 150
                s.optimizer shouldBe sgd(lr = warmup(5.0 / 150, cosine(0.04, 1e-5)), momentum = 0.9, weightDecay = 2.5e-5, nesterov = true)
                s.quantizerOptimizer shouldBe adam(lr = cosine(1e-5, 0.0))
                s.labelSmoothing shouldBe smoothing
                s.candidates shouldBe listOf(6, 5, 4, 3, 2)
                s.depthwiseLowest shouldBe 3
                s.fixedBits shouldBe 8
                s.randomSubnets shouldBe 3
                s.idmWeight shouldBe 0.01
                s.gradientClip shouldBe 1.0
                s.emaDecay shouldBe 0.9997
                s.bitScheduler shouldBe true
                s.bnCalibrationBatches shouldBe 55 // floor(7000 / 128) + 1
                e.search!!.budgets shouldBe listOf(budget)
                e.search!!.metric shouldBe "bitops"
                e.search!!.startBits shouldBe 5
                e.search!!.batchSize shouldBe searchBatch
            }
        } finally {
            System.clearProperty("kqat.imagenet")
            System.clearProperty("kqat.fp32_weights")
        }
    }

    test("the reference-task supernet script and the fine-tuning script of a search.json entry") {
        val e = host.evaluate(File(root, "examples/rfquant/tiny-mbv2-supernet.qat.kts"))
        e.model.architecture shouldBe "tiny-mbv2"
        e.pretrain!!.epochs shouldBe 8
        e.mixedPrecision!!.epochs shouldBe 3
        e.mixedPrecision!!.evaluateUniform shouldBe listOf(2, 3, 4, 5, 6)
        e.search!!.budgets shouldBe listOf("uniform:3", "uniform:4", "uniform:5")
        e.search!!.batchSize shouldBe 1024
        e.search!!.startAtLevel shouldBe true
        e.search!!.fillBudget shouldBe true
        e.search!!.bnDraws shouldBe 5

        val missing = shouldThrow<dev.kqat.scripts.ScriptException> { host.evaluate(File(root, "examples/rfquant/tiny-mbv2-finetune.qat.kts")) }
        missing.message!! shouldContain "KQAT_SEARCH"
        val file = tempfile("search", ".json").toPath()
        Files.writeString(file, ExperimentJson.encodeToString(SearchFile.serializer(), SearchFile("rfq", "ckpt", "bitops", 8, 55, listOf(
            FoundConfiguration(0, "uniform", null, null, 1.0, 0.1, 4.0, 0.9, 0.3, null, null, layers = mapOf("block2/expand" to LayerBitsJson(4, 4))),
            FoundConfiguration(1, "search", "uniform:4", "bitops", 1.0, 0.1, 4.0, 0.9, 0.3, 3.0, 10, layers =
                mapOf("block2/expand" to LayerBitsJson(3, 5), "block2/dw" to LayerBitsJson(6, 4)))))))
        System.setProperty("kqat.search", "$file#1")
        try {
            val tuned = host.evaluate(File(root, "examples/rfquant/tiny-mbv2-finetune.qat.kts"))
            tuned.qat!!.epochs shouldBe 3
            tuned.quantization!!.weights!!.bits shouldBe 4
            tuned.quantization!!.layers().mapValues { (_, o) -> o.weightBits() to o.inputBits() } shouldBe
                mapOf("block2/expand" to (3 to 5), "block2/dw" to (6 to 4))
        } finally {
            System.clearProperty("kqat.search")
        }
    }
})
