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

object QatScriptConfiguration : ScriptCompilationConfiguration({
    defaultImports("dev.kqat.dsl.*")
    jvm {
        dependenciesFromClassContext(QatScript::class, wholeClasspath = true)
    }
    ide {
        acceptedLocations(ScriptAcceptedLocation.Everywhere)
    }
})
