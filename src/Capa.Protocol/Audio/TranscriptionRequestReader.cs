using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;

namespace Capa.Protocol;

/// <summary>
/// Validates the fields of a multipart transcription or translation request, as the HTTP layer read them (array
/// fields arrive as <c>name[]</c>), with OpenAI's error messages.
/// </summary>
public static class TranscriptionRequestReader
{
    /// <summary>Largest upload OpenAI accepts (25 MiB).</summary>
    public const long MaxFileBytes = 26_214_400;

    /// <summary>The file extensions OpenAI lists, in its order.</summary>
    public static IReadOnlyList<string> SupportedExtensions { get; } = ["flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm"];

    private static readonly string[] ResponseFormats = ["json", "text", "srt", "verbose_json", "vtt"];
    private static readonly string[] Granularities = ["word", "segment"];
    private static readonly string[] Includes = ["logprobs"];

    /// <summary>400 "Invalid file format. Supported formats: [...]", as OpenAI words it.</summary>
    public static ApiError InvalidFileFormat() => ApiError.InvalidRequest(
        "Invalid file format. Supported formats: [" + string.Join(", ", SupportedExtensions.Select(e => "'" + e + "'")) + "]", "file", "invalid_value");

    /// <summary>400 for a file that is not audio a decoder can read.</summary>
    public static ApiError UndecodableFile() => ApiError.InvalidRequest(
        "The audio file could not be decoded or its format is not supported.", "file", "invalid_value");

    /// <summary>413 for an upload over <see cref="MaxFileBytes"/>, with OpenAI's wording.</summary>
    public static ApiError FileTooLarge(long bytesRead) => new(413,
        string.Create(CultureInfo.InvariantCulture, $"Maximum content size limit ({MaxFileBytes}) exceeded ({bytesRead} bytes read)"),
        ApiError.InvalidRequestType, "file", "file_too_large");

    /// <summary>Whether a file name ends with one of <see cref="SupportedExtensions"/> (case-insensitive).</summary>
    public static bool HasSupportedExtension(string? fileName)
    {
        string extension = Path.GetExtension(fileName ?? "").TrimStart('.').ToLowerInvariant();
        return SupportedExtensions.Contains(extension);
    }

    /// <summary>Reads and validates the form.</summary>
    /// <param name="fields">Text fields by name (several values for repeated fields such as <c>include[]</c>).</param>
    /// <param name="file">The uploaded file's bytes, or null when no <c>file</c> part came.</param>
    /// <param name="fileName">The uploaded file's name.</param>
    /// <param name="translation">True for <c>/v1/audio/translations</c>.</param>
    /// <param name="request">The validated request.</param>
    /// <param name="error">What is wrong, in OpenAI's shape.</param>
    public static bool TryRead(
        IReadOnlyDictionary<string, IReadOnlyList<string>> fields,
        ReadOnlyMemory<byte>? file,
        string? fileName,
        bool translation,
        [NotNullWhen(true)] out TranscriptionRequest? request,
        [NotNullWhen(false)] out ApiError? error)
    {
        ArgumentNullException.ThrowIfNull(fields);
        request = null;
        error = null;
        string? Single(string name) => fields.TryGetValue(name, out IReadOnlyList<string>? values) && values.Count > 0 ? values[^1] : null;
        IReadOnlyList<string> Many(string name) =>
            fields.TryGetValue(name + "[]", out IReadOnlyList<string>? a) ? a : fields.TryGetValue(name, out IReadOnlyList<string>? b) ? b : [];

        if (file is null)
        {
            error = Missing("file");
            return false;
        }

        string? model = Single("model");
        if (string.IsNullOrWhiteSpace(model))
        {
            error = Missing("model");
            return false;
        }

        string? formatText = Single("response_format");
        var format = TranscriptionResponseFormat.Json;
        if (!string.IsNullOrEmpty(formatText))
        {
            int index = Array.IndexOf(ResponseFormats, formatText);
            if (index < 0)
            {
                error = InvalidValue("response_format", formatText, ResponseFormats);
                return false;
            }

            format = (TranscriptionResponseFormat)index;
        }

        double temperature = 0;
        if (Single("temperature") is { Length: > 0 } t)
        {
            if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out temperature) || !double.IsFinite(temperature))
            {
                error = ApiError.InvalidRequest($"Invalid type for 'temperature': expected a decimal, but got a string instead.", "temperature", "invalid_type");
                return false;
            }

