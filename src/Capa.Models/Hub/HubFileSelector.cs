using Capa.Models.Store;

namespace Capa.Models.Hub;

/// <summary>
/// Picks the files a pull downloads: the configuration and tokenizer files, and the ONNX files of one variant with their
/// external data. Weights for other frameworks (<c>*.safetensors</c>, <c>*.bin</c>, <c>*.gguf</c>, ...), other ONNX variants,
/// documentation and images are left on the hub.
/// </summary>
internal static class HubFileSelector
{
    /// <summary>Extensions of the small support files: configs, tokenizers, vocabularies, chat templates.</summary>
    private static readonly HashSet<string> SupportExtensions = new(StringComparer.OrdinalIgnoreCase)
    {
        ".json", ".txt", ".jinja", ".model", ".tiktoken",
    };

    /// <summary>Folders of other runtimes' exports, whose configs would only mislead.</summary>
    private static readonly string[] ExcludedFolders = ["openvino/", "coreml/", "tflite/", "mlx/", "flax_model/"];

    /// <summary>The variant names, in preference order, that provide each <see cref="ModelVariant"/>.</summary>
    private static string[] NamesFor(ModelVariant variant) => variant switch
    {
        ModelVariant.Fp32 => ["fp32"],
        ModelVariant.Fp16 => ["fp16"],
        ModelVariant.Int8 => ["int8", "quantized"],
        ModelVariant.Q4 => ["q4"],
        _ => throw new ArgumentOutOfRangeException(nameof(variant)),
    };

    /// <summary>The files to download for <paramref name="variant"/>, in repository order.</summary>
    /// <exception cref="HubException"><see cref="HubErrorKind.VariantNotFound"/> when the repository has no ONNX file of the variant.</exception>
    public static IReadOnlyList<HubFile> Select(HubRepository repository, ModelVariant variant)
    {
        var onnx = new List<(HubFile File, string Part, string Name)>();
        foreach (var file in repository.Files)
        {
            if (!IsExcludedFolder(file.Path) && OnnxFileNaming.TryParse(file.Path, out var part, out var name))
            {
                onnx.Add((file, part, name));
            }
        }

        if (onnx.Count == 0)
        {
            throw new HubException(HubErrorKind.VariantNotFound,
                $"Repository '{repository.Id}' has no ONNX files, and Capa runs ONNX models: look for an ONNX export of it " +
                "(for example under onnx-community/ or Xenova/ on the hub).");
        }

        var wanted = NamesFor(variant);
        var chosen = new Dictionary<string, HubFile>(StringComparer.Ordinal);
        foreach (var group in onnx.GroupBy(o => o.Part, StringComparer.Ordinal))
        {
            foreach (var name in wanted)
            {
                var match = group.FirstOrDefault(o => o.Name == name);
                if (match.File is not null)
                {
                    chosen[group.Key] = match.File;
                    break;
                }
            }
        }

        if (chosen.Count == 0)
        {
            throw new HubException(HubErrorKind.VariantNotFound,
                $"Repository '{repository.Id}' has no {variant.Name()} ONNX files. Variants it has: {DescribeVariants(onnx.Select(o => o.Name))}. " +
                "Pick one with --variant.");
        }

        DropPartsReplacedByMerged(chosen);

        var selected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in chosen.Values)
        {
            selected.Add(file.Path);
        }

        foreach (var file in repository.Files)
        {
            if (IsExcludedFolder(file.Path))
            {
                continue;
            }

            if (IsSupportFile(file.Path) || chosen.Values.Any(o => OnnxFileNaming.IsExternalDataOf(file.Path, o.Path)))
            {
                selected.Add(file.Path);
            }
        }

