using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Capa.Engine.Text.Generation;
using Capa.Server.Hosting;

namespace Capa.Server.Configuration;

/// <summary>
/// The settings an options record declares with <see cref="SettingAttribute"/>, in declaration order. The config-file
/// reader takes their keys (and refuses others), <c>capa serve</c> makes a flag of each one that has a
/// <see cref="SettingAttribute.Flag"/>, and <see cref="Resolve"/> merges the sources into the options record.
/// </summary>
public sealed class SettingCatalog
{
    private readonly Dictionary<string, Setting> _byKey;

    private SettingCatalog(Type options)
    {
        Settings = [.. options.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetCustomAttribute<SettingAttribute>() is not null)
            .OrderBy(p => p.MetadataToken)
            .Select(p => new Setting(p, p.GetCustomAttribute<SettingAttribute>()!))];
        _byKey = Settings.ToDictionary(s => s.Key, StringComparer.Ordinal);
        var flags = Settings.Where(s => s.Flag is not null).Select(s => s.Flag!).ToArray();
        if (flags.Distinct(StringComparer.Ordinal).Count() != flags.Length || Settings.Any(s => s.Key.Count(c => c == '.') > 1))
        {
            throw new InvalidOperationException($"The settings of {options.Name} repeat a flag or nest deeper than one object.");
        }
    }

    /// <summary>The server's settings: those <see cref="CapaServerOptions"/> declares.</summary>
    public static SettingCatalog Server { get; } = new(typeof(CapaServerOptions));

    /// <summary>The settings <paramref name="options"/> declares (an area's options record, or a test's).</summary>
    /// <exception cref="InvalidOperationException">A declaration does not fit its property, or two share a flag.</exception>
    internal static SettingCatalog For(Type options) => new(options);

    /// <summary>The settings, in the order their properties are declared.</summary>
    public IReadOnlyList<Setting> Settings { get; }

    /// <summary>
    /// <paramref name="options"/> with one of its declared settings set to <paramref name="value"/> (of the property's
    /// type, as <see cref="Setting.ParseText"/> returns it): how a host applies a flag.
    /// </summary>
    public static CapaServerOptions With(CapaServerOptions options, Setting setting, object? value)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(setting);
        if (setting.Property.DeclaringType != typeof(CapaServerOptions))
        {
            throw new ArgumentException($"{setting.Key} is not a setting of {nameof(CapaServerOptions)}.", nameof(setting));
        }

        var copy = options with { };
        setting.Property.SetValue(copy, value);
        return copy;
    }

    /// <summary>The setting whose config-file key is <paramref name="key"/>, or null.</summary>
    public Setting? ByKey(string key) => _byKey.GetValueOrDefault(key);

    /// <summary>The setting whose flag is <paramref name="flag"/>, or null.</summary>
    public Setting? ByFlag(string flag) => Settings.FirstOrDefault(s => string.Equals(s.Flag, flag, StringComparison.Ordinal));

    /// <summary>The objects of the config file that hold settings (<c>limits</c>), by name, with the keys each takes.</summary>
    internal IEnumerable<IGrouping<string, Setting>> Sections => Settings.Where(s => s.Section is not null).GroupBy(s => s.Section!, StringComparer.Ordinal);

    /// <summary>
    /// <paramref name="target"/> (a copy of <paramref name="options"/>) with every setting resolved from the options,
    /// the config file's values (<paramref name="file"/>, by key, already checked) and the environment, each by its
    /// <see cref="SettingPrecedence"/>.
    /// </summary>
    /// <exception cref="CapaConfigException">A value of the options or the environment is out of range.</exception>
    internal void Resolve(object options, object target, IReadOnlyDictionary<string, object> file, Func<string, string?> environment)
    {
        foreach (var setting in Settings)
        {
            var option = setting.Property.GetValue(options);
            var optionSource = $"{setting.Property.DeclaringType!.Name}.{setting.Property.Name}";
            var inFile = file.TryGetValue(setting.Key, out var fileValue);
            var environmentText = setting.EnvironmentVariable is { } variable && environment(variable) is { Length: > 0 } text ? text : null;
            object? value;
            switch (setting.Precedence)
            {
                case SettingPrecedence.FileOverOptions:
                    value = inFile ? fileValue : environmentText is not null ? setting.ParseText(setting.EnvironmentVariable!, environmentText) : setting.Check(optionSource, option);
                    break;
                case SettingPrecedence.OptionsOverFile:
                    value = option is not null ? setting.Check(optionSource, option)
                        : inFile ? fileValue
                        : environmentText is not null ? setting.ParseText(setting.EnvironmentVariable!, environmentText)
                        : setting.Default is { } fallback ? setting.ParseText($"the default of {setting.Key}", fallback)
                        : null;
                    break;
                case SettingPrecedence.AllMustAllow:
                    value = option is true && (!inFile || fileValue is true)
                        && (environmentText is null || setting.ParseText(setting.EnvironmentVariable!, environmentText) is true);
                    break;
                default:
                    throw new InvalidOperationException($"Unknown precedence {setting.Precedence}.");
            }

            setting.Property.SetValue(target, value);
        }
    }

    /// <summary>
    /// Reads the settings of a config file's root object, by key, each checked. Other top-level keys are left to the typed
    /// reader (which refuses what it does not know); a settings object (<c>limits</c>) holds settings only, and any other
    /// key in it is refused here.
    /// </summary>
    /// <exception cref="CapaConfigException">A setting's value is invalid, or a settings object holds an unknown key.</exception>
    internal Dictionary<string, object> Read(JsonElement root, string source)
    {
        var values = new Dictionary<string, object>(StringComparer.Ordinal);
        var sections = Sections.ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
        {
            if (ByKey(property.Name) is { Section: null } setting)
            {
                Put(values, setting, source, property.Value);
            }
            else if (sections.TryGetValue(property.Name, out var keys))
            {
                ReadSection(property, keys, values, source);
            }
        }

        return values;
    }

    /// <summary>The top-level keys of the config file that hold settings: the settings' own and their objects' (<c>limits</c>).</summary>
    internal IEnumerable<string> TopLevelKeys => Settings.Select(s => s.Section ?? s.Key).Distinct(StringComparer.Ordinal);

    private void ReadSection(JsonProperty section, Setting[] keys, Dictionary<string, object> values, string source)
    {
        if (section.Value.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (section.Value.ValueKind != JsonValueKind.Object)
        {
            throw new CapaConfigException($"The config file '{source}' is invalid at $.{section.Name}: {section.Name} must be an object.");
        }

        foreach (var property in section.Value.EnumerateObject())
        {
            var setting = ByKey(section.Name + "." + property.Name) ?? throw new CapaConfigException(
                $"The config file '{source}' is invalid at $.{section.Name}: The JSON property '{property.Name}' could not be mapped to any setting of "
                + $"{section.Name} ({string.Join(", ", keys.Select(k => k.Name))}).");
            Put(values, setting, source, property.Value);
        }
    }

    private static void Put(Dictionary<string, object> values, Setting setting, string source, JsonElement value)
    {
        // JSON null leaves a setting unset, as an absent key does.
        if (setting.ReadJson(source, value) is { } read)
        {
            values[setting.Key] = read;
        }
        else
        {
            values.Remove(setting.Key);
        }
    }
}

