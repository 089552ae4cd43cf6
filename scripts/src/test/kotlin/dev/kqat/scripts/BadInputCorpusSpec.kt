package dev.kqat.scripts

import com.github.ajalt.clikt.core.subcommands
import com.github.ajalt.clikt.testing.CliktCommandTestResult
import com.github.ajalt.clikt.testing.test
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.ints.shouldBeGreaterThanOrEqual
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import java.nio.file.Files
import java.nio.file.Path
import java.security.MessageDigest
import kotlin.io.path.isRegularFile
import kotlin.io.path.name
import kotlin.io.path.readBytes
import kotlin.io.path.readLines
import kotlin.io.path.relativeTo

/**
 * Runs every case of `src/test/resources/bad-input/cases/` through the CLI: each must end with exit
 * code 2, one message per problem naming the field or `file:line`, no stack trace, and leave a
 * finished run it was pointed at exactly as it was. A case file holds `args:` (the command),
 * optional `before:` (a command that must succeed first), `expect:` lines (text the error output
 * must contain) and optional `problems: N` (the validation list's length). `@CORPUS` is a copy of
 * the corpus folder, `@OUT` a run directory that does not exist yet, `@TMP` an empty folder.
 */
class BadInputCorpusSpec : FunSpec({
    val source = Path.of(BadInputCorpusSpec::class.java.getResource("/bad-input")!!.toURI())
    val corpus = tempdir("kqat-bad-input").toPath().resolve("corpus")
    source.toFile().copyRecursively(corpus.toFile())
    val cases = Files.list(corpus.resolve("cases")).use { s -> s.filter { it.name.endsWith(".case") }.sorted().toList() }

    fun cli(args: List<String>): CliktCommandTestResult =
        Kqat().subcommands(RunCommand(), EvalCommand(), BenchCommand(), ReportCommand()).test(args)

    fun fingerprint(dir: Path): Map<String, String> =
        if (!Files.isDirectory(dir)) emptyMap() else Files.walk(dir).use { s ->
            s.filter { it.isRegularFile() }.toList().associate { f ->
                f.relativeTo(dir).toString() to MessageDigest.getInstance("SHA-256").digest(f.readBytes()).joinToString("") { "%02x".format(it) }
            }
        }

    test("the corpus holds at least 40 cases") {
        cases.size shouldBeGreaterThanOrEqual 40
    }

    for (case in cases) {
        test("bad input ${case.name}") {
            val lines = case.readLines().filter { it.isNotBlank() && !it.startsWith("#") }
            fun values(key: String) = lines.filter { it.startsWith("$key:") }.map { it.substringAfter(":").trim() }
            val out = tempdir("kqat-case").toPath().resolve("run")
            val tmp = tempdir("kqat-case-tmp").toPath()
            fun argv(command: String) = command.split(Regex("\\s+")).filter { it.isNotEmpty() }.map {
                it.replace("@CORPUS", corpus.toString()).replace("@OUT", out.toString()).replace("@TMP", tmp.toString())
            }
            for (before in values("before")) {
                val r = cli(argv(before))
                withClue("before: $before\n${r.stderr}") { r.statusCode shouldBe 0 }
            }
            val kept = fingerprint(out)
            val result = cli(argv(values("args").single()))
            val err = result.stderr
            withClue("${case.name}\nstdout: ${result.stdout}\nstderr: $err") {
                result.statusCode shouldBe 2
                values("expect").forEach { err shouldContain it }
                err shouldNotContain "\tat "
                err shouldNotContain "Exception"
                err.lines().count { it.startsWith("error:") } shouldBe 1
                values("problems").singleOrNull()?.let { n -> err.lines().count { it.startsWith("  - ") } shouldBe n.toInt() }
                // A run the command was pointed at is left exactly as it was.
                if (values("before").isNotEmpty()) fingerprint(out) shouldBe kept
            }
        }
    }
})
