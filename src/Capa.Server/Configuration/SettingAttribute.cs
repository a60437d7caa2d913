namespace Capa.Server.Configuration;

/// <summary>
/// Declares a property of an options record as a setting, in one place: its key in the config file, its
/// <c>capa serve</c> flag and environment variable if it has them, its kind and range, which source wins, and its help
/// text. The property's initializer is its default. <see cref="SettingCatalog"/> reads these declarations to drive the
/// config-file reader (unknown keys refused), the <c>capa serve</c> flags (help generated) and the resolved options.
/// </summary>
/// <param name="key">The key in the config file: <c>q4_accuracy</c>, or <c>limits.kv_cache_bytes</c> for a key of the <c>limits</c> object.</param>
/// <param name="kind">How the value is written and checked.</param>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = true)]
public sealed class SettingAttribute(string key, SettingKind kind) : Attribute
{
    /// <summary>The key in the config file: a top-level name, or <c>object.name</c> for a key of a settings object.</summary>
    public string Key { get; } = key;

    /// <summary>How the value is written and checked.</summary>
    public SettingKind Kind { get; } = kind;

    /// <summary>The <c>capa serve</c> flag (e.g. <c>--kv-cache-bytes</c>); null when the setting has none.</summary>
    public string? Flag { get; set; }

    /// <summary>An environment variable that gives the setting when neither the options nor the file do; null for none.</summary>
    public string? EnvironmentVariable { get; set; }

    /// <summary>The smallest value accepted (counts and bytes).</summary>
    public long Min { get; set; } = long.MinValue;

    /// <summary>The largest value accepted (counts and bytes).</summary>
    public long Max { get; set; } = long.MaxValue;

    /// <summary>Which source wins when several give the setting.</summary>
    public SettingPrecedence Precedence { get; set; }

    /// <summary>
    /// The resolved value, written as on the command line, when no source gives one and the property is nullable; null
    /// leaves it null (the engine's own default applies).
    /// </summary>
    public string? Default { get; set; }

    /// <summary>What the setting does, for the flag's help (the sources it overrides are added to it).</summary>
    public string Help { get; set; } = "";
}

/// <summary>How a setting's value is written and checked.</summary>
public enum SettingKind
{
    /// <summary>A whole number (an <c>int</c> or <c>long</c> property) within the declared range.</summary>
    Count,

    /// <summary>A number of bytes within the declared range; on the command line optionally with a binary K, M or G suffix.</summary>
    Bytes,

    /// <summary>A positive number of seconds (a <see cref="TimeSpan"/> property).</summary>
    Seconds,

    /// <summary><c>true</c> or <c>false</c>.</summary>
    Boolean,

    /// <summary>A <see cref="Capa.Engine.Text.Generation.Q4Accuracy"/>: <c>"file"</c> or a level from 0 to 4.</summary>
    Q4Accuracy,
}

/// <summary>Which source wins when several give a setting.</summary>
public enum SettingPrecedence
{
    /// <summary>
    /// The config file's value, else the environment variable's, else the options' (whose initializer is the default):
    /// limits an operator tunes in the file over what a program that hosts the server chose.
    /// </summary>
    FileOverOptions,

    /// <summary>
    /// The options' value (the <c>capa serve</c> flag, given for this run), else the file's, else the environment
    /// variable's, else <see cref="SettingAttribute.Default"/>. The property is nullable, so that "not given" is null.
    /// </summary>
    OptionsOverFile,

    /// <summary>A switch every source must leave on: <c>false</c> in the options or the file turns it off.</summary>
    AllMustAllow,
}