/// <summary>One declared setting: its <see cref="SettingAttribute"/> and the property it sets.</summary>
public sealed class Setting
{
    private readonly SettingAttribute _declaration;
    private readonly Type _type;

    internal Setting(PropertyInfo property, SettingAttribute declaration)
    {
        Property = property;
        _declaration = declaration;
        _type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        var expected = declaration.Kind switch
        {
            SettingKind.Count => _type == typeof(int) || _type == typeof(long),
            SettingKind.Bytes => _type == typeof(long),
            SettingKind.Seconds => _type == typeof(TimeSpan),
            SettingKind.Boolean => _type == typeof(bool),
            SettingKind.Q4Accuracy => _type == typeof(Q4Accuracy),
            _ => false,
        };
        var nullable = Nullable.GetUnderlyingType(property.PropertyType) is not null;
        if (!expected || (declaration.Precedence == SettingPrecedence.OptionsOverFile) != nullable || (declaration.Flag is { } flag && !flag.StartsWith("--", StringComparison.Ordinal)))
        {
            throw new InvalidOperationException(
                $"{property.DeclaringType!.Name}.{property.Name}: a {declaration.Kind} setting needs a matching type, nullable exactly when the options win over the file, and a flag starting with --.");
        }
    }

    /// <summary>The key in the config file (<c>limits.kv_cache_bytes</c>).</summary>
    public string Key => _declaration.Key;

    /// <summary>The <c>capa serve</c> flag, or null.</summary>
    public string? Flag => _declaration.Flag;

    /// <summary>The environment variable, or null.</summary>
    public string? EnvironmentVariable => _declaration.EnvironmentVariable;

    /// <summary>How the value is written and checked.</summary>
    public SettingKind Kind => _declaration.Kind;

    /// <summary>Which source wins.</summary>
    public SettingPrecedence Precedence => _declaration.Precedence;

    /// <summary>The help text as declared.</summary>
    public string Help => _declaration.Help;

    /// <summary>
    /// The flag's help: the declared text, then what the flag overrides (the config file's key, the environment
    /// variable) when the options win over them.
    /// </summary>
    public string FlagHelp
    {
        get
        {
            var overridden = Precedence == SettingPrecedence.OptionsOverFile
                ? EnvironmentVariable is { } variable ? $" Overrides the config file's {Key} and ${variable}." : $" Overrides the config file's {Key}."
                : string.Empty;
            return Help + overridden;
        }
    }

    internal string? Default => _declaration.Default;

    internal PropertyInfo Property { get; }

    /// <summary>The object of the config file that holds the key (<c>limits</c>), or null for a top-level key.</summary>
    internal string? Section => Key.Contains('.', StringComparison.Ordinal) ? Key[..Key.IndexOf('.', StringComparison.Ordinal)] : null;