            if (temperature < 0 || temperature > 1)
            {
                string bound = temperature < 0 ? "below minimum value. Expected a value >= 0" : "above maximum value. Expected a value <= 1";
                error = ApiError.InvalidRequest($"Invalid 'temperature': decimal {bound}, but got {t} instead.", "temperature", temperature < 0 ? "decimal_below_min_value" : "decimal_above_max_value");
                return false;
            }
        }

        string? language = null;
        if (!translation && Single("language") is { Length: > 0 } l)
        {
            language = l.Trim().ToLowerInvariant();
            if (language.Length is < 2 or > 3 || !language.All(char.IsAsciiLetterLower))
            {
                error = ApiError.InvalidRequest($"Invalid language '{Shorten(l)}'. Language parameter must be specified in ISO-639-1 format.", "language", "invalid_language_format");
                return false;
            }
        }

        bool words = false, segments = false;
        IReadOnlyList<string> granularities = Many("timestamp_granularities");
        foreach (string g in granularities)
        {
            if (!Granularities.Contains(g))
            {
                error = InvalidValue("timestamp_granularities", g, Granularities);
                return false;
            }

            words |= g == "word";
            segments |= g == "segment";
        }

        if (granularities.Count > 0 && format != TranscriptionResponseFormat.VerboseJson)
        {
            error = ApiError.InvalidRequest("timestamp_granularities is only supported with response_format verbose_json.", "timestamp_granularities", "invalid_value");
            return false;
        }

        bool logprobs = false;
        foreach (string include in Many("include"))
        {
            if (!Includes.Contains(include))
            {
                error = InvalidValue("include", include, Includes);
                return false;
            }

            logprobs = true;
        }

        if (logprobs && format != TranscriptionResponseFormat.Json)
        {
            error = ApiError.InvalidRequest("logprobs are only supported with response_format json.", "include", "unsupported_value");
            return false;
        }

        bool stream = false;
        if (Single("stream") is { Length: > 0 } s)
        {
            if (!bool.TryParse(s, out stream))
            {
                error = ApiError.InvalidRequest($"Invalid type for 'stream': expected a boolean, but got a string instead.", "stream", "invalid_type");
                return false;
            }
        }

        if (stream && format is not (TranscriptionResponseFormat.Json or TranscriptionResponseFormat.Text))
        {
            error = ApiError.InvalidRequest($"Streaming is only supported with response_format json or text, not {formatText}.", "response_format", "unsupported_value");
            return false;
        }

        string? chunking = null;
        if (Single("chunking_strategy") is { Length: > 0 } c)
        {
            if (!TryReadChunking(c, out chunking, out error))
            {
                return false;
            }
        }

        request = new TranscriptionRequest
        {
            Task = translation ? "translate" : "transcribe",
            Model = model.Trim(),
            File = file.Value,
            FileName = fileName ?? "",
            Language = language,
            Prompt = Single("prompt"),
            ResponseFormat = format,
            Temperature = temperature,
            WordTimestamps = words,
            SegmentTimestamps = granularities.Count == 0 || segments,
            Stream = stream,
            IncludeLogprobs = logprobs,
            ChunkingStrategy = chunking,
        };
        return true;
    }

    private static bool TryReadChunking(string text, out string? chunking, [NotNullWhen(false)] out ApiError? error)
    {
        chunking = null;
        error = null;
        if (text == "auto")
        {
            chunking = "auto";
            return true;
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(text);
            JsonElement root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("type", out JsonElement type) && type.ValueKind == JsonValueKind.String && type.GetString() == "server_vad")
            {
                foreach (string name in new[] { "prefix_padding_ms", "silence_duration_ms", "threshold" })
                {
                    if (root.TryGetProperty(name, out JsonElement value) && value.ValueKind != JsonValueKind.Number)
                    {
                        error = ApiError.InvalidRequest($"Invalid type for 'chunking_strategy.{name}': expected a number.", "chunking_strategy." + name, "invalid_type");
                        return false;
                    }
                }

                chunking = "server_vad";
                return true;
            }
        }
        catch (JsonException)
        {
            // Reported below as an invalid value.
        }

        error = ApiError.InvalidRequest("Invalid 'chunking_strategy': expected \"auto\" or an object with type \"server_vad\".", "chunking_strategy", "invalid_value");
        return false;
    }

    private static ApiError Missing(string name) =>
        ApiError.InvalidRequest($"Missing required parameter: '{name}'.", name, "missing_required_parameter");

    private static ApiError InvalidValue(string name, string value, IReadOnlyList<string> supported) => ApiError.InvalidRequest(
        $"Invalid value: '{Shorten(value)}'. Supported values are: {(supported.Count == 1 ? "'" + supported[0] + "'" : string.Join(", ", supported.Take(supported.Count - 1).Select(v => "'" + v + "'")) + " and '" + supported[^1] + "'")}.",
        name, "invalid_value");

    private static string Shorten(string value) => value.Length <= 64 ? value : value[..64] + "...";
}
