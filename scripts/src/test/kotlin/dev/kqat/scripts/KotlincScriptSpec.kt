package dev.kqat.scripts

import dev.kqat.dsl.ExperimentJson
import dev.kqat.dsl.Report
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldStartWith
import java.io.File
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit

/**
 * `kotlinc -cp "$(kqat classpath)" -script FILE.qat.kts -- --out DIR --set k=v` trains as
 * `kqat run FILE --out DIR --set k=v` does. The compiler is the real one (`kotlin-compiler` of the
 * project's Kotlin version, main class `K2JVMCompiler`, which `kotlinc` runs), copied to
 * `target/kotlinc` by the build, run in a child JVM.
 */
class KotlincScriptSpec : FunSpec({
    val work = tempdir("kqat-kotlinc").toPath()
    val java = Path.of(System.getProperty("java.home"), "bin", "java").toString()
    val compilerJars = File("target/kotlinc").listFiles { f -> f.name.endsWith(".jar") }.orEmpty()
        .joinToString(File.pathSeparator) { it.absolutePath }

    class Outcome(val code: Int, val stdout: String, val stderr: String)

    fun exec(command: List<String>): Outcome {
        val stdout = Files.createTempFile(work, "out", ".txt").toFile()
        val stderr = Files.createTempFile(work, "err", ".txt").toFile()
        val p = ProcessBuilder(command).directory(work.toFile()).apply {
            environment()["KQAT_SCRIPT_CACHE"] = work.resolve("script-cache").toString()
            environment()["KQAT_CACHE"] = work.resolve("pretrain-cache-${command.hashCode()}").toString()
            redirectOutput(stdout)
            redirectError(stderr)
        }.start()
        withClue("timed out: $command") { p.waitFor(10, TimeUnit.MINUTES) shouldBe true }
        return Outcome(p.exitValue(), stdout.readText(), stderr.readText())
    }

    fun kqat(vararg args: String) =
        exec(listOf(java, "-Xmx2g", "-cp", System.getProperty("java.class.path"), "dev.kqat.scripts.CliKt") + args)

    val kqatClasspath by lazy {
        val printed = kqat("classpath")
        printed.code shouldBe 0
        printed.stdout.trim()
    }

    fun kotlinc(script: String, vararg scriptArgs: String) = exec(
        listOf(java, "-Xmx2g", "-cp", compilerJars, "org.jetbrains.kotlin.cli.jvm.K2JVMCompiler",
            "-no-stdlib", "-no-reflect", "-cp", kqatClasspath, "-script", script, "--") + scriptArgs)

    fun report(dir: Path): Report =
        ExperimentJson.decodeFromString(Report.serializer(), Files.readString(dir.resolve("report.json")))

    fun filesUnder(dir: Path): List<String> = Files.walk(dir).use { s ->
        s.filter { Files.isRegularFile(it) && !it.toString().contains("tensorboard") }
            .map { dir.relativize(it).toString() }.sorted().toList()
    }

    test("the compiler jars were copied by the build") {
        withClue("run through Maven, which copies them to target/kotlinc") { compilerJars shouldContain "kotlin-compiler-" }
    }

    test("kqat classpath prints the class path that the CLI runs from") {
        kqatClasspath.split(File.pathSeparator).map { File(it).name } shouldContainAll
            System.getProperty("java.class.path").split(File.pathSeparator).map { File(it).name }.take(3)
    }

    test("kotlinc -script trains the script as kqat run does: same run directory, report and console") {
        Files.writeString(work.resolve("small.qat.kts"), """
            experiment("kotlinc-small") {
                data { fashionMnist(); batchSize = 64; trainLimit = 256; testLimit = 128 }
                model { tinyMbv2() }
                pretrain { epochs = 1; optimizer = sgd(lr = cosine(0.05), momentum = 0.9) }
                quantize { weights { bits = 4 }; activations { bits = 4 } }
                qat { epochs = 2; optimizer = sgd(lr = cosine(0.01), momentum = 0.9) }
                oscillations { track() }
            }
        """.trimIndent())
        val byKotlinc = kotlinc("small.qat.kts", "--out", "by-kotlinc", "--set", "qat.epochs=1")
        val byKqat = kqat("run", "small.qat.kts", "--out", "by-kqat", "--set", "qat.epochs=1")
        withClue(byKotlinc.stderr) { byKotlinc.code shouldBe 0 }
        withClue(byKqat.stderr) { byKqat.code shouldBe 0 }

        val a = report(work.resolve("by-kotlinc"))
        val b = report(work.resolve("by-kqat"))
        a.testTop1 shouldBe b.testTop1
        a.testLoss shouldBe b.testLoss
        a.oscillatingFraction shouldBe b.oscillatingFraction
        filesUnder(work.resolve("by-kotlinc")) shouldBe filesUnder(work.resolve("by-kqat"))
        // --set reached the run: one QAT epoch, not the script's two.
        filesUnder(work.resolve("by-kotlinc")).filter { it.startsWith("checkpoints/qat/epoch-") }
            .map { it.split('/')[2] }.distinct() shouldBe listOf("epoch-0001")

        byKotlinc.stdout.trim() shouldStartWith "test_top1 %.4f ".format(a.testTop1)
        byKqat.stdout.trim() shouldStartWith "test_top1 %.4f ".format(a.testTop1)
        byKotlinc.stderr shouldContain "run directory: by-kotlinc"
        byKotlinc.stderr shouldContain "[qat] epoch 1:"
    }

    test("a bad setting ends kotlinc with kqat run's exit code 2 and its message naming field and line") {
        Files.writeString(work.resolve("bad.qat.kts"), """
            experiment("kotlinc-bad") {
                data { fashionMnist(); trainLimit = 256 }
                model { tinyMbv2() }
                quantize {
                    weights { bits = 1 }
                }
                qat { epochs = 1 }
            }
        """.trimIndent())
        val byKotlinc = kotlinc("bad.qat.kts")
        val byKqat = kqat("run", "bad.qat.kts")
        byKotlinc.code shouldBe Launch.BAD_INPUT
        byKqat.code shouldBe Launch.BAD_INPUT
        val error = byKotlinc.stderr.substring(byKotlinc.stderr.indexOf("error:"))
        error shouldContain "bad.qat.kts:4: quantization.weights.bits: bits must be in 2..16, got 1"
        byKqat.stderr.substring(byKqat.stderr.indexOf("error:")) shouldBe error
        Files.exists(work.resolve("runs")) shouldBe false
    }

    test("a training that diverges ends kotlinc with exit code 3") {
        Files.writeString(work.resolve("diverge.qat.kts"), """
            experiment("kotlinc-diverge") {
                data { fashionMnist(); batchSize = 64; trainLimit = 256; testLimit = 64 }
                model { tinyMbv2() }
                pretrain { epochs = 1; optimizer = sgd(lr = constant(1e30), momentum = 0.9) }
            }
        """.trimIndent())
        val byKotlinc = kotlinc("diverge.qat.kts", "--out", "diverged")
        withClue(byKotlinc.stderr) { byKotlinc.code shouldBe Launch.DIVERGED }
        byKotlinc.stderr.lines().first { it.startsWith("error:") } shouldContain "loss"
    }

})