    /// <summary>The key's name inside its object (<c>kv_cache_bytes</c>).</summary>
    internal string Name => Section is null ? Key : Key[(Section.Length + 1)..];

    /// <summary>Reads a value written on the command line or in an environment variable; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="CapaConfigException">The text is not a value of the setting's kind and range.</exception>
    public object ParseText(string source, string text)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        object? value = Kind switch
        {
            SettingKind.Count => long.TryParse(trimmed, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var count) ? count : null,
            SettingKind.Bytes => ParseByteSize(trimmed),
            SettingKind.Seconds => double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) ? seconds : null,
            SettingKind.Boolean => bool.TryParse(trimmed, out var flag) ? flag : null,
            SettingKind.Q4Accuracy => Q4Accuracy.TryParse(trimmed, out var accuracy) ? accuracy : null,
            _ => null,
        };
        return Convert(source, value, text, onCommandLine: true);
    }

    /// <summary>Reads a value of the config file; null for JSON null (the key is then as if absent).</summary>
    internal object? ReadJson(string source, JsonElement json)
    {
        if (json.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        object? value = Kind switch
        {
            SettingKind.Count or SettingKind.Bytes => json.ValueKind == JsonValueKind.Number && json.TryGetInt64(out var number) ? number : null,
            SettingKind.Seconds => json.ValueKind == JsonValueKind.Number ? json.GetDouble() : null,
            SettingKind.Boolean => json.ValueKind is JsonValueKind.True or JsonValueKind.False ? json.GetBoolean() : null,
            SettingKind.Q4Accuracy => json.ValueKind is JsonValueKind.String or JsonValueKind.Number && Q4Accuracy.TryParse(
                json.ValueKind == JsonValueKind.String ? json.GetString() : json.GetRawText(), out var accuracy) ? accuracy : null,
            _ => null,
        };
        var text = json.ValueKind == JsonValueKind.String ? json.GetString()! : json.GetRawText();
        return Convert($"'{source}': {Key}", value, text, onCommandLine: false);
    }

    /// <summary>A value given in the options, checked against the range.</summary>
    internal object? Check(string source, object? value) => value is null ? null : Kind switch
    {
        SettingKind.Count or SettingKind.Bytes => Convert(source, System.Convert.ToInt64(value, CultureInfo.InvariantCulture), value.ToString()!, onCommandLine: false),
        SettingKind.Seconds => Convert(source, ((TimeSpan)value).TotalSeconds, value.ToString()!, onCommandLine: false),
        _ => value,
    };

    // Range check and conversion to the property's type; an unreadable value is null here.
    private object Convert(string source, object? value, string text, bool onCommandLine)
    {
        var ok = value switch
        {
            long number => number >= _declaration.Min && number <= _declaration.Max && (_type != typeof(int) || number is >= int.MinValue and <= int.MaxValue),
            double seconds => double.IsFinite(seconds) && seconds > 0 && seconds <= TimeSpan.MaxValue.TotalSeconds / 2,
            null => false,
            _ => true,
        };
        if (!ok)
        {
            throw new CapaConfigException($"{source} must be {Expected(onCommandLine)}; got '{text}'.");
        }

        return value switch
        {
            long number when _type == typeof(int) => (int)number,
            double seconds => TimeSpan.FromSeconds(seconds),
            _ => value!,
        };
    }

    /// <summary>What the setting accepts, as error messages say it.</summary>
    internal string Expected(bool onCommandLine)
    {
        var min = _declaration.Min;
        var max = _declaration.Max;
        var upTo = max == long.MaxValue ? string.Empty : string.Create(CultureInfo.InvariantCulture, $", at most {max}");
        return Kind switch
        {
            SettingKind.Count when max != long.MaxValue => string.Create(CultureInfo.InvariantCulture, $"a whole number from {min} to {max}"),
            SettingKind.Count => string.Create(CultureInfo.InvariantCulture, $"{min} or more"),
            SettingKind.Bytes => $"a {(min > 0 ? "positive" : "non-negative")} number of bytes{upTo}"
                + (onCommandLine ? ", optionally with a K, M or G suffix (e.g. 4G)" : string.Empty),
            SettingKind.Seconds => "a positive number of seconds",
            SettingKind.Boolean => "true or false",
            SettingKind.Q4Accuracy => Q4Accuracy.Expected,
            _ => Kind.ToString(),
        };
    }

    // A byte count, optionally with a binary K, M or G suffix (512M, 4G); null when unreadable or too large.
    private static long? ParseByteSize(string text)
    {
        var shift = text.Length == 0 ? 0 : char.ToUpperInvariant(text[^1]) switch
        {
            'K' => 10,
            'M' => 20,
            'G' => 30,
            _ => 0,
        };
        var digits = shift > 0 ? text[..^1] : text;
        return long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)
            && number >= long.MinValue >> shift && number <= long.MaxValue >> shift
            ? number << shift
            : null;
    }
}
