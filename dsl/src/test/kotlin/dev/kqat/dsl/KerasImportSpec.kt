package dev.kqat.dsl

import dev.kqat.runtime.io.KerasH5Weights
import dev.kqat.runtime.io.WeightImport
import dev.kqat.runtime.models.MobileNetV2
import dev.kqat.runtime.nn.ModelState
import dev.kqat.runtime.nn.NetContext
import dev.kqat.runtime.nn.PassMode
import dev.kqat.runtime.nn.QuantHooks
import dev.kqat.runtime.quant.FakeQuantKernel
import dev.kqat.runtime.quant.QuantPolicy
import dev.kqat.runtime.tf.ParamStore
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files
import java.nio.file.Path
import org.tensorflow.Graph
import org.tensorflow.Session
import org.tensorflow.ndarray.Shape
import org.tensorflow.op.Ops
import org.tensorflow.op.core.Placeholder
import org.tensorflow.types.TFloat32

class KerasImportSpec : FunSpec({
    val dir = tempdir("kqat-keras").toPath()

    test("files written by h5py as Keras 2 writes them (byte-string attributes, nested names, model.save) are read exactly") {
        for (fixture in listOf("save-weights.h5", "model-save.h5")) {
            val file = Path.of(KerasImportSpec::class.java.getResource("/keras/$fixture")!!.toURI())
            val weights = KerasH5Weights.read(file)
            weights.map { "${it.layer()}/${it.variable()}" } shouldBe listOf(
                "Conv/kernel", "Conv/BatchNorm/gamma", "Conv/BatchNorm/beta", "Conv/BatchNorm/moving_mean",
                "Conv/BatchNorm/moving_variance", "expanded_conv/depthwise/depthwise_kernel", "Logits/kernel", "Logits/bias",
            )
            weights[0].shape().toList() shouldBe listOf(3, 3, 3, 2)
            weights[0].values()[5] shouldBe 0.05f
            weights[4].values().toList() shouldBe listOf(4f, 9f)
            weights[5].values().all { it == 0.125f } shouldBe true
            // float64 datasets arrive as float32
            weights[6].values().toList() shouldBe listOf(1f, 2f, 3f)
        }
    }

    test("Keras MobileNetV2 weights land in kqat's MobileNetV2 unchanged, variable by variable") {
        val layers = KerasFiles.mobileNetV2(alpha = 0.35, classes = 1000)
        val file = KerasFiles.write(dir.resolve("mobilenet_v2_0.35.h5"), layers)
        Graph().use { g ->
            val tf = Ops.create(g)
            val params = ParamStore(tf, 0)
            val ctx = NetContext(ModelState(params, QuantPolicy.FLOAT, listOf(), FakeQuantKernel.TF_OPS, QuantHooks.NONE), PassMode.EVAL, null)
            MobileNetV2(0.35, 1000, 224, 3, 1e-3f).forward(ctx, tf.placeholder(TFloat32::class.java, Placeholder.shape(Shape.of(-1, 224, 224, 3))))
            Session(g).use { session ->
                session.initialize()
                val result = WeightImport.keras(session, params, file, MobileNetV2(0.35, 1000, 224, 3).kerasLayerNames(), "classifier")
                result.skipped() shouldBe emptyList()
                // 52 convolutions and the classifier (kernel + bias), 4 variables per BN layer (52).
                result.loaded() shouldBe 52 + 2 + 4 * 52
                val expected = mapOf(
                    "stem/kernel" to layers.first { it.name == "Conv1" }.weights[0],
                    "block1/dw/kernel" to layers.first { it.name == "expanded_conv_depthwise" }.weights[0],
                    "block5/expand_bn/moving_variance" to layers.first { it.name == "block_4_expand_BN" }.weights[3],
                    "classifier/kernel" to layers.first { it.name == "Logits" }.weights[0],
                )
                for ((name, w) in expected) {
                    val v = params.get(name)
                    v.shape().asArray().toList() shouldBe w.shape.map(Int::toLong)
                    session.runner().fetch(v.variable()).run().use { r ->
                        val t = r.get(0) as TFloat32
                        val got = FloatArray(w.values.size)
                        t.copyTo(org.tensorflow.ndarray.buffer.DataBuffers.of(got, false, false))
                        got.toList() shouldBe w.values.toList()
                    }
                }
            }
        }
    }

    test("a script starts MobileNetV3-Small from Keras ImageNet weights, keeps the classifier for its own classes, and trains W4A4") {
        val file = KerasFiles.write(dir.resolve("mobilenet_v3_small.h5"), KerasFiles.mobileNetV3Small(classes = 1000))
        val e = experiment("v3-from-keras") {
            data { synthetic(trainSize = 128, testSize = 32, height = 32, width = 32, channels = 3, classes = 4, noise = 0.5); batchSize = 32 }
            model { mobilenetV3Small() }
            initFrom = file.toString()
            quantize { weights { bits = 4 }; activations { bits = 4 } }
            qat { epochs = 1; optimizer = sgd(lr = cosine(0.01)) }
        }
        val runDir = tempdir("kqat-run-keras").toPath()
        val report = ExperimentRunner(e, runDir).run()
        report.phases.single().steps shouldBe 4L // 128 images, batch 32, one epoch: the run trained
        val imported = MetricsEvents.read(runDir.resolve("metrics.jsonl")).filterIsInstance<MetricsEvent.WeightsImported>().single()
        // Everything but the 1000-class classifier's kernel and bias.
        val summary = dev.kqat.runtime.models.ModelInspector.inspect(RuntimeMapping.model(e))
        imported.loaded shouldBe KerasFiles.mobileNetV3Small(1000).sumOf { it.weights.size } - 2
        imported.skipped.map { it.substringBefore(' ') } shouldBe listOf("classifier/kernel", "classifier/bias")
        // Squeeze-excite layers are weight layers of the policy: their inputs and weights are quantized.
        summary.layerNames().filter { it.endsWith("/se_reduce") || it.endsWith("/se_expand") }.size shouldBe 2 * 9
    }

    test("an RFQuant supernet starts from Keras MobileNetV2 weights through a zero-epoch FP32 import phase") {
        val file = KerasFiles.write(dir.resolve("mobilenet_v2_supernet.h5"), KerasFiles.mobileNetV2(alpha = 0.35, classes = 1000))
        val e = experiment("v2-supernet-from-keras") {
            data { synthetic(trainSize = 64, testSize = 32, height = 32, width = 32, channels = 3, classes = 4, noise = 0.5); batchSize = 32 }
            model { mobilenetV2(widthMultiplier = 0.35) }
            initFrom = file.toString()
            mixedPrecision { epochs = 1; ema(0.0); bnCalibrationBatches = 1; evaluateUniform = listOf(4) }
        }
        val runDir = tempdir("kqat-run-keras-supernet").toPath()
        val report = ExperimentRunner(e, runDir).run()
        report.phases.map { it.phase to it.steps } shouldBe listOf("import" to 0L, "supernet" to 2L)
        report.fp32TestTop1 shouldBe report.phases[0].testTop1
        val imported = MetricsEvents.read(runDir.resolve("metrics.jsonl")).filterIsInstance<MetricsEvent.WeightsImported>().single()
        imported.phase shouldBe "import"
        imported.loaded shouldBe KerasFiles.mobileNetV2(0.35, 1000).sumOf { it.weights.size } - 2 // not the 1000-class classifier
        // The import's checkpoint is an FP32 one (kqat eval / inspect take it), and the supernet evaluated its uniform W4A4 from it.
        val target = RunTarget.resolve(Path.of(report.phases[0].checkpoint))
        (target.phase to target.quantization) shouldBe ("import" to null)
        report.phases[1].uniformTop1BeforeTraining!!.keys shouldBe setOf("W4A4")
    }

    test("weights of another architecture, a corrupt file and a Keras 3 file are refused with the file and the reason") {
        val v2 = KerasFiles.write(dir.resolve("v2.h5"), KerasFiles.mobileNetV2(alpha = 0.35, classes = 10))
        val e = experiment("wrong") {
            data { synthetic(trainSize = 64, testSize = 32, height = 32, width = 32, channels = 3, classes = 4); batchSize = 32 }
            model { mobilenetV3Small() }
            initFrom = v2.toString()
            quantize { weights { bits = 4 }; activations { bits = 4 } }
            qat { epochs = 1 }
        }
        val wrong = shouldThrow<IllegalArgumentException> { ExperimentRunner(e, tempdir("kqat-wrong").toPath()).run() }
        wrong.message!! shouldContain "v2.h5: does not fit the model"
        wrong.message!! shouldContain "Keras layers with no counterpart in the model: [Conv1, bn_Conv1"

        val corrupt = dir.resolve("corrupt.h5")
        Files.write(corrupt, Files.readAllBytes(v2).copyOf(4096))
        shouldThrow<IllegalArgumentException> { KerasH5Weights.read(corrupt) }.message!! shouldContain "corrupt.h5: not a readable HDF5 file"

        val keras3 = dir.resolve("model.weights.h5")
        io.jhdf.HdfFile.write(keras3).use { f -> f.putGroup("layers").putGroup("conv2d").putGroup("vars").putDataset("0", floatArrayOf(1f)) }
        shouldThrow<IllegalArgumentException> { KerasH5Weights.read(keras3) }.message!! shouldContain "Keras 3 '.weights.h5' files are not supported"

        shouldThrow<ExperimentValidationException> {
            experiment("missing") { model { mobilenetV3Small() }; initFrom = "/nonexistent/w.h5"; quantize { }; qat { epochs = 1 } }
        }.message!! shouldContain "initFrom: Keras weights file not found: /nonexistent/w.h5"
    }
})
