package dev.kqat.scripts

import dev.kqat.scripts.kernel.KernelOutputs
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import org.jetbrains.kotlin.scripting.compiler.plugin.impl.KJvmReplCompilerBase
import org.jetbrains.kotlin.scripting.compiler.plugin.repl.ReplCodeAnalyzerBase
import java.nio.file.Files
import java.nio.file.Path
import kotlin.script.experimental.api.ResultValue
import kotlin.script.experimental.api.ResultWithDiagnostics
import kotlin.script.experimental.api.ScriptCompilationConfiguration
import kotlin.script.experimental.api.ScriptDiagnostic
import kotlin.script.experimental.api.ScriptEvaluationConfiguration
import kotlin.script.experimental.api.defaultImports
import kotlin.script.experimental.host.toScriptSource
import kotlin.script.experimental.jvm.BasicJvmReplEvaluator
import kotlin.script.experimental.jvm.baseClassLoader
import kotlin.script.experimental.jvm.dependenciesFromCurrentContext
import kotlin.script.experimental.jvm.jvm

/**
 * What the Kotlin Jupyter kernel does with a notebook, on the engine it is built on: one Kotlin
 * scripting REPL session (`KJvmReplCompilerBase` + `BasicJvmReplEvaluator`); `%use` applies a
 * library descriptor (its imports for every later cell, its init code run once); each cell's value
 * goes through the descriptor's renderers (`$it` is the value) into a MIME bundle.
 */
class NotebookSession(private val descriptor: JsonObject) {
    /** A cell's outcome: the MIME bundle of its value (null for Unit) and what it displayed while running. */
    data class CellOutput(val value: Any?, val bundle: Map<String, String>?, val displayed: List<KernelOutputs.Event>)

    private val compiler = KJvmReplCompilerBase<ReplCodeAnalyzerBase>()
    private val evaluator = BasicJvmReplEvaluator()
    private val imports = mutableListOf("dev.kqat.scripts.kernel.*")
    private var snippets = 0

    private val evaluation = ScriptEvaluationConfiguration {
        jvm { baseClassLoader(NotebookSession::class.java.classLoader) }
    }

    /** Runs one code cell; `%use NAME…` lines load the descriptor, as the kernel's line magic does. */
    suspend fun run(cell: String): CellOutput {
        val code = cell.lines().filterNot { it.trimStart().startsWith("%use ") }.joinToString("\n")
        if (code.length != cell.length) use()
        KernelOutputs.events.clear()
        val value = if (code.isBlank()) null else eval(code)
        val displayed = KernelOutputs.events.toList()
        return CellOutput(value, value?.let { render(it) }, displayed)
    }

    private suspend fun use() {
        imports += descriptor.getValue("imports").jsonArray.map { it.jsonPrimitive.content }
        for (init in descriptor["init"]?.jsonArray.orEmpty()) eval(init.jsonPrimitive.content)
    }

    private suspend fun render(value: Any): Map<String, String> {
        val renderer = descriptor["renderers"]?.jsonObject?.entries?.firstOrNull { (type, _) ->
            Class.forName(type, false, NotebookSession::class.java.classLoader).isInstance(value)
        } ?: return mapOf("text/plain" to value.toString())
        KernelOutputs.rendered = value
        @Suppress("UNCHECKED_CAST")
        return eval(renderer.value.jsonPrimitive.content.replace("\$it", "dev.kqat.scripts.kernel.KernelOutputs.rendered")) as Map<String, String>
    }

    private suspend fun eval(code: String): Any? {
        snippets++
        val compilation = ScriptCompilationConfiguration {
            jvm { dependenciesFromCurrentContext(wholeClasspath = true) }
            defaultImports(imports)
        }
        val compiled = when (val c = compiler.compile(listOf(code.toScriptSource("Line_$snippets.jupyter.kts")), compilation)) {
            is ResultWithDiagnostics.Success -> c.value
            is ResultWithDiagnostics.Failure -> throw AssertionError("cell did not compile:\n$code\n" + c.reports.errors())
        }
        val evaluated = when (val e = evaluator.eval(compiled, evaluation)) {
            is ResultWithDiagnostics.Success -> e.value.get()
            is ResultWithDiagnostics.Failure -> throw AssertionError("cell did not run:\n$code\n" + e.reports.errors())
        }
        return when (val r = evaluated.result) {
            is ResultValue.Value -> r.value
            is ResultValue.Unit -> null
            is ResultValue.Error -> throw AssertionError("cell failed:\n$code", r.error)
            is ResultValue.NotEvaluated -> throw AssertionError("cell not evaluated:\n$code")
        }
    }

    private fun List<ScriptDiagnostic>.errors() =
        filter { it.severity >= ScriptDiagnostic.Severity.ERROR }.joinToString("\n") { "${it.location?.start?.line}: ${it.message}" }

    companion object {
        private val json = Json { ignoreUnknownKeys = true }

        fun readJson(file: Path): JsonObject = json.parseToJsonElement(Files.readString(file)).jsonObject

        /** The code cells of an nbformat-4 notebook, in order. */
        fun codeCells(notebook: JsonObject): List<String> = notebook.getValue("cells").jsonArray.map { it.jsonObject }
            .filter { it.getValue("cell_type").jsonPrimitive.content == "code" }
            .map { cell -> cell.getValue("source").jsonArray.joinToString("") { it.jsonPrimitive.content } }
    }
}
