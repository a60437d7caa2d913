using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Capa.Models;

namespace Capa.Engine.Text.Generation;

/// <summary>
/// OpenAI's <c>system_fingerprint</c> for a local model: <c>fp_</c> + the first 10 hex digits of a SHA-256 over every
/// input that can change outputs for the same request. Inputs are named key/value pairs, hashed in ordinal key order,
/// so other layers (constrained decoding, server options) can add theirs.
/// </summary>
public static class SystemFingerprint
{
    /// <summary>Version of the sampling algorithm (Philox keying, truncation and order of logit processing); bump it when any of these change.</summary>
    public const string SamplerVersion = "philox4x32-10/inverse-cdf/v1";

    /// <summary>The engine assembly's informational version.</summary>
    public static string EngineVersion { get; } =
        typeof(SystemFingerprint).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(SystemFingerprint).Assembly.GetName().Version?.ToString() ?? "0";

    /// <summary>ONNX Runtime's native version.</summary>
    public static string OnnxRuntimeVersion => Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetVersionString();

    /// <summary>Hashes the inputs into <c>fp_</c> + 10 hex digits.</summary>
    public static string Compute(IEnumerable<KeyValuePair<string, string>> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var text = new StringBuilder();
        foreach (var (key, value) in inputs.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (key.Contains('\n', StringComparison.Ordinal) || value.Contains('\n', StringComparison.Ordinal))
            {
                throw new ArgumentException($"Fingerprint input '{key}' must be one line.", nameof(inputs));
            }

            text.Append(key).Append('=').Append(value).Append('\n');
        }

        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()));
        return "fp_" + Convert.ToHexStringLower(digest)[..10];
    }

    /// <summary>
    /// The engine's inputs for a model: engine, ONNX Runtime, sampler and constrained-decoding versions, the variant, the SHA-256 of
    /// every ONNX file and of the configuration and tokenizer files that steer generation, and the decoder's numerics options.
    /// </summary>
    public static SortedDictionary<string, string> EngineInputs(ModelFolder folder, IReadOnlyDictionary<string, string> numericsOptions, FileDigestCache digests)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(numericsOptions);
        ArgumentNullException.ThrowIfNull(digests);
        var inputs = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["engine.version"] = EngineVersion,
            ["onnxruntime.version"] = OnnxRuntimeVersion,
            ["sampler"] = SamplerVersion,
            ["constraints"] = Capa.Constraints.ConstraintsVersion.Value,
            ["model.variant"] = folder.Variant.Name(),
        };
        foreach (var file in folder.OnnxFiles)
        {
            inputs["model.file.onnx/" + Path.GetFileName(file)] = digests.GetSha256(file);
        }

        // vocab.json, merges.txt and added_tokens.json build the tokenizer when a folder has no tokenizer.json.
        foreach (var name in new[] { "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "vocab.json", "merges.txt", "added_tokens.json" })
        {
            var path = Path.Combine(folder.Directory, name);
            if (File.Exists(path))
            {
                inputs["model.file." + name] = digests.GetSha256(path);
            }
        }

        foreach (var (key, value) in numericsOptions)
        {
            inputs[key] = value;
        }

        return inputs;
    }
}
