using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Capa.Models;
using Capa.Models.Hub;
using Capa.Protocol;

namespace Capa.Server.Models;

/// <summary>
/// The body of <c>POST /capa/v1/models/pull</c>: <c>{"model": "ORG/NAME", "variant": "q4", "revision": "main"}</c>, the
/// same choices as <c>capa pull ORG/NAME[@REV] --variant V</c>. <c>model</c> may also name one voice of a voice
/// repository (<c>ORG/NAME/VOICE</c>), which has no variants.
/// </summary>
internal sealed record PullRequest(ModelReference Reference, ModelVariant Variant)
{
    private static readonly string[] Variants = ["q4", "int8", "fp16", "fp32"];

    /// <summary>Reads and validates a body; on failure <paramref name="error"/> is OpenAI's 400 naming the parameter.</summary>
    public static bool TryRead(ReadOnlySpan<byte> json, [NotNullWhen(true)] out PullRequest? request, [NotNullWhen(false)] out ApiError? error)
    {
        request = null;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            error = ApiError.InvalidJson(e.Message);
            return false;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = ApiError.InvalidRequest("The body must be a JSON object: {\"model\": \"ORG/NAME\", \"variant\": \"q4\"}.", null, "invalid_type");
                return false;
            }

            string? model = null, variant = null, revision = null;
            foreach (var property in root.EnumerateObject())
            {
                if (property.Name is not ("model" or "variant" or "revision"))
                {
                    error = ApiError.InvalidRequest($"Unrecognized request argument supplied: {property.Name}", property.Name, "unknown_parameter");
                    return false;
                }

                if (property.Value.ValueKind == JsonValueKind.Null && property.Name != "model")
                {
                    continue;
                }

                if (property.Value.ValueKind != JsonValueKind.String)
                {
                    error = ApiError.InvalidRequest($"Invalid type for '{property.Name}': expected a string.", property.Name, "invalid_type");
                    return false;
                }

                var value = property.Value.GetString()!.Trim();
                switch (property.Name)
                {
                    case "model":
                        model = value;
                        break;
                    case "variant":
                        variant = value;
                        break;
                    default:
                        revision = value;
                        break;
                }
            }

            if (string.IsNullOrEmpty(model))
            {
                error = ApiError.InvalidRequest("Missing required parameter: 'model' (a hub repository, ORG/NAME).", "model", "missing_required_parameter");
                return false;
            }

            ModelVariant chosen = ModelVariant.Q4;
            if (!string.IsNullOrEmpty(variant))
            {
                if (!Variants.Contains(variant, StringComparer.OrdinalIgnoreCase) || ModelVariants.Parse(variant) is not { } parsed)
                {
                    error = ApiError.InvalidRequest($"Invalid 'variant': '{variant}'. Expected one of: {string.Join(", ", Variants)}.", "variant", "invalid_value");
                    return false;
                }

                chosen = parsed;
            }

            var text = model;
            if (!string.IsNullOrEmpty(revision))
            {
                if (model.Contains('@', StringComparison.Ordinal))
                {
                    error = ApiError.InvalidRequest("Give the revision either as 'revision' or as ORG/NAME@REV in 'model', not both.", "revision", "invalid_value");
                    return false;
                }

                text = model + "@" + revision;
            }

            ModelReference reference;
            try
            {
                reference = ModelReference.Parse(text);
            }
            catch (HubException e)
            {
                var param = !string.IsNullOrEmpty(revision) && e.Message.StartsWith("Invalid revision", StringComparison.Ordinal) ? "revision" : "model";
                error = ApiError.InvalidRequest(e.Message, param, "invalid_value");
                return false;
            }

            // A voice is one ONNX file: there is no variant to choose, as with capa pull.
            request = new PullRequest(reference, reference.Voice is null ? chosen : ModelVariant.Fp32);
            error = null;
            return true;
        }
    }
}
