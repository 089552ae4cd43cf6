package dev.kqat.scripts

import dev.kqat.dsl.Experiment
import dev.kqat.dsl.ToyStudy
import java.io.File
import java.nio.file.Path
import kotlin.script.experimental.api.EvaluationResult
import kotlin.script.experimental.api.ResultValue
import kotlin.script.experimental.api.ResultWithDiagnostics
import kotlin.script.experimental.api.ScriptDiagnostic
import kotlin.script.experimental.api.ScriptEvaluationConfiguration
import kotlin.script.experimental.api.constructorArgs
import kotlin.script.experimental.host.ScriptingHostConfiguration
import kotlin.script.experimental.host.toScriptSource
import kotlin.script.experimental.jvm.compilationCache
import kotlin.script.experimental.jvm.jvm
import kotlin.script.experimental.jvmhost.BasicJvmScriptingHost
import kotlin.script.experimental.jvmhost.CompiledScriptJarsCache
import kotlin.script.experimental.jvmhost.createJvmCompilationConfigurationFromTemplate

/** A script that did not compile or failed while running; the message carries `file:line:col`. */
class ScriptException(message: String, cause: Throwable? = null) : RuntimeException(message, cause)

/**
 * Compiles and evaluates `*.qat.kts` files in-process. Compiled scripts are cached as jars under
 * [cacheDir], keyed by the script text and the compilation configuration, so a second run of an
 * unchanged script skips the compiler.
 */
class ScriptHost(private val cacheDir: Path? = defaultCacheDir()) {
    companion object {
        private val evaluating = ThreadLocal.withInitial { false }

        /** True while a host evaluates a script on this thread: the script declares, the host runs. */
        fun isEvaluating(): Boolean = evaluating.get()

        fun defaultCacheDir(): Path = System.getenv("KQAT_SCRIPT_CACHE")?.let { Path.of(it) }
            ?: Path.of(System.getProperty("user.home"), ".cache", "kqat", "scripts")
    }

    private val host: BasicJvmScriptingHost by lazy {
        val hostConfig = ScriptingHostConfiguration {
            if (cacheDir != null) {
                jvm {
                    compilationCache(CompiledScriptJarsCache { source, configuration ->
                        val key = (source.text + configuration.toString()).hashCode().toUInt().toString(16)
                        val name = (source.name ?: "script").substringBefore('.')
                        cacheDir.toFile().mkdirs()
                        File(cacheDir.toFile(), "$name-$key.jar")
                    })
                }
            }
        }
        BasicJvmScriptingHost(hostConfig)
    }

    /** Evaluates [file] with [args] and returns the experiment it declares. */
    fun evaluate(file: File, args: Array<String> = emptyArray()): Experiment =
        evaluateDeclaration(file, args) as? Experiment
            ?: throw ScriptException("${file.path}: the script declares a toy study, not an experiment { } block")

    /** Evaluates [file] with [args] and returns what it declares: an [Experiment] or a [ToyStudy]. */
    fun evaluateDeclaration(file: File, args: Array<String> = emptyArray()): Any {
        if (!file.isFile) throw ScriptException("${file.path}: script not found")
        val compilation = createJvmCompilationConfigurationFromTemplate<QatScript>()
        val evaluation = ScriptEvaluationConfiguration {
            constructorArgs(args)
        }
        evaluating.set(true)
        val result = try {
            host.eval(file.toScriptSource(), compilation, evaluation)
        } finally {
            evaluating.set(false)
        }
        val value = when (result) {
            is ResultWithDiagnostics.Failure -> throw ScriptException(format(file, result.reports))
            is ResultWithDiagnostics.Success -> result.value
        }
        return extract(file, value)
    }

    private fun extract(file: File, evaluation: EvaluationResult): Any =
        when (val rv = evaluation.returnValue) {
            is ResultValue.Value -> rv.value?.takeIf { it is Experiment || it is ToyStudy }
                ?: throw ScriptException("${file.path}: the script's last expression is a ${rv.type}, not an experiment { } block")
            is ResultValue.Error -> {
                val cause = rv.error
                val line = cause.stackTrace.firstOrNull { it.fileName == file.name }?.lineNumber
                throw ScriptException("${file.path}${line?.let { ":$it" } ?: ""}: ${cause.message ?: cause.javaClass.simpleName}", cause)
            }
            is ResultValue.Unit, is ResultValue.NotEvaluated ->
                throw ScriptException("${file.path}: the script must end with an experiment { } block")
        }

    private fun format(file: File, reports: List<ScriptDiagnostic>): String {
        val errors = reports.filter { it.severity >= ScriptDiagnostic.Severity.ERROR }.ifEmpty { reports }
        return errors.joinToString("\n") { d ->
            val start = d.location?.start
            val where = if (start != null) "${file.path}:${start.line}:${start.col}" else file.path
            val exception = d.exception
            if (exception is dev.kqat.dsl.ExperimentValidationException) exception.message!!
            else "$where: ${d.message}"
        }
    }
}