        return [.. repository.Files.Where(f => selected.Contains(f.Path))];
    }

    /// <summary>
    /// The two files of the Piper voice <paramref name="voice"/> in a voice repository: <c>VOICE.onnx</c> and
    /// <c>VOICE.onnx.json</c>, at any folder depth (rhasspy/piper-voices keeps them under <c>LANG/LOCALE/NAME/QUALITY/</c>).
    /// </summary>
    /// <exception cref="HubException"><see cref="HubErrorKind.FileNotFound"/> when the repository has no such voice.</exception>
    public static IReadOnlyList<HubFile> SelectVoice(HubRepository repository, string voice)
    {
        static string FileName(string path) => path[(path.LastIndexOf('/') + 1)..];
        var models = repository.Files.Where(f => FileName(f.Path) == voice + ".onnx").ToList();
        var pairs = models
            .Select(m => (Model: m, Config: repository.Files.FirstOrDefault(f => f.Path == m.Path + ".json")))
            .Where(p => p.Config is not null)
            .ToList();
        if (pairs.Count == 1)
        {
            return [pairs[0].Model, pairs[0].Config!];
        }

        if (pairs.Count > 1)
        {
            throw new HubException(HubErrorKind.FileNotFound,
                $"Repository '{repository.Id}' has the voice '{voice}' in several folders ({string.Join(", ", pairs.Select(p => p.Model.Path))}): pull the one you want by hand.");
        }

        // Name the voices it does have, those of the same language first, so a typo is easy to fix.
        var voices = repository.Files
            .Select(f => FileName(f.Path))
            .Where(n => n.EndsWith(".onnx", StringComparison.Ordinal))
            .Select(n => n[..^".onnx".Length])
            .Distinct(StringComparer.Ordinal)
            .OrderByDescending(n => CommonPrefix(n, voice))
            .ThenBy(n => n, StringComparer.Ordinal)
            .Take(8)
            .ToList();
        throw new HubException(HubErrorKind.FileNotFound,
            $"Repository '{repository.Id}' has no voice '{voice}' ({voice}.onnx with {voice}.onnx.json). " +
            (voices.Count == 0 ? "It has no .onnx voices at all." : $"Voices it has: {string.Join(", ", voices)}."));

        static int CommonPrefix(string a, string b)
        {
            var n = 0;
            while (n < a.Length && n < b.Length && a[n] == b[n])
            {
                n++;
            }

            return n;
        }
    }

    /// <summary>The variants an ONNX file list offers, for messages: <c>fp32, int8, q4, q4f16 (not supported)</c>.</summary>
    internal static string DescribeVariants(IEnumerable<string> names)
    {
        var order = new[] { "fp32", "fp16", "int8", "q4", "quantized", "q4f16", "bnb4", "uint8" };
        var distinct = names.Select(n => n == "quantized" ? "int8" : n).Distinct().OrderBy(n => Array.IndexOf(order, n));
        return string.Join(", ", distinct.Select(n => OnnxFileNaming.ToVariant(n) is null ? $"{n} (not supported by Capa)" : n));
    }

    /// <summary>
    /// A merged decoder (<c>decoder_model_merged</c>) does the work of <c>decoder_model</c> and <c>decoder_with_past_model</c>
    /// in one graph; downloading all three would triple the size for nothing.
    /// </summary>
    private static void DropPartsReplacedByMerged(Dictionary<string, HubFile> chosen)
    {
        foreach (var part in chosen.Keys.Where(p => p.EndsWith("_merged", StringComparison.Ordinal)).ToList())
        {
            var single = part[..^"_merged".Length];
            chosen.Remove(single);
            var slash = single.LastIndexOf('/') + 1;
            var name = single[slash..];
            if (name.EndsWith("_model", StringComparison.Ordinal))
            {
                chosen.Remove(string.Concat(single.AsSpan(0, slash), name.AsSpan(0, name.Length - "_model".Length), "_with_past_model"));
            }
        }
    }

    private static bool IsSupportFile(string path)
    {
        var fileName = path[(path.LastIndexOf('/') + 1)..];
        var extension = Path.GetExtension(fileName);
        if (SupportExtensions.Contains(extension))
        {
            return true;
        }

        // Kokoro-style voice packs are data the speech model needs, although they share the .bin extension with PyTorch weights.
        return path.StartsWith("voices/", StringComparison.Ordinal) && extension.Equals(".bin", StringComparison.OrdinalIgnoreCase);
    }

    private static bool IsExcludedFolder(string path) =>
        ExcludedFolders.Any(f => path.StartsWith(f, StringComparison.OrdinalIgnoreCase));
}
