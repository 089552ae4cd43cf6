package dev.kqat.scripts

import ai.onnx.proto.OnnxMl.ModelProto
import ai.onnxruntime.OnnxTensor
import ai.onnxruntime.OrtEnvironment
import ai.onnxruntime.OrtSession
import com.github.ajalt.clikt.core.subcommands
import com.github.ajalt.clikt.testing.test
import dev.kqat.dsl.CheckpointReport
import dev.kqat.dsl.ExperimentJson
import dev.kqat.dsl.ExportedModel
import dev.kqat.dsl.Inspection
import dev.kqat.dsl.Report
import dev.kqat.runtime.data.FashionMnist
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import java.nio.FloatBuffer
import java.nio.file.Files
import org.tensorflow.ndarray.buffer.DataBuffers

/**
 * Post-training quantization as a phase of its own, `ptq_test_top1` in a QAT report, and
 * `kqat eval` and `kqat inspect` of run directories and checkpoint folders, on Fashion-MNIST
 * through the CLI.
 */
class CheckpointCommandsSpec : FunSpec({
    val work = tempdir("kqat-ptq-eval").toPath()
    val run = work.resolve("run")

    fun cli(vararg args: String) =
        Kqat().subcommands(RunCommand(), EvalCommand(), InspectCommand(), ExportCommand(), SoftLabelsCommand()).test(args.toList(), envvars = mapOf("KQAT_CACHE" to work.resolve("cache").toString()))

    fun eval(vararg args: String): CheckpointReport {
        val r = cli("eval", *args, "--json")
        withClue(r.stderr) { r.statusCode shouldBe 0 }
        return ExperimentJson.decodeFromString(CheckpointReport.serializer(), r.stdout.trim())
    }

    beforeSpec {
        val script = work.resolve("ptq.qat.kts")
        Files.writeString(script, """
            experiment("ptq-and-qat") {
                data { fashionMnist(); batchSize = 64; trainLimit = 2048; testLimit = 256 }
                model { tinyMbv2() }
                pretrain { epochs = 1; optimizer = sgd(lr = cosine(0.05), momentum = 0.9) }
                quantize { weights { bits = 4 }; activations { bits = 4 } }
                ptq()
                qat { epochs = 1; optimizer = sgd(lr = cosine(0.01), momentum = 0.9) }
                oscillations { track() }
                evaluate { bnReestimation(batches = 4) }
            }
        """.trimIndent())
        val r = cli("run", script.toString(), "--out", run.toString())
        withClue(r.stderr) { r.statusCode shouldBe 0 }
    }

    val report by lazy { ExperimentJson.decodeFromString(Report.serializer(), Files.readString(run.resolve("report.json"))) }

    test("ptq() runs a phase that calibrates and evaluates without a training step") {
        report.phases.map { it.phase } shouldBe listOf("pretrain", "ptq", "qat")
        val ptq = report.phases[1]
        ptq.steps shouldBe 0L
        ptq.trainImagesPerSec shouldBe 0.0
        Files.isDirectory(run.resolve("checkpoints/ptq/epoch-0000")) shouldBe true
        // Quantized to 4 bits without training, the network still classifies (10 classes: chance is 0.1).
        ptq.testTop1 shouldBeGreaterThan 0.3
        ptq.testTop1NoBnReestimation shouldNotBe null
    }

    test("the QAT report carries ptq_test_top1: the same network before QAT, evaluated as the PTQ phase evaluates it") {
        val ptq = report.phases[1]
        val qat = report.phases[2]
        // Same weights, same calibration batches, running BN statistics: the same figure to the last bit.
        qat.ptqTestTop1 shouldBe ptq.testTop1NoBnReestimation
        report.ptqTestTop1 shouldBe qat.ptqTestTop1
        report.testTop1 shouldBe qat.testTop1
    }

    test("kqat eval RUN_DIR gives back the run's final test figures from its last checkpoint") {
        val e = eval(run.toString())
        e.phase shouldBe "qat"
        e.epoch shouldBe 1
        // The checkpoint holds the re-estimated statistics the run's last evaluation used.
        e.testTop1 shouldBe report.testTop1
        e.testLoss shouldBe report.testLoss
        e.bnReestimationBatches shouldBe 4
        e.testTop1BnReestimated shouldBe report.testTop1
    }

    test("kqat eval of a checkpoint folder evaluates that phase's network") {
        eval(run.resolve("checkpoints/ptq/epoch-0000").toString()).let {
            it.phase shouldBe "ptq"
            it.testTop1 shouldBe report.phases[1].testTop1
        }
        eval(run.resolve("checkpoints/pretrain/epoch-0001").toString(), "--bn-batches", "0").let {
            it.phase shouldBe "pretrain"
            it.testTop1 shouldBe report.fp32TestTop1
            it.testTop1BnReestimated shouldBe null
        }
    }

    test("kqat eval prints both figures, and names a folder that is no run") {
        val text = cli("eval", run.toString())
        text.statusCode shouldBe 0
        text.stdout shouldContain "stored BN statistics: test_top1 %.4f".format(report.testTop1)
        text.stdout shouldContain "after BN re-estimation over 4 batches: test_top1"
        val bad = cli("eval", work.toString())
        bad.statusCode shouldBe Launch.BAD_INPUT
        bad.stderr shouldContain "$work: neither a run directory (no experiment.json) nor a checkpoint folder (no state.properties)"
    }

    fun inspect(vararg args: String): Inspection {
        val r = cli("inspect", *args, "--json")
        withClue(r.stderr) { r.statusCode shouldBe 0 }
        return ExperimentJson.decodeFromString(Inspection.serializer(), r.stdout.trim())
    }

    test("kqat inspect RUN_DIR: one row per weight layer with bits, grid, step sizes, BitOPs and size") {
        val i = inspect(run.toString())
        i.phase shouldBe "qat"
        i.layers.size shouldBe 23
        // The stem: 3x3 kernel, 1 -> 16 channels, 28x28 outputs ("same" padding, stride 1); 8 bits as first layer.
        i.layers.first().let {
            it.name shouldBe "stem"
            it.kind shouldBe "conv"
            it.weights shouldBe 3L * 3 * 1 * 16
            it.macs shouldBe 3L * 3 * 1 * 16 * 28 * 28
            it.weightBits shouldBe 8
            it.activationBits shouldBe null // the image stays floating point
            it.bitOps shouldBe it.macs * 8.0 * 32.0
        }
        i.layers.last().let {
            it.name shouldBe "classifier"
            it.kind shouldBe "dense"
            it.weights shouldBe 128L * 10
            it.macs shouldBe 128L * 10
            it.weightBits shouldBe 8
            it.activationBits shouldBe 8
        }
        for (r in i.layers.drop(1).dropLast(1)) {
            withClue(r.name) {
                r.weightBits shouldBe 4
                r.activationBits shouldBe 4
                r.weightSigned shouldBe true
                r.perChannel shouldBe false
                r.weightStepMin shouldBe r.weightStepMax
                r.weightStepMin!! shouldBeGreaterThan 0.0
                r.bitOps shouldBe r.macs * 4.0 * 4.0
                r.sizeBytes shouldBe r.weights * 4 / 8.0
                r.frozenFraction shouldBe 0.0
            }
        }
        // Calibration chose the grids' sign from data: after ReLU6 (inputs of depth-wise and project convs)
        // unsigned, after a linear bottleneck (inputs of expand convs) signed.
        for (r in i.layers) withClue(r.name) {
            when (r.name.substringAfterLast('/')) {
                "dw", "project" -> r.activationSigned shouldBe false
                "expand" -> r.activationSigned shouldBe true
            }
        }
        i.totals.weights shouldBe i.layers.sumOf { it.weights }
        i.totals.bitOps shouldBe i.layers.sumOf { it.bitOps }
        // The trackers' state read back from the checkpoint gives the run's own final figure.
        i.totals.oscillatingFraction shouldBe report.oscillatingFraction
    }

    test("kqat inspect of the FP32 and PTQ checkpoints, and its text table") {
        val fp32 = inspect(run.resolve("checkpoints/pretrain/epoch-0001").toString())
        fp32.layers.forEach { it.weightBits shouldBe null; it.bitOps shouldBe it.macs * 32.0 * 32.0 }
        fp32.totals.oscillatingFraction shouldBe null
        val ptq = inspect(run.resolve("checkpoints/ptq/epoch-0000").toString())
        ptq.layers.map { it.weightBits } shouldBe inspect(run.toString()).layers.map { it.weightBits }
        ptq.totals.bitOps shouldBeLessThan fp32.totals.bitOps / 30
        val text = cli("inspect", run.toString())
        text.statusCode shouldBe 0
        text.stdout shouldContain "stem"
        text.stdout shouldContain "total (23 layers)"
    }

    test("kqat export RUN_DIR writes model.onnx that onnxruntime runs to the run's test top-1") {
        val r = cli("export", run.toString(), "--json")
        withClue(r.stderr) { r.statusCode shouldBe 0 }
        val exported = ExperimentJson.decodeFromString(ExportedModel.serializer(), r.stdout.trim())
        exported.file shouldBe run.resolve("model.onnx").toString()
        exported.phase shouldBe "qat"
        // Every weight layer's kernel, and every layer input but the image's, behind Quantize–Clip–Dequantize.
        exported.quantizers.count { it.target == "weight" } shouldBe 23
        exported.quantizers.count { it.target == "activation" } shouldBe 22
        exported.quantizers.filter { it.name != "stem/weight" && it.name != "classifier/weight" && it.name != "classifier/input" }
            .forEach { it.bits shouldBe 4 }
        val model = ModelProto.parseFrom(Files.readAllBytes(run.resolve("model.onnx")))
        model.graph.nodeList.count { it.opType == "QuantizeLinear" } shouldBe 45
        model.graph.nodeList.count { it.opType == "BatchNormalization" } shouldBe 22

        val test = FashionMnist.load(FashionMnist.DEBIAN_DIR, false).head(256)
        val env = OrtEnvironment.getEnvironment()
        val correct = env.createSession(exported.file, OrtSession.SessionOptions()).use { session ->
            test.batches(256, false, 0L, false).next().use { batch ->
                val pixels = FloatArray(256 * 28 * 28).also { batch.images().copyTo(DataBuffers.of(it, false, false)) }
                val labels = IntArray(256).also { batch.labels().copyTo(DataBuffers.of(it, false, false)) }
                OnnxTensor.createTensor(env, FloatBuffer.wrap(pixels), longArrayOf(256, 28, 28, 1)).use { input ->
                    session.run(mapOf("images" to input)).use { out ->
                        @Suppress("UNCHECKED_CAST")
                        val logits = out.get(0).value as Array<FloatArray>
                        logits.indices.count { i -> logits[i].indices.maxBy { logits[i][it] } == labels[i] }
                    }
                }
            }
        }
        // Equal unless an activation on a rounding tie flips one prediction (OnnxExportSpec counts those).
        (correct / 256.0 - report.testTop1) shouldBeLessThan 1.5 / 256
        (report.testTop1 - correct / 256.0) shouldBeLessThan 1.5 / 256
    }

    test("kqat export of a checkpoint folder names the file after it; a folder that is no run is refused") {
        val r = cli("export", run.resolve("checkpoints/ptq/epoch-0000").toString())
        withClue(r.stderr) { r.statusCode shouldBe 0 }
        r.stdout shouldContain "wrote ${run.resolve("ptq-epoch-0000.onnx")}: ONNX opset 13"
        r.stdout shouldContain "23 weight and 22 activation quantizers"
        Files.size(run.resolve("ptq-epoch-0000.onnx")) shouldBeGreaterThan 40_000L
        val bad = cli("export", work.toString())
        bad.statusCode shouldBe Launch.BAD_INPUT
        bad.stderr shouldContain "neither a run directory"
    }

    test("kqat softlabels RUN_DIR labels crops of every training image with the run's FP32 network; other phases and a top-k above the classes are refused") {
        val file = work.resolve("labels.kqsl")
        val r = cli("softlabels", run.toString(), "--crops", "2", "--top-k", "3", "--min-scale", "0.35", "--out", file.toString())
        withClue(r.stderr) { r.statusCode shouldBe 0 }
        r.stdout shouldContain "wrote $file: 2048 images × 2 crops, top 3 of 10 classes"
        dev.kqat.runtime.distill.SoftLabelFile.open(file).use { f ->
            f.header().teacher() shouldBe run.resolve("checkpoints/pretrain/epoch-0001").toString()
            f.header().minScale() shouldBe 0.35
            val crop = f.read(2047)[1]
            crop.classes().size shouldBe 3
            (crop.height() * crop.width() >= 0.3f) shouldBe true
        }
        val qat = cli("softlabels", run.resolve("checkpoints/qat/epoch-0001").toString())
        qat.statusCode shouldBe 2
        qat.stderr shouldContain "a 'qat' checkpoint, a 'pretrain' one is needed"
        val wide = cli("softlabels", run.toString(), "--top-k", "11", "--out", work.resolve("wide.kqsl").toString())
        wide.statusCode shouldBe 2
        wide.stderr shouldContain "topK: 11 exceeds the teacher's 10 classes"
        Files.exists(work.resolve("wide.kqsl")) shouldBe false
    }

    test("kqat softlabels SCRIPT labels with the teacher the script names: the same crops and top-k as from the run it came from") {
        val fromRun = work.resolve("from-run.kqsl")
        cli("softlabels", run.toString(), "--crops", "2", "--top-k", "3", "--out", fromRun.toString()).statusCode shouldBe 0
        val fp32 = run.resolve("checkpoints/pretrain/epoch-0001")
        val script = work.resolve("label.qat.kts")
        Files.writeString(script, """
            experiment("distil-from-fp32") {
                data { fashionMnist(); batchSize = 64; trainLimit = 512; testLimit = 64 }
                model { tinyMbv2() }
                initFrom = "$fp32"
                quantize { weights { bits = 4 }; activations { bits = 4 } }
                qat { epochs = 1 }
                distill { teacher() }
            }
        """.trimIndent())
        val fromScript = work.resolve("from-script.kqsl")
        val r = cli("softlabels", script.toString(), "--crops", "2", "--top-k", "3", "--out", fromScript.toString())
        withClue(r.stderr) { r.statusCode shouldBe 0 }
        r.stdout shouldContain "teacher $fp32"
        dev.kqat.runtime.distill.SoftLabelFile.open(fromScript).use { s ->
            dev.kqat.runtime.distill.SoftLabelFile.open(fromRun).use { f ->
                s.header().images() shouldBe 512
                for (image in listOf(0, 200, 511)) {
                    s.read(image).zip(f.read(image)).forEach { (a, b) ->
                        listOf(a.top(), a.left(), a.height(), a.width()) shouldBe listOf(b.top(), b.left(), b.height(), b.width())
                        a.classes().toList() shouldBe b.classes().toList()
                        a.probabilities().zip(b.probabilities()).forEach { (p, q) -> p.toDouble() shouldBe (q.toDouble() plusOrMinus 1e-6) }
                    }
                }
            }
        }
        // A script that replays stored labels names no teacher.
        val replaying = work.resolve("replay.qat.kts")
        Files.writeString(replaying, Files.readString(script).replace("distill { teacher() }", "distill { softLabels(\"$fromScript\", crops = 2) }"))
        val refused = cli("softlabels", replaying.toString(), "--out", work.resolve("none.kqsl").toString())
        refused.statusCode shouldBe 2
        refused.stderr shouldContain "distillation.softLabels: distil-from-fp32 replays stored soft labels"
        Files.exists(work.resolve("none.kqsl")) shouldBe false
    }

})
