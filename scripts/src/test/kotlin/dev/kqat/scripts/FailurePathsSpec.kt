package dev.kqat.scripts

import com.github.ajalt.clikt.core.subcommands
import com.github.ajalt.clikt.testing.CliktCommandTestResult
import com.github.ajalt.clikt.testing.test
import dev.kqat.dsl.ExperimentJson
import dev.kqat.dsl.Report
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import java.io.File
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit
import kotlin.io.path.isDirectory
import kotlin.io.path.name
import kotlin.random.Random
import kotlin.time.Duration.Companion.minutes

/**
 * The failure paths a user meets, proven through the CLI: `kill -9` at seeded moments (one of them
 * while a checkpoint is being written) followed by `kqat run --resume`, a second run into a folder
 * in use, a loss that becomes NaN, and a disk that fills up while a checkpoint is written.
 * `-Dkqat.killPoints=N` sets how many kill points run (2 by default in the suite — point 0 while a checkpoint is written, one seeded moment; `scripts/kill-resume.sh` runs 20).
 */
class FailurePathsSpec : FunSpec({
    val resources = Path.of(FailurePathsSpec::class.java.getResource("/failure-paths")!!.toURI())
    val twoPhases = resources.resolve("two-phases.qat.kts").toString()
    val work = tempdir("kqat-failure-paths").toPath()
    val killPoints = System.getProperty("kqat.killPoints")?.toInt() ?: 2

    /** `kqat ARGS` in a child JVM with this test's class path, its output into [log]. */
    fun start(log: Path, vararg args: String): Process {
        val java = Path.of(System.getProperty("java.home"), "bin", "java").toString()
        val command = listOf(java, "-Xmx2g", "-cp", System.getProperty("java.class.path"), "dev.kqat.scripts.CliKt") + args
        return ProcessBuilder(command).apply {
            environment()["TF_CPP_MIN_LOG_LEVEL"] = "2"
            environment()["KQAT_SCRIPT_CACHE"] = work.resolve("script-cache").toString()
            environment()["KQAT_CACHE"] = work.resolve("pretrain-cache").toString()
            redirectErrorStream(true)
            redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        }.start()
    }

    fun finish(p: Process, log: Path): Int {
        withClue("timed out; log: $log") { p.waitFor(10, TimeUnit.MINUTES) shouldBe true }
        return p.exitValue()
    }

    fun report(dir: Path): Report = ExperimentJson.decodeFromString(Report.serializer(), Files.readString(dir.resolve("report.json")))

    fun cli(vararg args: String) = Kqat().subcommands(RunCommand(), BenchCommand(), ReportCommand()).test(args.toList())

    /** Every visible checkpoint folder is complete, and `latest` names one of them. */
    fun checkpointsComplete(runDir: Path): List<String> {
        val problems = mutableListOf<String>()
        val phases = runDir.resolve("checkpoints")
        if (!phases.isDirectory()) return problems
        Files.list(phases).use { it.toList() }.forEach { phase ->
            val epochs = Files.list(phase).use { s -> s.filter { it.name.startsWith("epoch-") }.toList() }
            for (e in epochs) {
                for (f in listOf("manifest.tsv", "variables.index", "variables.data-00000-of-00001")) {
                    if (!Files.isRegularFile(e.resolve(f))) problems += "$e lacks $f"
                }
                if (Files.list(e).use { s -> s.noneMatch { it.name.startsWith("state") } }) problems += "$e lacks its trainer state"
            }
            val latest = phase.resolve("latest")
            if (Files.isRegularFile(latest) && epochs.none { it.name == Files.readString(latest).trim() }) {
                problems += "$latest names a folder that is not there"
            }
        }
        return problems
    }

    val baselineDir = work.resolve("baseline")
    var baselineSeconds = 0.0

    test("an uninterrupted two-phase run with tracking, dampening, freezing and BN re-estimation") {
        val log = work.resolve("baseline.log")
        val started = System.nanoTime()
        finish(start(log, "run", twoPhases, "--out", baselineDir.toString()), log) shouldBe 0
        baselineSeconds = (System.nanoTime() - started) / 1e9
        val r = report(baselineDir)
        r.phases.map { it.phase } shouldBe listOf("pretrain", "qat")
        // The kill test below covers freezing state only if something froze.
        withClue("frozen share") { r.frozenFraction!! shouldBeGreaterThan 0.0 }
    }

    test("the kqat launcher's stderr filter drops TensorFlow's two absl start-up lines of a real run, and only them") {
        val lines = Files.readAllLines(work.resolve("baseline.log"))
        val noise = lines.filter { it.startsWith("WARNING: All log messages before absl::InitializeLog()") ||
            it.contains("mlir_graph_optimization_pass.cc") }
        // The lines the filter exists for are really in a run's output (TensorFlow prints them once per process).
        noise.size shouldBe 2
        val root = generateSequence(File("").absoluteFile) { it.parentFile }.first { File(it, "kqat").isFile }
        val pattern = File(root, "kqat").readLines().single { it.startsWith("tf_noise=") }
            .removePrefix("tf_noise='").removeSuffix("'")
        val grep = ProcessBuilder("grep", "-v", "-E", pattern).redirectInput(work.resolve("baseline.log").toFile()).start()
        val kept = grep.inputStream.bufferedReader().readLines()
        grep.waitFor()
        kept shouldBe lines.filterNot { it in noise }
    }

    // Each kill point runs a run and its resume (about a minute on 2 busy cores): beyond Kotest's 10-minute default.
    test("kill -9 at $killPoints seeded moments, one while a checkpoint is written: resume ends where the uninterrupted run ends")
        .config(timeout = (10 + 3 * killPoints).minutes) {
        val expected = report(baselineDir)
        val random = Random(20261201)
        for (point in 0 until killPoints) {
            val dir = work.resolve("killed-$point")
            val log = work.resolve("killed-$point.log")
            val p = start(log, "run", twoPhases, "--out", dir.toString())
            val started = System.nanoTime()
            var during = "a random moment"
            if (point == 0) {
                // Watch for a checkpoint's temporary folder and kill the process while it exists.
                val deadline = started + (baselineSeconds * 3e9).toLong()
                while (p.isAlive && System.nanoTime() < deadline) {
                    val writing = Files.isDirectory(dir.resolve("checkpoints")) && Files.list(dir.resolve("checkpoints")).use { phases ->
                        phases.toList().any { ph -> Files.list(ph).use { s -> s.anyMatch { it.name.startsWith(".epoch-") } } }
                    }
                    if (writing) {
                        p.destroyForcibly()
                        during = "a checkpoint write"
                        break
                    }
                    Thread.sleep(0, 200_000)
                }
                withClue("the checkpoint write was never caught") { during shouldBe "a checkpoint write" }
            } else {
                val at = baselineSeconds * (0.1 + 0.85 * random.nextDouble())
                Thread.sleep((at * 1000).toLong())
                if (p.isAlive) p.destroyForcibly()
                during = "%.1f s".format(at)
            }
            p.waitFor(1, TimeUnit.MINUTES)
            withClue("kill point $point ($during): ${checkpointsComplete(dir)}") { checkpointsComplete(dir).shouldBeEmpty() }
            if (!Files.exists(dir.resolve("report.json"))) {
                val resume = if (Files.exists(dir.resolve("experiment.json"))) arrayOf("run", "--resume", dir.toString())
                else arrayOf("run", twoPhases, "--out", dir.toString())
                withClue("resume after kill point $point; log $log") { finish(start(log, *resume), log) shouldBe 0 }
            }
            val r = report(dir)
            println("kill point $point at $during: test_loss ${r.testLoss} (uninterrupted ${expected.testLoss}), " +
                "test_top1 ${r.testTop1} (${expected.testTop1}), frozen ${r.frozenFraction} (${expected.frozenFraction})")
            withClue("kill point $point at $during, log $log") {
                r.testLoss shouldBe expected.testLoss
                r.testTop1 shouldBe expected.testTop1
                r.oscillatingFraction shouldBe expected.oscillatingFraction
                r.frozenFraction shouldBe expected.frozenFraction
                // The QAT phase's evaluation before its first step: recomputed, or read back from
                // metrics.jsonl when the kill came after it.
                r.ptqTestTop1 shouldBe expected.ptqTestTop1
            }
        }
        expected.ptqTestTop1 shouldNotBe null
    }

    test("a second run into a folder in use refuses at once, and the first run finishes unmixed") {
        val dir = work.resolve("locked")
        val log = work.resolve("locked.log")
        val first = start(log, "run", twoPhases, "--out", dir.toString())
        while (first.isAlive && !Files.exists(dir.resolve("experiment.json"))) Thread.sleep(50)
        val second = cli("run", twoPhases, "--out", dir.toString())
        val stillRunning = first.isAlive
        second.statusCode shouldBe 2
        second.stderr shouldContain "another kqat run is writing to this folder"
        withClue("the first run ended before the second was refused; log $log") { stillRunning shouldBe true }
        finish(first, log) shouldBe 0
        report(dir).testLoss shouldBe report(baselineDir).testLoss
    }

    /** A run that failed with [exitCode] and [messages]: no stack trace, every checkpoint complete, epoch 1's the latest. */
    fun failedKeepingEpochOne(r: CliktCommandTestResult, dir: Path, exitCode: Int, vararg messages: String) {
        r.statusCode shouldBe exitCode
        for (m in messages) r.stderr shouldContain m
        r.stderr shouldNotContain "\tat "
        checkpointsComplete(dir).shouldBeEmpty()
        Files.readString(dir.resolve("checkpoints/pretrain/latest")).trim() shouldBe "epoch-0001"
    }

    test("a loss that becomes NaN exits with code 3, names the step and keeps the last good checkpoint") {
        val dir = work.resolve("diverged")
        val r = cli("run", resources.resolve("diverges.qat.kts").toString(), "--out", dir.toString())
        failedKeepingEpochOne(r, dir, 3, "in phase 'pretrain', epoch 2, step",
            "the last good checkpoint is $dir/checkpoints/pretrain/epoch-0001")
        Files.exists(dir.resolve("report.json")) shouldBe false
    }

    test("a disk that fills up while a checkpoint is written: exit 2, the previous checkpoint intact") {
        val script = resources.resolve("fp32-three-epochs.qat.kts").toString()
        val roomy = work.resolve("roomy")
        cli("run", script, "--out", roomy.toString()).statusCode shouldBe 0
        fun sizeOf(p: Path): Long = Files.walk(p).use { s -> s.filter { Files.isRegularFile(it) }.mapToLong { Files.size(it) }.sum() }
        val checkpoint = sizeOf(roomy.resolve("checkpoints/pretrain/epoch-0003")) // two are kept: 0002 and 0003
        val rest = sizeOf(roomy) - sizeOf(roomy.resolve("checkpoints"))
        // Room for everything but the checkpoints, plus one and a half checkpoints: epoch 2's cannot fit.
        val disk = work.resolve("small-disk")
        Files.createDirectories(disk)
        val size = ((rest + checkpoint * 3 / 2) / 4096 + 16) * 4096
        val mounted = ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=$size", "tmpfs", disk.toString())
            .redirectErrorStream(true).start().waitFor() == 0
        // Where a tmpfs cannot be mounted, the same write fails by injection (CheckpointStore).
        if (!mounted) System.setProperty("kqat.test.failCheckpointAtEpoch", "2")
        println("full disk: ${if (mounted) "tmpfs of $size bytes (checkpoint $checkpoint bytes)" else "injected write failure"}")
        try {
            val dir = disk.resolve("run")
            val r = cli("run", script, "--out", dir.toString())
            failedKeepingEpochOne(r, dir, 2, "cannot write checkpoint $dir/checkpoints/pretrain/epoch-0002",
                "the latest complete checkpoint is $dir/checkpoints/pretrain/epoch-0001")
            Files.list(dir.resolve("checkpoints/pretrain")).use { s -> s.map { it.name }.toList() }.filter { it.startsWith(".epoch-") }.shouldBeEmpty()
        } finally {
            System.clearProperty("kqat.test.failCheckpointAtEpoch")
            if (mounted) ProcessBuilder("umount", disk.toString()).start().waitFor()
        }
    }
})
