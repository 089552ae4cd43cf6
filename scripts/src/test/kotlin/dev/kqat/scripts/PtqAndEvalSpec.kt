package dev.kqat.scripts

import com.github.ajalt.clikt.core.subcommands
import com.github.ajalt.clikt.testing.test
import dev.kqat.dsl.CheckpointReport
import dev.kqat.dsl.ExperimentJson
import dev.kqat.dsl.Report
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files

/**
 * Post-training quantization as a phase of its own, `ptq_test_top1` in a QAT report, and
 * `kqat eval` of run directories and checkpoint folders, on Fashion-MNIST through the CLI.
 */
class PtqAndEvalSpec : FunSpec({
    val work = Files.createTempDirectory("kqat-ptq-eval")
    val run = work.resolve("run")

    fun cli(vararg args: String) =
        Kqat().subcommands(RunCommand(), EvalCommand()).test(args.toList(), envvars = mapOf("KQAT_CACHE" to work.resolve("cache").toString()))

    fun eval(vararg args: String): CheckpointReport {
        val r = cli("eval", *args, "--json")
        withClue(r.stderr) { r.statusCode shouldBe 0 }
        return ExperimentJson.decodeFromString(CheckpointReport.serializer(), r.stdout.trim())
    }

    beforeSpec {
        val script = work.resolve("ptq.qat.kts")
        Files.writeString(script, """
            experiment("ptq-and-qat") {
                data { fashionMnist(); batchSize = 64; trainLimit = 2048; testLimit = 512 }
                model { tinyMbv2() }
                pretrain { epochs = 1; optimizer = sgd(lr = cosine(0.05), momentum = 0.9) }
                quantize { weights { bits = 4 }; activations { bits = 4 } }
                ptq()
                qat { epochs = 1; optimizer = sgd(lr = cosine(0.01), momentum = 0.9) }
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

    afterSpec { work.toFile().deleteRecursively() }
})
