package dev.kqat.scripts

import kotlin.script.experimental.annotations.KotlinScript
import kotlin.script.experimental.api.ScriptAcceptedLocation
import kotlin.script.experimental.api.ScriptCompilationConfiguration
import kotlin.script.experimental.api.acceptedLocations
import kotlin.script.experimental.api.defaultImports
import kotlin.script.experimental.api.ide
import kotlin.script.experimental.jvm.dependenciesFromClassContext
import kotlin.script.experimental.jvm.jvm

/**
 * The `*.qat.kts` script definition. The base class takes `args` because `kotlinc -script` always
 * passes the command-line arguments as a constructor argument; the definition is found by plain
 * `kotlinc` through `META-INF/kotlin/script/templates/dev.kqat.scripts.QatScript.classname`.
 * A script's last expression is its [dev.kqat.dsl.Experiment].
 */
@KotlinScript(
    displayName = "kqat experiment",
    fileExtension = "qat.kts",
    compilationConfiguration = QatScriptConfiguration::class,
)
abstract class QatScript(val args: Array<String>)

/**
 * What a script sees without importing: the DSL, and the runtime's enums that settings take
 * (`convention = BackwardConvention.CLAMP_THEN_ROUND`, `init = RangeInit.MIN_MAX`,
 * `dampen(aggregation = Aggregation.SUM)`).
 */
val scriptImports = listOf(
    "dev.kqat.dsl.*",
    "dev.kqat.runtime.quant.BackwardConvention",
    "dev.kqat.runtime.quant.RangeInit",
    "dev.kqat.runtime.oscillation.OscillationSpec.Aggregation",
)

object QatScriptConfiguration : ScriptCompilationConfiguration({
    defaultImports(scriptImports)
    jvm {
        dependenciesFromClassContext(QatScript::class, wholeClasspath = true)
    }
    ide {
        acceptedLocations(ScriptAcceptedLocation.Everywhere)
    }
})
